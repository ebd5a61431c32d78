"""How far a referral is: the question count, and how many questions the previous answer added."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from intake.questionnaire import Question


def asked_count(questions: Sequence[Question], answers: dict[str, Any], *, asks: Callable[[Question], bool]) -> int:
    """How many questions a conversation asks with these answers (its mode decides `asks`)."""
    return sum(1 for question in questions if asks(question) and question.applies(answers))


def added_by_previous(questions: Sequence[Question], answers: dict[str, Any], history: Sequence[str], *, asks: Callable[[Question], bool]) -> int:
    """How many questions the newest answer added to the count (negative: took away); 0 before any.

    A condition ("when") only adds questions once its answer is given, so the total grows as the person
    answers; saying so keeps "vraag 9 van 22" followed by "vraag 10 van 27" from looking like a jump.
    """
    if not history:
        return 0
    without = {key: value for key, value in answers.items() if key != history[-1]}
    return asked_count(questions, answers, asks=asks) - asked_count(questions, without, asks=asks)
