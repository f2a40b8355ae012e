"""TOC parsing, heading alignment and page ranges, on the fixture and the real report."""

from __future__ import annotations

from pathlib import Path

from indexer.structure import outline
from indexer.toc import parse_toc

MINI = (Path(__file__).parent / "fixtures" / "corpus" / "mini-rapor-2024.txt").read_text("utf-8").split("\n")


def test_toc_tree_and_ranges_on_fixture() -> None:
    toc = parse_toc(MINI)
    assert toc is not None
    titles = [e.title for e in toc.entries]
    assert titles[:3] == ["Başkan Sunusu", "1. Genel Bilgiler", "1.1. Yetki, Görev ve Sorumluluklar"]
    by_title = {e.title: e for e in toc.entries}
    assert toc.path(by_title["Çevre"].index) == ("2. Faaliyetler", "Çevre")
    assert toc.path(by_title["Şirketlerin Faaliyetleri"].index) == ("Ekler", "Şirketlerin Faaliyetleri")
    assert toc.page_range(by_title["Ulaşım"].index) == ("6", "8")
    assert toc.page_range(by_title["Başkan Sunusu"].index) == ("iii", "iii")  # roman → arabic: no range
    assert toc.page_range(by_title["Şirketlerin Faaliyetleri"].index) == ("12", "12")  # last entry


def test_fixture_paths_carry_the_structure_below_the_toc() -> None:
    paths = {" > ".join(s.path) for s in outline(MINI).segments}
    assert (
        "2. Faaliyetler > Ulaşım > Stratejik Amaç 1: Herkes İçin Erişilebilir Ulaşım Sağlamak"
        " > Performans Hedefi 1.1.1: Toplu Taşıma Hizmetlerini Geliştirmek"
        " > Otobüs Filosunun Yenilenmesi Faaliyetleri > Ulaşım Dairesi Başkanlığı"
    ) in paths
    assert "Ekler > Şirketlerin Faaliyetleri > MİNİBÜS A.Ş." in paths


def test_report_toc_parsed_with_roman_front_matter(report_lines: list[str]) -> None:
    toc = parse_toc(report_lines)
    assert toc is not None and len(toc.entries) == 53
    pages = {e.title: toc.page_range(e.index) for e in toc.entries}
    assert pages["Meclis Üyeleri"] == ("vi", "viii")
    assert pages["Altyapı"] == ("59", "94")
    assert pages["1.3.1. Fiziksel Yapı"] == ("12", "15")
    path = toc.path(next(e.index for e in toc.entries if e.title == "Altyapı"))
    assert path[0].startswith("3. Faaliyetlere") and path[1].startswith("3.2.1.")


def test_report_headings_found_in_order(report_lines: list[str]) -> None:
    doc = outline(report_lines)
    starts: dict[str, int] = {}
    for seg in doc.segments:
        assert doc.toc is not None and seg.toc_index is not None
        starts.setdefault(doc.toc.entries[seg.toc_index].title, seg.lines[0][0] + 1)
    # Body headings, not the early mentions in "1.3.5. Sunulan Hizmetler" (line ~1337).
    assert 2960 < starts["Altyapı"] < 2990
    assert 4366 < starts["Yaşam Kalitesi"] < 4400
    assert 9229 < starts["Performans Sonuçlarının Değerlendirilmesi"] < 9240
    assert 8380 <= starts["Daire Başkanlıkları Bazında Sektörel Bütçe Gerçekleşmeleri"] < 8400
    assert starts["Başkan Sunusu"] < 10  # the report opens with it, before the TOC


def test_report_sub_structure_in_paths(report_lines: list[str]) -> None:
    paths = [" > ".join(s.path) for s in outline(report_lines).segments]
    assert any("Stratejik Hedef 1.1: Kent Ekonomisine" in p for p in paths)
    assert any(p.endswith("> Fen İşleri Dairesi Başkanlığı") for p in paths)
    assert any(p.endswith("> TETUSA") for p in paths)
    assert any(p.endswith("> İZMİR METRO A.Ş.") for p in paths)
    assert not any("\t" in p for p in paths)
