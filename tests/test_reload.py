"""A rebuild while the service serves: old index until the new one is complete, then the
new one, and not one failed search in between."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.datastructures import State

from indexer import store
from indexer.build import build
from indexer.embedding import Embedder
from indexer.search import SearchEngine
from indexer.settings import ROOT, Settings
from service.reload import IndexWatcher
from tests.support import running_service

NEW = (
    "Veteriner İşleri Dairesi Başkanlığı: Gediz Deltası'nda yaralı bulunan 37 flamingo "
    "yaban hayatı kurtarma merkezinde tedavi edilerek doğaya salınmıştır.\n"
)
ANCHOR = "430 hayvan sahiplendirilmiştir.\n"


@pytest.fixture()
def copy(mini_settings: Settings, tmp_path: Path) -> Settings:
    """A private copy of the fixture corpus and its built index, to rebuild."""
    shutil.copytree(mini_settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(mini_settings.index_dir, tmp_path / "index")
    return mini_settings.model_copy(
        update={"corpus_dir": tmp_path / "corpus", "index_dir": tmp_path / "index"}
    )


def _serving(settings: Settings, embedder: Embedder) -> tuple[SearchEngine, State, IndexWatcher]:
    """An engine on the copy, the app state serving it, and a watcher of its folder."""
    engine = SearchEngine(settings, embedder)
    state = State({"engine": engine})
    return engine, state, IndexWatcher(state, settings)


def _add_flamingos(corpus: Path) -> None:
    (report,) = corpus.glob("*.txt")
    text = report.read_text(encoding="utf-8")
    assert ANCHOR in text
    report.write_text(text.replace(ANCHOR, ANCHOR + "\n" + NEW), encoding="utf-8")


def _finds_flamingos(engine: SearchEngine) -> bool:
    return any("flamingo" in h.passage.text for h in engine.search("flamingo", 3, "bm25").hits)


def test_a_rebuilt_index_is_swapped_in_and_the_old_one_finishes(copy: Settings, embedder: Embedder) -> None:
    old, state, watcher = _serving(copy, embedder)
    assert not anyio.run(watcher.check)  # nothing rebuilt yet

    _add_flamingos(copy.corpus_dir)
    build(copy, show_progress=False)
    assert anyio.run(watcher.check)

    assert state.engine is not old and _finds_flamingos(state.engine)
    assert not _finds_flamingos(old)  # a search that started on the old engine ends there
    assert not anyio.run(watcher.check)  # and the new one is not loaded twice


def test_an_index_built_with_other_settings_is_not_served(
    copy: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    old, state, watcher = _serving(copy, embedder)
    _add_flamingos(copy.corpus_dir)
    build(copy.model_copy(update={"prefix_len": 4}), show_progress=False)

    assert not anyio.run(watcher.check)
    assert state.engine is old
    assert "not serving the rebuilt index (built with other analyzer)" in caplog.text


def test_a_damaged_rebuild_is_refused_until_a_good_one_arrives(copy: Settings, embedder: Embedder) -> None:
    old, state, watcher = _serving(copy, embedder)
    _add_flamingos(copy.corpus_dir)
    build(copy, show_progress=False)
    (copy.index_dir / store.DENSE).write_bytes(b"")

    assert not anyio.run(watcher.check)
    assert state.engine is old
    build(copy, show_progress=False)
    assert anyio.run(watcher.check)
    assert _finds_flamingos(state.engine)


def test_a_manifest_of_another_format_is_reported_once(
    copy: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    old, state, watcher = _serving(copy, embedder)
    path = copy.index_dir / store.MANIFEST
    path.write_text(path.read_text(encoding="utf-8").replace('"format": ', '"format": 1'), encoding="utf-8")

    assert not anyio.run(watcher.check) and not anyio.run(watcher.check)
    assert state.engine is old
    assert caplog.text.count("its manifest is unreadable or of another format") == 1


def test_rebuild_under_concurrent_searches_on_a_real_server(copy: Settings, tmp_path: Path) -> None:
    env = {
        "RAPOR_CORPUS_DIR": str(copy.corpus_dir),
        "RAPOR_INDEX_DIR": str(copy.index_dir),
        "RAPOR_RELOAD_INTERVAL": "0.2",
    }
    with running_service(env, tmp_path / "service.log") as url:
        before = httpx.get(f"{url}/healthz", timeout=10).json()["built_at"]
        statuses: Counter[int | str] = Counter()
        stop = threading.Event()
        questions = ["kopek barinagi", "metro hattı kaç km", "flamingo", "teleferik işletmeciliği"]

        def client(n: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                i = n
                while not stop.is_set():
                    try:
                        q = questions[i % len(questions)]
                        statuses[http.get("/search", params={"q": q, "k": 3}).status_code] += 1
                    except httpx.HTTPError as exc:
                        statuses[type(exc).__name__] += 1
                    i += 1

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in clients:
            t.start()
        try:
            time.sleep(1)
            _add_flamingos(copy.corpus_dir)
            built = subprocess.run(
                [sys.executable, "-m", "indexer", "build", "--quiet"],
                cwd=ROOT,
                env=os.environ | env,
                capture_output=True,
                text=True,
            )
            assert built.returncode == 0, built.stderr
            found = _wait_for_flamingos(url)
            time.sleep(1)  # searches keep running on the new index
        finally:
            stop.set()
            for t in clients:
                t.join()
        after = httpx.get(f"{url}/healthz", timeout=10).json()["built_at"]

    assert found, "the rebuilt index was not served within 60 s"
    assert set(statuses) == {200}, statuses  # not one failed search
    assert statuses[200] > 20
    assert after != before


def _wait_for_flamingos(url: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/search", params={"q": "flamingo", "mode": "bm25"}, timeout=30).json()
        if any("flamingo" in r["text"] for r in body["results"]):
            return True
        time.sleep(0.2)
    return False
