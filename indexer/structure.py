"""Split a report's lines into segments, each with its section path and TOC pages.

The TOC gives the sections and their printed pages; the body headings are matched
to it by a monotonic alignment, so a title mentioned early (in a list of services,
say) does not steal the heading of the section that comes much later. Below the TOC
level, the report's own structure (strategic goals, activity titles, department
lines, company headings) extends the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.analysis import Analyzer, normalize, words
from indexer.toc import Toc, parse_toc, section_number

Line = tuple[int, str]

# Page furniture: chapter cover labels and printed footers carry no content.
FURNITURE = re.compile(r"^(Bölüm\s+\d+|.{0,80}Faaliyet Raporu\s+\d{1,3})$")
_GOAL = re.compile(
    r"^(?P<kind>Stratejik Amaç|Stratejik Hedef|Performans Hedefi)\s+(?P<num>\d+(?:\.\d+)*)"
    r"\.?\s*(?:[:.]?\s*(?P<title>[^\s\t][^\t]*))?$"
)
_GOAL_LEVEL = {"Stratejik Amaç": 1, "Stratejik Hedef": 2, "Performans Hedefi": 3}
_ACTIVITY = re.compile(r"^[A-ZÇĞİÖŞÜ].{5,220}\bFaaliyet(leri|i)$")
_DEPARTMENT = re.compile(
    r"^(?P<dept>[A-ZÇĞİÖŞÜ][^:\t]{2,90}?(?:Dairesi Başkanlığı|Genel Müdürlüğü|Şube Müdürlüğü"
    r"|Genel Sekreterliği|Müşavirliği|Müdürlüğü))\s*:"
)
# A unit named on a line of its own ("Gıda Şube Müdürlüğü") heads the prose after it.
_UNIT = re.compile(
    r"^(?:\d{1,2}\.\s*)?[A-ZÇĞİÖŞÜ][^:\t.]{2,80}?(?P<kind>Şube Müdürlüğü|Daire(?:si)? Başkanlığı"
    r"|Genel Müdürlüğü|Müşavirliği|Genel Sekreterliği|Müdürlüğü)$"
)
_COMPANY_CUE = re.compile(r"^(Kuruluş Yılı|Faaliyet Alanı|Stratejik Amaç)")
_CAPS, _GOALS, _ACTIVITY_LEVEL, _DEPT_LEVEL, _BRANCH_LEVEL = 0, 1, 4, 5, 6
_MATCHER = Analyzer(stemmer="prefix", prefix_len=5, stop_words=True)


@dataclass(frozen=True)
class Segment:
    """A run of body lines that share one section path."""

    path: tuple[str, ...]
    toc_index: int | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Outline:
    """A document split into segments, with the TOC that dates them."""

    toc: Toc | None
    segments: tuple[Segment, ...]
    heading_lines: frozenset[int]
    furniture_lines: frozenset[int]
    matched: frozenset[int]  # TOC entries whose heading was found in the body

    def page_range(self, index: int | None) -> tuple[str, str]:
        """Printed pages of a section: up to the page before the next section found."""
        if self.toc is None or index is None:
            return "", ""
        later = [e for e in self.matched if e > index]
        return self.toc.page_range(index, min(later) if later else None)


def clean(line: str) -> str:
    """A line without markdown emphasis and outer spaces.

    >>> clean("  **İZMİR BÜYÜKŞEHİR BELEDİYESİ** ")
    'İZMİR BÜYÜKŞEHİR BELEDİYESİ'
    """
    return line.strip().strip("*").strip()


def outline(lines: list[str]) -> Outline:
    """Assign every body line a section path; TOC lines and headings are not body."""
    toc = parse_toc(lines)
    skip = set(range(toc.first_line, toc.last_line + 1)) if toc else set()
    starts = match_headings(lines, toc, skip) if toc else {}
    furniture = {i for i, t in enumerate(lines) if i not in skip and FURNITURE.match(clean(t))}
    walker = _Walker(lines, toc, starts, skip | furniture)
    segments = walker.run()
    matched = frozenset(e for e, _ in starts.values())
    return Outline(toc, tuple(segments), frozenset(walker.headings), frozenset(furniture), matched)


def match_headings(lines: list[str], toc: Toc, skip: set[int]) -> dict[int, tuple[int, bool]]:
    """Map body line → (TOC entry index, whether the line says exactly the TOC title)."""
    cands = [(i, _stems(clean(t))) for i, t in enumerate(lines) if i not in skip and _heading_shaped(t)]
    per_entry: list[list[tuple[int, float]]] = []
    for e in toc.entries:
        title = _stems(e.title)
        per_entry.append([(i, s) for i, st in cands if (s := _similarity(title, st)) > 0])
    found = _align(per_entry)
    return {i: (e, _plain(lines[i]) == _plain(toc.entries[e].title)) for i, e in found.items()}


def _plain(text: str) -> list[str]:
    text = clean(text)
    num = section_number(text)
    return words(normalize(text[len(num) :] if num else text))


def _heading_shaped(line: str) -> bool:
    text = clean(line)
    return bool(text) and "\t" not in line.strip(" \r\n") and len(text) <= 160 and len(text.split()) <= 18


def _stems(text: str) -> list[str]:
    num = section_number(text)
    if num is not None:
        text = text[len(num) :]
    return _MATCHER.terms(text)


def _similarity(title: list[str], line: list[str]) -> float:
    if not title or not line:
        return 0.0
    if title == line:
        return 2.0
    t, s = set(title), set(line)
    dice = 2 * len(t & s) / (len(t) + len(s))
    if t <= s and len(line) <= 12 and len(title) >= 2:
        return 0.6 + 0.4 * dice
    if s <= t and len(s) >= 3 and len(s) >= 0.5 * len(t):  # "İdare Performans Tablosu"
        return 0.5 + 0.4 * dice
    return dice if dice >= 0.75 else 0.0


def _align(per_entry: list[list[tuple[int, float]]]) -> dict[int, int]:
    """Best-scoring strictly increasing choice of at most one line per entry."""
    # best[(e, line)] = (total score, previous choice); earliest line wins ties.
    best: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
    chosen: list[tuple[int, int]] = []
    for e, cands in enumerate(per_entry):
        for line, score in cands:
            prev = max(
                ((best[c][0], -c[1], c) for c in chosen if c[1] < line),
                default=(0.0, 0, None),
            )
            best[(e, line)] = (score + prev[0] - line * 1e-9, prev[2])
        chosen.extend((e, line) for line, _ in cands)
    if not best:
        return {}
    node: tuple[int, int] | None = max(best, key=lambda c: (best[c][0], -c[1]))
    out: dict[int, int] = {}
    while node is not None:
        out[node[1]] = node[0]
        node = best[node][1]
    return out


class _Walker:
    """Walks the body once, tracking the TOC section and the sub-heading stack."""

    def __init__(
        self, lines: list[str], toc: Toc | None, starts: dict[int, tuple[int, bool]], skip: set[int]
    ):
        self.lines, self.toc, self.starts, self.skip = lines, toc, starts, skip
        self.headings: set[int] = set()
        matched = {e for e, _ in starts.values()}
        self.entry: int | None = 0 if toc and 0 not in matched else None
        self.stack: dict[int, str] = {}
        self.segments: list[Segment] = []
        self.current: list[Line] = []
        self.current_key: tuple[tuple[str, ...], int | None] | None = None

    def path(self) -> tuple[str, ...]:
        base = self.toc.path(self.entry) if self.toc and self.entry is not None else ()
        return base + tuple(self.stack[k] for k in sorted(self.stack))

    def run(self) -> list[Segment]:
        i, n = 0, len(self.lines)
        while i < n:
            i = self.step(i)
        self.flush()
        return self.segments

    def step(self, i: int) -> int:
        text, raw = clean(self.lines[i]), self.lines[i].strip(" \r\n")
        if i in self.skip or not text:
            return i + 1
        if i in self.starts:
            self.entry, exact = self.starts[i]
            self.stack = {}
            if exact:
                self.headings.add(i)
            else:  # the body's wording adds to the TOC title ("... Görev Yapan Meclis Üyeleri")
                self.add(i, self.lines[i].rstrip())
            return i + 1
        if "\t" in raw:  # a table row, even when its cells are empty but the first
            self.add(i, raw)
            return i + 1
        if (goal := _GOAL.match(text)) is not None:
            return self.goal(i, goal)
        if _is_caps(text) and (not self.stack or self.company_cue(i)):
            self.open(_CAPS, text, i)
            return i + 1
        if _ACTIVITY.match(text) and not text.endswith("."):
            self.open(_ACTIVITY_LEVEL, text, i)
            return i + 1
        nxt = self.next_text(i)
        split_title = nxt is not None and clean(self.lines[nxt]) in ("Faaliyetleri", "Faaliyeti")
        if split_title and nxt is not None and len(text.split()) <= 20 and not text.endswith("."):
            self.open(_ACTIVITY_LEVEL, f"{text} {clean(self.lines[nxt])}", i, nxt)
            return nxt + 1
        if (unit := _UNIT.match(text)) is not None and self.prose_follows(i):
            level = _BRANCH_LEVEL if unit["kind"] == "Şube Müdürlüğü" else _DEPT_LEVEL
            self.open(level, text, i)
            return i + 1
        if (dept := _DEPARTMENT.match(text)) is not None:
            self.set_level(_DEPT_LEVEL, dept["dept"])
        self.add(i, self.lines[i].rstrip())
        return i + 1

    def goal(self, i: int, m: re.Match[str]) -> int:
        title, heading_lines = m["title"], [i]
        if not title:
            nxt = self.next_text(i)
            nxt_text = clean(self.lines[nxt]) if nxt is not None else ""
            if nxt is not None and "\t" not in nxt_text and len(nxt_text.split()) <= 25:
                title, heading_lines = nxt_text, [i, nxt]
        label = f"{m['kind']} {m['num']}" + (f": {title.strip()}" if title else "")
        self.open(_GOAL_LEVEL[m["kind"]], label, *heading_lines)
        return heading_lines[-1] + 1

    def open(self, level: int, label: str, *heading_lines: int) -> None:
        self.set_level(level, label)
        self.headings.update(heading_lines)

    def set_level(self, level: int, label: str) -> None:
        self.stack = {k: v for k, v in self.stack.items() if k < level}
        self.stack[level] = label

    def next_text(self, i: int) -> int | None:
        for j in range(i + 1, min(i + 6, len(self.lines))):
            if j in self.skip:
                continue
            if clean(self.lines[j]):
                return j
        return None

    def prose_follows(self, i: int) -> bool:
        """The next line is a sentence or a branch heading, not another name in a list."""
        nxt = self.next_text(i)
        if nxt is None:
            return False
        text = clean(self.lines[nxt])
        branch = _UNIT.match(text)
        return len(text.split()) >= 8 or text[:1].isdigit() or bool(branch and "Şube" in branch["kind"])

    def company_cue(self, i: int) -> bool:
        seen = 0
        for j in range(i + 1, min(i + 40, len(self.lines))):
            text = clean(self.lines[j])
            if text and j not in self.skip:
                if _COMPANY_CUE.match(text):
                    return True
                if (seen := seen + 1) >= 8:
                    break
        return False

    def add(self, i: int, text: str) -> None:
        key = (self.path(), self.entry)
        if key != self.current_key:
            self.flush()
            self.current_key = key
        self.current.append((i, text))

    def flush(self) -> None:
        if self.current and self.current_key is not None:
            path, entry = self.current_key
            self.segments.append(Segment(path, entry, tuple(self.current)))
        self.current = []


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    words = text.split()
    return (
        len(letters) >= 4
        and all(c.isupper() for c in letters)
        and len(words) <= 10
        and "\t" not in text
        and (not text.endswith(".") or text.endswith("A.Ş."))
    )
