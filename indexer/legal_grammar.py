"""How legal references are written: the laws' names, the ordinal words and the patterns.

Matching runs on a folded copy of the text (lower case, Turkish letters as ASCII, one character
for one), so spans index the original and "SAYILI", "sayili" and "sayılı" are one word. A number
is a law number only in a law context: "N sayılı … Kanun/Yasa/KHK/Kararname", "N s.K.", an
amendment note "(Ek fıkra: 12/11/2012-6360/7 md.)", a known law name, or "aynı Kanunun".
``indexer.legal`` reads what the patterns match into references.
"""

from __future__ import annotations

import re

KNOWN_LAWS: dict[str, str] = {
    "213": "Vergi Usul Kanunu",
    "634": "Kat Mülkiyeti Kanunu",
    "657": "Devlet Memurları Kanunu",
    "775": "Gecekondu Kanunu",
    "854": "Deniz İş Kanunu",
    "1593": "Umumi Hıfzıssıhha Kanunu",
    "1608": "Umuru Belediyeye Müteallik Ahkâmı Cezaiye Hakkında Kanun",
    "2464": "Belediye Gelirleri Kanunu",
    "2560": "İstanbul Su ve Kanalizasyon İdaresi Genel Müdürlüğü Kuruluş ve Görevleri Hakkında Kanun",
    "2863": "Kültür ve Tabiat Varlıklarını Koruma Kanunu",
    "2872": "Çevre Kanunu",
    "2886": "Devlet İhale Kanunu",
    "2942": "Kamulaştırma Kanunu",
    "3194": "İmar Kanunu",
    "3402": "Kadastro Kanunu",
    "4734": "Kamu İhale Kanunu",
    "4735": "Kamu İhale Sözleşmeleri Kanunu",
    "4857": "İş Kanunu",
    "5018": "Kamu Mali Yönetimi ve Kontrol Kanunu",
    "5216": "Büyükşehir Belediyesi Kanunu",
    "5302": "İl Özel İdaresi Kanunu",
    "5326": "Kabahatler Kanunu",
    "5362": "Esnaf ve Sanatkârlar Meslek Kuruluşları Kanunu",
    "5366": "Yıpranan Tarihi ve Kültürel Taşınmaz Varlıkların Yenilenerek Korunması ve Yaşatılarak "
    "Kullanılması Hakkında Kanun",
    "5393": "Belediye Kanunu",
    "5449": "Kalkınma Ajanslarının Kuruluşu, Koordinasyonu ve Görevleri Hakkında Kanun",
    "5510": "Sosyal Sigortalar ve Genel Sağlık Sigortası Kanunu",
    "5627": "Enerji Verimliliği Kanunu",
    "5747": "Büyükşehir Belediyesi Sınırları İçerisinde İlçe Kurulması ve Bazı Kanunlarda Değişiklik "
    "Yapılması Hakkında Kanun",
    "5957": "Sebze ve Meyveler ile Yeterli Arz ve Talep Derinliği Bulunan Diğer Malların Ticaretinin "
    "Düzenlenmesi Hakkında Kanun",
    "6102": "Türk Ticaret Kanunu",
    "6183": "Amme Alacaklarının Tahsil Usulü Hakkında Kanun",
    "6284": "Ailenin Korunması ve Kadına Karşı Şiddetin Önlenmesine Dair Kanun",
    "6306": "Afet Riski Altındaki Alanların Dönüştürülmesi Hakkında Kanun",
    "6331": "İş Sağlığı ve Güvenliği Kanunu",
    "6360": "On Üç İlde Büyükşehir Belediyesi ve Yirmi Altı İlçe Kurulması ile Bazı Kanun ve Kanun "
    "Hükmünde Kararnamelerde Değişiklik Yapılmasına Dair Kanun",
    "6698": "Kişisel Verilerin Korunması Kanunu",
    "7126": "Sivil Savunma Kanunu",
}
# Names the report (or a user) writes differently from the official one.
_ALIASES = {
    "Büyükşehir Belediye Kanunu": "5216",
    "Kamu İhaleleri Sözleşmeleri Kanunu": "4735",
    "Kamu Mali Yönetim ve Kontrol Kanunu": "5018",
    "Kişisel Verileri Koruma Kanunu": "6698",
}

