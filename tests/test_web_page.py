"""The search page's HTML, in process, on the fixture corpus with the real model."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from indexer.chunking import Passage
from indexer.search import Hit, SearchEngine
from indexer.settings import Settings
from service.app import create_app
from service.web import EXAMPLES, view


def _page(client: Any, q: str | None = None, status: int = 200) -> str:
    response = client.get("/", params={} if q is None else {"q": q})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text: str = response.text
    return text


def _results(html: str) -> list[str]:
    return re.findall(
        r'<li class="result">(.*?)</li>\s*(?=<li class="result">|</ol>\s*</section>)', html, re.S
    )


def test_first_visit(mini_client: Any) -> None:
    html = _page(mini_client)
    assert '<html lang="tr">' in html and '<meta charset="utf-8">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<label for="q">' in html and 'id="q" name="q" type="search"' in html
    assert 'placeholder="Örn. ' in html and " autofocus" in html
    assert '<form class="search" role="search" method="get" action="/">' in html
    assert "Mini Belediye 2024 Faaliyet Raporu" in html  # the indexed report's own title
    for example in EXAMPLES:
        assert f">{example}</a>" in html
    assert 'href="/?q=Sahipsiz%20hayvan%20bar%C4%B1na%C4%9F%C4%B1"' in html
    assert 'class="result"' not in html


def test_results_with_highlight_breadcrumb_and_citation(mini_client: Any) -> None:
    html = _page(mini_client, "elektrikli otobüs")
    assert "<title>elektrikli otobüs – Faaliyet raporunda ara</title>" in html
    assert 'value="elektrikli otobüs"' in html and " autofocus" not in html
    top = _results(html)[0]
    assert "40 adet <mark>elektrikli otobüs</mark> katılmış" in top
    assert '<span class="pages">s. 6-8 (yaklaşık s. 6)</span>' in top
    # The last three headings, and the full path for the title and screen readers.
    assert '<li aria-hidden="true">…</li>' in top
    assert "<li>Otobüs Filosunun Yenilenmesi Faaliyetleri</li><li>Ulaşım Dairesi Başkanlığı</li>" in top
    assert 'aria-label="Bölüm: 2. Faaliyetler › Ulaşım › Stratejik Amaç 1' in top
    assert "için en ilgili" in html and "Örnek sorular" not in html


def test_ascii_typed_query_highlights_the_turkish_words(mini_client: Any) -> None:
    top = _results(_page(mini_client, "kopek barinagi"))[0]
    assert "kentimizde <mark>köpek barınağı</mark> kapasitesini" in top
    assert '<span class="pages">s. iii</span>' in top


def test_table_is_a_table(mini_client: Any) -> None:
    html = _page(mini_client, "kira gelirleri otopark")
    table = next(r for r in _results(html) if "Tablo</span>" in r)
    assert "<td><mark>Otopark gelirleri</mark></td><td>1.200.000,00</td><td>980.000,00</td>" in table
    assert '<span class="badge">Tablo</span>' in table


def test_nothing_matches(mini_client: Any) -> None:
    html = _page(mini_client, "zzqx wvvy")
    assert "Sonuç bulunamadı" in html and "“zzqx wvvy”" in html
    assert 'class="result"' not in html and "Örnek sorular" in html


def test_query_is_escaped(mini_client: Any) -> None:
    html = _page(mini_client, '<script>alert("x")</script> otobüs')
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; otobüs" in html
    assert "<mark>otobüs</mark>" in html or "<mark>Otobüs</mark>" in html


@pytest.mark.parametrize(
    ("q", "message"), [("a" * 501, "en fazla 500 karakter"), ("kira\x00", "okunamayan karakter")]
)
def test_unusable_query_gets_a_message(mini_client: Any, q: str, message: str) -> None:
    html = _page(mini_client, q, status=422)
    assert message in html and 'role="alert"' in html and 'class="result"' not in html


def test_blank_query_is_the_first_visit(mini_client: Any) -> None:
    html = _page(mini_client, "   ")
    assert "Örnek sorular" in html and 'role="alert"' not in html


def test_no_external_resources(mini_client: Any) -> None:
    response = mini_client.get("/", params={"q": "otobüs"})
    assert not re.search(r"""(?:src|href|action)=["'](?:https?:)?//""", response.text)
    assert "default-src 'none'" in response.headers["content-security-policy"]
    css = mini_client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "url(" not in css.text and "@import" not in css.text
    assert ":focus-visible" in css.text


