"""Documents in the corpus folder: one report per ``.txt`` file.

A sidecar ``<name>.json`` gives the document's id, title and year; without one they
are derived from the file name, so next year's report only needs a new file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from indexer.chunking import ChunkConfig, Passage, chunk
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
    return Document(
        id=str(meta.get("id", path.stem)),
        title=str(meta.get("title", path.stem.replace("-", " ").title())),
        year=int(year) if isinstance(year, int | str) else None,
        path=path,
        text=text,
    )


def load_corpus(folder: Path) -> list[Document]:
    """All reports in ``folder``, sorted by file name; ids must be unique."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    docs = [load_document(p) for p in sorted(folder.glob("*.txt"))]
    if not docs:
        raise CorpusError(f"no .txt reports in {folder}: add one (see README, 'Corpus')")
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"duplicate document ids in {folder}: {sorted(ids)}")
    return docs


def document_passages(doc: Document, config: ChunkConfig) -> list[Passage]:
    """Outline a report by its own sections and cut it into passages."""
    return chunk(doc.id, outline(doc.text.split("\n")), config)
