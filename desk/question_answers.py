"""The coordinator answers a staff member's question: stored, and passed on in chat or by mail.

One place for every channel: the chat's `/antwoord` and reply, `meldpunt questions answer`, and the agenda's
`Vraag #12: <antwoord>` by mail, chat or command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from desk.ports import RelayByMail
from store import questions, telegram
from store.mail_models import Question


@dataclass(frozen=True)
class Relayed:
    """An answered question and where its answer goes: a chat (the caller sends it there) or, when None, by mail (queued)."""

    question: Question
    chat_id: int | None


def answer_question(
    session: Session, number: int, answer: str, *, by: str, now: datetime, relay_by_mail: RelayByMail, chat_reachable: bool,
) -> Relayed | None:
    """Store the answer to open question `number` and pass it on; None when there is no such open question.

    `chat_reachable`: the caller can send chat messages (the bot). A question asked in chat is then answered
    in that chat while its asker is still linked; otherwise the answer goes by mail to the asker's address.
    """
    question = questions.get_question(session, number)
    if question is None or question.answered_at is not None:
        return None
    chat_id = question.asker_chat_id
    if chat_reachable and chat_id is not None and telegram.linked_staff(session, chat_id) is not None:
        questions.answer_question(session, question, answer=answer, by=by, now=now)
        return Relayed(question, chat_id)
    relay_by_mail(session, question, answer, by, now)
    return Relayed(question, None)
