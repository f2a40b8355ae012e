"""End to end on the real report and the real model: real questions, right passages, right pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from indexer.toc import is_roman, page_number
from service.app import create_app

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


def test_every_line_has_its_page_within_the_section(report_engine: SearchEngine) -> None:
    passages = [p for p in report_engine.passages if p.kind != "duty"]
    assert passages
    for p in passages:
        assert len(p.line_pages) == len(p.text.split("\n")), p.id
        # A table's caption and header lines are cited at its first row, where it starts.
        assert p.line_pages[0] == (p.page_estimate or ""), p.id
        if p.page_start and not is_roman(p.page_start) and not is_roman(p.page_end):
            numbers = [page_number(x) for x in p.line_pages]
            assert numbers == sorted(numbers), p.id
            assert page_number(p.page_start) <= numbers[0] and numbers[-1] <= page_number(p.page_end), p.id


def test_a_hit_is_cited_at_the_page_of_the_line_that_answers(
    report_settings: Settings, report_engine: SearchEngine
) -> None:
    with TestClient(create_app(report_settings, report_engine)) as client:
        params: dict[str, str | int] = {"q": "hafriyat kamyonlarina kac tasima izin belgesi verildi", "k": 1}
        top = client.get("/search", params=params).json()["results"][0]
    passage = next(p for p in report_engine.passages if p.id == top["id"])
    lines = passage.text.split("\n")
    answer = next((n for n, line in enumerate(lines) if "797 adet atık taşıma" in line), None)
    assert answer is not None, passage.text[:300]
    # The passage runs over two pages and the answer is not on its first line's.
    assert passage.line_pages[answer] != passage.line_pages[0] == passage.page_estimate
    assert top["page_estimate"] == passage.line_pages[answer]


def test_a_duty_is_cited_at_the_page_of_its_own_line(report_engine: SearchEngine) -> None:
    duty = next(p for p in report_engine.passages if p.kind == "duty" and "Öngörmeyen giderler" in p.text)
    hosts = [p for p in report_engine.passages if p.kind != "duty"]
    host = next(p for p in hosts if p.line_start <= duty.line_start <= p.line_end)
    line = next(n for n, text in enumerate(host.text.split("\n")) if "Öngörmeyen giderler" in text)
    # The duty's table starts a page before the duty's own line.
    assert duty.page_estimate == host.line_pages[line] != host.page_estimate
