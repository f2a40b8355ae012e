"""Turkish analysis: what users type must meet what the report says."""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzer, fold, normalize, tr_lower

ANALYZER = Analyzer()


@pytest.mark.parametrize(
    ("typed", "proper"),
    [
        ("kopek barinagi", "köpek barınağı"),
        ("IZMIR", "İzmir"),
        ("Izmir'in cocuk kreslerI", "İzmir'in çocuk kreşleri"),
        ("sahipsiz hayvanlar", "Sahipsiz Hayvanlar"),
        ("ISIK", "ışık"),
    ],
)
def test_ascii_typed_query_gets_the_same_terms(typed: str, proper: str) -> None:
    assert ANALYZER.terms(typed) == ANALYZER.terms(proper)


def test_turkish_lowercase_keeps_dotless_i() -> None:
    assert tr_lower("IŞIK İZMİR") == "ışık izmir"
    assert "\u0307" not in tr_lower("İSTANBUL")


def test_apostrophe_suffix_and_numbers() -> None:
    assert normalize("Türkiye'nin 19.755 öğrencisi") == "turkiye 19755 ogrencisi"
    assert ANALYZER.terms("19.755") == ANALYZER.terms("19755")
    assert ANALYZER.terms("25.611.625.500") != ANALYZER.terms("25.611")  # numbers are not stemmed


@pytest.mark.parametrize("written", ["%97 tamamlandı", "97% tamamlandı", "97 % tamamlandı"])
def test_percent_sign_meets_the_word_yuzde(written: str) -> None:
    # "narlıdere metrosu yüzde kaç bitti": the report writes "%97 tamamlanmış".
    assert ANALYZER.terms(written) == ANALYZER.terms("yüzde 97 tamamlandı")
    assert "yuzde" in ANALYZER.terms("yuzde kac")


def test_stop_words_and_question_words_are_dropped() -> None:
    assert ANALYZER.terms("ve ile için nedir kaç") == []


def test_stemmers_are_selectable() -> None:
    assert Analyzer(stemmer="none").terms("kreşleri") == ["kresleri"]
    assert Analyzer(stemmer="prefix", prefix_len=4).terms("kreşleri") == ["kres"]
    assert Analyzer(stemmer="snowball").terms("belediyesi") != ["belediyesi"]


def test_fold_leaves_ascii_alone() -> None:
    assert fold("Metro A.S. 2023") == "Metro A.S. 2023"


def test_describe_changes_with_the_terms() -> None:
    assert Analyzer().describe() != Analyzer(prefix_len=6).describe()
