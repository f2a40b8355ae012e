"""Legal-basis lookups: the passages and duties citing a law or article, and the laws cited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.chunking import Passage
from indexer.citations import citing_page
from indexer.legal import KNOWN_LAWS, LegalRef, parse_ref
from indexer.ranking import Engine
from service.schemas import ErrorResponse, Law, LawsResponse, LegalResponse
from service.schemas import Passage as PassageOut

_ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorResponse, "description": "not a legal reference"},
    503: {"model": ErrorResponse, "description": "index not loaded"},
}


def _reference(text: str) -> LegalRef:
    ref = parse_ref(text)
    if ref is None:
        raise ValueError("not a legal reference: write it like 5216/7/a or '5393 sayılı Kanun 18/f'")
    return ref


def _check(text: str) -> str:
    _reference(text)
    return text


Reference = Annotated[
    str,
    Field(min_length=1, max_length=200, description="a reference in any written form",
          examples=["5216/7/a", "5216 s.K.m.7/a", "Belediye Kanunu 18. madde"]),
    AfterValidator(_check),
]  # fmt: skip

router = APIRouter()


def _engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise StarletteHTTPException(503, "the index is not loaded yet")
    return engine


@router.get("/legal", response_model=LegalResponse, responses=_ERRORS)
def legal(
    request: Request,
    ref: Annotated[Reference, Query()],
    limit: Annotated[int, Query(ge=1, le=500, description="most passages returned")] = 100,
) -> LegalResponse:
    """The duties and passages citing a law, an article or a clause (`/legal?ref=5216/7/a`)."""
    engine = _engine(request)
    parsed = _reference(ref)
    found = engine.cited(parsed.canonical)
    others = [p for p in found if p.kind != "duty"][:limit]  # cut before citing: that parses lines
    return LegalResponse(
        ref=parsed.canonical,
        law=parsed.law,
        article=parsed.article,
        clause=parsed.clause,
        name=KNOWN_LAWS.get(parsed.law),
        total=len(found),
        duties=[_passage(p, parsed.canonical) for p in found if p.kind == "duty"],
        passages=[_passage(p, parsed.canonical) for p in others],
    )


@router.get("/legal/laws", response_model=LawsResponse, responses=_ERRORS)
def laws(request: Request) -> LawsResponse:
    """Every law the indexed reports cite, most cited first, with passage counts."""
    engine = _engine(request)
    counts = engine.citation_counts()
    articles: dict[str, int] = {}
    for key in counts:
        if key.count("/") == 1:
            articles[key.split("/")[0]] = articles.get(key.split("/")[0], 0) + 1
    rows = [
        Law(law=key, name=KNOWN_LAWS.get(key), passages=found, articles=articles.get(key, 0))
        for key, found in counts.items()
        if "/" not in key
    ]
    rows.sort(key=lambda law: (-law.passages, law.law))
    return LawsResponse(laws=rows)


def _passage(p: Passage, key: str) -> PassageOut:
    return PassageOut(
        id=p.id, text=p.text, section=p.section, path=list(p.path), page_start=p.page_start,
        page_end=p.page_end, page_estimate=citing_page(p, key), doc_id=p.doc_id, kind=p.kind,
    )  # fmt: skip
