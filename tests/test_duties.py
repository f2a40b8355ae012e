"""Duties and legal basis of section 1.2, against the real report and small synthetic tables."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from indexer.duties import Duty, extract_duties, unrecovered
from indexer.duty_labels import ANCHORS, ASCII_CLAUSES, fold_label, parse_label

REPORT = Path(__file__).resolve().parent.parent / "corpus" / "izmir-2023-faaliyet-raporu.txt"
BELEDIYE, MECLIS = "Büyükşehir Belediyesi", "Büyükşehir Belediye Meclisi"
ENCUMEN, BASKAN = "Büyükşehir Belediye Encümeni", "Büyükşehir Belediye Başkanı"

# 5216 m.7 as recovered: clause → first words of the duty text (the 6360 note stripped)
M7: dict[str, str] = {
    "a": "İlçe belediyelerinin görüşlerini alarak",
    "b": "Çevre düzeni planına uygun olmak kaydıyla",
    "c": "Kanunlarla büyükşehir belediyesine verilmiş",
    "d": "Büyükşehir belediyesi tarafından yapılan veya işletilen",
    "e": "Belediye Kanununun 69 ve 73",
    "f": "Büyükşehir ulaşım ana planını",
    "g": "Büyükşehir belediyesinin yetki alanındaki mahalleleri",
    "h": "Coğrafi ve kent bilgi sistemlerini",
    "i": "Sürdürülebilir kalkınma ilkesine",
    "j": "Gıda ile ilgili olanlar dahil",
    "k": "Büyükşehir belediyesinin yetkili olduğu",
    "l": "Yolcu ve yük terminaleri",
    "m": "Büyükşehirin bütünlüğüne hizmet eden",
    "n": "Gerektiğinde (06.12.2012",
    "o": "Kültür ve tabiat varlıkları",
    "p": "Büyükşehir içindeki toplu taşıma",
    "r": "Su ve kanalizasyon",
    "s": "Mezarlık alanlarını",
    "t": "Her çeşit toptancı hallerini",
    "u": "İl düzeyinde yapılan planlara",
    "v": "Sağlık merkezleri, hastaneler",
    "y": "Merkezi ısıtma sistemleri",
    "z": "Afet riski taşıyan",
}


@cache
def report_lines() -> tuple[str, ...]:
    return tuple(REPORT.read_text(encoding="utf-8").splitlines())


@cache
def duties() -> tuple[Duty, ...]:
    return tuple(extract_duties(list(report_lines())))


def by_text(start: str) -> Duty:
    """The one duty whose text (amendment notes in front stripped) starts with ``start``."""
    found = [d for d in duties() if re.sub(r"^(\([^)]*\)\s*)+", "", d.text).startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def test_counts() -> None:
    assert len(duties()) == 144
    assert Counter(d.body for d in duties()) == {BELEDIYE: 24, MECLIS: 66, ENCUMEN: 18, BASKAN: 36}
    assert Counter(d.recovered for d in duties()) == {True: 138, False: 6}


def test_every_duty_has_text_basis_and_its_line() -> None:
    lines = report_lines()
    for duty in duties():
        assert duty.text and duty.text == " ".join(duty.text.split())
        assert duty.basis and all(re.fullmatch(r"\d+/\d+(/[0-9a-zçğıöşü-]+)?", ref) for ref in duty.basis)
        assert " ".join(lines[duty.line - 1].split()).startswith(duty.text[:30])
    assert [d.line for d in duties()] == sorted(d.line for d in duties())
    assert not [t for t, n in Counter(d.text for d in duties()).items() if n > 1]


def test_section_is_found_by_its_body_heading_not_the_toc() -> None:
    lines = report_lines()
    assert all(407 < d.line < 755 for d in duties())
    assert lines[406] == "1.2. Yetki, Görev ve Sorumluluklar"
    assert lines[295].startswith("1.2. Yetki Görev ve Sorumluluklar\t")


@pytest.mark.parametrize(("clause", "start"), M7.items())
def test_5216_m7_clauses(clause: str, start: str) -> None:
    duty = by_text(start)
    assert (duty.body, duty.basis, duty.recovered) == (BELEDIYE, (f"5216/7/{clause}",), True)
    # a–o are printed (drifted away from their rows); p–z are not printed at all
    assert duty.label == (f"5216 s.K.m.7/{clause}" if clause <= "o" else "")


def test_m7_in_clause_order_and_the_later_paragraph() -> None:
    m7 = [d for d in duties() if d.body == BELEDIYE]
    clauses = [d.basis[0].rsplit("/", 1)[1] for d in m7 if d.basis[0].count("/") == 2]
    assert "".join(clauses) == ASCII_CLAUSES
    paragraph = by_text("Büyükşehir belediyeleri, birinci fikranın (p) bendinin")
    assert paragraph.basis == ("5216/7",)
    # the report's own cross-reference: the second sentence of (p) holds the route criteria
    assert "şehir merkezine olan uzaklık" in by_text("Büyükşehir içindeki toplu taşıma").text


def test_known_pairs() -> None:
    strateji = [d for d in duties() if "stratejik planını" in d.text]
    assert [(d.basis, d.label) for d in strateji] == [(("5216/7/a",), "5216 s.K.m.7/a")]
    assert "toplu taşıma" in by_text("Büyükşehir içindeki toplu taşıma").text
    assert by_text("Büyükşehir içindeki toplu taşıma").basis == ("5216/7/p",)
    tarife = by_text("Kanunlarda vergi, resim, harç ve katılma payı")
    assert (tarife.body, tarife.basis, tarife.label) == (MECLIS, ("5393/18/f",), "5393 s.K.m.18/f")
    assert by_text("Şartlı bağışları kabul etmek").basis == ("5393/18/g",)
    nikah = by_text("Gerektiğinde bizzat nikah kıymak")
    assert (nikah.body, nikah.basis, nikah.recovered) == (BASKAN, ("5216/18/j",), True)
    assert by_text("Yıllık çalışma programına alınan").basis == ("5393/34/1-b",)
    hal = by_text("Toptancı hal rüsumunun")
    assert (hal.body, hal.basis) == (ENCUMEN, ("5957/8", "5957/10/ç", "5957/11/3"))


@pytest.mark.parametrize("clause", "lmno")
def test_bunched_labels_are_paired(clause: str) -> None:
    label = f"5216 s.K.m.7/{clause}"
    paired = [d for d in duties() if d.label == label]
    assert (len(paired) == 1 and paired[0].recovered) or label in unrecovered(list(report_lines()))


def test_first_meclis_block_is_aligned_by_content() -> None:
    # 7 duty texts, then 7 label lines: two cells hold two lines, two rows print no label
    assert by_text("Büyükşehir belediyesinin karar organı").basis == ("5216/12", "5393/17")
    assert by_text("Stratejik plan ile yatırım").basis == ("5393/18/a", "5393/41")
    assert by_text("Belediye başkanı, 2018 sayılı").basis == ("5393/56", "5393/26")
    assert by_text("Bütçe ve kesin hesabı kabul etmek").basis == ("5393/18/b", "5393/62", "5393/63")
    assert by_text("Büyükşehir belediye bütçesi ile ilçe").basis == ("5216/25",)
    for start in ("Belediye başkanı tarafından hazırlanan bütçe", "Belediye bütçesiyle ödenek"):
        assert (by_text(start).label, by_text(start).recovered) == ("", False)


def test_row_forms() -> None:
    # label glued with a space; a label cell's second line; a row split by a repeated header
    assert by_text("Stratejik plan ve yıllık çalışma programı").basis == ("5393/34/1-a", "5393/62", "5393/64")
    assert by_text("Meclisin mutat toplantı yeri").basis == ("5216/13", "5393/20")
    personel = by_text("Belediye personelini atamak")
    assert personel.basis == ("5216/18/i", "5216/22", "5393/49")
    assert (personel.recovered, personel.line) == (True, 725)
    assert by_text("Belediyenin; konut alanları").basis == ("5393/73",)
    assert {652, 728} & {d.line for d in duties()} == set()


def test_unrecovered() -> None:
    assert unrecovered(list(report_lines())) == [d.label or d.text for d in duties() if not d.recovered]
    assert [d.line for d in duties() if not d.recovered] == [513, 515, 628, 660, 666, 705]
    assert "45 mm" in unrecovered(list(report_lines()))
    assert by_text("Kanunun ilgili maddesinde").basis == ("5393/45",)


def test_anchors_agree_with_the_reports_reliable_rows() -> None:
    reliable = (("5393/41", "Mahalli idareler genel"), ("5393/56", "5018 sayılı"), ("5216/7/b", "Nazım"))
    for ref, start in reliable:
        duty = by_text(start)
        assert duty.body in (BASKAN, ENCUMEN) and ref in duty.basis and ANCHORS[ref] in fold_label(duty.text)


def test_parse_label() -> None:
    assert parse_label("5216 s.K.m.18-c; m.12; m.16 5393 s.K.m.19; m.33") == [
        "5216/18/c",
        "5216/12",
        "5216/16",
        "5393/19",
        "5393/33",
    ]
    assert parse_label("5216 s.K.m.13 (5675 s.K.m.1)") == ["5216/13", "5675/1"]
    assert parse_label("45 mm") == ["?/45"]
    assert parse_label("5393 s.K.m.67' de belirtilen") is None


SYNTHETIC = [
    "1.2. Yetki Görev ve Sorumluluklar\t4",
    "1.3. İdareye İlişkin Bilgiler\t12",
    "1.2. Yetki, Görev ve Sorumluluklar",
    "Tablolar aşağıdadır.",
    "Büyükşehir Belediye Başkanı",
    "Yasal Yükümlülük\tDayanak",
    "Gerektiğinde bizzat nikah kıymak.\t5216 s.K.m.18/j",
    "Belediye personelini atamak. (Birinci not.)\t",
    "Yasal Yükümlülük\tDayanak",
    "(İkinci not.)\t5216 s.K.m.18/i; m.22 5393 s.K.m.49",
    "Meclis gündemini belirlemek. 5393 s.K.m.21",
    "Büyükşehir Belediyesi",
    "Yasal Yükümlülük",
    "Dayanak",
    "Büyükşehir belediyesinin stratejik planını hazırlamak.",
    "Her ölçekte nazım imar planını yapmak.",
    "5216 s.K.m.7/a",
    "Gecekondu Kanunu'nda belediyelere verilen yetkileri kullanmak.",
    "5216 s.K.m.7/b",
    "5216 s.K.m.7/c",
    "1.3. İdareye İlişkin Bilgiler",
    "Sonraki bölüm.\t5393 s.K.m.1",
]


def test_synthetic_rows() -> None:
    got = [(d.body, d.text, d.basis, d.label, d.line, d.recovered) for d in extract_duties(SYNTHETIC)]
    assert got == [
        (BASKAN, "Gerektiğinde bizzat nikah kıymak.", ("5216/18/j",), "5216 s.K.m.18/j", 7, True),
        (
            BASKAN,
            "Belediye personelini atamak. (Birinci not.) (İkinci not.)",
            ("5216/18/i", "5216/22", "5393/49"),
            "5216 s.K.m.18/i; m.22 5393 s.K.m.49",
            8,
            True,
        ),
        (BASKAN, "Meclis gündemini belirlemek.", ("5393/21",), "5393 s.K.m.21", 11, True),
        (BELEDIYE, SYNTHETIC[14], ("5216/7/a",), "5216 s.K.m.7/a", 15, True),
        (BELEDIYE, SYNTHETIC[15], ("5216/7/b",), "5216 s.K.m.7/b", 16, True),
        (BELEDIYE, SYNTHETIC[17], ("5216/7/c",), "5216 s.K.m.7/c", 18, True),
    ]
    assert unrecovered(SYNTHETIC) == []
    assert extract_duties(SYNTHETIC[:2]) == []


def test_labels_without_a_duty_are_reported() -> None:
    lines = [
        "1.2. Yetki, Görev ve Sorumluluklar",
        "Büyükşehir Belediye Encümeni",
        "Yasal Yükümlülük",
        "5393 s.K.m.35",
    ]
    assert (extract_duties(lines), unrecovered(lines)) == ([], ["5393 s.K.m.35"])
