"""Cut outline segments into passages: prose packed by words, tables by rows.

A passage never crosses a segment (section) boundary. Each table passage repeats
the table's caption and header row, so a row still makes sense on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from indexer.pages import Pages
from indexer.structure import Line, Outline, Segment

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"“(]?[A-ZÇĞİÖŞÜ0-9])")
_NUMERIC_CELL = re.compile(r"[-+%]?\s*[\d.,]*\d[\d.,]*\s*%?")
_YEAR = re.compile(r"(19|20)\d\d")
_EMPTY_MARKS = frozenset({"-", "—", "–"})


# Bump when outlining or chunking changes what passages a corpus gives.
CHUNKER_VERSION = "7"  # 6: pages per line; 7: duties and table captions cited where they stand


@dataclass(frozen=True)
class ChunkConfig:
    """Passage size bounds, in words."""

    max_words: int = 500
    min_words: int = 40


@dataclass(frozen=True)
class Passage:
    """One retrievable unit with its provenance."""

    id: str
    doc_id: str
    text: str
    path: tuple[str, ...]
    page_start: str
    page_end: str
    page_estimate: str | None
    line_start: int
    line_end: int
    kind: Literal["text", "table", "duty"]
    # The estimated page of each line of ``text`` ("" unknown); () when not estimated. A
    # passage can run over two pages: a hit is cited at the line that answers (``cited_page``).
    line_pages: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return " > ".join(self.path)

    @property
    def spans_pages(self) -> bool:
        """Its lines run over more than one known page, and each line's page is kept: only
        then can a line be cited at a page other than ``page_estimate``."""
        known = set(self.line_pages) - {""}
        return len(known) > 1 and len(self.line_pages) == self.text.count("\n") + 1


@dataclass(frozen=True)
class _Piece:
    lines: tuple[int, ...]
    text: str
    kind: Literal["text", "table"]
    anchor: int = -1  # the first line of the piece's own content (a table's first row)

    @property
    def first(self) -> int:
        return self.anchor if self.anchor >= 0 else min(self.lines)

    def is_heading_like(self) -> bool:
        """One short line with no sentence end: a title for what follows."""
        text = self.text.strip()
        return len(self.lines) == 1 and n_words(text) <= 12 and not text.endswith((".", ":", "!", "?"))


def n_words(text: str) -> int:
    """Whitespace word count.

    >>> n_words("Kent  Ekonomisine\\tKatkı")
    3
    """
    return len(text.split())


def cut_long_line(text: str, max_words: int) -> list[str]:
    """Cut an over-long line at sentence ends into parts of at most ``max_words``.

    >>> cut_long_line("Bir iki. Üç dört beş. Altı.", 3)
    ['Bir iki.', 'Üç dört beş.', 'Altı.']
    """
    parts: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        while len(words) > max_words:  # a run-on sentence: cut at the word limit
            if current:
                parts.append(" ".join(current))
                current = []
            parts.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            parts.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        parts.append(" ".join(current))
    return parts


def is_numeric_cell(cell: str) -> bool:
    """A cell holding an amount, a percentage or a dash for "none"; a bare year is a label.

    >>> [is_numeric_cell(c) for c in ("25.900.000,00", "%87", "-", "2023", "2023 Bütçe")]
    [True, True, True, False, False]
    """
    cell = cell.strip()
    if cell in _EMPTY_MARKS:
        return True
    return _NUMERIC_CELL.fullmatch(cell) is not None and _YEAR.fullmatch(cell) is None


def _has_amounts(row: str | None) -> bool:
    return row is not None and any(is_numeric_cell(c) for c in row.split("\t"))


def is_header_row(row: str, previous: str | None, following: str | None = None) -> bool:
    """A row that labels columns: several cells and no amounts, opening the table or,
    after data rows, a sub-table whose next row holds amounts.

    >>> is_header_row("Gelir Türü\\t2022\\t2023", None)
    True
    >>> is_header_row("Meclis gündemini belirlemek.\\t5393 s.K.m.21", "Yasal Yükümlülük\\tDayanak")
    False
    >>> is_header_row("Birim\\tHedef Bütçe", "Toplam\\t150,00", "Kira\\t3,00")
    True
    """
    cells = [c for c in row.split("\t") if c.strip()]
    if len(cells) < 2 or _has_amounts(row):
        return False
    if previous is None:
        return True
    return _has_amounts(previous) and (following is None or _has_amounts(following))


def segment_pieces(segment: Segment, config: ChunkConfig) -> list[_Piece]:
    """Passage-sized pieces of one segment, in reading order."""
    units = [(i, t) for i, t in segment.lines if t.strip()]
    pieces: list[_Piece] = []
    prose: list[Line] = []
    k = 0
    while k < len(units):
        if "\t" not in units[k][1]:
            prose.append(units[k])
            k += 1
            continue
        end = k
        while end < len(units) and "\t" in units[end][1]:
            end += 1
        caption = prose.pop() if prose and _is_caption(prose[-1][1]) else None
        pieces.extend(_pack_prose(prose, config))
        prose = []
        pieces.extend(_pack_table(units[k:end], caption, config))
        k = end
    pieces.extend(_pack_prose(prose, config))
    return pieces


def _is_caption(text: str) -> bool:
    return n_words(text) <= 25 and not text.rstrip().endswith((".", ":"))


def _pack_prose(units: list[Line], config: ChunkConfig) -> list[_Piece]:
    pieces: list[_Piece] = []
    lines: list[int] = []
    texts: list[str] = []
    for i, text in units:
        for part in cut_long_line(text.strip(), config.max_words):
            size = sum(n_words(t) for t in texts)
            if texts and size + n_words(part) > config.max_words:
                pieces.append(_Piece(tuple(lines), "\n".join(texts), "text"))
                lines, texts = [], []
            lines.append(i)
            texts.append(part)
    if texts:
        tail = _Piece(tuple(lines), "\n".join(texts), "text")
        prev = pieces[-1] if pieces else None
        small = n_words(tail.text) < config.min_words
        if prev and small and n_words(prev.text) + n_words(tail.text) <= config.max_words * 1.3:
            pieces[-1] = _Piece(prev.lines + tail.lines, prev.text + "\n" + tail.text, "text")
        else:
            pieces.append(tail)
    return pieces


def _pack_table(rows: list[Line], caption: Line | None, config: ChunkConfig) -> list[_Piece]:
    pieces: list[_Piece] = []
    header: list[Line] = []
    body: list[Line] = []

    def emit() -> None:
        if not body:
            return
        top = ([caption] if caption else []) + header
        lines = tuple(i for i, _ in top + body)
        text = "\n".join(t.strip(" ") for _, t in top + body)
        pieces.append(_Piece(lines, text, "table", anchor=body[0][0]))

    for n, row in enumerate(rows):
        following = rows[n + 1][1] if n + 1 < len(rows) else None
        if is_header_row(row[1], rows[n - 1][1] if n else None, following):
            if body:  # a new header row starts a sub-table
                emit()
                header, body = [], []
            header = [row]
            continue
        size = sum(n_words(t) for _, t in body)
        if body and size + n_words(row[1]) > config.max_words:
            emit()
            body = []
        body.append(row)
    if not body and header:  # a header with no rows is still content
        header, body = [], header
    emit()
    return pieces


def chunk(doc_id: str, doc: Outline, config: ChunkConfig) -> list[Passage]:
    """All passages of one outlined document, with deterministic ids."""
    pages = Pages(doc)
    passages: list[Passage] = []
    seen: dict[int, int] = {}
    for segment, piece in _carry_titles(doc, config):
        first = piece.first
        part = seen.get(first, 0)
        seen[first] = part + 1
        start, end = doc.page_range(segment.toc_index)
        passages.append(
            Passage(
                id=f"{doc_id}:{first + 1:05d}:{part}",
                doc_id=doc_id,
                text=piece.text,
                path=segment.path,
                page_start=start,
                page_end=end,
                page_estimate=pages.at(segment, first),
                line_start=min(piece.lines) + 1,
                line_end=max(piece.lines) + 1,
                kind=piece.kind,
                # A table piece's repeated caption and header are cited at its first row.
                line_pages=tuple(pages.at(segment, max(i, first)) or "" for i in piece.lines),
            )
        )
    return passages


def _carry_titles(doc: Outline, config: ChunkConfig) -> list[tuple[Segment, _Piece]]:
    """Pieces by segment; a segment that is only a title line joins the next segment of
    the same TOC section, so no passage is a lone heading."""
    out: list[tuple[Segment, _Piece]] = []
    carried: _Piece | None = None
    segments = doc.segments
    for n, segment in enumerate(segments):
        pieces = segment_pieces(segment, config)
        if carried is not None and pieces:
            head = pieces[0]
            text = f"{carried.text}\n{head.text}"
            pieces[0] = _Piece(carried.lines + head.lines, text, head.kind, head.first)
            carried = None
        nxt = segments[n + 1] if n + 1 < len(segments) else None
        alone = len(pieces) == 1 and pieces[0].is_heading_like()
        if alone and nxt is not None and _within(doc, nxt.toc_index, segment.toc_index):
            carried = pieces[0]
            continue
        out.extend((segment, p) for p in pieces)
    return out


def _within(doc: Outline, inner: int | None, outer: int | None) -> bool:
    """Whether TOC entry ``inner`` is ``outer`` or lies inside it."""
    if inner == outer:
        return True
    while doc.toc is not None and inner is not None:
        inner = doc.toc.entries[inner].parent
        if inner == outer:
            return True
    return False
