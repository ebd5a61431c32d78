"""How many referrals each service got this school year: what the consult weighs between equal fits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.lifecycle import Status
from intake.retention import SCHOOL_YEAR_START_MONTH, school_year_of
from store.dispatch_models import DispatchItem
from store.models import Referral


def school_year_start(now: datetime) -> datetime:
    """Midnight in Brussels of the 1 September that began the school year `now` falls in."""
    local = now.astimezone(BRUSSELS)
    year = school_year_of(local)
    return datetime(year, SCHOOL_YEAR_START_MONTH, 1, tzinfo=BRUSSELS)


def referrals_this_school_year(session: Session, *, now: datetime, excluding: int | None = None) -> dict[str, int]:
    """Per service: referrals sent to it this school year, plus those queued for it (the next batch sends them).

    Queued ones count too, or every referral submitted between two batches would see the same load and
    go to the same provider. A queued referral goes where intake.dispatch.choose_service sends it: the
    coordinator's redirect, else the preference, else the consult's proposal (its first certain
    suggestion). `excluding` leaves out the referral being evaluated again.
    """
    sent = select(DispatchItem.service_id, func.count()).where(
        DispatchItem.dispatched_at >= school_year_start(now)).group_by(DispatchItem.service_id)
    counts: Counter[str] = Counter({service_id: number for service_id, number in session.execute(sent)})
    # The preference is inside the encrypted answers (store.encryption): SQL cannot read it, so the few
    # queued referrals are weighed here.
    queued = select(Referral.assigned_service_id, Referral.answers, Referral.suggestions).where(Referral.status == Status.QUEUED)
    if excluding is not None:
        queued = queued.where(Referral.id != excluding)
    for assigned, answers, suggestions in session.execute(queued):
        intended = assigned or (answers or {}).get("preferred_intervention") or _proposed(suggestions)
        if intended is not None:
            counts[str(intended)] += 1
    return dict(counts)


def _proposed(suggestions: object) -> object:
    """The consult's proposal in a referral's stored suggestions, if any."""
    return suggestions.get("proposed") if isinstance(suggestions, dict) else None
