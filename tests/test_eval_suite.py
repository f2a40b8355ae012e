"""The evaluation suite end to end: benchmark ingestion, reports, runs, HTTP parity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eval.__main__ import main
from eval.metrics import score
from eval.report import read_trec
from eval.runner import in_process, over_http, run_queries
from eval.sets import Query, benchmark_set, mistyped
from eval.tune import WEIGHTS
from indexer.embedding import Embedder
from indexer.search import SearchEngine
from indexer.settings import Settings
from tests.support import FIXTURES

BENCH = FIXTURES / "bench-mini"


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the global settings at a scratch index, away from the report's."""
    from indexer.settings import get_settings

    monkeypatch.setenv("RAPOR_INDEX_DIR", str(tmp_path / "index" / "report"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_benchmark_folder_is_indexed_on_its_own_and_reported(isolated: Path, model_path: str) -> None:
    out = isolated / "out"
    assert main(["--set", str(BENCH), "--out", str(out), "--quiet", "--variant", "rrf:fusion=rrf"]) == 0
    assert (isolated / "index" / "bench" / "bench-mini" / "manifest.json").exists()
    assert not (isolated / "index" / "report").exists()  # the report's index is untouched
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert set(result["metrics"]) == {"bm25", "dense", "hybrid", "hybrid@rrf"}
    assert result["queries"] == 6
    for values in result["metrics"]["hybrid"].values():
        assert 0.0 <= values["nDCG@10"] <= 1.0 and values["R@10"] >= values["R@1"]
    assert {(r["a"], r["b"]) for r in result["significance"]} >= {("bm25", "hybrid"), ("dense", "hybrid")}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| hybrid | all | 6 |" in report and "Paired t-test" in report
    assert (out / "recall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = read_trec(out / "runs" / "hybrid.trec")
    assert set(run) == {f"bq{i}" for i in range(1, 7)}

    again = isolated / "again"
    assert main(["--set", str(BENCH), "--out", str(again), "--quiet", "--compare", str(out)]) == 0
    compared = json.loads((again / "result.json").read_text(encoding="utf-8"))["compare"]["runs"]
    assert compared["hybrid"] == {"better": 0, "worse": 0, "same": 6, "changed": []}


def test_ascii_queries_come_from_their_own_file(tmp_path: Path) -> None:
    ev = benchmark_set(BENCH, Settings(), tmp_path, ascii_typed=True)
    assert ev.name == "bench-mini-ascii"
    assert ev.queries[0].text == "Korfezde deniz suyu ne siklikla olculuyor?"
    assert ev.settings.index_dir == tmp_path / "bench-mini"


def test_mistyped_queries_keep_their_ids_judgments_and_slips(tmp_path: Path) -> None:
    ev = benchmark_set(BENCH, Settings(), tmp_path)
    typed = mistyped(ev)
    assert (typed.name, typed.qrels) == ("bench-mini-typos", ev.qrels)
    assert [q.id for q in typed.queries] == [q.id for q in ev.queries]
    pairs = list(zip(ev.queries, typed.queries, strict=True))
    assert all(a.text != b.text and len(a.text.split()) == len(b.text.split()) for a, b in pairs)
    assert mistyped(ev) == typed  # seeded by query id: the same slips every run


def test_missing_question_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--questions", str(tmp_path / "nope.jsonl")]) == 2
    assert "question file not found" in capsys.readouterr().err
    assert main(["--set", "no-such-benchmark"]) == 2
    assert "no benchmark 'no-such-benchmark'" in capsys.readouterr().err


def test_in_process_and_http_give_the_same_numbers(mini_engine: SearchEngine, server: str) -> None:
    queries = [
        Query("a", "elektrikli otobüs", "all"),
        Query("b", "kopek barinagi", "all"),
        Query("c", "kira gelirleri 2023", "all"),
        Query("d", "teleferik işletmeciliği", "all"),
    ]
    qrels = {"a": {"mini-2024:00056:0": 1}, "b": {"mini-2024:00001:0": 1}, "c": {"mini-2024:00035:0": 1}}
    qrels["d"] = {"mini-2024:00072:0": 1}
    for mode in ("bm25", "dense", "hybrid"):
        local = run_queries(in_process(mini_engine), queries, mode, progress=False)
        remote = run_queries(over_http(server), queries, mode, progress=False)
        assert local == remote
        assert score(qrels, local) == score(qrels, remote)


def test_cross_validation_ranks_each_fold_with_weights_chosen_on_the_others(
    isolated: Path, embedder: Embedder
) -> None:
    out = isolated / "cv"
    assert main(["--set", str(BENCH), "--out", str(out), "--quiet", "--modes", "hybrid", "--cv", "2"]) == 0
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert set(result["metrics"]) == {"hybrid", "hybrid@cv2"}
    chosen = result["cv"]["chosen"]
    # Folds deal the sorted titles: Ege Denizi, Sağlık and Ulaşım (two questions) in fold
    # 0; Kültür and Tarım in fold 1. One title's questions never straddle two folds.
    assert [f["queries"] for f in chosen] == [4, 2]
    assert "Cross-validated fusion weights (2 folds" in (out / "report.md").read_text(encoding="utf-8")

    ev = benchmark_set(BENCH, Settings(), isolated / "index" / "bench")
    engine = SearchEngine(ev.settings, embedder)
    saved = read_trec(out / "runs" / "hybrid@cv2.trec")
    for fold, queries in ((0, ["bq1", "bq2", "bq5", "bq6"]), (1, ["bq3", "bq4"])):
        weights = {k: chosen[fold][k] for k in WEIGHTS}
        variant = engine.with_settings(engine.settings.model_copy(update=weights))
        for qid in queries:
            text = next(q.text for q in ev.queries if q.id == qid)
            expected = [h.passage.id for h in variant.search(text, 20).hits]
            assert sorted(saved[qid], key=lambda pid: -saved[qid][pid]) == expected


def test_cross_validation_needs_folds_and_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--set", str(BENCH), "--cv", "1"])
    assert exited.value.code == 2 and "at least 2 folds" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="need the in-process engine"):
        main(["--set", str(BENCH), "--cv", "2", "--url", "http://127.0.0.1:9"])
