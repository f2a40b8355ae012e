"""Duties and their legal basis from section 1.2 ("Yetki, Görev ve Sorumluluklar") of the report.

The tables pair a duty ("Yasal Yükümlülük") with its basis ("Dayanak"). The extraction kept three
row forms: "duty<TAB>label", "duty label" (label glued to the end), and duty and label on lines of
their own. The last form drifted in two blocks (5216 m.7 and the first Meclis block); those are
re-aligned in order and checked against the law's wording (``ANCHORS``). See docs/legal-basis.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from indexer.duty_labels import ANCHORS, ASCII_CLAUSES, TURKISH_CLAUSES, fold_label, label_refs, parse_label

SECTION_HEADING = "1.2. Yetki, Görev ve Sorumluluklar"


@dataclass(frozen=True)
class Duty:
    """A duty of a body and its legal basis.

    ``label`` is the "Dayanak" cell as printed ("" when none is printed for the row; 5216 m.7/p–z
    then get their basis from the clause order). ``recovered`` is False where the basis is a guess.
    """

    body: str
    text: str
    basis: tuple[str, ...]
    label: str
    line: int
    recovered: bool


@dataclass
class _Draft:
    body: str
    text: str
    line: int
    labels: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    recovered: bool = True


Item = tuple[str, int, str, str]  # kind ("row", "text", "label"), line number, duty text, label

_GLUED = re.compile(r"\s(?=\d{2,4} s\.K)")
_HEADER = re.compile(r"(?:Yasal Yükümlülük|Dayanak|[\s*])+")
_SECTION_END = re.compile(r"\d+\.\d+\.\s+[A-ZÇĞİÖŞÜ]")


def _note_only(text: str) -> bool:
    """True when ``text`` is nothing but parenthesized amendment notes (a row's overflow).

    >>> _note_only('(29/11/2018 tarihli ... "İçişleri" ibaresi değiştirilmiştir.)'), _note_only("(Ek) Borç.")
    (True, False)
    """
    return bool(re.fullmatch(r"(\s*\((?:[^()]|\([^()]*\))*\))+[\s.;]*", text))


def _body_heading(line: str) -> str | None:
    name = re.sub(r"\**(Yasal Yükümlülük|Dayanak)\**", "", line).strip()
    return name if name.startswith("Büyükşehir Belediye") and len(name.split()) <= 3 else None


def _blocks(lines: list[str]) -> list[tuple[str, list[Item]]]:
    """The section's table blocks (split at body headings and repeated column headers)."""
    # the body heading, not the table of contents' "1.2. Yetki Görev ve Sorumluluklar\t4"
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION_HEADING), len(lines))
    blocks: list[tuple[str, list[Item]]] = []
    body: str | None = None
    for number, raw in enumerate(lines[start + 1 :], start + 2):
        line = raw.strip()
        if _SECTION_END.match(line):
            break
        if not line or line.startswith("* "):  # footnote
            continue
        heading = _body_heading(line)
        if heading or _HEADER.fullmatch(line):
            body = heading or body
            blocks += [(body, [])] if body else []
            continue
        if not body:  # the section's introduction
            continue
        items = blocks[-1][1]
        if "\t" in raw:
            text, label = raw.split("\t", 1)
            items.append(("row", number, text.strip(), label.strip()))
        elif parse_label(line):
            items.append(("label", number, "", line))
        else:  # a label glued to the end of the duty with a space
            glued = next((m.end() for m in _GLUED.finditer(line) if parse_label(line[m.end() :])), 0)
            items.append(("row", number, line[:glued], line[glued:]) if glued else ("text", number, line, ""))
    return [block for block in blocks if block[1]]


def _fit(text: str, label: str) -> int:
    """+1 when an anchored ref of ``label`` matches ``text``, -1 when none does, 0 without anchors."""
    anchors = [ANCHORS[ref] for ref in parse_label(label) or [] if ref in ANCHORS]
    return 0 if not anchors else 1 if any(a in fold_label(text) for a in anchors) else -1