# One character for one: spans found in the folded text index the original ("İ".lower() is two).
_FOLD = str.maketrans("İIıçÇğĞöÖşŞüÜâÂîÎûÛ’‘`´ʼ", "iiiccggoossuuaaiiuu'''''")
_UNITS = "birinci ikinci ucuncu dorduncu besinci altinci yedinci sekizinci dokuzuncu".split()  # noqa: SIM905
_TENS = "on yirmi otuz kirk elli altmis yetmis seksen doksan".split()  # noqa: SIM905
_ORDWORD = (  # "yedinci", "on ikinci", "yirminci" (tens take -uncu/-nci/-inci)
    rf"(?<![a-z])(?:(?:(?:{'|'.join(_TENS)})\s+)?(?:{'|'.join(_UNITS)})|(?:{'|'.join(_TENS)})(?:n?[iu])?nc[iu])"
    r"(?![a-z])"
)
_ORD = r"(?:\.(?![0-9])|\s?'?\s?[iu]?nc[iu](?![a-z]))"  # "56.", "7 nci", "13 üncü", "4'üncü", "28inci"
ITEM = re.compile(
    r"\s*(?:(?P<a>[0-9]{1,3})(?![0-9])(?:-(?P<to>[0-9]{1,3})(?![0-9])|/(?P<f>[0-9]{1,2})-(?P<b>[a-z])"
    rf"(?![a-z])|[/-](?P<c>[a-z])(?![a-z])|/(?P<n>[0-9]{{1,2}})(?![0-9]))?{_ORD}?|(?P<w>{_ORDWORD}))"
)
LETTER = re.compile(r"\s+([a-z])(?![\w'])")
SEP = re.compile(r"\s*(?P<sep>,|;|-|ve(?![a-z])|ile(?![a-z])|ila(?![a-z])|veya(?![a-z]))\s*")
MADDE = re.compile(r"\s*madd?e[a-z']*")  # "madesi" is the report's typo
PREFIX = re.compile(r"\s*(?:madd?e(?:si)?(?![a-z])|md?\.)\s*")
FIKRA = re.compile(rf"\s*(?:(?P<w>{_ORDWORD})|(?P<n>[0-9]{{1,2}}){_ORD}?)\s+fi?kra[a-z']*")
BENT = re.compile(r"\s*(?:\([a-z]\)(?:\s*(?:,|ve)\s*\([a-z]\)){0,9}\s*|\s[a-z]\s+)ben[dt][a-z']*")
BENT_LETTER = re.compile(r"\(([a-z])\)|(?<=\s)([a-z])(?=\s)")
SK_FIRST = re.compile(r"[.\s]*(?:md?\.?\s*)?")
SK_NEXT = re.compile(r"\s*[;,]?\s*md?\.\s*")
START = re.compile(r"[\s/]*")

_LAWNUM = r"[0-9]{1,4}(?:/[0-9]{1,2}(?![0-9]))?"  # "1608/1 sayılı": the "/1" is not a law
# "119 sayılı Karar ile …", "28489 sayılı Resmi Gazete'de …" must not run on into a later "Kanun".
_BLOCK = r"(?:karar(?!name)|yazi|olur|gazete|onerge|dilekce|tarih(?:li)?(?![a-z]))"
# "Yasa'nın", "Yasası", "Yasalar", never "yasal" or "yaşatılarak" (folded "yasatilarak").
_YASA = r"yasa(?:si(?:nin|na|nda)?|nin|ya|da|dan|lar(?:in|a|da)?)?(?![a-z])"
_SAYILI = (
    rf"(?<![0-9.,/'-])(?P<nums>{_LAWNUM}(?:\s*(?:,|ve\s)\s*{_LAWNUM}|/[0-9]{{3,4}}){{0,6}})\s*sayili\s+"
    rf"(?P<words>(?:(?!{_BLOCK})[^\W\d_]+\s+){{0,16}}?)"
    rf"(?P<term>kanun\s+hukmunde\s+kararname|khk|cumhurbaskanligi\s+kararname|kanun|{_YASA})[a-z']*"
)
_AMEND = (  # "(Ek fıkra: 12/11/2012-6360/7 md.)", "(Mülga:2/7/2018-KHK-703/75 md.)", "2006-5538 s.K./29 m."
    r"(?<![0-9])[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\s*-\s*(?P<akhk>khk\s*-\s*)?(?P<alaw>[0-9]{3,4})"
    r"\s*(?:s\.\s?k\.?\s*)?/\s*(?P<aart>[0-9]{1,3})\s*md?\."
)
_SAME = rf"(?<![a-z0-9])(?P<same>ayni\s+(?:kanun|{_YASA}))[a-z']*"


def fold(text: str) -> str:
    """Lower case with Turkish letters as ASCII, one character for one (spans stay valid)."""
    return text.translate(_FOLD).lower()


def ordinal(words: str) -> int:
    """The number of a folded ordinal word.

    >>> ordinal("yedinci"), ordinal("on ikinci"), ordinal("yirminci")
    (7, 12, 20)
    """
    *tens, last = words.split()
    if last in _UNITS:
        return _UNITS.index(last) + 1 + (10 * (_TENS.index(tens[0]) + 1) if tens else 0)
    return 10 * (1 + next(i for i, t in enumerate(_TENS) if last.startswith(t)))


def _name_key(folded_name: str) -> str:
    return " ".join(folded_name.split()[:-1])  # the words before "kanun"/"yasa"


_BY_NAME = {
    _name_key(fold(n)): law for n, law in [(v, k) for k, v in KNOWN_LAWS.items()] + [*_ALIASES.items()]
}
_NAME_ALTS = "|".join(r"\s+".join(map(re.escape, k.split())) for k in sorted(_BY_NAME, key=len, reverse=True))
_NAME = rf"(?<![a-z0-9])(?P<name>(?:{_NAME_ALTS})\s+(?:kanun|{_YASA}))[a-z']*"
_BARE = rf"(?<![0-9.,/'-])(?P<bare>{'|'.join(sorted(KNOWN_LAWS, key=len, reverse=True))})(?![0-9])"
# The dotless "sk" only in queries: in the report "166 Sk." is a street (sokak).
_SK = r"(?<![0-9.,/'-])(?P<sk>[0-9]{{2,4}})\s?s{}\s?(?:k|kmykk)(?![a-z])\.?"
# Where references start: in the report (STRICT); in a query (LENIENT) also "5393 sk" and a bare "5393".
STRICT = re.compile("|".join([_AMEND, _SAYILI, _SK.format(r"\."), _SAME, _NAME]))
LENIENT = re.compile("|".join([_AMEND, _SAYILI, _SK.format(r"\.?"), _SAME, _NAME, _BARE]))


def law_named(folded_name: str) -> str:
    """The number of the law a folded name matched by ``STRICT`` or ``LENIENT`` names."""
    return _BY_NAME[_name_key(folded_name)]
