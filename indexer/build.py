"""Build the hybrid index: passages, BM25 terms, dense vectors, manifest.

Everything is written to a staging directory that replaces the index only when
complete, so a crash never leaves a half-written index. Embeddings are cached by
text hash as they are computed, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from indexer import store
from indexer.chunking import CHUNKER_VERSION, Passage
from indexer.citations import CITATIONS_VERSION, citation_index
from indexer.corpus import CorpusError, Document, document_passages, load_corpus
from indexer.deascii import build_vocabulary
from indexer.embedding import Embedder, EmbeddingCache, model_fingerprint, text_key
from indexer.sentences import SENTENCES_VERSION, sentence_units
from indexer.settings import Settings

log = logging.getLogger(__name__)
_SAVE_EVERY = 128  # texts between cache saves: the resume granularity


def index_text(passage: Passage, path_levels: int) -> str:
    """What both arms index: the last section-path levels, then the passage."""
    path = passage.path[-path_levels:] if path_levels > 0 else ()
    return "\n".join([*path, passage.text])


def resolve_model(settings: Settings) -> str:
    """The model path, rebuilding the bundled e5 weights on first use."""
    if settings.model:
        return settings.model
    from indexer.model_convert import ensure_model

    return str(ensure_model(settings.model_dir))


def expected_manifest(settings: Settings, docs: list[Document], model_id: str) -> dict[str, Any]:
    """The manifest fields that must match for an index to be current."""
    return {
        "format": store.FORMAT_VERSION,
        "corpus": {d.id: {"sha256": d.sha256, "title": d.title, "year": d.year} for d in docs},
        "model_id": model_id,
        "analyzer": settings.analyzer().describe(),
        "chunking": {
            "version": CHUNKER_VERSION,
            "max_words": settings.max_words,
            "min_words": settings.min_words,
        },
        "path_levels": settings.path_levels,
        "sentences": SENTENCES_VERSION,
        "citations": CITATIONS_VERSION,
    }


def mismatch(settings: Settings, manifest: dict[str, Any], model_id: str) -> str | None:
    """Why an index built as ``manifest`` cannot be served under ``settings``, if it cannot.

    The corpus may differ (that is what a rebuild is for); the model, analysis, chunking
    and format must be the ones this service reads queries with.
    """
    want = expected_manifest(settings, [], model_id)
    wrong = [key for key, value in want.items() if key != "corpus" and manifest.get(key) != value]
    return f"built with other {', '.join(wrong)}" if wrong else None


def staleness(settings: Settings) -> str | None:
    """Why the index must be (re)built, or None when it is current."""
    manifest = store.read_manifest(settings.index_dir)
    if manifest is None:
        return f"no index at {settings.index_dir}"
    model_id = model_fingerprint(resolve_model(settings))
    want = expected_manifest(settings, load_corpus(settings.corpus_dir), model_id)
    for key, value in want.items():
        if manifest.get(key) != value:
            return f"index is stale: {key} changed"
    return None


def build(settings: Settings, *, show_progress: bool = True) -> dict[str, Any]:
    """Build the index into ``settings.index_dir``; returns the manifest."""
    with store.build_lock(settings.index_dir):
        return _build(settings, show_progress)


def _build(settings: Settings, show_progress: bool) -> dict[str, Any]:
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(stage: str) -> None:
        stages[stage] = round(time.perf_counter() - started - sum(stages.values()), 3)

    docs = load_corpus(settings.corpus_dir)
    passages = [p for d in docs for p in document_passages(d, settings.chunking())]
    if not passages:
        raise CorpusError(f"no text in {settings.corpus_dir}: the documents are empty")
    lap("chunking")
    texts = [index_text(p, settings.path_levels) for p in passages]
    terms = [settings.analyzer().terms(t) for t in texts]
    lap("analysis")
    embedder = Embedder(resolve_model(settings), threads=settings.torch_threads)
    lap("model")
    vectors, embedded = _embed(embedder, texts, settings, show_progress, "passages")
    lap("passage_vectors")
    titles = [p.path[-1] if p.path and settings.path_levels > 0 else "" for p in passages]
    units, owner = sentence_units(titles, [p.text for p in passages])
    sentence_vectors, embedded_units = _embed(embedder, units, settings, show_progress, "sentences")
    lap("sentence_vectors")

    staging = settings.index_dir.with_name(f"{settings.index_dir.name}.tmp-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    store.write_passages(staging, passages)
    store.write_json(staging / store.TERMS, terms)
    store.write_dense(staging, vectors)
    store.write_sentences(staging, sentence_vectors, np.searchsorted(owner, np.arange(len(passages))))
    store.write_json(staging / store.CITATIONS, citation_index(p.text for p in passages))
    store.write_json(staging / store.VOCABULARY, build_vocabulary(p.text for p in passages))
    lap("artifacts")
    manifest = expected_manifest(settings, docs, embedder.model_id) | {
        "checksums": store.checksums(staging),
        "passages": len(passages),
        "embedded": embedded,
        "sentence_units": len(units),
        "embedded_units": embedded_units,
        "dim": embedder.dim,
        "build_seconds": round(time.perf_counter() - started, 2),
        "stage_seconds": stages,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    store.write_json(staging / store.MANIFEST, manifest)  # written last: marks completeness
    store.swap_in(staging, settings.index_dir)
    log.info(
        "built %d passages, %d sentences (%d + %d embedded) into %s",
        len(passages), len(units), embedded, embedded_units, settings.index_dir,
    )  # fmt: skip
    return manifest


def _embed(
    embedder: Embedder, texts: list[str], settings: Settings, show_progress: bool, what: str
) -> tuple[np.ndarray, int]:
    cache = EmbeddingCache(settings.cache_dir, embedder.model_id)
    keys = [text_key(embedder.model_id, t) for t in texts]
    # Similar lengths in a batch waste less padding: embed the missing texts by length.
    todo = sorted(
        {k: i for i, k in enumerate(keys) if k not in cache.vectors}.values(), key=lambda i: len(texts[i])
    )
    bar = tqdm(total=len(todo), desc=f"embedding {what}", unit=what[:-1], disable=not show_progress)
    for start in range(0, len(todo), _SAVE_EVERY):
        batch = todo[start : start + _SAVE_EVERY]
        vecs = embedder.passages([texts[i] for i in batch], settings.embed_batch_size, bar.update, len(todo))
        for i, vec in zip(batch, vecs, strict=True):
            cache.vectors[keys[i]] = vec
        cache.save()
    bar.close()
    dim = embedder.dim
    vectors = np.stack([cache.vectors[k] for k in keys]) if keys else np.zeros((0, dim))
    return vectors.astype(np.float32), len(todo)
