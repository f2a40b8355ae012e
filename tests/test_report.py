"""End to end on the real report and the real model: real questions, right passages, right pages."""

from __future__ import annotations

import pytest

from indexer.search import SearchEngine

# (question, a string of the answering passage, its section's printed page range)
QUESTIONS = [
    ("İZBAN hangi ilçeler arasında çalışıyor?", "Aliağa ile Selçuk arasında 136 km", ("263", "267")),
    ("izban hangi ilceler arasinda calisiyor", "Aliağa ile Selçuk arasında 136 km", ("263", "267")),
    ("2023 gelir bütçesi ne kadar gerçekleşti?", "25.438.294.095,26", ("45", "46")),
    ("Asfalt serim miktarı 2023 hedefi ne kadardı?", "Asfalt Serim Miktarı\tTon", ("199", "215")),
    ("Meclis gündemini belirleme yetkisinin dayanağı nedir?", "5393 s.K.m.21", ("4", "11")),
    ("Belediyenin misyonu nedir?", "Halktan aldığı gücü", ("3", "3")),
    ("kac tane mavi bayrakli plaj var", "65 Mavi Bayraklı Plaj", ("165", "172")),
    ("Hangi meclis üyeleri 2023'te istifa etti?", "istifa etmiştir", ("vi", "viii")),
]


@pytest.mark.parametrize(("question", "answer", "pages"), QUESTIONS)
def test_answer_in_top5_with_its_pages(
    report_engine: SearchEngine, question: str, answer: str, pages: tuple[str, str]
) -> None:
    hits = report_engine.search(question, k=5).hits
    found = [h.passage for h in hits if answer in h.passage.text]
    assert found, [h.passage.text[:80] for h in hits]
    assert pages in {(p.page_start, p.page_end) for p in found}


def test_each_hit_explains_its_rank(report_engine: SearchEngine) -> None:
    hits = report_engine.search("kreş", k=10).hits
    assert [h.rank for h in hits] == list(range(1, 11))
    assert all(h.bm25 is not None and h.dense is not None for h in hits)
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_table_row_comes_with_its_header(report_engine: SearchEngine) -> None:
    top = report_engine.search("Yapılan Alaçık Sayısı 2023 hedefi", k=3).hits
    table = next(h.passage for h in top if "Yapılan Alaçık Sayısı" in h.passage.text)
    assert table.kind == "table"
    lines = table.text.split("\n")
    # The header row opens the passage, after the table's caption line when it has one.
    header = next(n for n, line in enumerate(lines) if "\t" in line)
    assert header <= 1
    assert lines[header].startswith("Performans Göstergeleri\tDeğer Türü\t2022 Gerçekleşen\t2023 Hedef")
    assert header < next(n for n, line in enumerate(lines) if line.startswith("Yapılan Alaçık Sayısı"))
