"""Documents in the corpus: reports (``.txt``) and ready-made passage files (``.jsonl``).

A sidecar ``<name>.json`` gives a report's id, title and year; without one they are
derived from the file name, so next year's report only needs a new file. A ``.jsonl``
file is already cut into passages, one ``{"id", "title", "text", "page"?}`` per line
(the general ingestion format, e.g. a benchmark's ``passages.jsonl``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.chunking import ChunkConfig, Passage, chunk
from indexer.duties import Duty, extract_duties
from indexer.pages import Pages
from indexer.structure import outline

_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class Document:
    """A report: its metadata and raw text."""

    id: str
    title: str
    year: int | None
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class CorpusError(ValueError):
    """The corpus folder cannot be read as documents."""


def load_document(path: Path) -> Document:
    """Read one report and its sidecar metadata."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, object] = {}
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{sidecar}: invalid JSON ({exc})") from exc
    year_match = _YEAR.search(path.stem)
    year = meta.get("year", int(year_match.group()) if year_match else None)
    # A benchmark's "passages.jsonl" is named by its folder.
    default_id = path.parent.name if path.stem == "passages" else path.stem
    return Document(
        id=str(meta.get("id", default_id)),
        title=str(meta.get("title", default_id.replace("-", " ").title())),
        year=_year(year, sidecar),
        path=path,
        text=text,
    )


def _year(value: object, sidecar: Path) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        raise CorpusError(f"{sidecar}: 'year' must be a number like 2023, not {value!r}") from exc


def load_corpus(location: Path) -> list[Document]:
    """All documents in a folder (sorted by file name), or the one file given."""
    if location.is_file():
        files = [location]
    elif location.is_dir():
        files = sorted(p for p in location.iterdir() if p.suffix in (".txt", ".jsonl"))
    else:
        raise CorpusError(f"corpus not found: {location}")
    docs = [load_document(p) for p in files]
    if not docs:
        raise CorpusError(f"no .txt or .jsonl documents in {location}: add one (see README, 'Corpus')")
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"duplicate document ids in {location}: {sorted(ids)}")
    return docs


def document_passages(doc: Document, config: ChunkConfig) -> list[Passage]:
    """A report outlined by its own sections and cut, plus one passage per duty of its
    legal-basis tables; a passage file as it is."""
    if doc.path.suffix == ".jsonl":
        return passage_file(doc)
    lines = doc.text.split("\n")
    outlined = outline(lines)
    passages = chunk(doc.id, outlined, config)
    return passages + duty_passages(doc.id, extract_duties(lines), passages, Pages(outlined).of_line)


def duty_passages(
    doc_id: str, duties: list[Duty], passages: list[Passage], page_of: Callable[[int], str | None]
) -> list[Passage]:
    """Each duty with its legal basis as a passage, placed (path, pages) like the text it
    was read from and cited at its own line's page (``page_of`` a 0-based line). The table
    passages keep the damaged layout; these carry the repaired pairs."""
    out: list[Passage] = []
    seen: dict[int, int] = {}
    for duty in duties:
        part = seen[duty.line] = seen.get(duty.line, -1) + 1
        host = next((p for p in passages if p.line_start <= duty.line <= p.line_end), None)
        if host is None:
            continue
        path = host.path if host.path[-1:] == (duty.body,) else (*host.path, duty.body)
        out.append(
            replace(
                host,
                id=f"{doc_id}:{duty.line:05d}:duty{part}",
                text=f"{duty.body}: {duty.text}\nDayanak: {'; '.join(map(_label, duty.basis))}",
                path=path,
                line_start=duty.line,
                line_end=duty.line,
                kind="duty",
                page_estimate=page_of(duty.line - 1) or host.page_estimate,
                line_pages=(),  # one page: its line's
            )
        )
    return out


def _label(canonical: str) -> str:
    """A canonical reference written as the report's tables write it.

    >>> _label("5216/7/a"), _label("5393/34/1-a"), _label("5393/41"), _label("2886")
    ('5216 s.K.m.7/a', '5393 s.K.m.34/1-a', '5393 s.K.m.41', '2886 sayılı Kanun')
    """
    law, _, rest = canonical.partition("/")
    return f"{law} s.K.m.{rest}" if rest else f"{law} sayılı Kanun"


def passage_file(doc: Document) -> list[Passage]:
    """Passages of a ``.jsonl`` file; their ids are kept (qrels refer to them)."""
    out: list[Passage] = []
    for n, line in enumerate(doc.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pid, text = str(row["id"]), str(row["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(f"{doc.path}:{n}: expected {{id, title, text, page?}} ({exc})") from exc
        page = str(row.get("page") or "")
        title = str(row.get("title") or "")
        out.append(
            Passage(
                id=pid,
                doc_id=doc.id,
                text=text,
                path=(title,) if title else (),
                page_start=page,
                page_end=page,
                page_estimate=page or None,
                line_start=n,
                line_end=n,
                kind="text",
            )
        )
    if len({p.id for p in out}) != len(out):
        raise CorpusError(f"{doc.path}: duplicate passage ids")
    return out
