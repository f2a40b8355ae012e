"""Legal references in Turkish text and their canonical keys ("5216 s.K.m.7/a" → "5216/7/a").

The patterns, the law names and the folding they match on are in ``indexer.legal_grammar``;
this module reads what they match into references, with spans in the original text.

Decisions, from the İzmir 2023 report:

- "m.18-b" is article 18, bent b: the report's row for 5393 m.18/b (budget) reads "m.18-b".
  Digits after the dash ("m.18-20") are a range, expanded up to 30 articles (a wider or
  reversed range gives its two ends); "11.-15.-16. maddeleri" (dots) is a list.
- Fıkra and bent share the clause: "34/1-b" and "birinci fıkrasının (a) bendi" give "1-b", "1-a".
- Decree-laws and presidential decrees are "KHK-703" and "CBK-3".
- All refs of one expression ("22/d ve 3/e maddeleri") share its span.
- The text's number wins over the name: the report's "2018 sayılı Kamu Mali Yönetimi ve
  Kontrol Kanunu" (a typo for 5018) stays 2018.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.legal_grammar import (
    BENT,
    BENT_LETTER,
    FIKRA,
    ITEM,
    KNOWN_LAWS,
    LENIENT,
    LETTER,
    MADDE,
    PREFIX,
    SEP,
    SK_FIRST,
    SK_NEXT,
    START,
    STRICT,
    fold,
    law_named,
    ordinal,
)

# The public entry point: KNOWN_LAWS lives in legal_grammar and is exported from here as well.
__all__ = ["KNOWN_LAWS", "LegalRef", "canonical_key", "find_refs", "parse_ref", "same_clause"]

_MAX_RANGE = 30
_TR_LOWER = str.maketrans({"I": "ı", "İ": "i"})  # Turkish lower case: "I" is "ı"
_Art = tuple[str, str | None]


@dataclass(frozen=True)
class LegalRef:
    """One reference: a law, optionally an article and a clause, and its span in the text."""

    law: str
    article: str | None
    clause: str | None
    name: str | None
    start: int
    end: int

    @property
    def canonical(self) -> str:
        """``law/article/clause``: "5216/7/a", "5216/7" or "5216"."""
        return canonical_key(self.law, self.article, self.clause)


def canonical_key(law: str, article: str | None = None, clause: str | None = None) -> str:
    """The canonical key of a reference; a clause without an article is dropped.

    >>> canonical_key("5216", "7", "A"), canonical_key("5393", "34", "1-B"), canonical_key("khk-703")
    ('5216/7/a', '5393/34/1-b', 'KHK-703')
    """
    parts = [law.strip().upper()]
    if article:
        parts.append(article.strip())
        if clause:
            parts.append(clause.strip().translate(_TR_LOWER).lower())
    return "/".join(parts)


def same_clause(key: str) -> tuple[str, ...]:
    """The key and the other spelling of the same lettered clause: a clause with no
    paragraph number is the first paragraph's ("34/c" is "34/1-c"). The report writes
    m.34's clauses as "34/1-c", and one of 5216 m.7's as "7/1-b" beside "7/a".

    >>> same_clause("5393/34/c"), same_clause("5216/7/1-b"), same_clause("5393/34/2-c")
    (('5393/34/c', '5393/34/1-c'), ('5216/7/1-b', '5216/7/b'), ('5393/34/2-c',))
    >>> same_clause("5216/7"), same_clause("5216"), same_clause("5393/15/2")
    (('5216/7',), ('5216',), ('5393/15/2',))
    """
    parts = key.split("/")
    if len(parts) != 3:
        return (key,)
    head, clause = "/".join(parts[:2]), parts[2]
    if clause.startswith("1-") and clause[2:].isalpha():
        return (key, f"{head}/{clause[2:]}")
    if clause.isalpha():
        return (key, f"{head}/1-{clause}")
    return (key,)


def _letter(text: str, i: int) -> str:
    return text[i].translate(_TR_LOWER).lower()  # the original letter: "ç", not the folded "c"


def _expand(a: int, b: int) -> list[_Art]:
    return [(str(i), None) for i in (range(a, b + 1) if a <= b <= a + _MAX_RANGE else (a, b))]


def _item(f: str, text: str, pos: int, lenient: bool) -> tuple[list[_Art], int, int | None] | None:
    """The articles of one list item at ``pos``, its end, and its plain number (for "3 ila 5")."""
    if (m := ITEM.match(f, pos)) is None:
        return None
    if m.group("w"):
        n = ordinal(m.group("w"))
        return [(str(n), None)], m.end(), n
    a, end, clause = int(m.group("a")), m.end(), None
    if m.group("to"):
        return _expand(a, int(m.group("to"))), end, None
    if m.group("b"):
        clause = f"{int(m.group('f'))}-{_letter(text, m.start('b'))}"
    elif m.group("c"):
        clause = _letter(text, m.start("c"))
    elif m.group("n"):
        clause = str(int(m.group("n")))
    elif lenient and (lm := LETTER.match(f, end)):
        clause, end = _letter(text, lm.start(1)), lm.end()
    return [(str(a), clause)], end, a if clause is None else None


def _clauses(f: str, text: str, pos: int) -> tuple[list[str], int]:
    """Clauses after "maddesinin": "dördüncü fıkrası", "(a) ve (b) bentleri", "1. fıkrasının (c) bendi"."""
    fikra = ""
    if m := FIKRA.match(f, pos):
        fikra, pos = str(ordinal(m.group("w")) if m.group("w") else int(m.group("n"))), m.end()
    if m := BENT.match(f, pos):
        found = BENT_LETTER.finditer(f, m.start(), m.end())
        bents = [_letter(text, x.start(1) if x.group(1) else x.start(2)) for x in found]
        return [f"{fikra}-{b}" if fikra else b for b in bents], m.end()
    return ([fikra] if fikra else []), pos


def _prose_tail(f: str, text: str, pos: int, lenient: bool) -> tuple[list[_Art], int]:
    """Articles after a law name: "56. maddesi", "22/d ve 3/e maddeleri", "3 ila 5 inci maddeleri".
    Numbers that no "madde…" closes are not articles ("Kanunu'nun 2004 yılında"), except in a query."""
    arts: list[_Art] = []
    pending: list[tuple[list[_Art], int | None]] = []
    end = pending_end = pos
    prefix_ok, range_next = True, False
    if lenient:
        pos = START.match(f, pos).end()  # type: ignore[union-attr]  # matches the empty string
    for _ in range(200):  # every step consumes text; the cap bounds a pathological list
        if prefix_ok and (m := PREFIX.match(f, pos)) and (it := _item(f, text, m.end(), lenient)):
            arts += it[0]
            pos = end = it[1]
        elif it := _item(f, text, pos, lenient):
            prev = pending[-1][1] if range_next and pending else None
            if prev is not None and it[2] is not None:
                pending[-1] = (_expand(prev, it[2]), None)
            else:
                pending.append((it[0], it[2]))
            pos = pending_end = it[1]
        elif pending and (m := MADDE.match(f, pos)):
            arts += [a for group, _ in pending for a in group]
            pending = []
            clauses, pos = _clauses(f, text, m.end())
            if clauses and arts[-1][1] is None:
                arts[-1:] = [(arts[-1][0], c) for c in clauses]
            end = pos
        elif m := SEP.match(f, pos):
            pos, range_next, prefix_ok = m.end(), m.group("sep") == "ila", True
            continue
        else:
            break
        prefix_ok = range_next = False
    if lenient and pending:
        arts += [a for group, _ in pending for a in group]
        end = pending_end
    return arts, end


def _sk_tail(f: str, text: str, pos: int, lenient: bool) -> tuple[list[_Art], int]:
    """Articles after "5393 s.K.": "m.18/a; m.17", "m.34/1-b", "m.18-b; m.62", "11/6"."""
    arts: list[_Art] = []
    end = pos
    start = SK_FIRST.match(f, pos).end()  # type: ignore[union-attr]  # matches the empty string
    while len(arts) < 200 and (it := _item(f, text, start, lenient)):
        arts, end = arts + it[0], it[1]
        if (m := SK_NEXT.match(f, end)) is None:
            break
        start = m.end()
    return arts, end


def _text_name(text: str, m: re.Match[str]) -> str | None:
    """The name as written, in the nominative ("Aile Hekimliği Kanunu'nun" → "Aile Hekimliği Kanunu")."""
    term = m.group("term")
    if term.startswith(("kanun ", "khk")):
        return "Kanun Hükmünde Kararname"
    if term.startswith("c"):
        return "Cumhurbaşkanlığı Kararnamesi"
    if not (words := text[m.start("words") : m.end("words")].split()):
        return None
    bare = fold(words[-1]) in ("hakkinda", "dair", "iliskin")  # "… Hakkında Kanun", not "Kanunu"
    noun = ("Kanun" if bare else "Kanunu") if term == "kanun" else ("Yasa" if bare else "Yasası")
    return " ".join([*words, noun])


def _sayili_laws(text: str, m: re.Match[str]) -> tuple[list[tuple[str, str | None]], int]:
    """Laws of "5216, 5393 ve 6360 sayılı Yasalar" and where the first starts; a one- or two-digit
    number only comes last ("12, 5393 sayılı" is not a list, "1608/1 sayılı" is 1608)."""
    nums, term = m.group("nums"), m.group("term")
    found = list(re.finditer(r"[0-9]+", nums))
    keep = [
        x
        for i, x in enumerate(found)
        if int(x.group()) > 0
        and (len(x.group()) > 2 or (i == len(found) - 1 and nums[x.start() - 1 : x.start()] != "/"))
    ]
    prefix = "KHK-" if term.startswith(("kanun ", "khk")) else "CBK-" if term.startswith("c") else ""
    laws = [(prefix + x.group(), KNOWN_LAWS.get(prefix + x.group()) or _text_name(text, m)) for x in keep]
    return laws, m.start() + (keep[0].start() if keep else 0)


def _scan(text: str, lenient: bool) -> list[LegalRef]:
    f = fold(text)
    rx = LENIENT if lenient else STRICT
    out: list[LegalRef] = []
    last: tuple[str, str | None] | None = None  # the law "aynı Kanunun" refers to
    pos = 0
    while m := rx.search(f, pos):
        start, arts, end = m.start(), list[_Art](), m.end()
        bare = m.groupdict().get("bare")  # only the query pattern has it
        needs_article = m.group("same") or bare  # alone they name no law
        if m.group("alaw"):
            law = ("KHK-" if m.group("akhk") else "") + m.group("alaw")
            laws = [(law, KNOWN_LAWS.get(law))]
            start, arts = m.start("akhk" if m.group("akhk") else "alaw"), [(str(int(m.group("aart"))), None)]
        elif m.group("nums"):
            laws, start = _sayili_laws(text, m)
            arts, end = _prose_tail(f, text, m.end(), lenient)
        elif m.group("sk"):
            laws = [(m.group("sk"), KNOWN_LAWS.get(m.group("sk")))]
            arts, end = _sk_tail(f, text, m.end(), lenient)
        else:
            known = bare or (law_named(m.group("name")) if m.group("name") else None)
            laws = [(known, KNOWN_LAWS[known])] if known else [last] if last else []
            start = m.start("name") if m.group("name") else start
            arts, end = _prose_tail(f, text, m.end(), lenient)
        end = end if arts else m.end()
        if laws and (arts or not needs_article):
            *whole, (law, name) = laws
            out += [LegalRef(w, None, None, n, start, end) for w, n in whole]
            out += [LegalRef(law, a, c, name, start, end) for a, c in arts]
            out += [] if arts else [LegalRef(law, None, None, name, start, end)]
            last = (law, name)
        pos = max(end, m.start() + 1)
    return out


def find_refs(text: str) -> list[LegalRef]:
    """Every legal reference in ``text`` in order; a list or range of articles gives one ref each.

    >>> [r.canonical for r in find_refs("4734 sayılı Kamu İhale Kanunu'nun 22/d ve 3/e maddeleri")]
    ['4734/22/d', '4734/3/e']
    >>> [r.canonical for r in find_refs("5216 s.K.m.18/a; m.17 ve Belediye Kanunu'nun 56. maddesi")]
    ['5216/18/a', '5216/17', '5393/56']
    >>> find_refs("5393 sayılı Kanun")
    [LegalRef(law='5393', article=None, clause=None, name='Belediye Kanunu', start=0, end=17)]
    >>> find_refs("2023 yılında 5.216 TL, 7/24 hizmet")
    []
    """
    return _scan(text, lenient=False)


def parse_ref(query: str) -> LegalRef | None:
    """The most specific reference in a query (the first of equals), in any written form; a bare
    known law number counts only with an article ("5216 7 a", "5216/7/a").

    >>> [parse_ref(q).canonical for q in ("5393 sk 18 f", "5216/7/a", "belediye kanunu 18. madde")]
    ['5393/18/f', '5216/7/a', '5393/18']
    >>> parse_ref("2023 yılında kaç otobüs vardı?") is None
    True
    """
    refs = _scan(query, lenient=True)
    return max(refs, key=lambda r: (r.article is not None) + (r.clause is not None)) if refs else None
