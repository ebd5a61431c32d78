"""Dispatches in the store: which provider a referral is with, was with, and which slots already ran."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from intake.lifecycle import Status
from intake.permissions import Holding
from store import referrals
from store.dispatch_models import DispatchBatch, DispatchItem
from store.models import Referral, StatusChange


def batch_exists(session: Session, slot_key: str) -> bool:
    """Whether the slot's batch already ran."""
    return session.scalar(select(DispatchBatch.id).where(DispatchBatch.slot_key == slot_key)) is not None


def set_aside_by_batch(session: Session, change: StatusChange) -> bool:
    """Whether a dispatch batch, not a person, moved the referral from queued to needs_review in this change."""
    if change.from_status is not Status.QUEUED or change.to_status is not Status.NEEDS_REVIEW:
        return False
    # A batch sets aside in its own transaction, at its own start time and under its own actor (desk/dispatch.py run_batch).
    query = select(DispatchBatch.id).where(DispatchBatch.started_at == change.at, DispatchBatch.actor == change.actor).limit(1)
    return session.scalar(query) is not None


def _superseded() -> ColumnElement[bool]:
    """Whether the DispatchItem of the query was followed by a later dispatch of the same referral."""
    later = aliased(DispatchItem)
    return exists().where(
        later.referral_id == DispatchItem.referral_id,
        or_(later.dispatched_at > DispatchItem.dispatched_at, and_(later.dispatched_at == DispatchItem.dispatched_at, later.id > DispatchItem.id)),
    )


def current_dispatch(session: Session, referral_id: int) -> DispatchItem | None:
    """The referral's latest dispatch: the provider it is with now (a redirect sends it on), or None when never sent."""
    return session.scalar(select(DispatchItem).where(DispatchItem.referral_id == referral_id, ~_superseded()))


def current_provider(session: Session, referral_id: int) -> str | None:
    """The provider address the referral was last dispatched to, or None when it never was."""
    item = current_dispatch(session, referral_id)
    return item.provider_address if item is not None else None


def holding(session: Session, referral_id: int, provider_address: str) -> Holding:
    """Whether the referral is with this provider now, was once, or never."""
    query = select(DispatchItem.provider_address, ~_superseded()).where(DispatchItem.referral_id == referral_id)
    wanted = provider_address.strip().lower()
    # One referral has a dispatch per service it went to: a handful of rows at most.
    there = {bool(current) for address, current in session.execute(query) if address.lower() == wanted}
    return Holding.CURRENT if True in there else Holding.FORMER if there else Holding.NEVER


def holding_of(session: Session, reference: str, provider_address: str) -> Holding:
    """holding() for a reference as a provider wrote it; NEVER when no referral has it."""
    referral = referrals.get_referral(session, reference)
    return holding(session, referral.id, provider_address) if referral is not None else Holding.NEVER


def services_sent(session: Session, referral_id: int) -> set[str]:
    """The services the referral was ever sent to (once each: unique in dispatch_items)."""
    return set(session.scalars(select(DispatchItem.service_id).where(DispatchItem.referral_id == referral_id)))


def current_dispatches(session: Session, status: Status) -> list[tuple[DispatchItem, Referral]]:
    """Current dispatches (not followed by a redirect) whose referral is in status, oldest first."""
    query = (select(DispatchItem, Referral).join(Referral, Referral.id == DispatchItem.referral_id)
             .where(Referral.status == status, ~_superseded()).order_by(DispatchItem.id))
    return [(item, referral) for item, referral in session.execute(query)]


def waiting_for_news(session: Session) -> Sequence[tuple[DispatchItem, Referral]]:
    """Current dispatches whose referral is still `dispatched` and not yet reported to the coordinator, oldest first."""
    query = (select(DispatchItem, Referral).join(Referral, Referral.id == DispatchItem.referral_id)
             .where(Referral.status == Status.DISPATCHED, DispatchItem.escalated_at.is_(None), ~_superseded()).order_by(DispatchItem.id))
    return [(item, referral) for item, referral in session.execute(query)]
