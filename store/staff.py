"""CLB staff who may refer: add, look up, list and (softly) remove them by email address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.hygiene import clean_name
from store import telegram
from store.models import Staff, normalise_email


class StaffExists(ValueError):
    """An active staff member with this email address already exists."""

    def __init__(self, email: str) -> None:
        """Keep the address for the caller; the message itself names no one."""
        super().__init__("Er bestaat al een actieve medewerker met dit e-mailadres.")
        self.email = email


def add_staff(session: Session, *, email: str, name: str, clb: str, now: datetime) -> Staff:
    """Add a staff member, or reactivate a removed one with the same address (new name and CLB).

    Reactivation gives back nothing of the old access: her former Telegram links are deleted and any
    code still waiting is spent, so she proves her address again with a new code by mail.
    """
    # From the command line or a chat: no escape sequence or bidi control may reach a terminal or a mail.
    name, clb = clean_name(name), clean_name(clb)
    existing = _by_email(session, email)
    if existing is None:
        staff = Staff(email=email, name=name, clb=clb, created_at=now, removed_at=None)
        session.add(staff)
        session.flush()
        return staff
    if existing.active:
        raise StaffExists(existing.email)
    telegram.forget_staff_links(session, existing.id)
    telegram.void_codes(session, existing.email, now=now)
    existing.name, existing.clb, existing.removed_at = name, clb, None
    session.flush()
    return existing


def was_removed(session: Session, email: str) -> bool:
    """Whether this address belongs to a removed staff member (only `meldpunt staff add` brings her back)."""
    staff = _by_email(session, email)
    return staff is not None and not staff.active


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
    """Mark an active staff member removed and revoke her chat access; False if there was none. History stays.

    Her Telegram links stop working at once (telegram.linked_staff asks for an active member); the rows
    stay until the bot has told each account that its access ended (telegram.revoked_account(s)).
    A code mailed before the removal is spent: typing it later must not link, nor re-register her.
    """
    staff = get_active_staff(session, email)
    if staff is None:
        return False
    staff.removed_at = now
    telegram.void_codes(session, staff.email, now=now)
    session.flush()
    return True


def _by_email(session: Session, email: str) -> Staff | None:
    """The staff row for this address, active or removed."""
    return session.scalar(select(Staff).where(Staff.email == normalise_email(email)))
