"""The sentence arm: an answer in one sentence of a long passage is still found."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.build import build
from indexer.embedding import Embedder
from indexer.search import SearchEngine
from tests.support import make_settings

FILLER = (
    "Büyükşehir belediyesi yıl boyunca ilçelerde yol, park ve kaldırım çalışmaları yaptı. "
    "Çalışmalar mahalle muhtarlarıyla birlikte planlandı ve takvime göre yürütüldü. "
)
ANSWER = "Sokak hayvanları için mama bağışları Bornova Hayvan Barınağı'nda kabul edilir."


def test_answer_sentence_deep_in_a_long_passage(tmp_path: Path, embedder: Embedder) -> None:
    # e5 reads 512 tokens: the answer sits far beyond them, so only its sentence vector sees it.
    rows = [
        {"id": "uzun", "title": "Fen İşleri", "text": FILLER * 30 + ANSWER},
        {"id": "park", "title": "Parklar", "text": "Kent parklarında çocuk oyun alanları yenilendi."},
        {"id": "su", "title": "Su", "text": "İçme suyu şebekesine 120 km yeni boru döşendi."},
    ]
    corpus = tmp_path / "gecmis.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    settings = make_settings(tmp_path, corpus)
    build(settings, show_progress=False)
    engine = SearchEngine(settings, embedder)

    hits = engine.search("sokak köpekleri için mama bağışını nereye yapabilirim", k=3, mode="dense").hits
    top = hits[0]
    assert top.passage.id == "uzun"
    assert top.sentence is not None and top.dense is not None
    assert top.sentence > top.dense + 0.05  # the sentence, not the passage vector, found it
    hybrid = engine.search("mama bagisi nereye yapilir", k=3).hits
    assert hybrid[0].passage.id == "uzun"
