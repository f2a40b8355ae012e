"""The evaluation suite's pieces: question file checks, judging, ranx metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.metrics import score
from eval.questions import (
    CATEGORIES,
    DEFAULT_QUESTIONS,
    Question,
    QuestionFileError,
    load_questions,
    relevant,
)
from indexer.settings import ROOT


def test_shipped_question_set_is_well_formed() -> None:
    questions = load_questions(DEFAULT_QUESTIONS)
    assert len(questions) >= 60
    assert {q.category for q in questions} == set(CATEGORIES)
    assert {q.split for q in questions} == {"dev", "test"}
    ascii_typed = [q for q in questions if q.category == "ascii"]
    assert all(not set(q.question) & set("çğıöşüÇĞİÖŞÜ") for q in ascii_typed)


def test_every_answer_is_in_the_report() -> None:
    report = (ROOT / "corpus" / "izmir-2023-faaliyet-raporu.txt").read_text("utf-8")
    squashed = " ".join(report.split())
    missing = [(q.id, a) for q in load_questions(DEFAULT_QUESTIONS) for a in q.answers if a not in squashed]
    assert missing == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a"}\n', "not a question object"),
        ("not json\n", "not a question object"),
        ('{"id": "a", "question": "x", "category": "weather", "answers": ["y"]}\n', "bad category"),
        ('{"id": "a", "question": "x", "category": "legal", "answers": []}\n', "no answers"),
    ],
)
def test_malformed_question_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionFileError, match=message):
        load_questions(path)
    with pytest.raises(QuestionFileError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")


def test_relevance_ignores_line_breaks() -> None:
    q = Question("q1", "kaç köpek?", "numeric", ("1.250 köpek ve kedi",), "dev")
    passages = {"a": "barınakta 1.250\nköpek ve kedi tedavi", "b": "1.250 kedi"}
    assert relevant(q, passages) == {"a"}


def test_metrics_from_ranx() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    run = {"q1": {"a": 1.0, "x": 0.5}, "q2": {"x": 1.0, "b": 0.5}, "q3": {}}
    values = score(qrels, run)
    assert values["R@1"] == pytest.approx(1 / 3)
    assert values["R@5"] == pytest.approx(2 / 3)
    assert values["MRR@10"] == pytest.approx((1 + 0.5 + 0) / 3)
