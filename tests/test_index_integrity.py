"""A damaged or mismatched index is refused at load, with what to do."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer import store
from indexer.embedding import Embedder
from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import load_engine


@pytest.fixture()
def copy(mini_settings: Settings, tmp_path: Path) -> Settings:
    """A private copy of the built fixture index, to damage."""
    shutil.copytree(mini_settings.index_dir, tmp_path / "index")
    return mini_settings.model_copy(update={"index_dir": tmp_path / "index"})


def _truncate(folder: Path) -> None:
    data = (folder / store.DENSE).read_bytes()
    (folder / store.DENSE).write_bytes(data[: len(data) // 2])


def _remove(folder: Path) -> None:
    (folder / store.PASSAGES).unlink()


def _edit(folder: Path) -> None:
    path = folder / store.TERMS
    path.write_text(path.read_text(encoding="utf-8").replace("otobu", "otobus"), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_truncate, "dense.faiss changed since the build"),
        (_remove, "passages.jsonl missing"),
        (_edit, "terms.json changed since the build"),
    ],
)
def test_a_damaged_file_is_named_and_the_fix_given(
    copy: Settings, embedder: Embedder, damage: Callable[[Path], None], said: str
) -> None:
    SearchEngine(copy, embedder)  # intact: loads
    damage(copy.index_dir)
    with pytest.raises(store.IndexMissing, match="python -m indexer build") as error:
        SearchEngine(copy, embedder)
    assert said in str(error.value)


def test_an_index_from_another_model_is_refused(copy: Settings, embedder: Embedder) -> None:
    path = copy.index_dir / store.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | {"model_id": "another-model:1234"}), encoding="utf-8")
    with pytest.raises(store.IndexMissing, match="built with another-model:1234"):
        SearchEngine(copy, embedder)


def test_an_index_analyzed_otherwise_is_refused(copy: Settings, embedder: Embedder) -> None:
    # Prefix-4 query terms against prefix-5 index terms would match, just wrongly.
    other = copy.model_copy(update={"prefix_len": 4})
    with pytest.raises(store.IndexMissing, match="built with other analyzer") as error:
        SearchEngine(other, embedder)
    assert "python -m indexer build" in str(error.value)


def test_the_service_does_not_start_on_an_index_it_cannot_read(copy: Settings) -> None:
    # Without building, serving a stale corpus is fine; serving other terms is not.
    held = copy.model_copy(update={"prefix_len": 4, "build_if_stale": False})
    with pytest.raises(SystemExit, match=r"built with other analyzer.*python -m indexer build"):
        load_engine(held)


def test_an_index_of_an_older_format_is_not_loaded(copy: Settings, embedder: Embedder) -> None:
    path = copy.index_dir / store.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | {"format": store.FORMAT_VERSION - 1}), encoding="utf-8")
    with pytest.raises(store.IndexMissing, match="not built"):
        SearchEngine(copy, embedder)
