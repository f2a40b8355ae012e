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
from functools import lru_cache

from indexer.analysis import Analyzer
from indexer.deascii import restore

# Question forms that are not stop words: a question left with only these and the
# common words has lost what it asks about.
_QUESTION_TEXT = """
kimdir kimler kimlerdir kimin neler nelerdir neyi neye neyin neresi neresidir nasıldır
hangileri hangileridir kaçtır kaçıncı
"""


@lru_cache(maxsize=4)
def _question_terms(analyzer: Analyzer) -> frozenset[str]:
    return frozenset(t for w in _QUESTION_TEXT.split() for t in analyzer.terms(w))


def drop_common(text: str, analyzer: Analyzer, common: Callable[[str], bool]) -> str:
    """``text`` without its words whose terms are all ``common``, unless that would drop
    more than half of its content words (words with terms, question forms aside) or all
    of them: a question made mostly of such words is about them ("Belediye Başkanı
    kimdir"). Terms of one or two characters always stay: they are parts of names and
    numbers ("II. Mehmed", "7/a").

    >>> common = {"beled", "2023", "hizme", "baska", "ii"}.__contains__
    >>> drop_common("Belediye 2023'te kaç kredi çekti?", Analyzer(), common)
    'kaç kredi çekti?'
    >>> drop_common("Belediye Başkanı kimdir?", Analyzer(), common)
    'Belediye Başkanı kimdir?'
    >>> drop_common("II. Mehmed", Analyzer(), common)
    'II. Mehmed'
    """
    questions = _question_terms(analyzer)  # analyzed once per analyzer, not per query
    words = text.split()
    content, dropped = 0, []
    for word in words:
        terms = analyzer.terms(word)
        if not terms or set(terms) <= questions:
            dropped.append(False)
            continue
        content += 1
        dropped.append(all(common(t) and len(t) > 2 for t in terms))
    if 2 * sum(dropped) > content or sum(dropped) == content:
        return text
    return " ".join(w for w, drop in zip(words, dropped, strict=True) if not drop)


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
    >>> dense_text("belediye kopek barinagi", Analyzer(), {"kopek": "köpek"}, {"beled": 6}, 10, 1.0)
    'belediye köpek barinagi'
    """
    restored = restore(query, spellings)
    if share >= 1:
        return restored
    return drop_common(restored, analyzer, lambda t: frequencies.get(t, 0) > share * passages)
