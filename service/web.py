"""The search page at ``/``: a plain GET form rendered on the server, in Turkish.

The query lives in the URL (``/?q=...``), so Enter, the back button and shared links work
without JavaScript; the page uses none, and nothing outside this app (a CSP says so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from indexer.pg.pools import Unavailable
from indexer.ranking import Engine, Hit
from service import snippets
from service.access_log import describe_query
from service.schemas import MAX_QUERY_CHARS, SearchRequest

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
router = APIRouter(include_in_schema=False)

RESULTS = 10
SHORT_WORDS = 60  # a passage this short is shown whole
BADGES = {"duty": "Görev ve dayanağı", "table": "Tablo"}
EXAMPLES = (
    "Kaç tane mavi bayraklı plaj var?",
    "Sahipsiz hayvan barınağı",
    "Yangında itfaiye kaç dakikada geliyor?",
    "sokak hayvanlari kisirlastirma",
    "5216 sayılı kanun 7/a",
)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

Rows = list[list[Markup]]


@dataclass(frozen=True)
class ResultView:
    """One hit as the page shows it; a table's text is rows of cells, other text a paragraph."""

    rank: int
    section: str
    crumbs: list[str]
    cut: bool
    pages: str
    badge: str | None
    document: str | None
    text: Markup | None
    rows: Rows | None
    full_text: Markup | None  # the whole passage, behind "Tamamını göster"; None when shown whole
    full_rows: Rows | None


def _rows(lines: list[str], terms: set[str], engine: Engine) -> Rows:
    # Rows end in empty cells where the report's last column is blank; those add only lines.
    cells = [line.rstrip("\t").split("\t") for line in lines]
    return [[snippets.highlight(c, terms, engine.analyzer) for c in row] for row in cells]


def view(hit: Hit, terms: set[str], engine: Engine, titles: dict[str, str]) -> ResultView:
    """The page's view of a hit: breadcrumb, citation, and the best part of its text."""
    p = hit.passage
    text = snippets.clean(p.text)
    table = p.kind == "table"
    units = snippets.units_of(text, table)
    # A table keeps its caption line in the snippet: its rows mean little without it.
    shown = snippets.snippet(units, terms, engine.analyzer, n=2 if table else 3, keep=int(table))
    whole = len(text.split()) <= SHORT_WORDS or shown == units
    cut, crumbs = snippets.crumbs(p.path, levels=3)
    lines = [line for line in text.split("\n") if line.strip()]

    def para(s: str) -> Markup:
        return snippets.highlight(s, terms, engine.analyzer)

    return ResultView(
        rank=hit.rank,
        section=" › ".join(p.path),
        crumbs=crumbs,
        cut=cut,
        pages=snippets.pages(p.page_start, p.page_end, hit.page),
        badge=BADGES.get(p.kind),
        document=titles.get(p.doc_id) if len(titles) > 1 else None,
        text=None if table else para(text if whole else " ".join(shown)),
        rows=_rows(lines if whole else shown, terms, engine) if table else None,
        full_text=None if whole or table else para(text),
        full_rows=None if whole or not table else _rows(lines, terms, engine),
    )


def _titles(engine: Engine | None) -> dict[str, str]:
    try:
        corpus = engine.manifest.get("corpus", {}) if engine is not None else {}
    except Unavailable:  # PostgreSQL cannot be read: the search below says so
        corpus = {}
    return {doc: str(meta.get("title", doc)) for doc, meta in corpus.items()}


def _invalid(exc: ValidationError) -> str:
    if any(e["type"] == "string_too_long" for e in exc.errors()):
        return f"Soru en fazla {MAX_QUERY_CHARS} karakter olabilir; lütfen kısaltın."
    if any("control" in str(e.get("msg", "")) or "UTF-8" in str(e.get("msg", "")) for e in exc.errors()):
        return "Soruda okunamayan karakterler var; lütfen yeniden yazın."
    return "Lütfen bir soru yazın."


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, q: str = "") -> HTMLResponse:
    """The search page; with ``q``, its results, searched on a worker thread within the
    service's search limits (a full service answers 503 with a message).

    An empty ``q`` is the first visit (200); an unusable one (over 500 characters, control
    characters) re-shows the form with a message (422); no index, or its database unreachable,
    503; a failed search 500.
    """
    engine: Engine | None = getattr(request.app.state, "engine", None)
    titles = _titles(engine)
    context: dict[str, object] = {
        "q": q.strip(),
        "title": " · ".join(titles.values()) or "Faaliyet raporu",
        "examples": EXAMPLES,
        "results": [],
        "message": None,
        "searched": False,
        "max_chars": MAX_QUERY_CHARS,
    }
    status, headers = 200, {}
    if context["q"]:
        try:
            status = await request.app.state.searches.run(_search, engine, q, titles, context)
        except HTTPException as busy:
            context["message"] = (
                "Arama şu anda çok yoğun",
                "Çok sayıda arama aynı anda yapılıyor. Lütfen birkaç saniye sonra yeniden deneyin.",
            )
            status, headers = busy.status_code, dict(busy.headers or {})
    response = templates.TemplateResponse(request, "page.html", context, status_code=status, headers=headers)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _search(engine: Engine | None, q: str, titles: dict[str, str], context: dict[str, object]) -> int:
    """Fill ``context`` with the results or a message; the response status."""
    try:
        params = SearchRequest(q=q)
    except ValidationError as exc:
        context["message"] = ("Bu soruyla arama yapılamadı", _invalid(exc))
        return 422
    if engine is None:
        context["message"] = (
            "Arama şu anda kullanılamıyor",
            "Rapor dizini henüz yüklenmedi. Lütfen birkaç dakika sonra yeniden deneyin.",
        )
        return 503
    try:
        result = engine.search(params.q, RESULTS, "hybrid")
        terms = set(engine.analyzer.terms(params.q))
        # The vector arms always return neighbours; when no passage shares a word with the
        # question, those are mostly unrelated, so say that nothing matched instead.
        hits = result.hits if any(h.bm25 for h in result.hits) else ()
        context["results"] = [view(h, terms, engine, titles) for h in hits]
    except Unavailable:
        log.exception("search page: the search backend is unavailable")
        context["message"] = (
            "Arama şu anda kullanılamıyor",
            "Arama veritabanına ulaşılamıyor. Lütfen birkaç dakika sonra yeniden deneyin.",
        )
        return 503
    except Exception:
        log.exception("search page failed for %s", describe_query(params.q, full=False))
        context["message"] = (
            "Bir sorun oluştu",
            "Arama sırasında beklenmeyen bir hata oldu. Lütfen biraz sonra yeniden deneyin.",
        )
        return 500
    context["q"] = params.q
    context["searched"] = True
    return 200


def install_web(app: FastAPI) -> None:
    """Serve the search page at ``/`` and its stylesheet under ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
