"""Privacy queries: every row that may hold something of one pupil, by referral or by a mention; desk/privacy_rights.py decides.

Mentions are matched in Python over the rows still holding content: the desk holds a few thousand rows a
year, and the same match then works on SQLite and PostgreSQL, in JSON and in text alike.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.chat_models import TelegramUpdate
from store.dispatch_models import DispatchItem
from store.mail_models import InboundMail, OutboxMessage, Question
from store.models import Conversation, Referral

FIRST_NAME, LAST_NAME, BIRTH_DATE = "pupil_first_name", "pupil_last_name", "pupil_birth_date"


def folded(text: str) -> str:
    """Text compared without regard to case or the way an accent is encoded."""
    return unicodedata.normalize("NFC", text).casefold()


def as_text(value: Any) -> str:
    """Any stored value (JSON, bytes, text) as one searchable text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def referrals_of_pupil(session: Session, *, first_name: str, last_name: str, birth_date: str | None) -> list[Referral]:
    """Referrals naming this pupil: the same first and last name, and the same date of birth where both have one."""
    found = []
    for referral in session.scalars(select(Referral).where(Referral.pseudonymised_at.is_(None)).order_by(Referral.id)):
        answers = referral.answers or {}
        same_name = (folded(str(answers.get(FIRST_NAME, ""))).strip(), folded(str(answers.get(LAST_NAME, ""))).strip()) == (
            folded(first_name).strip(), folded(last_name).strip())
        theirs = answers.get(BIRTH_DATE)
        if same_name and (birth_date is None or theirs is None or str(theirs) == birth_date):
            found.append(referral)
    return found


def dispatches_of(session: Session, referral_ids: Sequence[int]) -> list[DispatchItem]:
    """Every dispatch of these referrals to a provider, oldest first."""
    return list(session.scalars(select(DispatchItem).where(DispatchItem.referral_id.in_(referral_ids)).order_by(DispatchItem.dispatched_at, DispatchItem.id)))


def outbox_of(session: Session, referral_ids: Sequence[int], mentions: Callable[[str], bool]) -> list[OutboxMessage]:
    """Sent mails still holding content that belong to these referrals, carried them (a dispatch), or mention the pupil."""
    carried = set(session.scalars(select(DispatchItem.outbox_id).where(DispatchItem.referral_id.in_(referral_ids))))
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.purged_at.is_(None)).order_by(OutboxMessage.id))
    return [m for m in rows if m.referral_id in referral_ids or m.id in carried
            or mentions(as_text([m.subject, m.body_text, m.body_html, m.attachments]))]


def kept_inbound(session: Session) -> list[InboundMail]:
    """Received mails whose raw text is still kept (the desk reads them for mentions)."""
    return list(session.scalars(select(InboundMail).where(InboundMail.purged_at.is_(None)).order_by(InboundMail.id)))


def questions_about(session: Session, references: Iterable[str], mentions: Callable[[str], bool]) -> list[Question]:
    """Questions whose context names one of these referrals, or whose text or answer mentions the pupil."""
    wanted = set(references)
    return [q for q in session.scalars(select(Question).order_by(Question.id))
            if (q.context or {}).get("aanmelding") in wanted or mentions(as_text([q.text, q.answer, q.context]))]


def conversations_about(session: Session, referral_ids: Sequence[int], mentions: Callable[[str], bool]) -> list[Conversation]:
    """Conversations of these referrals, or whose state mentions the pupil."""
    return [c for c in session.scalars(select(Conversation).order_by(Conversation.id))
            if c.referral_id in referral_ids or mentions(as_text(c.state))]


def telegram_answers_about(session: Session, mentions: Callable[[str], bool]) -> list[TelegramUpdate]:
    """Handled Telegram updates whose reply, still kept for a redelivery, mentions the pupil."""
    return [u for u in session.scalars(select(TelegramUpdate).where(TelegramUpdate.answer.is_not(None)))
            if mentions(as_text(u.answer))]
