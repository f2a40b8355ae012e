"""The vector arms read a question without the words most of the report's passages hold."""

from __future__ import annotations

from indexer.search import SearchEngine

PLAIN = "kaç ton tıbbi atık bertaraf edildi"
# "Belediye", "2023" and "yılında" are each in more than 40% of the report's passages.
PADDED = f"Belediye 2023 yılında {PLAIN}"


def _ids(engine: SearchEngine, query: str) -> list[str]:
    return [h.passage.id for h in engine.search(query, 10, "dense").hits]


def test_words_most_passages_hold_do_not_steer_the_vector_arms(report_engine: SearchEngine) -> None:
    assert _ids(report_engine, PADDED) == _ids(report_engine, PLAIN)


def test_kept_they_would(report_engine: SearchEngine) -> None:
    everything = report_engine.with_settings(report_engine.settings.model_copy(update={"common_share": 1.0}))
    assert _ids(everything, PADDED) != _ids(everything, PLAIN)


def test_a_question_about_common_words_is_embedded_whole(report_engine: SearchEngine) -> None:
    # "Belediye", "Başkanı", "hizmetleri", "2023": each in over 40% of the passages.
    everything = report_engine.with_settings(report_engine.settings.model_copy(update={"common_share": 1.0}))
    frequencies = report_engine.lexical.frequencies(["beled", "baska", "hizme", "2023"])
    assert all(n > 0.4 * len(report_engine) for n in frequencies.values())
    for question in (
        "Belediye hizmetleri 2023",
        "Belediye Başkanı kimdir",
        "Bilgi İşlem Dairesi Başkanlığı ne yapar",
    ):
        assert _ids(report_engine, question) == _ids(everything, question) != []
