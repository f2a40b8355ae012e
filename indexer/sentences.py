"""Sentences of a passage: the units of the dense arm's sentence-level match.

A question is usually answered by one sentence or one table row. A passage vector
averages that sentence with its neighbours (and e5 reads only the first 512 tokens);
the best-matching sentence's vector does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

SENTENCES_VERSION = "1"
_UPPER = "A-ZÇĞİÖŞÜÂÎÛ"
_LOWER = "a-zçğıöşüâîû"
# A sentence ends at . ! ? … before a capital or digit; in extracted text the space after
# the stop is sometimes lost ("etmiştir.Anadolu"), so a lower-case word end before a stop
# and a capitalized word also splits. Lines are units of their own (table rows, items).
_BOUNDARY = re.compile(
    rf"(?<=[.!?…])\s+(?=[\"“'(]?[{_UPPER}0-9])"
    rf"|(?<=[{_LOWER})]{{2}}[.!?])(?=[{_UPPER}][{_LOWER}])"
    r"|\n+"
)


def split_sentences(text: str, min_words: int = 4) -> list[str]:
    """Sentences and lines of ``text``; a fragment under ``min_words`` joins the next.

    >>> split_sentences("Kurum 1984'te İzmir'de kuruldu. Merkezi İzmir'dedir ve 30 ilçesi var.")
    ["Kurum 1984'te İzmir'de kuruldu.", "Merkezi İzmir'dedir ve 30 ilçesi var."]
    >>> split_sentences("Satır\\nOtobüs sayısı 1.650 adettir.Hat sayısı 350 oldu ve arttı.")
    ['Satır Otobüs sayısı 1.650 adettir.', 'Hat sayısı 350 oldu ve arttı.']
    >>> split_sentences("")
    []
    """
    out: list[str] = []
    pending = ""
    for part in _BOUNDARY.split(text):
        pending = f"{pending} {part.strip()}".strip()
        if len(pending.split()) >= min_words:
            out.append(pending)
            pending = ""
    if pending:
        if out:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


def sentence_units(titles: Sequence[str], texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """What is embedded per sentence ("title" line, then the sentence) and, per unit, the
    index of its passage; a passage always has at least one unit.

    >>> units, owner = sentence_units(["Su", "Yol"], ["Baraj doldu bu yıl. Su kesintisi olmadı hiç.", ""])
    >>> units
    ['Su\\nBaraj doldu bu yıl.', 'Su\\nSu kesintisi olmadı hiç.', 'Yol']
    >>> owner.tolist()
    [0, 0, 1]
    """
    units: list[str] = []
    owner: list[int] = []
    for i, (title, text) in enumerate(zip(titles, texts, strict=True)):
        found = split_sentences(text) or [""]
        for sentence in found:
            units.append("\n".join(s for s in (title, sentence) if s))
            owner.append(i)
    return units, np.asarray(owner, dtype=np.int64)


def best_per_passage(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each passage's best unit score; ``starts`` holds each passage's first unit index.

    >>> best_per_passage(np.array([0.2, 0.9, 0.4]), np.array([0, 2])).tolist()
    [0.9, 0.4]
    """
    return np.maximum.reduceat(scores, starts) if len(scores) else np.zeros(0)
