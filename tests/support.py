"""Helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

from indexer.settings import ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"
REPORT = ROOT / "corpus" / "izmir-2023-faaliyet-raporu.txt"


def make_settings(tmp: Path, corpus: Path, **overrides: object) -> Settings:
    """Settings for a test index in ``tmp``; the model and cache are the project's."""
    return Settings(corpus_dir=corpus, index_dir=tmp / "index", **overrides)  # type: ignore[arg-type]
