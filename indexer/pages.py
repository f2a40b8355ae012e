"""Printed pages inside a section, estimated from a line's position in it.

The text extraction has no page breaks; the table of contents gives each section's first
and last printed page, so a line's page is interpolated by where it sits in its section.
"""

from __future__ import annotations

from indexer.structure import Outline, Segment
from indexer.toc import format_page, is_roman, page_number


def estimate(start: str, end: str, span: tuple[int, int] | None, line: int) -> str | None:
    """Page of ``line`` in a section printed on pages ``start``-``end`` whose lines run
    over ``span`` (first and last line); ``start`` when the pages cannot be interpolated.

    >>> estimate("10", "13", (100, 199), 100), estimate("10", "13", (100, 199), 180)
    ('10', '13')
    >>> estimate("ix", "xi", (0, 29), 15), estimate("", "", None, 5)
    ('x', None)
    """
    if not start or span is None or is_roman(start) != is_roman(end):
        return start or None
    first, last = page_number(start), page_number(end)
    frac = (line - span[0]) / max(1, span[1] - span[0] + 1)
    return format_page(first + int(frac * (last - first + 1)), roman=is_roman(start))


class Pages:
    """Page estimates for the lines of one outlined document."""

    def __init__(self, doc: Outline) -> None:
        self.doc = doc
        self.spans: dict[int | None, tuple[int, int]] = {}
        self.segments: dict[int, Segment] = {}
        for s in doc.segments:
            lo, hi = s.lines[0][0], s.lines[-1][0]
            old = self.spans.get(s.toc_index)
            self.spans[s.toc_index] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
            self.segments.update((i, s) for i, _ in s.lines)

    def at(self, segment: Segment, line: int) -> str | None:
        """The page of ``line`` (0-based) read as a line of ``segment``'s section."""
        start, end = self.doc.page_range(segment.toc_index)
        return estimate(start, end, self.spans.get(segment.toc_index), line)

    def of_line(self, line: int) -> str | None:
        """The page of ``line`` (0-based) in its own section; None outside every section."""
        segment = self.segments.get(line)
        return self.at(segment, line) if segment is not None else None
