"""Turkish text analysis shared by documents and queries.

The chain follows Lucene's ``turkish`` analyzer, with two changes measured on the
benchmarks (see ``NOTES.md`` section 2): diacritics are folded *before* stemming, so
that "kopek barinagi" and "köpek barınağı" meet, and stemming is a choice of
prefix truncation or Snowball.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

ANALYZER_VERSION = "8"

_UPPER_TR = str.maketrans({"I": "ı", "İ": "i"})
_FOLD = str.maketrans("çğıöşüâîûéÇĞIÖŞÜÂÎÛÉ", "cgiosuaiueCGIOSUAIUE")
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`´](\w+)")
# Digit groups "19.755" or "25.900.000" are one number, not three tokens.
_THOUSANDS = re.compile(r"(?<=\d)\.(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# "%97" is how the report writes what a question asks as "yüzde kaç"; "97%" happens too.
_PERCENT_AFTER = re.compile(r"(\d[\d.,]*)\s*%")

# Lucene's Turkish stop words plus question words ("kaç", "nedir"), which every
# question has and no passage answers by. Stop words are matched after folding, so "şu"
# is left out: folded it is "su", water, a word the report uses 87 times.
_STOP_TEXT = """
acaba ama ancak artık aslında az bazı belki biri birkaç birşey biz bu bunu buna
bunda bundan bunların bunlar çok çünkü da daha de defa diye eğer en gibi hem hep
hepsi her hiç için ile ise işte kez ki kim kime kimi mı mi mu mü nasıl ne neden
nerde nerede nereye niçin niye o onlar onu ona ondan onun sanki şey siz tüm ve
veya ya yani olan olarak oldu olduğu olmak olup üzere ayrıca kadar sonra önce var
yok hangi hangisi nedir midir mıdır kaç
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_TEXT.split())

# Units as the report writes them (folded): a citizen asks "kaç kilo", "kaç metrekare",
# "kaç lira"; the report answers in "kg", "m²", "TL". Whole tokens, suffixes allowed.
_UNITS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), symbol)
    for pattern, symbol in (
        (r"km2|km²|kilometrekare\w*", "km2"),
        (r"km|kilomet(?:re|er)\w*", "km"),
        # not kilokalori, kilobayt, kiloton, kilovat, kilohertz
        (r"kg|kilo(?!kalori|bayt|byte|ton|vat|watt|hertz|metre)\w*", "kg"),
        (r"m2|m²\w*|metrekare\w*", "m2"),
        (r"tl|lira\w*", "tl"),
    )
)
# "25TL", "2.771,98m²": a unit glued to its number is a word of its own.
_GLUED_UNIT = re.compile(r"(?<=\d)(?=(?:km|kg|m²|m2|tl)(?![^\W\d_]))", re.IGNORECASE)

Stemmer = Literal["none", "prefix", "snowball"]


def tr_lower(text: str) -> str:
    """Lowercase with Turkish dotted/dotless i.

    >>> tr_lower("İZMİR IŞIK")
    'izmir ışık'
    """
    return text.translate(_UPPER_TR).lower()


def fold(text: str) -> str:
    """Fold Turkish letters to ASCII, as users type them on phones.

    >>> fold("köpek barınağı ÇĞŞ")
    'kopek barinagi CGS'
    """
    return text.translate(_FOLD)


def strip_suffixes(text: str) -> str:
    """Drop the suffix after an apostrophe ("İzmir'in" → "İzmir").

    >>> strip_suffixes("İzmir'in ve Türkiye’nin")
    'İzmir ve Türkiye'
    """
    return _APOSTROPHE.sub("", text)


def join_numbers(text: str) -> str:
    """Remove thousands separators so "19.755" and "19755" are one token.

    >>> join_numbers("19.755 kişi, 25.900.000,00 TL, 1.3.2")
    '19755 kişi, 25900000,00 TL, 1.3.2'
    """
    return _THOUSANDS.sub("", text)


def spell_percent(text: str) -> str:
    """Write the percent sign as the word questions use ("%97", "97%" → "yüzde 97").

    >>> spell_percent("%97 bitti, payı 10,00% oldu")
    ' yüzde 97 bitti, payı yüzde 10,00 oldu'
    """
    return _PERCENT_AFTER.sub(r"yüzde \1", text).replace("%", " yüzde ")


def normalize(text: str) -> str:
    """Lowercase, strip suffixes, join numbers and fold: the form both sides share.

    >>> normalize("İzmir'in KÖPEK Barınağı 1.250")
    'izmir kopek barinagi 1250'
    """
    return fold(tr_lower(join_numbers(strip_suffixes(text))))


def words(text: str) -> list[str]:
    """Split normalized text into word tokens.

    >>> words("ulaşım-ana planı, 7/a")
    ['ulaşım', 'ana', 'planı', '7', 'a']
    """
    return _TOKEN.findall(text)


def unit(token: str) -> str:
    """The report's symbol for a unit word, with or without suffixes; other tokens as
    they are.

    >>> [unit(t) for t in ["kilometrelik", "kilo", "metrekarelik", "m²de", "liralik"]]
    ['km', 'kg', 'm2', 'm2', 'tl']
    >>> [unit(t) for t in ["kilometrekare", "kilovat", "kilokalori", "kmykk"]]
    ['km2', 'kilovat', 'kilokalori', 'kmykk']
    """
    for pattern, symbol in _UNITS:
        if pattern.fullmatch(token):
            return symbol
    return token


def split_units(text: str) -> str:
    """Part a unit from the number it is glued to.

    >>> split_units("25TL, 2.771,98m² ve 3 km; 4x4")
    '25 TL, 2.771,98 m² ve 3 km; 4x4'
    """
    return _GLUED_UNIT.sub(" ", text)


@lru_cache(maxsize=1)
def _snowball() -> object:
    import Stemmer as PyStemmer  # PyStemmer; imported lazily to keep import cheap

    return PyStemmer.Stemmer("turkish")


_FOLDED_STOPS = frozenset(fold(w) for w in STOP_WORDS)


@dataclass(frozen=True)
class Analyzer:
    """Turns text into BM25 terms; one instance serves documents and queries."""

    stemmer: Stemmer = "prefix"
    prefix_len: int = 5
    stop_words: bool = True

    def terms(self, text: str) -> list[str]:
        """Analyzed terms of ``text``.

        >>> Analyzer().terms("İzmir'in kreşleri hangi ilçelerde?")
        ['izmir', 'kresl', 'ilcel']
        >>> Analyzer(stemmer="none").terms("Kopek barinagi")
        ['kopek', 'barinagi']
        >>> Analyzer().terms("25.611.625.500 TL")
        ['25611625500', 'tl']
        >>> Analyzer().terms("kaç kilometre, kaç metrekare")
        ['km', 'm2']
        """
        tokens = [unit(t) for t in words(normalize(spell_percent(split_units(text))))]
        if self.stop_words:
            tokens = [t for t in tokens if t not in _FOLDED_STOPS]
        return self._stem(tokens)

    def _stem(self, tokens: list[str]) -> list[str]:
        if self.stemmer == "prefix":
            # A number is not a stem: cut to five digits, 25.611.625.500 would be 25611.
            return [t if t.isdigit() else t[: self.prefix_len] for t in tokens]
        if self.stemmer == "snowball":
            return list(_snowball().stemWords(tokens))  # type: ignore[attr-defined]
        return tokens

    def describe(self) -> str:
        """A stable label for manifests: changes when the terms would change."""
        return f"v{ANALYZER_VERSION}:{self.stemmer}:{self.prefix_len}:{int(self.stop_words)}"
