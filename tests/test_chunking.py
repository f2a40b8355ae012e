"""Chunking invariants on the real report: nothing lost, bounded, deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.analysis import Analyzer
from indexer.chunking import ChunkConfig, Passage, chunk, cut_long_line, is_header_row, n_words
from indexer.corpus import document_passages, load_document
from indexer.settings import ROOT
from indexer.structure import FURNITURE, clean, outline

REPORT = ROOT / "corpus" / "izmir-2023-faaliyet-raporu.txt"
CONFIG = ChunkConfig()


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return document_passages(load_document(REPORT), CONFIG)


def test_every_body_line_is_in_a_passage(passages: list[Passage], report_lines: list[str]) -> None:
    doc = outline(report_lines)
    assert doc.toc is not None
    toc_lines = set(range(doc.toc.first_line, doc.toc.last_line + 1))
    in_text = {ln.strip() for p in passages for ln in p.text.split("\n")}
    # A heading is kept in the path, reformatted ("Stratejik Amaç 1: ..."): compare words.
    in_paths = " | ".join(_words(x) for p in passages for x in p.path)
    missing = []
    for i, line in enumerate(report_lines):
        text = line.strip()
        if not text or i in toc_lines or FURNITURE.match(clean(line)):
            continue
        covered = text in in_text or (i in doc.heading_lines and _words(text) in in_paths)
        if not covered and not all(part in in_text for part in cut_long_line(text, CONFIG.max_words)):
            missing.append((i + 1, text[:60]))
    assert missing == []


def _words(text: str) -> str:
    return " ".join(Analyzer(stop_words=False).terms(text))


def test_passages_never_cross_sections_and_are_bounded(passages: list[Passage]) -> None:
    for p in passages:
        assert p.text.strip(), p.id
        assert p.page_start and p.page_end, p.id
        if p.kind == "text":
            assert n_words(p.text) <= CONFIG.max_words * 1.3, p.id
    sizes = sorted(n_words(p.text) for p in passages)
    assert 80 <= sizes[len(sizes) // 2] <= 250  # the median passage is in the usual range


def test_ids_are_unique_and_deterministic(passages: list[Passage]) -> None:
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    again = document_passages(load_document(REPORT), CONFIG)
    assert [p.id for p in again] == ids and [p.text for p in again] == [p.text for p in passages]


def test_table_passages_repeat_caption_and_header(passages: list[Passage]) -> None:
    perf = [p for p in passages if p.kind == "table" and "Performans Göstergeleri\tDeğer Türü" in p.text]
    assert len(perf) > 20
    for p in perf:  # the header is the first row of every piece of every indicator table
        first_row = next(line for line in p.text.split("\n") if "\t" in line)
        assert first_row.startswith("Performans Göstergeleri\tDeğer Türü\t2022 Gerçekle"), p.id
    balance = [p for p in passages if p.text.startswith("2023 Mali Yılı Kapıdan Bılgıç (TL)\n")]
    assert len(balance) >= 3  # one table cut into several passages
    assert all(p.text.split("\n")[1].startswith("AKTİF\tPASİF") for p in balance)
    revenue = [p for p in passages if "Kodu\tAçıklama\t2023 Bütçe İle Tahmin Edilen" in p.text]
    assert revenue and all(p.kind == "table" for p in revenue)


def test_rows_with_empty_cells_stay_in_their_table() -> None:
    lines = [
        "Gelir Tablosu",
        "Kalem\tBütçe\tGerçekleşen",
        "Vergi\t100\t120",
        "Ara Toplam\t\t",
        "Kira\t50\t60",
    ]
    (piece,) = chunk("d", outline(lines), CONFIG)
    assert piece.kind == "table"
    assert piece.text.split("\n")[:2] == ["Gelir Tablosu", "Kalem\tBütçe\tGerçekleşen"]
    assert "Ara Toplam\t\t" in piece.text


def test_no_passage_is_a_lone_heading(passages: list[Passage]) -> None:
    lone = [p.id for p in passages if len(p.text.split()) < 8 and p.text.count("\n") == 0]
    assert len(lone) <= 3, lone  # the few left are whole sections of one short line


def test_page_fields(passages: list[Passage]) -> None:
    front = next(p for p in passages if p.path[0] == "Meclis Üyeleri")
    assert (front.page_start, front.page_end) == ("vi", "viii")
    infra = [p for p in passages if len(p.path) > 2 and p.path[2] == "Altyapı"]
    assert {(p.page_start, p.page_end) for p in infra} == {("59", "94")}
    estimates = [int(p.page_estimate or 0) for p in infra]
    assert estimates == sorted(estimates) and estimates[0] >= 59 and estimates[-1] <= 94


def test_header_detection_and_sentence_split() -> None:
    assert is_header_row("Kodu\tAçıklama\t2023 Bütçe", None)
    assert is_header_row("Yasal Yükümlülük\tDayanak", None)
    assert not is_header_row("Kira gelirleri\t4.000.000,00", None)
    assert is_header_row("Birim\tHedef Bütçe\tHarcama", "Toplam\t180.000,00\t150.000,00")
    long = " ".join(["Kelime."] * 450)
    parts = cut_long_line(long, 200)
    assert all(n_words(x) <= 200 for x in parts) and sum(n_words(x) for x in parts) == 450


def test_fixture_corpus_passages() -> None:
    doc = load_document(Path(__file__).parent / "fixtures" / "corpus" / "mini-rapor-2024.txt")
    assert (doc.id, doc.year) == ("mini-2024", 2024)
    rent = next(p for p in document_passages(doc, CONFIG) if "Kira gelirleri" in p.text)
    assert rent.text.split("\n")[:2] == ["Kira Gelirleri", "Açıklama\t2023 Bütçe\t2023 Gerçekleşen"]
    assert (rent.page_start, rent.page_end) == ("4", "5")
