"""``python -m eval``: score bm25, dense, hybrid (and variants) on one query set.

Prints a table and a one-line summary; with ``--out`` writes result.json, report.md,
recall.png and TREC run files. Sets: ``report`` (our questions about the report) or a
benchmark folder with passages.jsonl, queries.jsonl, queries_ascii.jsonl, qrels.tsv.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

from eval import crossval, metrics
from eval.questions import DEFAULT_QUESTIONS, QuestionFileError
from eval.report import read_trec, write_all
from eval.runner import Run, Searcher, in_process, over_http, run_queries
from eval.sets import EvalSet, benchmark_set, mistyped, report_set
from indexer.ranking import Engine
from indexer.settings import INDEX_FIELDS, Settings, get_settings

MODES = ("bm25", "dense", "hybrid")
NOTE = "R@k = ranx hit_rate@k (a relevant passage in the top k); MRR@10, nDCG@10 from ranx."


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    p.add_argument("--set", default="report", help="'report', a benchmark name, or a folder")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="report question file")
    p.add_argument("--split", choices=("dev", "test", "all"), default="all", help="report split")
    p.add_argument("--ascii", action="store_true", help="questions typed without Turkish letters")
    p.add_argument("--typos", action="store_true", help="questions with one or two mistyped words")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VAL[,KEY=VAL]",
        help="also run with these settings changed, e.g. rrf:fusion=rrf or p4:prefix_len=4",
    )
    p.add_argument(
        "--variant-modes", nargs="+", choices=MODES, default=["hybrid"], help="modes run for variants"
    )
    p.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="also rank hybrid with fusion weights cross-validated over K folds of this set "
        "(eval/crossval.py): for a collection that may want weights of its own",
    )
    p.add_argument("--url", help="ask a running service over HTTP instead of the engine")
    p.add_argument("--out", type=Path, help="write result.json, report.md, recall.png, runs/ here")
    p.add_argument("--compare", type=Path, help="a previous --out folder: per-query wins/losses")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.cv is not None and args.cv < 2:
        p.error("--cv needs at least 2 folds")
    return args


def resolve_set(args: argparse.Namespace, base: Settings) -> EvalSet:
    found = _resolve_set(args, base)
    return mistyped(found) if args.typos else found


def _resolve_set(args: argparse.Namespace, base: Settings) -> EvalSet:
    if args.set == "report":
        return report_set(base, args.questions, args.split, args.ascii)
    folder = Path(args.set)
    if not folder.is_dir():
        folder = base.benchmarks_dir / args.set
    if not folder.is_dir():
        raise QuestionFileError(f"no benchmark '{args.set}' (looked in {base.benchmarks_dir})")
    return benchmark_set(folder, base, base.index_dir.parent / "bench", args.ascii)


def variant_settings(spec: str, base: Settings) -> tuple[str, Settings]:
    """``name:key=val,key=val`` → (name, validated settings); an index of its own if needed."""
    name, _, assignments = spec.partition(":")
    changes = dict(kv.split("=", 1) for kv in assignments.split(",") if kv)
    settings = Settings.model_validate(base.model_dump() | changes)
    if any(getattr(settings, f) != getattr(base, f) for f in INDEX_FIELDS):
        settings = settings.model_copy(
            update={"index_dir": base.index_dir.with_name(f"{base.index_dir.name}-{name}")}
        )
    return name, settings


def plan(args: argparse.Namespace, ev: EvalSet) -> tuple[list[tuple[str, str, Searcher]], Engine | None]:
    """(label, mode, searcher) for every run asked for, and the engine (None over HTTP)."""
    if args.url:
        if args.variant or args.cv:
            raise SystemExit("error: --variant and --cv need the in-process engine, not --url")
        search = over_http(args.url)
        return [(mode, mode, search) for mode in args.modes], None
    from indexer.search import SearchEngine
    from service.app import load_engine

    engine = load_engine(ev.settings)
    out = [(mode, mode, in_process(engine)) for mode in args.modes]
    for spec in args.variant:
        name, settings = variant_settings(spec, ev.settings)
        if settings.index_dir != ev.settings.index_dir:
            load_engine(settings)  # builds the variant's own index if needed
        variant = SearchEngine(settings, engine.embedder)
        out += [(f"{mode}@{name}", mode, in_process(variant)) for mode in args.variant_modes]
    return out, engine


def cross_validated(args: argparse.Namespace, ev: EvalSet, engine: Engine | None) -> crossval.CrossValidated:
    from indexer.search import SearchEngine

    if not isinstance(engine, SearchEngine):
        raise SystemExit("error: --cv needs the embedded backend: unset RAPOR_BACKEND")
    # A benchmark passage's path is its title; a report passage's, its top-level section.
    titles = {p.id: p.path[0] if p.path else "" for p in engine.passages}
    groups = crossval.title_groups(ev, titles)
    try:
        return crossval.cross_validate(ev, engine, groups, args.cv, progress=not args.quiet)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def summarize(ev: EvalSet, runs: dict[str, Run], args: argparse.Namespace) -> dict[str, Any]:
    cats = ["all", *[c for c in ev.categories if c != "all"]]
    counts = {c: sum(1 for q in ev.queries if c in ("all", q.category) and ev.qrels.get(q.id)) for c in cats}
    by_label: dict[str, dict[str, dict[str, float]]] = {}
    for label, run in runs.items():
        by_label[label] = {}
        for cat in cats:
            ids = {q.id for q in ev.queries if cat in ("all", q.category)}
            by_label[label][cat] = metrics.score({q: r for q, r in ev.qrels.items() if q in ids}, run)
    judged = {q.id: ev.qrels.get(q.id, {}) for q in ev.queries}
    return {
        "set": ev.name,
        "queries": counts["all"],
        "note": NOTE,
        "counts": counts,
        "metrics": by_label,
        "recall_curve": {
            label: {str(k): v for k, v in metrics.recall_curve(judged, run).items()}
            for label, run in runs.items()
        },
        "significance": [
            {"a": a, "b": b, **metrics.significance(judged, runs[a], runs[b])}
            for a, b in itertools.combinations(runs, 2)
        ],
        "compare": compare(args.compare, judged, runs) if args.compare else None,
    }


def _curve(qrels: metrics.Judgments, run: Run) -> dict[str, float]:
    return {str(k): v for k, v in metrics.recall_curve(qrels, run).items()}


def compare(previous: Path, qrels: metrics.Judgments, runs: dict[str, Run]) -> dict[str, Any]:
    """Per-query RR@10 wins and losses of each run against the same label saved before."""
    out: dict[str, Any] = {"against": str(previous), "runs": {}}
    for label, run in runs.items():
        saved = previous / "runs" / f"{label}.trec"
        if not saved.exists():
            continue
        now, before = metrics.per_query(qrels, run), metrics.per_query(qrels, read_trec(saved))
        diffs = sorted(((q, now[q] - before.get(q, 0.0)) for q in now), key=lambda x: (-abs(x[1]), x[0]))
        changed = [(q, d) for q, d in diffs if abs(d) > 1e-9]
        out["runs"][label] = {
            "better": sum(d > 0 for _, d in changed),
            "worse": sum(d < 0 for _, d in changed),
            "same": len(now) - len(changed),
            "changed": changed,
        }
    return out


def table(result: dict[str, Any]) -> str:
    names = list(metrics.METRICS)
    head = f"{'run':<18}{'category':<10}{'n':>5}" + "".join(f"{m:>9}" for m in names)
    lines = [head, "-" * len(head)]
    for label, by_cat in result["metrics"].items():
        for cat, values in by_cat.items():
            n = result["counts"][cat]
            lines.append(f"{label:<18}{cat:<10}{n:>5}" + "".join(f"{values[m]:>9.3f}" for m in names))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        ev = resolve_set(args, get_settings())
    except QuestionFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unjudged = [q.id for q in ev.queries if not ev.qrels.get(q.id)]
    if unjudged:
        print(f"warning: no relevant passage for {len(unjudged)} queries: {unjudged[:10]}", file=sys.stderr)
    searchers, engine = plan(args, ev)
    runs = {
        label: run_queries(search, ev.queries, mode, label, progress=not args.quiet)
        for label, mode, search in searchers
    }
    cv = cross_validated(args, ev, engine) if args.cv else None
    if cv:
        runs[f"hybrid@cv{args.cv}"] = cv.run
    result = summarize(ev, runs, args) | {"cv": cv.describe() if cv else None}
    print(table(result))
    if args.out:
        write_all(args.out, result, runs)
    best = max(runs, key=lambda label: result["metrics"][label]["all"]["MRR@10"])
    parts = " | ".join(
        f"{label} MRR@10 {m['all']['MRR@10']:.3f} nDCG@10 {m['all']['nDCG@10']:.3f}"
        for label, m in result["metrics"].items()
    )
    print(f"{ev.name}: {result['queries']} queries: {parts}; best {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
