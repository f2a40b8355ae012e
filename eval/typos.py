"""Questions as typed in a hurry: one or two words each with one slip of the finger.

Each question's slips are drawn from a generator seeded by its id, so a run is
repeatable and a question keeps its typos whatever else is asked with it.
"""

from __future__ import annotations

import random
import re

from indexer.analysis import STOP_WORDS, tr_lower

_WORD = re.compile(r"[^\W\d_]{5,}", re.UNICODE)
_LETTERS = "aeıioöuübcçdgğhklmnprsştyz"


def slip(word: str, rng: random.Random) -> str:
    """One edit inside the word (never its first or last letter): a letter dropped, two
    swapped, one replaced or one added.

    >>> [slip("belediyesi", random.Random(seed)) for seed in (1, 3)]
    ['beediyesi', 'beeldiyesi']
    """
    i = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letter = rng.choice([c for c in _LETTERS if c != word[i]])
    return word[:i] + letter + word[i + (kind == 2) :]


def misspell(text: str, key: str) -> str:
    """``text`` with one word of five letters or more mistyped, two if it has four such.

    >>> misspell("Mavi Bayraklı plaj sayısı kaç?", "q002")
    'Mavi Bayreklı plaj sayısı kaç?'
    """
    rng = random.Random(key)
    words = [m for m in _WORD.finditer(text) if tr_lower(m.group()) not in STOP_WORDS]
    if not words:
        return text
    chosen = rng.sample(words, 2 if len(words) >= 4 else 1)
    for m in sorted(chosen, key=lambda m: m.start(), reverse=True):
        text = text[: m.start()] + slip(m.group(), rng) + text[m.end() :]
    return text