def _align(texts: list[str], labels: list[str]) -> list[list[int]]:
    """Monotone alignment: each text takes a run (maybe empty) of the labels, all labels in order.

    One label per text is preferred; anchors decide where a text takes two or none.

    >>> _align(["Karar organı olarak görev yapmak.", "Bütçe ve kesin hesabı kabul etmek."],
    ...        ["5216 s.K.m.12", "5393 s.K.m.17", "5393 s.K.m.18-b"])
    [[0, 1], [2]]
    """
    n, m = len(texts), len(labels)
    best = [[float("-inf")] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(m + 1):
            for k in range(j + 1):
                score = best[i - 1][j - k] - 0.4 * abs(k - 1)
                score += sum(_fit(texts[i - 1], labels[x]) for x in range(j - k, j))
                if score > best[i][j]:
                    best[i][j], back[i][j] = score, k
    runs: list[list[int]] = []
    for i in range(n, 0, -1):
        runs.append(list(range(m - back[i][m], m)))
        m -= back[i][m]
    return runs[::-1]


def _pair(body: str, items: list[Item]) -> list[_Draft]:
    """Drafts of one block: rows as printed; loose texts and labels adjacent or aligned."""
    rows: list[_Draft] = []
    loose: list[Item] = []
    row: _Draft | None = None  # a label line right after a row is its label cell's next line
    for kind, line, text, label in items:
        if kind == "row":
            row = _Draft(body, text, line, [label] if label else [])
            rows.append(row)
        elif kind == "label" and row:
            row.labels.append(label)
        else:
            row = None
            loose.append((kind, line, text, label))
    texts = [_Draft(body, text, line) for kind, line, text, _ in loose if kind == "text"]
    labels = [label for kind, _, _, label in loose if kind == "label"]
    if [kind for kind, *_ in loose] == ["text", "label"] * len(texts):
        for draft, label in zip(texts, labels, strict=True):
            draft.labels = [label]
    elif texts and labels:
        runs = _align([d.text for d in texts], labels)
        fits = [[_fit(d.text, labels[x]) for x in run] for d, run in zip(texts, runs, strict=True)]
        flat = [f for run_fits in fits for f in run_fits]
        sure = all(len(run) == 1 for run in runs) and -1 not in flat and 1 in flat
        above: list[str] = []
        for draft, run, run_fits in zip(texts, runs, fits, strict=True):
            draft.labels = [labels[x] for x in run]
            draft.recovered = sure or (1 in run_fits and -1 not in run_fits)
            # a text left without a label most likely shares the label cell above it (rowspan)
            draft.refs = above = label_refs(draft.labels) or above
    elif labels:  # labels without a duty text in their block: kept only to be reported
        texts = [_Draft(body, "", line, [label], recovered=False) for kind, line, _, label in loose]
    for draft in rows + texts:
        draft.refs = draft.refs or label_refs(draft.labels)
    return sorted(rows + texts, key=lambda d: d.line)


def _continue_clauses(drafts: list[_Draft], previous: list[_Draft]) -> None:
    """Give a label-less block the clause letters after the previous block's last label.

    A text whose first sentence cites "birinci fıkra" is a later paragraph of the article, not a
    clause: it gets the article alone. A clause is sure when its anchor matches.
    """
    last = previous[-1].refs if previous else []
    if len(last) != 1 or last[0].count("/") != 2:
        return
    law, article, letter = last[0].split("/")
    used = {ref.rsplit("/", 1)[1] for d in previous for ref in d.refs if ref.startswith(f"{law}/{article}/")}
    alphabet = TURKISH_CLAUSES if used & set("çğı") else ASCII_CLAUSES
    letters = iter(alphabet[alphabet.index(letter) + 1 :] if letter in alphabet else "")
    for draft in drafts:
        first = re.sub(r"^(\([^)]*\)\s*)+", "", draft.text).split(". ")[0]
        if "birinci fikra" in fold_label(first):
            draft.refs = [f"{law}/{article}"]
            continue
        ref = f"{law}/{article}/{next(letters, '?')}"
        draft.refs, draft.recovered = [ref], ref in ANCHORS and ANCHORS[ref] in fold_label(draft.text)


def _words(text: str) -> set[str]:
    return {word[:5] for word in re.findall(r"[a-z]{4,}", fold_label(text))}


def _guess(draft: _Draft, before: _Draft | None, after: _Draft | None, printed: list[_Draft]) -> list[str]:
    """Refs for a duty printed without a label: a best guess.

    Between two duties with the same refs it takes theirs (a label cell spanning rows); otherwise
    those of the labelled duty of the same body with the most words in common.
    """
    if before and after and before.refs and before.refs == after.refs:
        return list(before.refs)
    words = _words(draft.text)
    same = [d for d in printed if d.body == draft.body] or printed
    like = max(
        same, key=lambda d: len(words & _words(d.text)) / max(1, len(words | _words(d.text))), default=None
    )
    return list(like.refs) if like else []


def _extract(lines: list[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    previous: list[_Draft] = []
    for body, items in _blocks(lines):
        block = _pair(body, items)
        if not any(d.labels for d in block) and previous and previous[0].body == body:
            _continue_clauses(block, previous)
        drafts += block
        previous = block
    merged: list[_Draft] = []
    for draft in drafts:  # an amendment note on a row of its own belongs to the duty above it
        above = merged[-1] if merged and merged[-1].body == draft.body else None
        if above is None or not _note_only(draft.text):
            merged.append(draft)
            continue
        above.text += " " + draft.text
        if draft.labels:  # sure only when the duty above had no label of its own
            above.recovered = draft.recovered and not above.labels
            above.labels += draft.labels
            above.refs = label_refs(above.labels)
    printed = [d for d in merged if d.labels]
    for index, draft in enumerate(merged):
        if not draft.refs:
            before = merged[index - 1] if index else None
            after = merged[index + 1] if index + 1 < len(merged) else None
            draft.refs, draft.recovered = _guess(draft, before, after, printed), False
        if any(ref.startswith("?/") for ref in draft.refs):  # "45 mm": the body's usual law
            laws = Counter(r.split("/")[0] for d in merged if d.body == draft.body for r in d.refs)
            law = next((law for law, _ in laws.most_common() if law != "?"), "?")
            draft.refs = [law + ref[1:] if ref.startswith("?/") else ref for ref in draft.refs]
            draft.recovered = False
    return merged


def extract_duties(lines: list[str]) -> list[Duty]:
    """The duties of section 1.2 in report order; ``lines`` are the report's lines.

    >>> report = ["1.2. Yetki, Görev ve Sorumluluklar", "Büyükşehir Belediye Başkanı",
    ...           "Yasal Yükümlülük\\tDayanak", "Gerektiğinde bizzat nikah kıymak.\\t5216 s.K.m.18/j"]
    >>> extract_duties(report)[0].basis
    ('5216/18/j',)
    """
    return [
        Duty(d.body, " ".join(d.text.split()), tuple(d.refs), "; ".join(d.labels), d.line, d.recovered)
        for d in _extract(lines)
        if d.text
    ]


def unrecovered(lines: list[str]) -> list[str]:
    """Labels (or, where no label is printed, duty texts) whose pairing is only a guess or missing."""
    return [("; ".join(d.labels) or " ".join(d.text.split())) for d in _extract(lines) if not d.recovered]
