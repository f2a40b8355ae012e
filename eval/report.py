"""Write an evaluation: JSON result, Markdown report, recall plot, TREC run files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.metrics import CURVE_KS, METRICS
from eval.tune import WEIGHTS

Result = dict[str, Any]


def write_trec(path: Path, run: dict[str, dict[str, float]], tag: str) -> None:
    """A TREC run file: ``qid Q0 docid rank score tag``."""
    lines = []
    for qid in sorted(run):
        ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))
        lines += [f"{qid} Q0 {pid} {r} {s:.6f} {tag}" for r, (pid, s) in enumerate(ranked, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_trec(path: Path) -> dict[str, dict[str, float]]:
    """Read a TREC run file back."""
    run: dict[str, dict[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, _, pid, _, score, *_ = line.split()
        run.setdefault(qid, {})[pid] = float(score)
    return run


def write_all(out: Path, result: Result, runs: dict[str, dict[str, dict[str, float]]]) -> None:
    """Everything an analyst needs in ``out``: result.json, report.md, recall.png, runs/."""
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for label, run in runs.items():
        write_trec(out / "runs" / f"{label}.trec", run, label)
    (out / "result.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    plot_recall(out / "recall.png", result)
    (out / "report.md").write_text(markdown(result), encoding="utf-8")


def plot_recall(path: Path, result: Result) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for label, curve in result["recall_curve"].items():
        ax.plot(CURVE_KS, [curve[str(k)] for k in CURVE_KS], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xticks(CURVE_KS, [str(k) for k in CURVE_KS])
    ax.set_xlabel("k")
    ax.set_ylabel("R@k (answer in the top k)")
    ax.set_title(f"{result['set']}: {result['queries']} queries")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown(result: Result) -> str:
    """The report as Markdown tables."""
    names = list(METRICS)
    head = "| run | category | n | " + " | ".join(names) + " |"
    rule = "|" + "---|" * (len(names) + 3)
    lines = [f"# Evaluation: {result['set']}", "", f"{result['queries']} queries. {result['note']}", ""]
    lines += [head, rule]
    for label, by_cat in result["metrics"].items():
        for cat, values in by_cat.items():
            n = result["counts"][cat]
            lines.append(f"| {label} | {cat} | {n} | " + " | ".join(f"{values[m]:.3f}" for m in names) + " |")
    if result["significance"]:
        lines += [
            "",
            "## Paired t-test (two-sided)",
            "",
            "| a | b | p MRR@10 | p nDCG@10 |",
            "|---|---|---|---|",
        ]
        for row in result["significance"]:
            lines.append(f"| {row['a']} | {row['b']} | {row['MRR@10']:.4f} | {row['nDCG@10']:.4f} |")
    if result.get("compare"):
        lines += ["", f"## Against {result['compare']['against']} (RR@10 per query)", ""]
        lines += ["| run | better | worse | same | changed queries |", "|---|---|---|---|---|"]
        for label, c in result["compare"]["runs"].items():
            changed = ", ".join(f"{q} {d:+.2f}" for q, d in c["changed"][:20])
            lines.append(f"| {label} | {c['better']} | {c['worse']} | {c['same']} | {changed} |")
    if result.get("cv"):
        cv = result["cv"]
        lines += ["", f"## Cross-validated fusion weights ({cv['folds']} folds by {cv['grouped_by']})", ""]
        lines += ["| fold | queries | bm25 | dense | sentence | train MRR@10 |", "|---|---|---|---|---|---|"]
        for f in cv["chosen"]:
            weights = " | ".join(f"{f[w]:.1f}" for w in WEIGHTS)
            lines.append(f"| {f['fold']} | {f['queries']} | {weights} | {f['train_MRR@10']:.4f} |")
    lines += ["", "![R@k](recall.png)", ""]
    return "\n".join(lines)
