"""Properties on any input (Hypothesis): text functions never raise, folding is
idempotent, the reference parser never raises, and chunking loses no word of body text.

Examples are derandomized, so a run in CI is the same as a run here.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import Analyzer, fold, normalize, tr_lower
from indexer.chunking import ChunkConfig
from indexer.corpus import Document, document_passages
from indexer.legal import find_refs, parse_ref
from indexer.sentences import split_sentences

TURKISH = "abcçdefgğhıijklmnoöprsştuüvyzABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ0123456789"
WORD = st.text(alphabet=TURKISH, min_size=1, max_size=12)
# Body text: a capitalized or all-caps line may be read as a heading, and a heading with
# nothing under it is not a passage (Hypothesis found ["AA AA"]); see the chunking test.
BODY_WORD = st.text(alphabet="abcçdefgğhıijklmnoöprsştuüvyz", min_size=2, max_size=12)
BODY = st.lists(BODY_WORD, min_size=3, max_size=30).map(" ".join)
LINE = st.lists(WORD, min_size=1, max_size=30).map(" ".join)
EVERYTHING = st.text(max_size=300)


@settings(derandomize=True)
@given(EVERYTHING)
def test_analysis_never_raises_and_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert normalize(normalize(text)) == normalize(text)
    assert tr_lower(text).count("I") == 0 and tr_lower(text).count("İ") == 0
    for analyzer in (Analyzer(), Analyzer(stemmer="none"), Analyzer(stop_words=False)):
        terms = analyzer.terms(text)
        assert all(t and t == fold(t) for t in terms)


@settings(derandomize=True)
@given(EVERYTHING)
def test_reference_parsing_never_raises(text: str) -> None:
    refs = find_refs(text)
    assert all(r.canonical for r in refs)
    ref = parse_ref(text)
    assert ref is None or ref.canonical


@settings(derandomize=True)
@given(st.lists(LINE, min_size=1, max_size=20).map("\n".join))
def test_sentence_splitting_keeps_every_word(text: str) -> None:
    assert " ".join(split_sentences(text)).split() == text.split()


TABLE_ROW = BODY.map(lambda x: x.replace(" ", "\t"))


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, derandomize=True)
@given(st.lists(st.one_of(BODY, st.just(""), TABLE_ROW), min_size=1, max_size=40))
def test_chunking_loses_no_word(lines: list[str]) -> None:
    text = "\n".join(lines)
    doc = Document(id="rapor-2024", title="Rapor", year=2024, path=Path("rapor-2024.txt"), text=text)
    passages = document_passages(doc, ChunkConfig(max_words=50, min_words=10))
    kept = " ".join(p.text + " " + " ".join(p.path) for p in passages).split()
    assert set(text.split()) <= set(kept)