def test_index_not_loaded(mini_client: Any) -> None:
    mini_client.app.state.engine = None
    html = _page(mini_client, "otobüs", status=503)
    assert "Arama şu anda kullanılamıyor" in html and "Traceback" not in html


class _Broken:
    """An engine whose search fails, as a corrupt index would."""

    def __init__(self, engine: SearchEngine) -> None:
        self.manifest = engine.manifest
        self.analyzer = engine.analyzer

    def search(self, *_: object) -> None:
        raise RuntimeError("faiss exploded")


def test_failed_search_is_a_friendly_500(mini_settings: Settings, mini_engine: SearchEngine) -> None:
    broken: Any = _Broken(mini_engine)
    with TestClient(create_app(mini_settings, broken)) as client:
        html = _page(client, "otobüs", status=500)
    assert "Bir sorun oluştu" in html
    assert "faiss" not in html and "Traceback" not in html and "RuntimeError" not in html


def _hit(text: str, kind: str = "text") -> Hit:
    passage = Passage(
        id="d:1:0",
        doc_id="d",
        text=text,
        path=("A", "B"),
        page_start="59",
        page_end="59",
        page_estimate="59",
        line_start=1,
        line_end=2,
        kind=kind,  # type: ignore[arg-type]
    )
    return Hit(rank=1, score=1.0, passage=passage, bm25=1.0, dense=None, sentence=None, cites=None, page="59")


def test_long_passage_is_shortened_around_the_match(mini_engine: SearchEngine) -> None:
    filler = " ".join(f"Bu {i}. cümle konuyla ilgisiz bir açıklamadır." for i in range(20))
    text = f"{filler} Kentteki köpek barınağı genişletildi ve kapasite arttı. {filler}"
    terms = set(mini_engine.analyzer.terms("kopek barinagi"))
    v = view(_hit(text), terms, mini_engine, {})
    assert v.pages == "s. 59" and v.crumbs == ["A", "B"] and not v.cut
    assert v.text is not None and v.full_text is not None
    assert str(v.text).startswith("… ") and str(v.text).endswith(" …")
    assert "Kentteki <mark>köpek barınağı</mark> genişletildi" in v.text
    assert len(str(v.text)) < len(text) / 3
    assert str(v.full_text).count("<mark>") == 1 and "19. cümle" in v.full_text


def test_a_hit_is_cited_at_the_page_the_search_chose(mini_engine: SearchEngine) -> None:
    hit = _hit("Köpek barınağı açıldı. Kapasite arttı.")
    hit = replace(hit, passage=replace(hit.passage, page_end="61"), page="60")
    assert view(hit, {"kopek"}, mini_engine, {}).pages == "s. 59-61 (yaklaşık s. 60)"


def test_short_passage_is_shown_whole(mini_engine: SearchEngine) -> None:
    v = view(_hit("Köpek barınağı açıldı. Kapasite arttı."), {"kopek"}, mini_engine, {})
    assert v.full_text is None and str(v.text) == "<mark>Köpek</mark> barınağı açıldı. Kapasite arttı."


def test_duty_badge_and_its_basis_on_a_line_of_its_own(mini_engine: SearchEngine) -> None:
    v = view(
        _hit("Büyükşehir Belediyesi: Meclis gündemini belirlemek.\nDayanak: 5393 s.K.m.21", "duty"),
        {"mecli"},
        mini_engine,
        {},
    )
    assert v.badge == "Görev ve dayanağı" and v.full_text is None
    assert str(v.text).endswith("<mark>Meclis</mark> gündemini belirlemek.\nDayanak: 5393 s.K.m.21")


def test_punctuation_alone_finds_nothing_politely(mini_client: Any) -> None:
    html = _page(mini_client, "???")
    assert "Sonuç bulunamadı" in html and 'class="result"' not in html
