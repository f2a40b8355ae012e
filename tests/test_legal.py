"""Legal references: forms copied verbatim from the İzmir 2023 report, user queries, and odd input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from indexer.legal import KNOWN_LAWS, LegalRef, canonical_key, find_refs, parse_ref

REPORT = Path(__file__).resolve().parent.parent / "corpus" / "izmir-2023-faaliyet-raporu.txt"

# (excerpt of the report, exact canonical refs in order)
REPORT_FORMS: list[tuple[str, list[str]]] = [
    # table labels ("Dayanak" column)
    ("5216 s.K.m.7/a", ["5216/7/a"]),
    ("5393 s.K.m.18/f", ["5393/18/f"]),
    ("5393 s.K.m.18/k, 5216 s.K.m.15 5216 s.K.m.16", ["5393/18/k", "5216/15", "5216/16"]),
    ("5393 s.K.m.56; m.26", ["5393/56", "5393/26"]),
    ("5393 s.K.m.18-b; m.62; m.63", ["5393/18/b", "5393/62", "5393/63"]),
    (
        "5216 s.K.m.18-c; m.12; m.16 5393 s.K.m.19; m.33",
        ["5216/18/c", "5216/12", "5216/16", "5393/19", "5393/33"],
    ),
    ("5393 s.K.m.34/1-a; m.62; m.64", ["5393/34/1-a", "5393/62", "5393/64"]),
    ("5393 s.K.m.34/1-g", ["5393/34/1-g"]),
    ("5957 s.K.8 5957 s.K 10/ç 5957 s.K 11/3", ["5957/8", "5957/10/ç", "5957/11/3"]),
    ("5957 s.K 11/6", ["5957/11/6"]),
    ("3194 s.K.m.32; m.42 5216 s.K.m.11", ["3194/32", "3194/42", "5216/11"]),
    ("657 s.K.m.126", ["657/126"]),
    ("5216 s.K.m.13 (5675 s.K.m.1)", ["5216/13", "5675/1"]),
    ("5393 s.K.m.56 5018 s.K.m.11; m.41", ["5393/56", "5018/11", "5018/41"]),
    ("5393 s.K.m.67' de belirtilen belediye hizmetlerinin", ["5393/67"]),
    ("(Mülga:2/7/2018-KHK-703/75 md.)\t5449 s.K.m.10", ["KHK-703/75", "5449/10"]),
    ("(Ek cümle: 12/7/2006-5538 s.K./29 m.)", ["5538/29"]),
    ("(Ek fıkra: 12/11/2012-6360/7 md.)", ["6360/7"]),
    ("(Ek cümle: 16/5/2018-7144/14 md.)", ["7144/14"]),
    ("* 6360 S.K. ile yapılan değişiklikler madde metinlerine işlenmiştir.", ["6360"]),
    ("(5018 s. KMYKK m. 55)", ["5018/55"]),
    # prose
    (
        "5393 Sayılı Belediye Kanununun 18. maddesinin (a) bendi ile 56. maddesi ve Kamu İdarelerince "
        "Hazırlanacak Faaliyet Raporları Hakkında Yönetmeliğin 11. maddesi",
        ["5393/18/a", "5393/56"],
    ),
    (
        "5216 sayılı Büyükşehir Belediyesi Kanununun 18/b maddesi ile 5393 sayılı Belediye Kanununun 18/a "
        "maddesi gereği",
        ["5216/18/b", "5393/18/a"],
    ),
    ("6360 sayılı Kanunun 13 üncü maddesiyle değişen şekli.", ["6360/13"]),
    ("6360 sayılı Kanunun 7 nci maddesiyle", ["6360/7"]),
    ("6360 sayılı Kanunun 10uncu maddesiyle", ["6360/10"]),
    ("7153 sayılı Kanunun 28inci maddesiyle", ["7153/28"]),
    ("5998 sayılı Kanunun 1inci maddesiyle", ["5998/1"]),
    ("Belediye Kanununun 69 ve 73 üncü maddelerindeki yetkileri kullanmak.", ["5393/69", "5393/73"]),
    ("5393 sayılı Kanunun 85/d maddesiyle eklenen ibare.", ["5393/85/d"]),
    # the report's own typo: 2018 for 5018; the number as written wins
    (
        "2018 sayılı Kamu Mali Yönetimi ve Kontrol Kanunu'nun 41 inci maddesinin dördüncü fıkrasında",
        ["2018/41/4"],
    ),
    (
        "5018 sayılı Kamu Mali Yönetimi ve Kontrol Kanunu'nun 41inci maddesinin dördüncü fıkrasında",
        ["5018/41/4"],
    ),
    ("5216 sayılı Büyükşehir Belediyesi Kanunu'nun yedinci maddesindeki görevlerden", ["5216/7"]),
    (
        "7099 sayılı Kanunun 17 nci maddesi ile eklenen bu madde, aynı Kanunun 34 üncü madesi uyarınca",
        ["7099/17", "7099/34"],
    ),
    ("703 sayılı Kanun Hükmünde Kararname'nin 200uncu maddesiyle", ["KHK-703/200"]),
    ("3 sayılı Cumhurbaşkanlığı Kararnamesinin 2 ve 3. maddeleri gereği", ["CBK-3/2", "CBK-3/3"]),
    ("5216, 5393 ve 6360 sayılı Yasa'lar kapsamında", ["5216", "5393", "6360"]),
    ("5393 Sayılı Yasanın 69. Maddesi Kapsamında Satış", ["5393/69"]),
    ("657 sayılı Devlet Memurları Kanunu'nun 74. ve 92. maddeleri gereğince", ["657/74", "657/92"]),
    ("3194 sayılı İmar Kanunu'nun 11.-15.-16. maddelerine göre", ["3194/11", "3194/15", "3194/16"]),
    ("5216 sayılı Kanun'un 7/b, 7/c ve 7/h maddesinde tanımlanan", ["5216/7/b", "5216/7/c", "5216/7/h"]),
    ("5216 sayılı Yasa'nın 7/1-b maddesi kapsamında", ["5216/7/1-b"]),
    (
        "5216 sayılı Yasa'nın 11. maddesi kapsamında belediyemize bağlı ilçe belediyelerimizin imar "
        "uygulamalarının denetlenmesi ile iletilen taleplere ilişkin olarak gerekli işlemlerin yapılması, "
        "aynı kanunun 7/c maddesi kapsamında",
        ["5216/11", "5216/7/c"],
    ),
    ("4734 sayılı Kamu İhale Kanunu'nun 22/d ve 3/e maddeleri doğrultusunda", ["4734/22/d", "4734/3/e"]),
    (
        "4735 sayılı Kamu İhaleleri Sözleşmeleri Kanunu'nun 20 ve 25. maddeleri uyarınca",
        ["4735/20", "4735/25"],
    ),
    ("5393 sayılı Belediye Kanunu'nun 49. Maddesinin 3. fıkrası gereği", ["5393/49/3"]),
    ("5393 sayılı Belediye Kanunu'nun 49'uncu maddesine istinaden", ["5393/49"]),
    ("3402 sayılı Kadastro Kanunu'nun 22/a maddesine göre", ["3402/22/a"]),
    ("3194 sayılı İmar Yasası'nın 10. maddesi gereği", ["3194/10"]),
    ("İmar Kanunu'nun 26. maddesi kapsamında", ["3194/26"]),
    ("5018 sayılı Kamu Mali Yönetimi ve Kontrol Kanunu'nun 63.maddesinde", ["5018/63"]),
    ("5216 sayılı Kanunun 27. maddesi kapsamında", ["5216/27"]),
    # whole laws
    ("5216 sayılı Büyükşehir Belediyesi Kanunu'nun 2004 yılında devreye girmesi", ["5216"]),
    ("06.12.2012 tarih ve 28489 sayılı Resmi Gazete'de yayımlanan 6360 sayılı Kanun", ["6360"]),
    ("1608/1 sayılı Kanunun ilgili maddeleri gereğince", ["1608"]),
    ("2560/3009 sayılı Kanuna eklenen 3305 sayılı Kanun", ["2560", "3009", "3305"]),
    (
        "4857 Sayılı İş Kanunu, 854 Sayılı Deniz İş Kanunu, 5510 Sayılı Sosyal Sigortalar ve Genel Sağlık "
        "Sigortası Kanunu",
        ["4857", "854", "5510"],
    ),
    ("Kamulaştırma Yasası'na göre", ["2942"]),
    ("5216 ve 6360 sayılı Büyükşehir Belediye Kanun'ları", ["5216", "6360"]),
    ("5216 sayılı Yasa gereği onaylanmak üzere kurumumuza gönderilen 18. madde uygulaması", ["5216"]),
    ("Kişisel Verilerin Korunması Kanunu Uyumluluk Çalışmaları", ["6698"]),
    ("6183 Sayılı Amme Alacaklarının Tahsil Usulü Hakkında Kanun ve ilgili diğer kanun gereğince", ["6183"]),
    # numbers that are not laws
    ("13/02/2023 tarihli ve 119 sayılı Karar ile", []),
    ("24/03/2017 tarihli ve 777 sayılı İl Mera Komisyonu Kararı'nın", []),
    ("Konak 166 Sk. Yürüyen Merdiven-Bant", []),
    ("2 adet açık (19. Madde) ihale", []),
    ("29.03.2023 tarih ve 1278388 sayılı Başkanlık Makanı Olur'u ile", []),
    ("Otopark Yönetmeliği'nin 11. maddesinin 3. fıkrasına göre", []),
]


@pytest.fixture(scope="module")
def report() -> str:
    return REPORT.read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "expected"), REPORT_FORMS)
def test_report_forms(text: str, expected: list[str], report: str) -> None:
    assert text in report, "excerpts are copied verbatim from the report"
    assert [r.canonical for r in find_refs(text)] == expected


def test_enough_report_forms() -> None:
    assert sum(1 for _, refs in REPORT_FORMS if refs) >= 40


def test_refs_carry_span_name_and_parts() -> None:
    text = "mal ve hizmet alımı talepleri 4734 sayılı Kamu İhale Kanunu'nun 22/d ve 3/e maddeleri"
    first, second = find_refs(text)
    assert first == LegalRef("4734", "22", "d", "Kamu İhale Kanunu", 30, len(text))
    assert (second.article, second.clause, second.start) == ("3", "e", 30)
    assert text[first.start : first.end].startswith("4734 sayılı")
    # not in the table: the name as written, in the nominative
    (ref,) = find_refs("5258 sayılı Aile Hekimliği Kanunu'nun")
    assert (ref.law, ref.name) == ("5258", "Aile Hekimliği Kanunu")
    (ref,) = find_refs("9999 sayılı Tarihi Kentlerin Korunması Hakkında Kanunun")
    assert ref.name == "Tarihi Kentlerin Korunması Hakkında Kanun"
    # in the table: the official name, whatever the text says
    assert find_refs("5216 sayılı Büyükşehir Belediye Kanunu'na")[0].name == KNOWN_LAWS["5216"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Belediye Kanunu'nun 18. maddesinin (a) ve (b) bentleri", ["5393/18/a", "5393/18/b"]),
        ("5393 sayılı Kanunun 18 inci maddesinin birinci fıkrasının (ç) bendi", ["5393/18/1-ç"]),
        ("5393 sayılı Kanunun 4'üncü ve 18'inci maddeleri", ["5393/4", "5393/18"]),
        ("5393 sayılı Kanunun 3 ila 5 inci maddeleri", ["5393/3", "5393/4", "5393/5"]),
        ("5393 s.K.m.18-20", ["5393/18", "5393/19", "5393/20"]),
        ("5393 s.K.m.1-90", ["5393/1", "5393/90"]),  # wider than the expansion cap: the two ends
        ("5393 SAYILI BELEDİYE KANUNU’NUN 18. MADDESİ", ["5393/18"]),
        ("5393 sayili Belediye Kanununun 18. maddesi", ["5393/18"]),
        ("Büyükşehir Belediyesi Kanunu'nun on ikinci maddesi", ["5216/12"]),
        ("2872 sayılı Çevre Kanunu'nun 20 nci maddesinin (ğ) bendi", ["2872/20/ğ"]),
    ],
)
def test_other_written_forms(text: str, expected: list[str]) -> None:
    assert [r.canonical for r in find_refs(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023 yılında 1.650 otobüs",
        "5.216 TL tutarında",
        "7/24 hizmet veren çağrı merkezi",
        "0232 293 12 00 numaralı telefon",
        "Alo 153 hattına 2023 yılında 5216 çağrı geldi",
        "12/7/2006 tarihinde",
        "aynı kanunun 7. maddesi",  # no earlier law to refer to
    ],
)
def test_numbers_without_law_context(text: str) -> None:
    assert find_refs(text) == []
    assert parse_ref(text) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("5216/7/a", "5216/7/a"),
        ("5216 sayılı kanun 7/a", "5216/7/a"),
        ("5216 s.K.m.7/a", "5216/7/a"),
        ("5216 7 a", "5216/7/a"),
        ("Belediye Kanunu 18. madde", "5393/18"),
        ("5393 sk 18 f", "5393/18/f"),
        ("5393 sayili kanun madde 18 f", "5393/18/f"),
        ("büyükşehir belediyesi kanunu 7. madde a bendi", "5216/7/a"),
        ("BUYUKSEHIR BELEDIYESI KANUNU 7/A", "5216/7/a"),
        ("kamu ihale kanunu 22 d", "4734/22/d"),
        ("4734 22/d doğrudan temin", "4734/22/d"),
        ("imar kanunu madde 26 ruhsat", "3194/26"),
        ("5393 sk. 34/1-b", "5393/34/1-b"),
        ("5393 sayılı kanun", "5393"),
        ("belediye kanunu ve 5216 s.K.m.18/f", "5216/18/f"),  # the most specific wins
        ("703 sayılı KHK 200. madde", "KHK-703/200"),
    ],
)
def test_parse_ref(query: str, expected: str) -> None:
    ref = parse_ref(query)
    assert ref is not None
    assert ref.canonical == expected


def test_parse_ref_needs_a_law() -> None:
    assert parse_ref("5393") is None  # a bare number is a law only with an article
    assert parse_ref("belediye otobüs saatleri") is None
    assert parse_ref("") is None


def test_canonical_key() -> None:
    assert canonical_key("5216") == "5216"
    assert canonical_key("5216", "7") == "5216/7"
    assert canonical_key(" 5216 ", "7", "A") == "5216/7/a"
    assert canonical_key("5393", "18", "I") == "5393/18/ı"  # Turkish lower case
    assert canonical_key("5216", None, "a") == "5216"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01\x1b\x7f\u200b\ufeff",
        "İİİ\u0130\u0307ı" * 1000,
        "\ud800 sayılı Kanun \udfff",
        "5393 s.K.m." * 5000,
        "1, " * 50_000 + "sayılı Kanun",
        "5393 sayılı " + "Belediye " * 50_000 + "Kanunu",
        "Belediye Kanununun " + "1, " * 50_000 + "maddesi",
        "5216 sayılı Kanunun 7/a maddesi, " * 5000,
        "".join(chr(c) for c in range(0, 0x3000, 7)),
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    refs = find_refs(text)
    assert all(0 <= r.start <= r.end <= len(text) for r in refs)
    parse_ref(text[:10_000])


def test_whole_report(report: str) -> None:
    refs = find_refs(report)
    keys = Counter(r.canonical for r in refs)
    # measured: 370 references, 199 distinct, 50 laws (5393: 110, 5216: 93, 3194: 22)
    assert len(refs) >= 350
    assert len(keys) >= 190
    assert len({r.law for r in refs}) >= 45
    assert {"5216/7/a", "5393/18/f", "4734/22/d", "5393/34/1-b", "KHK-703/200"} <= keys.keys()
    assert [r.start for r in refs] == sorted(r.start for r in refs)
    assert all(report[r.start : r.end].strip() for r in refs)
