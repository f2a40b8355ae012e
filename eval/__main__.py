"""``python -m eval``: R@1, R@5, R@10 and MRR@10 per mode and per category."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from eval.metrics import METRICS, score
from eval.questions import (
    CATEGORIES,
    DEFAULT_QUESTIONS,
    Question,
    QuestionFileError,
    load_questions,
    relevant,
)
from eval.runner import Searcher, in_process, over_http, run_questions
from indexer.analysis import fold

MODES = ("bm25", "dense", "hybrid")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--url", help="evaluate a running service over HTTP instead")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--ascii", action="store_true", help="ask every question typed without Turkish letters"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        questions = load_questions(args.questions, args.split)
        if args.ascii:
            questions = [replace(q, question=fold(q.question)) for q in questions]
    except QuestionFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from indexer.corpus import document_passages, load_corpus
    from indexer.settings import get_settings

    settings = get_settings()
    corpus = {
        p.id: p.text
        for d in load_corpus(settings.corpus_dir)
        for p in document_passages(d, settings.chunking())
    }
    qrels = {q.id: dict.fromkeys(relevant(q, corpus), 1) for q in questions}
    unjudged = [q.id for q in questions if not qrels[q.id]]
    if unjudged:
        print(f"warning: no passage contains the answer of {unjudged}", file=sys.stderr)
    search = _searcher(args.url)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for mode in args.modes:
        run, texts = run_questions(search, questions, mode, progress=not args.quiet)
        judged = _judge_returned(qrels, texts, questions)
        results[mode] = {"all": score(judged, run)}
        for cat in CATEGORIES:
            ids = {q.id for q in questions if q.category == cat}
            results[mode][cat] = score({q: r for q, r in judged.items() if q in ids}, run)
    print(_table(results, questions))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"questions": len(questions), "split": args.split, "results": results}
        args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    best = max(results, key=lambda m: results[m]["all"]["MRR@10"])
    summary = " | ".join(f"{m} MRR@10 {results[m]['all']['MRR@10']:.3f}" for m in results)
    print(f"{len(questions)} questions ({args.split}): {summary}; best {best}")
    return 0


def _searcher(url: str | None) -> Searcher:
    if url:
        return over_http(url)
    from indexer.settings import get_settings
    from service.app import load_engine

    return in_process(load_engine(get_settings()))


def _judge_returned(
    qrels: dict[str, dict[str, int]], texts: dict[str, dict[str, str]], questions: list[Question]
) -> dict[str, dict[str, int]]:
    """Add returned passages whose text holds the answer (a service may chunk differently)."""
    out = {q: dict(r) for q, r in qrels.items()}
    for q in questions:
        out[q.id] |= dict.fromkeys(relevant(q, texts.get(q.id, {})), 1)
    return out


def _table(results: dict[str, dict[str, dict[str, float]]], questions: list[Question]) -> str:
    counts = {c: sum(q.category == c for q in questions) for c in CATEGORIES}
    head = f"{'mode':<8}{'category':<10}{'n':>4}" + "".join(f"{m:>8}" for m in METRICS)
    lines = [head, "-" * len(head)]
    for mode, by_cat in results.items():
        for cat, values in by_cat.items():
            n = len(questions) if cat == "all" else counts[cat]
            lines.append(f"{mode:<8}{cat:<10}{n:>4}" + "".join(f"{values[m]:>8.3f}" for m in METRICS))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
