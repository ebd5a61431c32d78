"""What the coordinator settled from her agenda: a quarantined mail handled, a failed mail sent again or handled.

The finders return a row only while it can still be settled (quarantined and not handled; failed), else None,
so a line written twice changes nothing the second time. Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from store.mail_models import ADDRESS_LENGTH, InboundMail, InboundStatus, OutboxMessage, OutboxStatus


def open_quarantined(session: Session, mail_id: int) -> InboundMail | None:
    """The quarantined mail with this number while it is not yet handled, else None."""
    row = session.get(InboundMail, mail_id)
    if row is None or row.status is not InboundStatus.QUARANTINED or row.handled_at is not None:
        return None
    return row


def handle_quarantined(session: Session, mail_id: int, *, by: str, now: datetime) -> InboundMail | None:
    """Mark a quarantined mail handled (it stays stored for its retention); None when there is none to handle."""
    row = open_quarantined(session, mail_id)
    if row is not None:
        row.handled_at, row.handled_by = now, by[:ADDRESS_LENGTH]
        session.flush()
    return row


def failed_mail(session: Session, outbox_id: int) -> OutboxMessage | None:
    """The failed outbox mail with this number (handled or not: a handled one may still be sent again), else None."""
    row = session.get(OutboxMessage, outbox_id)
    return row if row is not None and row.status is OutboxStatus.FAILED else None


def send_again(session: Session, row: OutboxMessage, *, now: datetime) -> None:
    """Queue a failed mail again, with a fresh count of attempts; its Message-ID stays, so a receiver drops a double.

    No longer handled: should it fail again, it is back on the agenda.
    """
    row.status, row.attempts, row.next_attempt_at = OutboxStatus.QUEUED, 0, now
    row.handled_at = row.handled_by = None
    session.flush()


def handle_failed(session: Session, row: OutboxMessage, *, by: str, now: datetime) -> None:
    """Mark a failed mail handled: it is not sent again and leaves the agenda."""
    row.handled_at, row.handled_by = now, by[:ADDRESS_LENGTH]
    session.flush()
