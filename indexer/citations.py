"""Which passages cite which legal reference: the exact-match side of legal search."""

from __future__ import annotations

from collections.abc import Iterable

from indexer.chunking import Passage
from indexer.legal import find_refs, same_clause

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
        for key in cited_keys(text):
            index.setdefault(key, set()).add(i)
    return {key: sorted(found) for key, found in sorted(index.items())}


def cited_keys(text: str) -> set[str]:
    """Every reference ``text`` cites, and each broader one it falls under.

    >>> sorted(cited_keys("5216 s.K.m.7/a"))
    ['5216', '5216/7', '5216/7/a']
    """
    return {key for ref in find_refs(text) for key in broader(ref.canonical)}


def citing_page(passage: Passage, key: str) -> str | None:
    """The estimated page of the passage's first line citing ``key`` (or a narrower
    reference, or the same clause written another way); else the passage's own estimate.

    >>> p = Passage("r:1:0", "r", "Plan yapıldı.\\n5216 s.K.m.7/b gereği yol yapıldı.", ("Yol",),
    ...             "9", "12", "10", 1, 3, "text", ("10", "11"))
    >>> citing_page(p, "5216/7"), citing_page(p, "5393")
    ('11', '10')
    """
    if not passage.spans_pages:  # nothing to choose, so no parsing
        return passage.page_estimate
    wanted = set(same_clause(key))
    for line, page in zip(passage.text.split("\n"), passage.line_pages, strict=True):
        if page and wanted & cited_keys(line):
            return page
    return passage.page_estimate
