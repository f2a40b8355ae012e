"""Evaluation sets: queries with judgments, over the corpus they are asked of.

The report set judges passages by answer strings (so it survives re-chunking); a
benchmark folder (``passages.jsonl``, ``queries.jsonl``, ``queries_ascii.jsonl``,
``qrels.tsv``) brings its own corpus and judgments, indexed in a folder of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from eval.questions import DEFAULT_QUESTIONS, QuestionFileError, load_questions, relevant
from eval.typos import misspell
from indexer.analysis import fold
from indexer.settings import Settings

Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    category: str


@dataclass(frozen=True)
class EvalSet:
    """What to ask, what counts as an answer, and the settings of the index asked."""

    name: str
    queries: tuple[Query, ...]
    qrels: Qrels
    settings: Settings

    @property
    def categories(self) -> list[str]:
        return sorted({q.category for q in self.queries})


def report_set(
    settings: Settings, path: Path = DEFAULT_QUESTIONS, split: str = "all", ascii_typed: bool = False
) -> EvalSet:
    """Our questions about the report, judged against the report's passages."""
    from indexer.corpus import document_passages, load_corpus

    questions = load_questions(path, split)
    corpus = {
        p.id: p.text
        for d in load_corpus(settings.corpus_dir)
        for p in document_passages(d, settings.chunking())
    }
    queries = tuple(
        Query(q.id, fold(q.question) if ascii_typed else q.question, q.category) for q in questions
    )
    qrels = {q.id: dict.fromkeys(sorted(relevant(q, corpus)), 1) for q in questions}
    name = f"report-{split}" + ("-ascii" if ascii_typed else "")
    return EvalSet(name, queries, qrels, settings)


def mistyped(found: EvalSet) -> EvalSet:
    """The set with each query's words mistyped (``eval.typos``), judged as before."""
    queries = tuple(replace(q, text=misspell(q.text, q.id)) for q in found.queries)
    return replace(found, name=f"{found.name}-typos", queries=queries)


def benchmark_set(folder: Path, base: Settings, index_root: Path, ascii_typed: bool = False) -> EvalSet:
    """A benchmark folder, indexed under ``index_root/<name>`` with the base settings."""
    for needed in ("passages.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / needed).exists():
            raise QuestionFileError(f"benchmark {folder} has no {needed}")
    source = folder / ("queries_ascii.jsonl" if ascii_typed else "queries.jsonl")
    queries = tuple(_read_queries(source))
    qrels: Qrels = {}
    for n, line in enumerate((folder / "qrels.tsv").read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if len(parts) != 4:
            raise QuestionFileError(f"{folder / 'qrels.tsv'}:{n}: expected 'qid 0 docid rel'")
        if int(parts[3]) > 0:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    settings = base.model_copy(
        update={"corpus_dir": folder / "passages.jsonl", "index_dir": index_root / folder.name}
    )
    return EvalSet(folder.name + ("-ascii" if ascii_typed else ""), queries, qrels, settings)


def _read_queries(path: Path) -> list[Query]:
    out: list[Query] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            out.append(Query(str(row["id"]), str(row["text"]), "all"))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionFileError(f"{path}:{n}: expected {{id, text}} ({exc})") from exc
    return out
