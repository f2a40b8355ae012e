"""What the vector arms embed of a query: its words, with their Turkish letters back,
less the words most passages hold.

BM25 weighs a word found everywhere down by its idf; a sentence encoder cannot. In a
municipal report "Belediye", "2023", "İzmir" and "hizmet" are in half the passages, and
in a short question they take a large share of the vector while telling no passage
from another. So a word whose terms are all that common is left out of the text the
vector arms embed (BM25 still reads the whole query).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from indexer.analysis import Analyzer
from indexer.deascii import restore


def drop_common(text: str, analyzer: Analyzer, common: Callable[[str], bool]) -> str:
    """``text`` without its words whose terms are all ``common``; as it is when no word
    with terms of its own would be left. Terms of one or two characters always stay:
    they are parts of names and numbers ("II. Mehmed", "7/a").

    >>> common = {"beled", "2023", "hizme", "ii"}.__contains__
    >>> drop_common("Belediye 2023'te kaç hizmet verdi?", Analyzer(), common)
    'kaç verdi?'
    >>> drop_common("II. Mehmed", Analyzer(), common)
    'II. Mehmed'
    >>> drop_common("Belediye hizmetleri nedir?", Analyzer(), common)
    'Belediye hizmetleri nedir?'
    """
    kept, content = [], False
    for word in text.split():
        terms = analyzer.terms(word)
        if terms and all(common(t) and len(t) > 2 for t in terms):
            continue
        kept.append(word)
        content = content or bool(terms)
    return " ".join(kept) if content else text


def dense_text(
    query: str,
    analyzer: Analyzer,
    spellings: Mapping[str, str],
    frequencies: Mapping[str, int],
    passages: int,
    share: float,
) -> str:
    """The query as the vector arms read it: ASCII-typed words given their letters
    (``deascii.restore``), and words whose terms are each in more than ``share`` of the
    ``passages`` (``frequencies``: passages holding a term) left out.

    >>> dense_text("belediye kopek barinagi", Analyzer(), {"kopek": "köpek"}, {"beled": 6}, 10, 0.5)
    'köpek barinagi'
    """
    restored = restore(query, spellings)
    if share >= 1:
        return restored
    return drop_common(restored, analyzer, lambda t: frequencies.get(t, 0) > share * passages)
