"""The second stage: term coverage, title, phrase and table features, and what they do to
a hybrid ranking."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.analysis import Analyzer
from indexer.rerank import FEATURES, MatchIndex
from indexer.search import SearchEngine

TEXTS = [
    ("Su ve Kanalizasyon", "Baraj doluluk oranı yüzde 60 oldu. Su kesintisi yaşanmadı."),
    ("Su ve Kanalizasyon", "Kesintisi su hattında planlandı: su su su baraj."),
    ("Ulaşım", "Otobüs hattı sayısı 350 oldu; baraj yolu açıldı."),
    ("Park ve Bahçeler", "Yeni parklar yapıldı ve ağaç dikildi."),
]


@pytest.fixture(scope="module")
def index() -> tuple[MatchIndex, Analyzer]:
    analyzer = Analyzer()
    terms = [analyzer.terms(f"{title}\n{text}") for title, text in TEXTS]
    titles = [analyzer.terms(title) for title, _ in TEXTS]
    return MatchIndex.build(terms, titles, [False, False, True, False]), analyzer


def features(index: tuple[MatchIndex, Analyzer], query: str) -> dict[str, list[float]]:
    match, analyzer = index
    out = match.features(analyzer.terms(query), np.arange(len(TEXTS)))
    return {name: row.round(3).tolist() for name, row in zip(FEATURES, out, strict=True)}


def test_coverage_is_the_idf_weighted_share_of_query_terms(index: tuple[MatchIndex, Analyzer]) -> None:
    got = features(index, "baraj su kesintisi")
    assert got["coverage"][0] == got["coverage"][1] == 1.0
    # "baraj" alone: a part of the query, weighted by how rare the word is.
    assert 0 < got["coverage"][2] < 1
    assert got["coverage"][3] == 0.0


def test_rare_words_weigh_more_than_common_ones(index: tuple[MatchIndex, Analyzer]) -> None:
    got = features(index, "baraj otobüs")  # baraj is in 3 passages, otobüs in 1
    assert got["coverage"][2] == 1.0
    assert got["coverage"][2] - got["coverage"][0] > got["coverage"][0]


def test_phrase_needs_the_words_adjacent_and_in_order(index: tuple[MatchIndex, Analyzer]) -> None:
    assert features(index, "su kesintisi")["phrase"] == [1.0, 0.0, 0.0, 0.0]
    assert features(index, "kesintisi su")["phrase"] == [0.0, 1.0, 0.0, 0.0]
    assert features(index, "su")["phrase"] == [0.0, 0.0, 0.0, 0.0]


def test_title_and_table_features(index: tuple[MatchIndex, Analyzer]) -> None:
    got = features(index, "kanalizasyon hattı")
    assert got["title"][:2] == [got["title"][0]] * 2 and got["title"][0] > 0
    assert got["title"][2:] == [0.0, 0.0]
    assert got["table"] == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("query", ["", "ve ile", "zzqx", "ğğğ 12345 zzqx"])
def test_queries_without_known_terms_give_zero_features(
    index: tuple[MatchIndex, Analyzer], query: str
) -> None:
    got = features(index, query)
    assert got["coverage"] == got["title"] == got["phrase"] == [0.0] * 4


def test_reranking_keeps_hybrid_scores_in_their_tiers(report_engine: SearchEngine) -> None:
    plain = report_engine.search("İzmir Metro hattı kaç kilometre?", 20).hits
    assert all(0.0 <= h.score <= 1.0 for h in plain)
    cited = report_engine.search("5216 sayılı kanun 7/a", 20).hits
    assert cited[0].cites and 1.0 <= cited[0].score <= 2.0
    assert all(h.score <= 1.0 for h in cited if not h.cites)


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        # A budget row in the performance table: the fused arms put it tenth, under
        # passages that mention opera or budgets alone.
        (
            "İzmir Opera Binası faaliyeti için ayrılan bütçeden 2023'te ne kadar harcandı?",
            "79-İzmir Opera Binası",
        ),
        (
            "Kuraklık yönetimi ve sulak alanların korunması hibe projesinde belediyenin "
            "Avrupalı ortakları kimler?",
            "Lubliana Kentsel Bölge Kalkınma Ajansı",
        ),
    ],
)
def test_second_stage_puts_the_passage_with_all_the_words_first(
    report_engine: SearchEngine, query: str, answer: str
) -> None:
    off = report_engine.settings.model_copy(
        update=dict.fromkeys(("coverage_weight", "title_weight", "phrase_weight", "table_weight"), 0.0)
    )
    assert answer not in report_engine.with_settings(off).search(query, 1).hits[0].passage.text
    assert answer in report_engine.search(query, 1).hits[0].passage.text
