"""Which passages cite which legal reference: the exact-match side of legal search."""

from __future__ import annotations

from collections.abc import Iterable

from indexer.legal import find_refs

CITATIONS_VERSION = "1"  # bump when the reference parser's output changes


def broader(canonical: str) -> list[str]:
    """A reference and every broader one it falls under.

    >>> broader("5216/7/a")
    ['5216/7/a', '5216/7', '5216']
    >>> broader("5393")
    ['5393']
    """
    parts = canonical.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def citation_index(texts: Iterable[str]) -> dict[str, list[int]]:
    """For each reference (and each broader form of it), the passages citing it, in order.

    >>> citation_index(["5216 s.K.m.7/a", "Belediye Kanunu'nun 18. maddesi", "Yol yapıldı."])
    {'5216': [0], '5216/7': [0], '5216/7/a': [0], '5393': [1], '5393/18': [1]}
    """
    index: dict[str, set[int]] = {}
    for i, text in enumerate(texts):
        for ref in find_refs(text):
            for key in broader(ref.canonical):
                index.setdefault(key, set()).add(i)
    return {key: sorted(found) for key, found in sorted(index.items())}
