"""The coordinator's agenda in the store: what waits for her, a few statements in all (never one per referral).

Each function is one SELECT (two for the referrals to decide: their rows, then the services each
was sent to); the desk (desk/agenda.py) turns the rows into agenda items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from intake.lifecycle import Status
from store import dispatches
from store.dispatch_models import DispatchItem
from store.mail_models import InboundMail, InboundStatus, OutboxMessage, OutboxStatus
from store.models import Referral, StatusChange


@dataclass(frozen=True)
class WaitingReferral:
    """A referral that waits for a decision: since when, from which status it came, and the note of that step."""

    referral: Referral
    since: datetime
    came_from: Status | None
    note: str | None


@dataclass(frozen=True)
class MailRow:
    """An inbound or outbound mail on the agenda: its number, kind or reason, address and moment."""

    id: int
    at: datetime
    what: str | None
    address: str | None = None


def waiting_referrals(session: Session) -> list[WaitingReferral]:
    """Referrals in needs_review, and ones a provider declined (store.referrals.waiting_for_coordinator's set), in one query."""
    change = aliased(StatusChange)
    moved = or_(change.from_status.is_(None), change.from_status != change.to_status)
    # The latest real status change into the current status: when it started waiting, and from where.
    latest = (select(change.id).where(change.referral_id == Referral.id, change.to_status == Referral.status, moved)
              .order_by(change.at.desc(), change.id.desc()).limit(1).correlate(Referral).scalar_subquery())
    entered = aliased(StatusChange)
    declined_by_provider = and_(Referral.status == Status.DECLINED, entered.from_status == Status.DISPATCHED)
    query = (select(Referral, entered.at, entered.from_status, entered.note)
             .outerjoin(entered, entered.id == latest)
             .where(or_(Referral.status == Status.NEEDS_REVIEW, declined_by_provider)).order_by(Referral.id))
    return [WaitingReferral(referral, at or referral.updated_at, came_from, note) for referral, at, came_from, note in session.execute(query)]


def services_sent(session: Session, referral_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per referral, the services it was sent to, in the order it went there (the last is the one that declined); one query."""
    sent: defaultdict[int, list[str]] = defaultdict(list)
    if referral_ids:
        query = (select(DispatchItem.referral_id, DispatchItem.service_id).where(DispatchItem.referral_id.in_(list(referral_ids)))
                 .order_by(DispatchItem.dispatched_at, DispatchItem.id))
        for referral_id, service_id in session.execute(query):
            sent[referral_id].append(service_id)
    return dict(sent)


def planned_round_tables(session: Session) -> list[tuple[str, str | None]]:
    """(reference, note) of every round-table note of referrals whose round table is planned, oldest note first."""
    query = (select(Referral.reference, StatusChange.note).join(StatusChange, StatusChange.referral_id == Referral.id)
             .where(Referral.status == Status.ROUND_TABLE_PLANNED, StatusChange.note.like("ronde tafel op %"))
             .order_by(StatusChange.at, StatusChange.id))
    return [(reference or "", note) for reference, note in session.execute(query)]


def still_dispatched(session: Session) -> list[tuple[DispatchItem, Referral]]:
    """Current dispatches whose referral is still `dispatched`: the late ones and the reported ones alike."""
    return dispatches.current_dispatches(session, Status.DISPATCHED)


def quarantined_mails(session: Session) -> list[MailRow]:
    """Mails in quarantine not marked handled: number, when set aside, the Dutch reason (never the mail itself)."""
    query = (select(InboundMail.id, func.coalesce(InboundMail.processed_at, InboundMail.received_at), InboundMail.reason)
             .where(InboundMail.status == InboundStatus.QUARANTINED, InboundMail.handled_at.is_(None)).order_by(InboundMail.id))
    return [MailRow(mail_id, at, reason) for mail_id, at, reason in session.execute(query)]


def failed_mails(session: Session) -> list[MailRow]:
    """Outbox mails given up on and not marked handled: number, when it failed (mark_failed sets next_attempt_at), kind and recipient."""
    query = (select(OutboxMessage.id, OutboxMessage.next_attempt_at, OutboxMessage.kind, OutboxMessage.to_address)
             .where(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.handled_at.is_(None)).order_by(OutboxMessage.id))
    return [MailRow(mail_id, at, kind, address) for mail_id, at, kind, address in session.execute(query)]
