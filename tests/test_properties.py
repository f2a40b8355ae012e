"""Properties on any input (Hypothesis): text functions never raise, folding is
idempotent, the reference parser never raises, and chunking loses no word."""

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
LINE = st.lists(WORD, min_size=1, max_size=30).map(" ".join)
EVERYTHING = st.text(max_size=300)


@given(EVERYTHING)
def test_analysis_never_raises_and_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert normalize(normalize(text)) == normalize(text)
    assert tr_lower(text).count("I") == 0 and tr_lower(text).count("İ") == 0
    for analyzer in (Analyzer(), Analyzer(stemmer="none"), Analyzer(stop_words=False)):
        terms = analyzer.terms(text)
        assert all(t and t == fold(t) for t in terms)


@given(EVERYTHING)
def test_reference_parsing_never_raises(text: str) -> None:
    refs = find_refs(text)
    assert all(r.canonical for r in refs)
    ref = parse_ref(text)
    assert ref is None or ref.canonical


@given(st.lists(LINE, min_size=1, max_size=20).map("\n".join))
def test_sentence_splitting_keeps_every_word(text: str) -> None:
    assert " ".join(split_sentences(text)).split() == text.split()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.one_of(LINE, st.just(""), LINE.map(lambda x: x.replace(" ", "\t"))), min_size=1, max_size=40)
)
def test_chunking_loses_no_word(lines: list[str]) -> None:
    doc = Document(
        id="rapor-2024", title="Rapor", year=2024, path=Path("rapor-2024.txt"), text="\n".join(lines)
    )
    passages = document_passages(doc, ChunkConfig(max_words=50, min_words=10))
    kept = " ".join(p.text + " " + " ".join(p.path) for p in passages).split()
    assert set(doc.text.split()) <= set(kept)
