"""Restore Turkish letters in ASCII-typed queries from the corpus's own vocabulary.

BM25 folds both sides, so "kopek" already meets "köpek" there; the dense model does
not: e5 reads "kopek barinagi" as other words. Each ASCII word of a query is replaced
by the most frequent corpus word that folds to it ("barinagi" → "barınağı").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from indexer.analysis import fold, tr_lower

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TURKISH = set("çğıöşüÇĞİÖŞÜ")


def build_vocabulary(texts: Iterable[str]) -> dict[str, str]:
    """Folded word → its most frequent Turkish spelling, unless the ASCII spelling is a
    common word of its own ("cam" stays "cam" beside "çam").

    >>> build_vocabulary(["Köpek barınağı", "köpek köpek", "kopek", "cam cam çam"])
    {'barinagi': 'barınağı', 'kopek': 'köpek'}
    """
    counts: Counter[str] = Counter(w for t in texts for w in _WORD.findall(tr_lower(t)))
    best: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        key = fold(word)
        if key not in best or (n, word) > best[key]:
            best[key] = (n, word)
    return {k: w for k, (n, w) in sorted(best.items()) if w != k and counts.get(k, 0) * 2 < n}


def restore(query: str, vocabulary: Mapping[str, str]) -> str:
    """The query with ASCII-typed words given back their Turkish letters.

    >>> restore("Kopek barinagi nerede?", {"kopek": "köpek", "barinagi": "barınağı"})
    'köpek barınağı nerede?'
    >>> restore("Köpek barinagi", {"barinagi": "barınağı"})
    'Köpek barinagi'
    """
    if not vocabulary or _TURKISH & set(query):
        return query  # typed with Turkish letters: every word is meant as written

    def swap(m: re.Match[str]) -> str:
        word = m.group()
        return vocabulary.get(fold(tr_lower(word)), word)

    return _WORD.sub(swap, query)


def folded_words(query: str) -> list[str]:
    """The vocabulary keys ``restore`` would look up for ``query`` (none when it is typed
    with Turkish letters): what to fetch from a vocabulary that is not in memory.

    >>> folded_words("Kopek barinagi")
    ['kopek', 'barinagi']
    >>> folded_words("Köpek barinagi")
    []
    """
    if _TURKISH & set(query):
        return []
    return [fold(tr_lower(w)) for w in _WORD.findall(query)]
