"""The coordinator's alerts in the store: events read from durable rows, alerts added once, delivered once.

Exactly once: (kind, event_key) is UNIQUE and an alert is added with INSERT … ON CONFLICT DO NOTHING, so a
scan that runs again, or again after a crash, adds nothing twice. Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Insert, func, select, update
from sqlalchemy.orm import Session

from intake.lifecycle import Status
from store.alert_models import AlertKind, AlertScan, CoordinatorAlert, ScanSource
from store.db import upsert_into
from store.dispatch_models import DispatchItem
from store.mail_models import MailKind, OutboxMessage, OutboxStatus
from store.models import Referral, StatusChange

# A status change is read again until it is this old: on PostgreSQL a transaction that took a lower id may
# commit after a higher one, and the mark must not pass a row that is not visible yet.
SETTLE = timedelta(minutes=5)
# Failed mails are looked for this far back (the (status, next_attempt_at) index); the job runs every minute.
FAILED_WITHIN = timedelta(days=1)
# Where an alert-worthy status change goes: a decision to take, or a provider's refusal.
_WATCHED = (Status.NEEDS_REVIEW, Status.DECLINED)


@dataclass(frozen=True)
class NewAlert:
    """An alert to add: the event and what the coordinator reads about it (never an answer of the referral)."""

    kind: AlertKind
    event_key: str
    occurred_at: datetime
    referral_id: int | None = None
    outbox_id: int | None = None
    reference: str | None = None
    urgency: str | None = None
    service_id: str | None = None


def scan_mark(session: Session, source: ScanSource) -> AlertScan:
    """The source's high-water mark; made at its newest row when missing (as the migration does)."""
    mark = session.get(AlertScan, source)
    if mark is None:
        table = StatusChange if source is ScanSource.STATUS_CHANGES else OutboxMessage
        mark = AlertScan(source=source, last_id=session.scalar(select(func.coalesce(func.max(table.id), 0))) or 0)
        session.add(mark)
        session.flush()
    return mark


def watched_changes(session: Session, after_id: int) -> list[tuple[StatusChange, Referral]]:
    """Status changes after the mark into needs_review or declined (notes, which keep the status, left out), oldest first."""
    query = (
        select(StatusChange, Referral).join(Referral, Referral.id == StatusChange.referral_id)
        .where(StatusChange.id > after_id, StatusChange.to_status.in_(_WATCHED), StatusChange.from_status != StatusChange.to_status)
        .order_by(StatusChange.id)
    )
    return [(change, referral) for change, referral in session.execute(query).all()]


def settled_mark(session: Session, after_id: int, *, now: datetime) -> int:
    """The newest status change id old enough that no lower id can still appear; the mark when there is none."""
    newest = session.scalar(select(func.max(StatusChange.id)).where(StatusChange.id > after_id, StatusChange.at <= now - SETTLE))
    return max(after_id, newest or 0)


def failed_dispatch_mails(session: Session, after_id: int, *, now: datetime) -> list[OutboxMessage]:
    """A batch's mails to providers that failed for good in the last day, newer than the mark at upgrade."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.next_attempt_at >= now - FAILED_WITHIN,
               OutboxMessage.kind == MailKind.DISPATCH, OutboxMessage.id > after_id)
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def dispatched_in(session: Session, outbox_id: int) -> list[tuple[DispatchItem, Referral]]:
    """The referrals one provider mail carried, with their dispatch rows."""
    query = (
        select(DispatchItem, Referral).join(Referral, Referral.id == DispatchItem.referral_id)
        .where(DispatchItem.outbox_id == outbox_id).order_by(DispatchItem.id)
    )
    return [(item, referral) for item, referral in session.execute(query).all()]


def last_dispatch(session: Session, referral_id: int) -> DispatchItem | None:
    """Where the referral went last (the provider that declined it)."""
    query = select(DispatchItem).where(DispatchItem.referral_id == referral_id).order_by(DispatchItem.id.desc()).limit(1)
    return session.scalar(query)


def add_alert(session: Session, alert: NewAlert, *, now: datetime) -> bool:
    """Add the alert unless its event already has one; True when it was added."""
    values: dict[str, object] = {
        "kind": alert.kind.value, "event_key": alert.event_key, "referral_id": alert.referral_id, "outbox_id": alert.outbox_id,
        "reference": alert.reference, "urgency": alert.urgency, "service_id": alert.service_id,
        "occurred_at": alert.occurred_at, "created_at": now,
    }
    # RETURNING, not rowcount: an ORM-enabled INSERT reports no reliable rowcount on every driver.
    added = session.execute(_insert_new(session.get_bind().dialect.name, values).returning(CoordinatorAlert.id)).first()
    return added is not None


def _insert_new(dialect: str, values: dict[str, object]) -> Insert:
    """INSERT … ON CONFLICT (kind, event_key) DO NOTHING, in the dialect's spelling."""
    return upsert_into(dialect, CoordinatorAlert).values(**values).on_conflict_do_nothing(index_elements=["kind", "event_key"])


def pending(session: Session, *, created_after: datetime | None = None, created_before: datetime | None = None) -> list[CoordinatorAlert]:
    """Alerts not delivered yet, oldest first, optionally only those made in a window."""
    query = select(CoordinatorAlert).where(CoordinatorAlert.delivered_at.is_(None)).order_by(CoordinatorAlert.id)
    if created_after is not None:
        query = query.where(CoordinatorAlert.created_at > created_after)
    if created_before is not None:
        query = query.where(CoordinatorAlert.created_at <= created_before)
    return list(session.scalars(query))


def mark_delivered(session: Session, alert_id: int, *, channel: str, now: datetime) -> bool:
    """Record the delivery, unless another channel delivered it first; True when this one did."""
    result = session.execute(
        update(CoordinatorAlert).where(CoordinatorAlert.id == alert_id, CoordinatorAlert.delivered_at.is_(None))
        .values(delivered_at=now, channel=channel).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def all_alerts(session: Session) -> list[CoordinatorAlert]:
    """Every alert, oldest first (`meldpunt status` and tests)."""
    return list(session.scalars(select(CoordinatorAlert).order_by(CoordinatorAlert.id)))
