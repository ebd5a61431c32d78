"""Questions escalated to the coordinator, from any channel, and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.hygiene import clean_text
from intake.workhours import WorkCalendar
from store.mail_models import Question, QuestionStatus
from store.outbox import normalise_message_id

_CHUNK = 1000


def open_question(
    session: Session, *, asker_email: str, staff_id: int | None, channel: str, text: str,
    context: dict[str, Any] | None, now: datetime, asker_chat_id: int | None = None,
) -> Question:
    """Store a new open question; the caller sends it to the coordinator."""
    question = Question(
        # A mail body may carry NUL characters (PostgreSQL text cannot hold them) or terminal escapes that
        # `meldpunt questions list` would otherwise play in the coordinator's terminal.
        asker_email=asker_email.lower(), asker_staff_id=staff_id, channel=channel, text=clean_text(text),
        context=context, status=QuestionStatus.OPEN, created_at=now, asker_chat_id=asker_chat_id,
    )
    session.add(question)
    session.flush()
    return question


def by_escalation(session: Session, message_ids: list[str]) -> Question | None:
    """The question whose escalation mail is one of these Message-IDs (a reply's In-Reply-To/References)."""
    wanted = sorted({normalise_message_id(m) for m in message_ids if m.strip()})
    # Our Message-IDs are stored normalised by the outbox, so an exact match suffices. In chunks: a
    # References header can name more Message-IDs than one statement may bind (65535 on PostgreSQL).
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found = session.scalars(select(Question).where(Question.escalation_message_id.in_(chunk))).first()
        if found is not None:
            return found
    return None


def get_question(session: Session, question_id: int) -> Question | None:
    """A question by its number."""
    return session.get(Question, question_id)


def answer_question(session: Session, question: Question, *, answer: str, by: str, now: datetime) -> None:
    """Record the coordinator's answer; the caller relays it to the asker."""
    question.answer, question.answered_by, question.answered_at = answer, by, now
    question.status = QuestionStatus.ANSWERED
    session.flush()


def open_questions(session: Session) -> list[Question]:
    """Questions still waiting for an answer, oldest first."""
    return list(session.scalars(select(Question).where(Question.status == QuestionStatus.OPEN).order_by(Question.id)))


def due_for_reminder(session: Session, *, now: datetime, after_hours: float, calendar: WorkCalendar) -> list[Question]:
    """Open questions with no answer or reminder for `after_hours` working hours of the calendar; marked reminded now."""
    due = [q for q in open_questions(session) if calendar.hours_between(q.reminded_at or q.created_at, now) >= after_hours]
    for question in due:
        question.reminded_at = now
    session.flush()
    return due
