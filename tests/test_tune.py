"""``python -m eval.tune`` on the fixture corpus: what it prints is what the engine scores."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from eval import tune
from eval.metrics import score
from eval.runner import in_process, run_queries
from eval.sets import report_set
from indexer.search import SearchEngine
from indexer.settings import Settings, get_settings

QUESTIONS = [
    # The first two are found first by the hybrid weights but not by BM25 alone.
    ("t1", "dev", "hayvanlara ne yapıldı", "1.250 köpek ve kedi tedavi edilmiş"),
    ("t2", "dev", "başkan ne söz verdi", "köpek barınağı kapasitesini iki katına çıkardık"),
    ("t3", "dev", "kira gelirleri ne kadar gerçekleşti", "4.750.000,00"),
    ("t4", "dev", "teleferik işleten şirket ne zaman kuruldu", "Kuruluş Yılı: 1990"),
    ("t5", "test", "aktarma merkezi bitti mi", "Yeni aktarma merkezinin inşaatı tamamlanmıştır"),
]
CURRENT = {"fusion": "convex", "bm25_weight": 0.3, "dense_weight": 0.3, "sentence_weight": 0.4}
FUSIONS = [
    CURRENT,
    {"fusion": "convex", "bm25_weight": 0.4, "dense_weight": 0.2, "sentence_weight": 0.4},
    {"fusion": "convex", "bm25_weight": 1.0, "dense_weight": 0.0, "sentence_weight": 0.0},
    {"fusion": "rrf", "rrf_k": 60},
]


@pytest.fixture()
def on_mini(mini_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The global settings pointed at the fixture corpus's built index; a question file."""
    monkeypatch.setenv("RAPOR_CORPUS_DIR", str(mini_settings.corpus_dir))
    monkeypatch.setenv("RAPOR_INDEX_DIR", str(mini_settings.index_dir))
    monkeypatch.setattr(tune, "GRID", {"bm25_variant": ["lucene"], "bm25_k1": [0.9, 1.2], "bm25_b": [0.5]})
    monkeypatch.setattr(tune, "FUSIONS", FUSIONS)
    monkeypatch.setattr(tune, "RERANKS", tune.RERANKS[:2])
    path = tmp_path / "questions.jsonl"
    rows = [
        {"id": i, "question": q, "category": "numeric", "answers": [a], "split": split}
        for i, split, q, a in QUESTIONS
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_tune_prints_the_engines_dev_scores_and_the_neighbourhood_best(
    on_mini: Path, mini_engine: SearchEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tune.main(["--questions", str(on_mini), "--stages", "bm25", "fusion", "rerank"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "dev collections: report-dev (mean MRR@10, mean R@5)"
    rows = [
        (float(m), ast.literal_eval(change))
        for m, change in re.findall(r"^MRR@10 (\S+) .*?(\{.*\})$", out, re.M)
    ]
    fused = [(m, c) for m, c in rows if "fusion" in c]
    assert [c for _, c in fused].count(FUSIONS[-1]) == 1  # the best RRF point is always shown
    convex = [m for m, c in fused if c["fusion"] == "convex"]
    assert convex == sorted(convex, reverse=True) and len(convex) == 3 and convex[0] > convex[-1]

    # Each printed score is the engine's own on the dev questions only (t5 is test).
    ev = report_set(mini_engine.settings, on_mini, "dev")
    assert len(ev.queries) == 4
    for shown, change in fused:
        engine = mini_engine.with_settings(mini_engine.settings.model_copy(update=change))
        want = score(ev.qrels, run_queries(in_process(engine), ev.queries, "hybrid", progress=False))
        assert shown == pytest.approx(want["MRR@10"], abs=5e-5)

    # The neighbourhood mean: (0.3, 0.3, 0.4) and (0.4, 0.2, 0.4) are each other's only
    # neighbours, (1.0, 0.0, 0.0) has none.
    by_point = {tuple(c[w] for w in tune.WEIGHTS): m for m, c in fused if c["fusion"] == "convex"}
    pair = (by_point[(0.3, 0.3, 0.4)] + by_point[(0.4, 0.2, 0.4)]) / 2
    means = {
        tuple(map(float, p.split(", "))): float(m)
        for m, p in re.findall(
            r"^neighbourhood MRR@10 (\S+)  bm25/dense/sentence weights \((.*)\)$", out, re.M
        )
    }
    assert means == pytest.approx(
        {(0.3, 0.3, 0.4): pair, (0.4, 0.2, 0.4): pair, (1.0, 0.0, 0.0): by_point[(1.0, 0.0, 0.0)]}, abs=5e-5
    )
    assert len(re.findall(r"^neighbourhood .* coverage/title/phrase/table weights", out, re.M)) == 2
