"""The HTTP contract. Evaluation scripts depend on it: add fields, never rename."""

from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_QUERY_CHARS = 500


def _meaningful(q: str) -> str:
    """Refuse control characters and text that was not UTF-8; drop invisible format
    characters (zero-width spaces, byte-order marks, pasted with text); collapse spaces.

    Punctuation or stop words alone are a valid question with no answer: the search, not
    the validation, returns nothing for them.
    """
    if "\ufffd" in q:  # what undecodable bytes in a query string become
        raise ValueError("is not valid UTF-8: send the question encoded as UTF-8")
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in q):
        raise ValueError("must not contain control characters (such as NUL)")
    kept = "".join(ch for ch in q if unicodedata.category(ch) != "Cf")
    if not kept.strip():
        raise ValueError("must contain a visible character")
    return " ".join(kept.split())


def _char_class(codes: list[int]) -> str:
    """A regex character class body for these code points, valid in Python and ECMA-262
    (with the ``u`` flag) alike: ``\\uXXXX`` escapes, astral characters as themselves."""
    runs: list[tuple[int, int]] = []
    for c in codes:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))

    def char(c: int) -> str:
        return f"\\u{c:04x}" if c <= 0xFFFF else chr(c)

    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in runs)


@lru_cache(maxsize=1)
def _query_pattern() -> str:
    """What ``_meaningful`` accepts, as a JSON Schema pattern for the OpenAPI document: no
    refused character (a control character that is not a space, U+FFFD), and at least one
    character that is neither a space nor an invisible format character.

    >>> import re
    >>> ok = re.compile(_query_pattern())
    >>> [bool(ok.search(q)) for q in ("kreşler nerede?", "???", " \\u200b ", "a\\x00b", "\\ufffd")]
    [True, True, False, False, False]
    """
    refused, invisible = [], []
    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        category = unicodedata.category(ch)
        if (category == "Cc" and not ch.isspace()) or ch == "\ufffd":
            refused.append(c)
        elif ch.isspace() or category == "Cf":
            invisible.append(c)
    allowed = f"[^{_char_class(refused)}]"
    visible = f"[^{_char_class(sorted(refused + invisible))}]"
    return f"^{allowed}*{visible}{allowed}*$"


def _document_query_rules(schema: dict[str, Any]) -> None:
    # Built when the OpenAPI document is, not at import: it scans every code point.
    schema["pattern"] = _query_pattern()


Query = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS),
    AfterValidator(_meaningful),
    Field(
        description="the question, 1-500 characters after trimming; no control characters, "
        "at least one visible character",
        examples=["kreşler nerede?"],
        # Documents what _meaningful checks (its messages are clearer than a pattern's).
        json_schema_extra=_document_query_rules,
    ),
]


class SearchRequest(BaseModel):
    """A search: the same fields as query parameters (GET) or JSON (POST)."""

    model_config = ConfigDict(extra="forbid")

    q: Query
    k: int = Field(10, ge=1, le=50, description="how many passages to return")
    mode: Literal["hybrid", "bm25", "dense"] = Field("hybrid", description="ranking mode")


class Scores(BaseModel):
    """Each arm's raw score for the hit; null for an arm the mode did not use."""

    bm25: float | None = Field(description="BM25 score (0 when no query term matched)")
    dense: float | None = Field(description="cosine similarity of the query and passage e5 vectors")
    sentence: float | None = Field(
        description="cosine similarity of the query and the passage's best-matching sentence"
    )


class Result(BaseModel):
    rank: int
    score: float = Field(
        description="the mode's ranking score: in hybrid the fused score in [0, 1], plus 1 for a "
        "passage citing the legal reference the query names"
    )
    id: str = Field(description="stable passage id: document:line:part")
    text: str
    section: str = Field(description="heading path, ' > ' separated")
    page_start: str = Field(description="printed start page of the passage's section")
    page_end: str = Field(description="printed end page of the passage's section")
    scores: Scores
    page_estimate: str | None = Field(
        None,
        description="estimated printed page inside the section: of the passage's line holding "
        "the most query terms, or where the passage starts (a table: its first row)",
    )
    path: list[str] = Field(default_factory=list, description="the heading path as a list")
    doc_id: str = ""
    kind: Literal["text", "table", "duty"] = Field(
        "text", description="prose, a table (with its header), or a duty paired with its legal basis"
    )
    cites: bool | None = Field(
        None, description="cites the legal reference the query names (hybrid); null if it names none"
    )


class Passage(BaseModel):
    """A passage without ranking: what a legal lookup returns."""

    id: str
    text: str
    section: str
    path: list[str]
    page_start: str
    page_end: str
    page_estimate: str | None = Field(
        description="estimated printed page of the passage's first line citing the reference"
    )
    doc_id: str
    kind: Literal["text", "table", "duty"]


class LegalResponse(BaseModel):
    ref: str = Field(description="canonical reference: law/article/clause", examples=["5216/7/a"])
    law: str
    article: str | None
    clause: str | None
    name: str | None = Field(description="the law's name, when known")
    total: int = Field(description="passages citing the reference, duties included")
    duties: list[Passage] = Field(description="duties whose stated legal basis is the reference")
    passages: list[Passage] = Field(description="other passages citing it, in document order")


class Law(BaseModel):
    law: str = Field(examples=["5393"])
    name: str | None
    passages: int = Field(description="passages citing the law")
    articles: int = Field(description="distinct articles of it cited")


class LawsResponse(BaseModel):
    laws: list[Law]


class SearchResponse(BaseModel):
    query: str
    mode: str
    k: int
    took_ms: float
    results: list[Result]


class Health(BaseModel):
    status: Literal["ok"]
    passages: int
    model_id: str
    documents: list[str]
    built_at: str


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody
