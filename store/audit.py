"""The audit log: who read, created or changed which referral, and when (never personal data)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEntry


class AuditAction(StrEnum):
    """What an audit row records (stored as the Dutch word, so the values never change)."""

    READ = "gelezen"
    LIST_READ = "lijst-gelezen"
    CREATED = "aangemaakt"
    STATUS = "status"
    CHANGED = "gewijzigd"
    STAFF_ADDED = "medewerker-toegevoegd"
    STAFF_REMOVED = "medewerker-verwijderd"
    OFFER_APPROVED = "aanbod-goedgekeurd"
    OFFER_REFUSED = "aanbod-geweigerd"


def record_audit(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    now: datetime,
    referral_id: int | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add an audit row; detail is for codes and statuses, never names or answers."""
    entry = AuditEntry(
        at=now, actor=actor, action=str(action), referral_id=referral_id, detail=detail
    )
    session.add(entry)
    return entry


def audit_trail(session: Session, *, referral_id: int | None = None) -> list[AuditEntry]:
    """Audit rows in the order they were written, all of them or one referral's."""
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if referral_id is not None:
        query = query.where(AuditEntry.referral_id == referral_id)
    return list(session.scalars(query))
