"""Referrals in the store: drafts, answers, gap-free references, lifecycle-checked status changes.

Every write also leaves a trace: a `StatusChange` per status (the story a coordinator reads) and an
`AuditEntry` (who touched which referral). Functions flush but never commit; the caller owns that.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from intake.lifecycle import CompletionOutcome, Status, check_transition
from intake.references import format_reference
from intake.urgency import urgency_of, urgency_rank
from intake.workhours import local_day
from store.audit import AuditAction, record_audit
from store.db import upsert_into
from store.models import CHANNELS, MODES, ReferenceCounter, Referral, StatusChange

# store.figures (the figures tables and their rules) is imported where a referral changes, not here:
# the read commands that list and show referrals then answer without loading it.


def create_draft(
    session: Session, *, staff_id: int | None, channel: str, mode: str, actor: str, now: datetime
) -> Referral:
    """Start a new draft referral with empty answers, its creation in the history and audit log."""
    if channel not in CHANNELS or mode not in MODES:
        raise ValueError(f"unknown channel {channel!r} or mode {mode!r}")
    referral = Referral(
        status=Status.DRAFT, mode=mode, channel=channel, staff_id=staff_id, answers={},
        created_at=now, updated_at=now,
    )
    session.add(referral)
    session.flush()
    session.add(StatusChange(
        referral_id=referral.id, at=now, actor=actor, from_status=None, to_status=Status.DRAFT
    ))
    record_audit(session, actor=actor, action=AuditAction.CREATED, now=now, referral_id=referral.id)
    session.flush()
    return referral


def save_answers(
    session: Session, referral: Referral, answers: dict[str, Any], *, now: datetime
) -> None:
    """Replace the referral's answers with a copy (later edits to the dict do not leak in)."""
    referral.answers = copy.deepcopy(answers)
    # Flagged because the caller may have edited the loaded dict in place: equal values, no UPDATE.
    flag_modified(referral, "answers")
    referral.updated_at = now
    session.flush()
    from store import figures

    figures.refresh_figures(session, referral, now=now)


def assign_reference(session: Session, referral: Referral, *, now: datetime) -> str:
    """Give the referral the next reference of the Brussels year; keeps an existing one (idempotent)."""
    if referral.reference is not None:
        return referral.reference
    year = local_day(now).year  # New Year's night in Brussels starts the new year's numbers, not 01:00 UTC
    referral.reference = format_reference(year, _next_number(session, year))
    referral.updated_at = now
    session.flush()
    return referral.reference


def _next_number(session: Session, year: int) -> int:
    """Increment and return the year's counter in one statement, inside the caller's transaction.

    Gap-free: a rolled-back transaction rolls its increment back too. Concurrent writers queue on
    the counter row (PostgreSQL row lock, held to commit) or on SQLite's single write lock.
    """
    statement = _counter_upsert(session.get_bind().dialect.name, year)
    return int(session.execute(statement.returning(ReferenceCounter.last_number)).scalar_one())


def _counter_upsert(dialect: str, year: int) -> Insert:
    """INSERT the year's counter at 1, or on conflict add 1 to it (SQLite ≥ 3.35 for RETURNING)."""
    bump = {"last_number": ReferenceCounter.last_number + 1}
    counter = upsert_into(dialect, ReferenceCounter).values(year=year, last_number=1)
    return counter.on_conflict_do_update(index_elements=[ReferenceCounter.year], set_=bump)


def change_status(
    session: Session,
    referral: Referral,
    target: Status,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    outcome: CompletionOutcome | None = None,
) -> StatusChange:
    """Move the referral to target if the lifecycle allows it, and record who did it and why.

    Raises InvalidTransition (nothing changed) or ValueError for a missing or misplaced outcome.
    Leaving draft (other than cancelling) assigns the reference. A concurrent change by someone
    else makes the flush raise StaleDataError: roll back, reload, decide again.
    """
    current = referral.status
    check_transition(current, target, outcome=outcome)
    if outcome is not None and target is not Status.COMPLETED:
        raise ValueError("Alleen een afgerond traject heeft een uitkomst.")
    if current is Status.DRAFT and target is not Status.CANCELLED:
        assign_reference(session, referral, now=now)
    referral.status = target
    referral.updated_at = now
    if outcome is not None:
        referral.outcome = outcome
    if target is Status.SUBMITTED and referral.submitted_at is None:
        referral.submitted_at = now
    change = StatusChange(
        referral_id=referral.id, at=now, actor=actor, from_status=current, to_status=target,
        note=note,
    )
    session.add(change)
    record_audit(
        session, actor=actor, action=AuditAction.STATUS, now=now, referral_id=referral.id,
        detail=f"{current.value} -> {target.value}",
    )
    session.flush()
    from store import figures

    figures.status_changed(session, referral, change, now=now)
    return change


