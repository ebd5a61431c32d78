"""CLB staff who may refer: add, look up, list and (softly) remove them by email address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.chat_models import TelegramLink
from store.models import Staff, normalise_email


class StaffExists(ValueError):
    """An active staff member with this email address already exists."""

    def __init__(self, email: str) -> None:
        """Keep the address for the caller; the message itself names no one."""
        super().__init__("Er bestaat al een actieve medewerker met dit e-mailadres.")
        self.email = email


def add_staff(session: Session, *, email: str, name: str, clb: str, now: datetime) -> Staff:
    """Add a staff member, or reactivate a removed one with the same address (new name and CLB)."""
    existing = _by_email(session, email)
    if existing is None:
        staff = Staff(email=email, name=name, clb=clb, created_at=now, removed_at=None)
        session.add(staff)
        session.flush()
        return staff
    if existing.active:
        raise StaffExists(existing.email)
    existing.name, existing.clb, existing.removed_at = name, clb, None
    session.flush()
    return existing


def get_active_staff(session: Session, email: str) -> Staff | None:
    """The active staff member with this address (any case), or None."""
    staff = _by_email(session, email)
    return staff if staff is not None and staff.active else None


def list_staff(session: Session, *, include_removed: bool = False) -> list[Staff]:
    """Staff ordered by email address; removed ones only when asked."""
    query = select(Staff).order_by(Staff.email)
    if not include_removed:
        query = query.where(Staff.removed_at.is_(None))
    return list(session.scalars(query))


def remove_staff(session: Session, email: str, *, now: datetime) -> bool:
    """Mark an active staff member removed; False if there was none. Their history stays."""
    staff = get_active_staff(session, email)
    if staff is None:
        return False
    staff.removed_at = now
    # Revoked at once: a linked chat account loses access with the staff member.
    session.execute(delete(TelegramLink).where(TelegramLink.staff_id == staff.id))
    session.flush()
    return True


def _by_email(session: Session, email: str) -> Staff | None:
    """The staff row for this address, active or removed."""
    return session.scalar(select(Staff).where(Staff.email == normalise_email(email)))
