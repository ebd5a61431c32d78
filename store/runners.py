"""Health of the service in the database: each runner's last success and failure, the backlog, open alerts.

Written by `meldpunt serve`'s supervisor and watchdog, read by `meldpunt status` from another process.
Only names, counts, times, exception types and code places are kept: never a mail, an address or a text.
Functions flush but never commit; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from store.mail_models import InboundMail, InboundStatus, OutboxMessage, OutboxStatus, RunnerHealth, WatchdogAlert

WAITING = (InboundStatus.RECEIVED, InboundStatus.PROCESSING)
UNSENT = (OutboxStatus.QUEUED, OutboxStatus.RETRY, OutboxStatus.SENDING)


@dataclass(frozen=True)
class RunnerReport:
    """What a runner reports about itself: its last success and its last failure (type and place only)."""

    name: str
    instance: str
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_type: str | None = None
    last_failure_place: str | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True)
class Pile:
    """A number of rows and the oldest moment among them (None when there are none)."""

    count: int = 0
    oldest: datetime | None = None


@dataclass(frozen=True)
class Backlog:
    """What waits: inbound mail, quarantine, the outbox by status, and the last mail that went out."""

    inbound_waiting: Pile
    quarantined: int
    outbox_queued: Pile
    outbox_retrying: Pile
    outbox_sending: Pile
    outbox_failed: Pile
    last_sent_at: datetime | None

    @property
    def outbox_unsent(self) -> Pile:
        """Every mail not yet handed over (queued, retrying or being sent), with the oldest's creation time."""
        piles = (self.outbox_queued, self.outbox_retrying, self.outbox_sending)
        moments = [p.oldest for p in piles if p.oldest is not None]
        return Pile(sum(p.count for p in piles), min(moments) if moments else None)


def save(session: Session, report: RunnerReport, *, now: datetime) -> None:
    """Store a runner's report over the previous one (one row per runner name)."""
    row = session.get(RunnerHealth, report.name)
    if row is None:
        row = RunnerHealth(name=report.name)
        session.add(row)
    row.instance = report.instance[:128]
    row.last_success_at, row.last_failure_at = report.last_success_at, report.last_failure_at
    row.last_failure_type = report.last_failure_type[:128] if report.last_failure_type else None
    row.last_failure_place = report.last_failure_place[:300] if report.last_failure_place else None
    row.consecutive_failures, row.updated_at = report.consecutive_failures, now
    session.flush()


def reports(session: Session) -> list[RunnerReport]:
    """Every runner's latest report, by name."""
    rows = session.scalars(select(RunnerHealth).order_by(RunnerHealth.name))
    return [
        RunnerReport(
            name=r.name, instance=r.instance, last_success_at=r.last_success_at, last_failure_at=r.last_failure_at,
            last_failure_type=r.last_failure_type, last_failure_place=r.last_failure_place,
            consecutive_failures=r.consecutive_failures,
        )
        for r in rows
    ]


def backlog(session: Session) -> Backlog:
    """Count what waits, with the oldest of each pile; a few indexed aggregate queries."""
    waiting = _pile(session, InboundMail.received_at, InboundMail.status.in_(WAITING))
    quarantined = _pile(session, InboundMail.received_at, InboundMail.status == InboundStatus.QUARANTINED).count
    outbox = {status: _pile(session, OutboxMessage.created_at, OutboxMessage.status == status) for status in OutboxStatus}
    last_sent = session.scalar(select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.status == OutboxStatus.SENT))
    return Backlog(
        inbound_waiting=waiting, quarantined=quarantined, outbox_queued=outbox[OutboxStatus.QUEUED],
        outbox_retrying=outbox[OutboxStatus.RETRY], outbox_sending=outbox[OutboxStatus.SENDING],
        outbox_failed=outbox[OutboxStatus.FAILED], last_sent_at=last_sent,
    )


def _pile(session: Session, moment: InstrumentedAttribute[datetime], condition: ColumnElement[bool]) -> Pile:
    """Count and oldest moment of the rows matching condition."""
    count, oldest = session.execute(select(func.count(), func.min(moment)).where(condition)).one()
    return Pile(int(count or 0), oldest)


def open_alerts(session: Session) -> set[str]:
    """Keys of the incidents the coordinator was alerted to and that are not over yet."""
    return set(session.scalars(select(WatchdogAlert.key)))


def open_alert(session: Session, key: str, *, now: datetime) -> None:
    """Remember that the coordinator was alerted to this incident (a second instance's insert of the same key fails)."""
    session.add(WatchdogAlert(key=key, opened_at=now))
    session.flush()


def close_alert(session: Session, key: str) -> None:
    """The incident is over: the next one with this key is alerted again."""
    session.execute(delete(WatchdogAlert).where(WatchdogAlert.key == key))
