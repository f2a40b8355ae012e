"""The question set: load, validate, and judge passages against answer strings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CATEGORIES = ("citizen", "ascii", "legal", "numeric", "entity")
SPLITS = ("dev", "test")
DEFAULT_QUESTIONS = Path(__file__).with_name("questions.jsonl")


class QuestionFileError(ValueError):
    """The question file is missing or malformed."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    category: str
    answers: tuple[str, ...]
    split: str


def _squash(text: str) -> str:
    return " ".join(text.split())


def load_questions(path: Path, split: str = "all") -> list[Question]:
    """Questions from a JSONL file, checked field by field."""
    if not path.exists():
        raise QuestionFileError(f"question file not found: {path}")
    out: list[Question] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(
                id=str(row["id"]),
                question=str(row["question"]),
                category=str(row["category"]),
                answers=tuple(str(a) for a in row["answers"]),
                split=str(row.get("split", "dev")),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionFileError(f"{path}:{n}: not a question object ({exc})") from exc
        if q.category not in CATEGORIES or q.split not in SPLITS or not q.answers:
            raise QuestionFileError(f"{path}:{n}: bad category/split or no answers in {q.id}")
        out.append(q)
    if len({q.id for q in out}) != len(out):
        raise QuestionFileError(f"{path}: duplicate question ids")
    return [q for q in out if split == "all" or q.split == split]


def relevant(question: Question, passages: dict[str, str]) -> set[str]:
    """Ids of the passages whose text contains one of the question's answers."""
    answers = [_squash(a) for a in question.answers]
    return {pid for pid, text in passages.items() if any(a in _squash(text) for a in answers)}
