"""Retention queries: what is older than a cut-off, and emptying or deleting it; the periods are decided in desk/retention.py.

Functions flush but never commit; the caller owns the transaction. A purged mail row stays (its
dedupe key still recognises a redelivery, its Message-ID still threads a reply) with its content gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from intake.lifecycle import TRANSITIONS, Status
from store.mail_models import InboundMail, InboundStatus, OutboxMessage, OutboxStatus, Question, QuestionStatus
from store.models import AuditEntry, Conversation, Referral, StatusChange

# A referral is closed when its status has no way out; a declined one could still be redirected, but one
# left declined for a whole school year is as closed (else its pupil's name would be kept for ever).
CLOSED_STATUSES = (*(status for status, targets in TRANSITIONS.items() if not targets), Status.DECLINED)


def handled_mails(session: Session, *, before: datetime) -> list[InboundMail]:
    """Received mails handled or quarantined before the cut-off whose content is still kept."""
    return list(session.scalars(select(InboundMail).where(
        InboundMail.status.in_((InboundStatus.DONE, InboundStatus.QUARANTINED)),
        InboundMail.processed_at < before, InboundMail.purged_at.is_(None),
    ).order_by(InboundMail.id)))


def empty_mail(mail: InboundMail, *, now: datetime) -> None:
    """Forget a received mail's content and sender; its handling record stays."""
    mail.raw = b""
    mail.envelope_from = None
    mail.purged_at = now


def finished_outbox(session: Session, *, before: datetime) -> list[OutboxMessage]:
    """Mails sent (or given up) before the cut-off whose content is still kept."""
    return list(session.scalars(select(OutboxMessage).where(
        or_(
            (OutboxMessage.status == OutboxStatus.SENT) & (OutboxMessage.sent_at < before),
            (OutboxMessage.status == OutboxStatus.FAILED) & (OutboxMessage.created_at < before),
        ),
        OutboxMessage.purged_at.is_(None),
    ).order_by(OutboxMessage.id)))


def empty_outbox(message: OutboxMessage, *, now: datetime) -> None:
    """Forget what a sent mail said (subject, bodies, attachments, server replies that may quote an address)."""
    message.subject = ""
    message.body_text = ""
    message.body_html = None
    message.attachments = None
    message.last_error = None
    message.bounce_detail = None
    message.purged_at = now


def idle_conversations(session: Session, *, before: datetime) -> list[Conversation]:
    """Conversations with no step since the cut-off, oldest first."""
    return list(session.scalars(select(Conversation).where(Conversation.updated_at < before).order_by(Conversation.updated_at)))


def unwarned(conversations: Sequence[Conversation]) -> list[Conversation]:
    """Those whose staff member was not told yet during this pause."""
    return [c for c in conversations if c.warned_at is None or c.warned_at < c.updated_at]


def idle_drafts(session: Session, *, before: datetime) -> list[Referral]:
    """Draft referrals untouched since the cut-off (a conversation's step counts as a touch)."""
    touched = select(Conversation.referral_id).where(Conversation.updated_at >= before, Conversation.referral_id.is_not(None))
    return list(session.scalars(select(Referral).where(
        Referral.status == Status.DRAFT, Referral.updated_at < before, Referral.id.not_in(touched),
    ).order_by(Referral.id)))


def answered_questions(session: Session, *, before: datetime) -> list[Question]:
    """Questions answered before the cut-off."""
    return list(session.scalars(select(Question).where(
        Question.status == QuestionStatus.ANSWERED, Question.answered_at < before,
    ).order_by(Question.id)))


def closed_referrals(session: Session, *, before: datetime) -> list[tuple[Referral, datetime]]:
    """Referrals closed (completed, cancelled or declined) before the cut-off and not pseudonymised yet, with the moment they closed."""
    closed_at = (
        select(StatusChange.referral_id, func.max(StatusChange.at).label("at"))
        .join(Referral, Referral.id == StatusChange.referral_id)
        .where(StatusChange.to_status == Referral.status).group_by(StatusChange.referral_id).subquery()
    )
    query = (
        select(Referral, closed_at.c.at).join(closed_at, closed_at.c.referral_id == Referral.id)
        .where(Referral.status.in_(CLOSED_STATUSES), Referral.pseudonymised_at.is_(None), Referral.reference.is_not(None),
               closed_at.c.at < before)
        .order_by(Referral.id)
    )
    return [(referral, at) for referral, at in session.execute(query)]


def old_audit(session: Session, *, before: datetime) -> list[AuditEntry]:
    """Audit rows written before the cut-off (the only rows ever deleted from the audit log)."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.at < before).order_by(AuditEntry.id)))


def forget_notes(session: Session, referral: Referral) -> None:
    """Empty the free-text notes of a referral's history; who changed what, and when, stays."""
    for change in session.scalars(select(StatusChange).where(StatusChange.referral_id == referral.id)):
        change.note = None
