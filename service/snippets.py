"""What the search page shows of a passage: highlighted words, the best sentences, pages.

Highlighting runs each word of the passage through the index's own analyzer and marks the
words whose term is one of the query's terms. Both sides are folded and stemmed the same
way, so an ASCII-typed "kopek barinagi" marks "köpek barınağı" and "barınakta".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import lru_cache

from markupsafe import Markup, escape

from indexer.analysis import Analyzer
from indexer.sentences import split_sentences

# A word as the reader sees it: a grouped number ("1.250") or a word with its suffix
# after an apostrophe ("İzmir'in"), which the analyzer reduces to one term.
_WORD = re.compile(r"\d{1,3}(?:\.\d{3})+(?!\d)|[^\W_]+(?:['’‘`´][^\W_]+)?")
# Leftovers of the PDF extraction that mean nothing to a reader.
_MARKUP = re.compile(r"\*\*|</?(?:i|b|small)>")
_HYPHEN_BREAK = re.compile(r"(?<=[a-zçğıöşü])-\n(?=[a-zçğıöşü])")
GAP = "…"


def clean(text: str) -> str:
    """The passage text for reading: no extraction markup, words broken at a line end rejoined.

    >>> clean("**Encümen**\\nihtiyaç-\\nların <i>Meclis</i> Ar-\\nGe")
    'Encümen\\nihtiyaçların Meclis Ar-\\nGe'
    """
    return _HYPHEN_BREAK.sub("", _MARKUP.sub("", text))


@lru_cache(maxsize=65536)
def _terms(analyzer: Analyzer, word: str) -> tuple[str, ...]:
    # A page analyzes every word of ten passages (twice when shortened); words recur.
    return tuple(analyzer.terms(word))


def spans(text: str, terms: Collection[str], analyzer: Analyzer) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` whose analyzed term is in ``terms``; matched
    words separated only by spaces form one span.

    >>> spans("Köpek barınağı ve kedi", {"kopek", "barin"}, Analyzer())
    [(0, 14)]
    """
    found: list[tuple[int, int]] = []
    for m in _WORD.finditer(text):
        if any(t in terms for t in _terms(analyzer, m.group())):
            start, end = m.span()
            if found and not text[found[-1][1] : start].strip(" \t"):
                start = found.pop()[0]
            found.append((start, end))
    return found


def highlight(text: str, terms: Collection[str], analyzer: Analyzer) -> Markup:
    """``text`` escaped, with the words matching ``terms`` in ``<mark>``.

    >>> a = Analyzer()
    >>> str(highlight("Kentin köpek barınağı <büyüdü> & İzmir'in", a.terms("kopek barinagi izmir"), a))
    'Kentin <mark>köpek barınağı</mark> &lt;büyüdü&gt; &amp; <mark>İzmir&#39;in</mark>'
    """
    out: list[str] = []
    pos = 0
    for start, end in spans(text, terms, analyzer):
        out += [escape(text[pos:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _score(unit: str, terms: Collection[str], analyzer: Analyzer) -> tuple[int, int]:
    found = [t for t in analyzer.terms(unit) if t in terms]
    return len(set(found)), len(found)


def best_units(
    units: Sequence[str], terms: Collection[str], analyzer: Analyzer, n: int = 3, keep: int = 0
) -> list[int]:
    """Indexes, in text order, of the ``keep`` first units plus the ``n`` units with the most
    distinct matched terms (then most matches, then earliest); the first ``n`` when none match.

    >>> a = Analyzer()
    >>> best_units(["Otobüs geldi.", "Köpek barınağı açıldı.", "Kedi.", "Barınak büyüdü."],
    ...            a.terms("köpek barınağı"), a, n=2)
    [1, 3]
    >>> best_units(["Başlık", "a", "b", "köpek"], a.terms("köpek"), a, n=1, keep=1)
    [0, 3]
    """
    rest = range(keep, len(units))
    scored = sorted(rest, key=lambda i: (*(-s for s in _score(units[i], terms, analyzer)), i))
    chosen = [i for i in scored[:n] if _score(units[i], terms, analyzer)[0]] or list(rest)[:n]
    return sorted([*range(min(keep, len(units))), *chosen])


def clip(unit: str, terms: Collection[str], analyzer: Analyzer, max_words: int = 40) -> str:
    """``unit`` cut to ``max_words`` words, starting a few words before its first match.

    >>> clip("bir iki üç dört beş altı yedi sekiz dokuz on köpek on iki", {"kopek"}, Analyzer(), 5)
    '… sekiz dokuz on köpek on …'
    >>> clip("kısa cümle", set(), Analyzer(), 5)
    'kısa cümle'
    """
    words = unit.split()
    if len(words) <= max_words:
        return unit
    first = next((i for i, w in enumerate(words) if spans(w, terms, analyzer)), 0)
    start = max(0, min(first - 3, len(words) - max_words))
    end = start + max_words
    return " ".join([GAP] * (start > 0) + words[start:end] + [GAP] * (end < len(words)))


def units_of(text: str, table: bool) -> list[str]:
    """A passage's units for snippets: a table's rows, else its sentences.

    >>> units_of("Başlık\\nA\\t1\\nB\\t2", table=True)
    ['Başlık', 'A\\t1', 'B\\t2']
    >>> units_of("Barınak açıldı bu yıl. Kapasite iki katına çıktı.", table=False)
    ['Barınak açıldı bu yıl.', 'Kapasite iki katına çıktı.']
    """
    if table:
        return [line for line in text.split("\n") if line.strip()]
    return split_sentences(text)


def snippet(
    units: Sequence[str], terms: Collection[str], analyzer: Analyzer, n: int = 3, keep: int = 0
) -> list[str]:
    """The best units (each clipped), with ``GAP`` wherever units were left out.

    >>> a = Analyzer()
    >>> snippet(["Giriş cümlesi.", "Köpek barınağı açıldı.", "Son."], a.terms("barinak"), a, n=1)
    ['…', 'Köpek barınağı açıldı.', '…']
    """
    chosen = best_units(units, terms, analyzer, n, keep)
    out: list[str] = []
    previous = -1
    for i in chosen:
        if i > previous + 1:
            out.append(GAP)
        out.append(clip(units[i], terms, analyzer))
        previous = i
    if previous < len(units) - 1:
        out.append(GAP)
    return out


def pages(start: str, end: str, estimate: str | None = None) -> str:
    """The page citation of a passage.

    >>> pages("59", "94"), pages("59", "59"), pages("165", "172", "171"), pages("ix", "ix", "ix")
    ('s. 59-94', 's. 59', 's. 165-172 (yaklaşık s. 171)', 's. ix')
    """
    cited = f"s. {start}" if start == end else f"s. {start}-{end}"
    if estimate and start != end:
        cited += f" (yaklaşık s. {estimate})"
    return cited


def crumbs(path: Sequence[str], levels: int = 4) -> tuple[bool, list[str]]:
    """The last ``levels`` headings of a section path, and whether any were left out.

    >>> crumbs(["1", "2", "3", "4", "5"], 3)
    (True, ['3', '4', '5'])
    >>> crumbs(["Genel"], 3)
    (False, ['Genel'])
    """
    return len(path) > levels, list(path[-levels:])
