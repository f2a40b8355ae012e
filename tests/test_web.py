"""The search page in a real browser: Debian's headless Chromium driven by Playwright,
against ``python -m service`` on the fixture corpus (the ``server`` fixture).

Screenshots at phone and desktop width go to ``test-artifacts/web/`` (gitignored). Without
Chromium the tests skip, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import parse_qs, urlsplit

import pytest

from indexer.settings import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("RAPOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the resolver rule keeps it from calling Google hosts.
ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
PHONE: ViewportSize = {"width": 360, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def _unavailable(reason: str) -> NoReturn:
    message = f"{reason}; install it with `apt-get install chromium` (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="tr-TR")
    context.set_default_timeout(30_000)
    opened = context.new_page()
    requested: list[str] = []
    opened.on("request", lambda r: requested.append(r.url))
    yield opened
    context.close()
    # Nothing outside the service: no CDN, no web fonts (the service may run offline).
    assert requested and all(url.startswith(server) for url in requested), requested


def _ask(page: Page, server: str, question: str) -> None:
    page.goto(f"{server}/")
    assert page.evaluate("document.documentElement.lang") == "tr"
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus: type at once
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=*")
    page.locator(".result").first.wait_for()


def test_typed_question_finds_its_passage_and_page(page: Page, server: str) -> None:
    _ask(page, server, "elektrikli otobüs")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["elektrikli otobüs"]}
    top = page.locator(".result").first
    assert "filoya 40 adet elektrikli otobüs katılmış" in top.locator(".text").inner_text()
    assert top.locator(".pages").inner_text() == "s. 6-8 (yaklaşık s. 6)"
    assert top.locator("mark").all_inner_texts() == ["elektrikli otobüs"]
    assert "Ulaşım Dairesi Başkanlığı" in top.locator(".crumbs").inner_text()
    page.go_back()  # the query is in the URL, so the back button returns to the first visit
    page.wait_for_url(f"{server}/")
    assert page.locator(".examples a").count() >= 3 and page.locator(".result").count() == 0


def test_ascii_typed_question_marks_the_turkish_words(page: Page, server: str) -> None:
    _ask(page, server, "kopek barinagi")
    top = page.locator(".result").first
    assert "köpek barınağı" in top.locator("mark").all_inner_texts()
    assert "kapasitesini iki katına çıkardık" in top.inner_text()
    assert top.locator(".pages").inner_text() == "s. iii"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "desktop.png")
    page.set_viewport_size(PHONE)
    # Usable at 360 px: nothing wider than the screen, the button beside the box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    button, box = page.locator(".search button").bounding_box(), page.locator("#q").bounding_box()
    assert button and box and button["x"] + button["width"] <= PHONE["width"] and box["width"] >= 180
    page.screenshot(path=ARTIFACTS / "phone.png")
    assert (ARTIFACTS / "desktop.png").stat().st_size > 0 and (ARTIFACTS / "phone.png").stat().st_size > 0


def test_keyboard_only_with_visible_focus(page: Page, server: str) -> None:
    page.goto(f"{server}/")
    page.keyboard.type("sahipsiz hayvanlar")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Ara", "solid"]
    page.keyboard.press("Enter")  # the button, reached by Tab, searches too
    page.wait_for_url("**/?q=*")
    assert "1.250 köpek ve kedi" in page.locator(".result").first.inner_text()


def test_no_result_page_offers_examples(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=zzqx+wvvy")
    assert "Sonuç bulunamadı" in page.locator(".notice").inner_text()
    example = page.locator(".examples a").first
    asked = example.inner_text()
    example.click()
    page.wait_for_url("**/?q=*")
    assert page.locator("#q").input_value() == asked and asked in page.title()
