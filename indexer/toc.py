"""Table of contents ("içindekiler"): entries, their tree and printed page ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.analysis import normalize

_TOC_TITLES = frozenset({"icindekiler", "icerik"})
_ENTRY = re.compile(r"^(?P<title>\S.*?)\s*\t\s*(?P<page>[0-9]+|[ivxlcdm]+)\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2})*)\.?\s+(?P<rest>\D.*)$")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
# Entries that open a top-level part although the TOC does not number them.
_TOP_LEVEL_UNNUMBERED = re.compile(r"^ekler?$", re.IGNORECASE)


@dataclass(frozen=True)
class TocEntry:
    """One line of the table of contents."""

    index: int
    title: str
    page: str
    level: int
    parent: int | None
    line: int


@dataclass(frozen=True)
class Toc:
    """The parsed table of contents of one document."""

    entries: tuple[TocEntry, ...]
    first_line: int
    last_line: int

    def path(self, index: int) -> tuple[str, ...]:
        """Titles from the root down to entry ``index``."""
        titles: list[str] = []
        cur: int | None = index
        while cur is not None:
            titles.append(self.entries[cur].title)
            cur = self.entries[cur].parent
        return tuple(reversed(titles))

    def page_range(self, index: int, until: int | None = -1) -> tuple[str, str]:
        """Printed start and end page: up to the page before entry ``until``'s (by
        default the next entry; None: the section runs to its own start page)."""
        entry = self.entries[index]
        if until == -1:
            until = index + 1 if index + 1 < len(self.entries) else None
        nxt = self.entries[until] if until is not None else None
        if nxt is None or is_roman(nxt.page) != is_roman(entry.page):
            return entry.page, entry.page
        end = max(page_number(entry.page), page_number(nxt.page) - 1)
        return entry.page, format_page(end, roman=is_roman(entry.page))


def is_roman(label: str) -> bool:
    """True for a roman page label.

    >>> is_roman("xvi"), is_roman("16")
    (True, False)
    """
    return bool(label) and all(c in _ROMAN for c in label.lower())


def page_number(label: str) -> int:
    """Numeric value of a printed page label, arabic or roman.

    >>> page_number("xiv"), page_number("59")
    (14, 59)
    """
    if not is_roman(label):
        return int(label)
    values = [_ROMAN[c] for c in label.lower()]
    total = 0
    for i, v in enumerate(values):
        total += -v if i + 1 < len(values) and v < values[i + 1] else v
    return total


def format_page(number: int, *, roman: bool) -> str:
    """Printed label for a page number.

    >>> format_page(9, roman=True), format_page(9, roman=False)
    ('ix', '9')
    """
    if not roman:
        return str(number)
    out = []
    for value, sym in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while number >= value:
            out.append(sym)
            number -= value
    return "".join(out)


def find_toc(lines: list[str]) -> tuple[int, int] | None:
    """Line span [first, last] of the TOC: its title and the entry lines after it."""
    for i, line in enumerate(lines):
        if normalize(line.strip()) not in _TOC_TITLES:
            continue
        last, seen, gap = i, 0, 0
        for j in range(i + 1, len(lines)):
            text = lines[j].strip()
            if _ENTRY.match(text):
                last, seen, gap = j, seen + 1, 0
            elif text or (gap := gap + 1) > 2:
                break
        if seen >= 3:
            return i, last
    return None


def parse_toc(lines: list[str]) -> Toc | None:
    """Parse the TOC of a document, or None if it has none."""
    span = find_toc(lines)
    if span is None:
        return None
    first, last = span
    entries: list[TocEntry] = []
    for lineno in range(first + 1, last + 1):
        m = _ENTRY.match(lines[lineno].strip())
        if not m:
            continue
        title, page = m["title"].strip(), m["page"].lower()
        parent = _parent(title, entries)
        level = entries[parent].level + 1 if parent is not None else 1
        entries.append(TocEntry(len(entries), title, page, level, parent, lineno))
    return Toc(tuple(entries), first, last)


def section_number(title: str) -> str | None:
    """The outline number of a heading, if it has one.

    >>> section_number("1.3.1. Fiziksel Yapı"), section_number("2023 Mali Yılı")
    ('1.3.1', None)
    """
    m = _NUMBER.match(title)
    return m["num"] if m else None


def _parent(title: str, entries: list[TocEntry]) -> int | None:
    num = section_number(title)
    if num is not None:
        # "3.2.1" hangs under "3.2", or under "3" when the TOC skips "3.2".
        parts = num.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            for e in reversed(entries):
                if section_number(e.title) == prefix:
                    return e.index
        return None
    if _TOP_LEVEL_UNNUMBERED.match(title):
        return None
    # An unnumbered entry after numbered ones belongs to the last numbered entry or
    # to the last unnumbered top-level part ("Ekler"); before them it is top level.
    for e in reversed(entries):
        if section_number(e.title) is not None or _TOP_LEVEL_UNNUMBERED.match(e.title):
            return e.index
    return None
