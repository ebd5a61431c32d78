"""Telegram accounts linked to staff, and the one-time codes that prove a work address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from store.chat_models import LinkCode, TelegramLink
from store.models import Staff, normalise_email

CODE_VALIDITY = timedelta(minutes=15)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 3  # per Telegram account: so nobody can flood a colleague's mailbox with codes
# Per address, whatever the account: many accounts cannot mail-bomb one person either (at most 5 mails an
# hour) nor guess codes for one address faster than 25 tries an hour. Above one account's 3, so a person
# whose first codes landed in the spam folder can still try from a second account or phone.
MAX_CODES_PER_ADDRESS = 5


class CodeCheck(StrEnum):
    """What became of a typed code."""

    LINKED = "linked"
    WRONG = "wrong"
    EXPIRED = "expired"
    NONE = "none"  # no code waiting: never asked, already used, or too many attempts


def linked_staff(session: Session, user_id: int) -> Staff | None:
    """The active staff member this Telegram account is linked to, or None (removal revokes at once)."""
    link = session.scalar(select(TelegramLink).where(TelegramLink.user_id == user_id))
    return link.staff if link is not None and link.staff.active else None


def revoked_account(session: Session, user_id: int) -> bool:
    """Drop this account's link when its staff member was removed; True once, so she is told once.

    Removal leaves the link row (linked_staff already refuses it) precisely so the account can be told;
    the DELETE's row count decides who tells, should the chat and the periodic sweep race.
    """
    link = session.scalar(select(TelegramLink).where(TelegramLink.user_id == user_id))
    if link is None or link.staff.active:
        return False
    return unlink_user(session, user_id)


def revoked_accounts(session: Session) -> list[int]:
    """Every account linked to a removed staff member, each unlinked now (to be told its access ended)."""
    query = select(TelegramLink.user_id).join(Staff, Staff.id == TelegramLink.staff_id).where(Staff.removed_at.is_not(None))
    return [user_id for user_id in session.scalars(query).all() if unlink_user(session, user_id)]


def forget_staff_links(session: Session, staff_id: int) -> None:
    """Delete every link of a staff member (when she is added again: old links must not come back)."""
    session.execute(delete(TelegramLink).where(TelegramLink.staff_id == staff_id))


def void_codes(session: Session, email: str, *, now: datetime) -> None:
    """Spend every waiting code mailed to this address: none of them may link after a removal."""
    pending = select(LinkCode).where(LinkCode.email == normalise_email(email), LinkCode.used_at.is_(None))
    for code in session.scalars(pending):
        code.used_at = now
    session.flush()


def codes_last_hour(session: Session, user_id: int, *, now: datetime) -> int:
    """How many codes this account asked for in the past hour."""
    since = now - timedelta(hours=1)
    query = select(func.count()).select_from(LinkCode).where(LinkCode.user_id == user_id, LinkCode.created_at >= since)
    return int(session.scalar(query) or 0)


def codes_last_hour_for_address(session: Session, email: str, *, now: datetime) -> int:
    """How many codes were asked for this address in the past hour, by any account (unknown addresses too)."""
    since = now - timedelta(hours=1)
    query = select(func.count()).select_from(LinkCode).where(LinkCode.email == normalise_email(email), LinkCode.created_at >= since)
    return int(session.scalar(query) or 0)


def new_code(session: Session, user_id: int, email: str, *, now: datetime) -> str:
    """A fresh six-digit code for this account and address; earlier codes of the account stop working."""
    session.execute(delete(LinkCode).where(LinkCode.created_at < now - timedelta(days=1)))  # no need to keep them
    for pending in _pending(session, user_id):
        pending.used_at = now  # spent: only the newest code counts
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(LinkCode(
        user_id=user_id, email=normalise_email(email), code_hash=_hash(user_id, code), created_at=now,
        expires_at=now + CODE_VALIDITY, attempts=0, used_at=None,
    ))
    session.flush()
    return code


def check_code(session: Session, user_id: int, typed: str, *, now: datetime) -> tuple[CodeCheck, str | None]:
    """Try a typed code; on success the code is spent and the address it was mailed to returned."""
    pending = _pending(session, user_id)
    if not pending:
        return CodeCheck.NONE, None
    code = pending[0]
    if code.expires_at <= now:
        code.used_at = now
        return CodeCheck.EXPIRED, None
    code.attempts += 1
    if not hmac.compare_digest(code.code_hash, _hash(user_id, typed.strip())):
        if code.attempts >= MAX_ATTEMPTS:
            code.used_at = now
        return CodeCheck.WRONG, None
    code.used_at = now
    return CodeCheck.LINKED, code.email


def has_pending_code(session: Session, user_id: int) -> bool:
    """Whether a code was mailed to this account that can still be typed."""
    return bool(_pending(session, user_id))


def attempts_left(session: Session, user_id: int) -> int:
    """How many more tries the waiting code allows (0 when none waits)."""
    pending = _pending(session, user_id)
    return MAX_ATTEMPTS - pending[0].attempts if pending else 0


def link(session: Session, user_id: int, staff: Staff, *, now: datetime) -> TelegramLink:
    """Link the account to the staff member (replacing an earlier link of the account)."""
    unlink_user(session, user_id)
    row = TelegramLink(user_id=user_id, staff_id=staff.id, linked_at=now)
    session.add(row)
    session.flush()
    return row


def unlink_user(session: Session, user_id: int) -> bool:
    """Forget this account's link; False if it had none."""
    result = session.execute(delete(TelegramLink).where(TelegramLink.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))


def _pending(session: Session, user_id: int) -> list[LinkCode]:
    query = select(LinkCode).where(LinkCode.user_id == user_id, LinkCode.used_at.is_(None)).order_by(LinkCode.id.desc())
    return list(session.scalars(query))


def _hash(user_id: int, code: str) -> str:
    """The code bound to the account that asked for it: a code typed by another account never matches."""
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()
