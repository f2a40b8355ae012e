"""The "Dayanak" (legal basis) column of section 1.2: its labels read as canonical refs,
and what the law says in the clauses whose labels drifted from their rows (``ANCHORS``).
"""

from __future__ import annotations

import re

# 5216 and 5393 letter their clauses without ç, ğ, ı (the report's own labels run 7/a…7/o and
# 18/a…18/u); later laws such as 5957 use them ("10/ç").
ASCII_CLAUSES = "abcdefghijklmnoprstuvyz"
TURKISH_CLAUSES = "abcçdefgğhıijklmnoprsştuüvyz"

# What the law says in each clause of 5216 m.7, in clause order (folded, see fold_label), and in a few
# other refs of the damaged blocks. They check alignments of labels that drifted from their rows:
# a matching anchor confirms a pairing, a missing one refutes it, a ref without one says nothing.
_M7 = (
    "stratejik plan|nazim imar plan|gecekondu|isyerlerine|69 ve 73|ulasim ana plan|ilce merkezine baglayan"
    "|kent bilgi sistem|agaclandirma|laboratuvar|zabita|terminal|sosyal donati|mabet|tabiat varlik"
    "|toplu tasima hizmetlerini yurutmek|kanalizasyon|mezarlik|toptanci hal|itfaiye|gezici saglik"
    "|merkezi isitma|afet riski"
)
ANCHORS: dict[str, str] = {f"5216/7/{c}": a for c, a in zip(ASCII_CLAUSES, _M7.split("|"), strict=True)} | {
    "5216/12": "karar organi",
    "5393/17": "karar organi",
    "5393/18/a": "stratejik plan ile",
    "5393/41": "stratejik plan",
    "5393/56": "faaliyet rapor",
    "5393/18/b": "kesin hesab",
    "5216/25": "ilce belediyelerinden gelen butce",
}

_FOLD = str.maketrans("İIçğıöşüâîû", "iıcgiosuaiu")
_REF = re.compile(
    r"(?:(?P<law>\d{2,4})\s*s\.\s*K\.?\s*(?:m\.\s*)?(?P<art>\d+)|m\.\s*(?P<bare>\d+)|(?P<mm>\d+)\s*mm\b)"
    r"(?P<tail>(?:[/-][0-9a-zçğıöşü]+)*)"
)
_LABEL = re.compile(rf"(?:[\s;,()]*(?:{_REF.pattern}))+[\s;,()]*")


def fold_label(text: str) -> str:
    """Lower case without Turkish letters, so misspellings in the extraction still match.

    >>> fold_label("Gayrisıhhi İŞYERLERİ")
    'gayrisihhi isyerleri'
    """
    return text.translate(_FOLD).lower().translate(_FOLD)


def parse_label(label: str) -> list[str] | None:
    """Canonical refs of a "Dayanak" label, or None when ``label`` is not only refs.

    A ref without a law ("m.62") takes the law before it; "45 mm" has none and gives "?/45".

    >>> parse_label("5393 s.K.m.18-b; m.62; m.63")
    ['5393/18/b', '5393/62', '5393/63']
    >>> parse_label("5957 s.K.8 5957 s.K 10/ç 5957 s.K 11/3")
    ['5957/8', '5957/10/ç', '5957/11/3']
    >>> parse_label("Borçlanmaya karar vermek.") is None
    True
    """
    if not _LABEL.fullmatch(label):
        return None
    refs, law = [], "?"
    for match in _REF.finditer(label):
        law = match["law"] or (law if match["bare"] else "?")
        parts = (law, match["art"] or match["bare"] or match["mm"], match["tail"][1:].lower())
        refs.append("/".join(part for part in parts if part))
    return refs


def label_refs(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(ref for label in labels for ref in parse_label(label) or []))