def referrer_address(referral: Referral) -> str | None:
    """Where news about a referral goes: the registered staff member, else the address in the answers."""
    if referral.staff is not None:
        return referral.staff.email
    address = (referral.answers or {}).get("referrer_email")
    return str(address) if address else None


def get_referral(session: Session, reference: str) -> Referral | None:
    """The referral with this reference (typed by a person: case and spaces forgiven), or None."""
    return session.scalar(select(Referral).where(Referral.reference == reference.strip().upper()))


def get_referral_by_id(session: Session, referral_id: int) -> Referral | None:
    """The referral with this database id, or None."""
    return session.get(Referral, referral_id)


def list_referrals(
    session: Session, *, status: Status | None = None, staff_id: int | None = None
) -> list[Referral]:
    """Referrals, newest first, optionally only those in one status or of one staff member."""
    query = select(Referral).order_by(Referral.created_at.desc(), Referral.id.desc())
    if status is not None:
        query = query.where(Referral.status == status)
    if staff_id is not None:
        query = query.where(Referral.staff_id == staff_id)
    return list(session.scalars(query))


def status_history(session: Session, referral: Referral) -> list[StatusChange]:
    """The referral's status changes, oldest first, starting with its creation as a draft."""
    query = (
        select(StatusChange)
        .where(StatusChange.referral_id == referral.id)
        .order_by(StatusChange.at, StatusChange.id)
    )
    return list(session.scalars(query))


def add_note(session: Session, referral: Referral, *, note: str, actor: str, now: datetime) -> StatusChange:
    """Record a remark in the history without a status change (from and to are the current status)."""
    change = StatusChange(
        referral_id=referral.id, at=now, actor=actor, from_status=referral.status, to_status=referral.status,
        note=note,
    )
    session.add(change)
    # Touching the row bumps its version: a note written over a concurrent change is refused too.
    referral.updated_at = now
    record_audit(session, actor=actor, action=AuditAction.CHANGED, now=now, referral_id=referral.id, detail="notitie")
    session.flush()
    from store import figures

    figures.refresh_figures(session, referral, now=now)  # a correction's note comes after its new eligibility and suggestions
    return change


def waiting_for_coordinator(session: Session) -> list[Referral]:
    """Referrals waiting for a decision, most urgent first, then the longest waiting: held or flagged ones, and ones a provider refused.

    A provider's refusal may go to another provider; the coordinator's own refusal is the decision itself.
    """
    # Where the referral came from when it was last declined (notes keep the status: from = to).
    declined_from = (
        select(StatusChange.from_status)
        .where(StatusChange.referral_id == Referral.id, StatusChange.to_status == Status.DECLINED, StatusChange.from_status != Status.DECLINED)
        .order_by(StatusChange.id.desc()).limit(1).correlate(Referral).scalar_subquery()
    )
    by_provider = and_(Referral.status == Status.DECLINED, declined_from == Status.DISPATCHED)
    query = select(Referral).where(or_(Referral.status == Status.NEEDS_REVIEW, by_provider)).order_by(Referral.updated_at, Referral.id)
    # The urgency is an encrypted answer, so the database cannot sort on it: a stable sort keeps the age order per level.
    return sorted(session.scalars(query), key=lambda referral: urgency_rank(urgency_of(referral.answers)))


def last_note(session: Session, referral: Referral) -> StatusChange | None:
    """The referral's latest note in its history (a status change or a note alone), or None."""
    query = (
        select(StatusChange).where(StatusChange.referral_id == referral.id, StatusChange.note.is_not(None))
        .order_by(StatusChange.at.desc(), StatusChange.id.desc()).limit(1)
    )
    return session.scalar(query)
