"""The figures tables kept up to date: a row per referral from its answers, history and dispatches; providers' answers.

store/referrals.py calls refresh_figures whenever a referral's answers or status change, so the row is
never older than the referral. The pupil key needs the secret of store/figure_secret.py, which lives
outside the database like the encryption key.
Functions flush but never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from intake.figures import ERASED_FIELDS, KEPT_FIELDS, FigureFacts, classify_decline, is_pseudonymised, pupil_key
from intake.lifecycle import Status
from store.dispatch_models import DispatchItem
from store.figure_models import SOURCE_MELDPUNT, DispatchAnswer, FigureProblemArea, ReferralFigures
from store.figure_secret import configured_secret
from store.models import Referral, StatusChange

BACKFILL_EVERY = 500  # referrals between two progress reports (and flushes) of the backfill
# The first time a referral reached these statuses is a milestone of the figures row.
MILESTONES = {
    Status.DISPATCHED: "dispatched_at", Status.ACCEPTED: "accepted_at", Status.ROUND_TABLE_PLANNED: "round_table_at",
    Status.IN_PROGRESS: "started_at", Status.COMPLETED: "completed_at",
}
PROVIDER_ANSWERS = frozenset({Status.ACCEPTED, Status.DECLINED})


def figures_of(session: Session, referral_id: int) -> ReferralFigures | None:
    """The figures row of a referral, or None when it has none (yet)."""
    return session.scalar(select(ReferralFigures).where(ReferralFigures.referral_id == referral_id))


def refresh_figures(session: Session, referral: Referral, *, now: datetime) -> ReferralFigures:
    """Write the referral's figures row (made on first call) and its problem areas from what the referral holds now.

    A pseudonymised referral has lost the answers its school, CLB, municipality, age and grade came from:
    the row keeps its CLB and grade as they were, and loses school, municipality, age and pupil key with them.
    """
    answers = referral.answers or {}
    facts = FigureFacts.of(answers, eligibility=referral.eligibility, suggestions=referral.suggestions,
                           submitted_at=referral.submitted_at, created_at=referral.created_at)
    # Every query before the new row is added: an autoflush must not write a row without its values.
    values: dict[str, Any] = {name: getattr(facts, name) for name in _FACT_COLUMNS}
    values.update(_history(session, referral.id))
    values["service"] = referral.assigned_service_id or _last_service(session, referral.id)
    values["status"] = referral.status.value
    values["outcome"] = referral.outcome.value if referral.outcome is not None else None
    pseudonymised = referral.pseudonymised_at is not None or is_pseudonymised(answers)
    values["pupil_key"] = None if pseudonymised else pupil_key(answers, configured_secret())
    row = figures_of(session, referral.id)
    if row is None:
        row = ReferralFigures(referral_id=referral.id, source=SOURCE_MELDPUNT)
        session.add(row)
    elif pseudonymised:
        values.update({name: getattr(row, name) for name in KEPT_FIELDS})
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    session.flush()
    _set_problem_areas(session, row, facts.problem_areas)
    return row


_FACT_COLUMNS = tuple(
    name for name in FigureFacts.__dataclass_fields__ if name != "problem_areas"
)


def _history(session: Session, referral_id: int) -> dict[str, Any]:
    """What the status history tells: the milestones (first time reached), holds and refusals."""
    query = (select(StatusChange.from_status, StatusChange.to_status, StatusChange.at)
             .where(StatusChange.referral_id == referral_id).order_by(StatusChange.at, StatusChange.id))
    found: dict[str, Any] = dict.fromkeys(MILESTONES.values())
    found.update(set_aside=False, coordinator_declined=False, provider_declines=0)
    for before, after, at in session.execute(query):
        if before is after:
            continue  # a note alone: no step
        if after in MILESTONES and found[MILESTONES[after]] is None:
            found[MILESTONES[after]] = at
        # Held by the coordinator, or set aside by a batch, after it was ready to go.
        found["set_aside"] |= before is Status.QUEUED and after is Status.NEEDS_REVIEW
        found["coordinator_declined"] |= before is Status.NEEDS_REVIEW and after is Status.DECLINED
        found["provider_declines"] += before is Status.DISPATCHED and after is Status.DECLINED
    return found


def _latest_dispatch(session: Session, referral_id: int) -> DispatchItem | None:
    """The referral's latest dispatch item (the provider that has it, or had it last)."""
    query = (select(DispatchItem).where(DispatchItem.referral_id == referral_id)
             .order_by(DispatchItem.dispatched_at.desc(), DispatchItem.id.desc()).limit(1))
    return session.scalar(query)


def _last_service(session: Session, referral_id: int) -> str | None:
    """The service of the latest dispatch, or None when it never went out."""
    item = _latest_dispatch(session, referral_id)
    return item.service_id if item is not None else None


def _set_problem_areas(session: Session, row: ReferralFigures, areas: Sequence[str]) -> None:
    """Make the row's problem-area rows exactly areas (each once)."""
    wanted = set(areas)
    have = set(session.scalars(select(FigureProblemArea.problem_area).where(FigureProblemArea.figures_id == row.id)))
    if have - wanted:
        session.execute(delete(FigureProblemArea).where(FigureProblemArea.figures_id == row.id,
                                                        FigureProblemArea.problem_area.in_(have - wanted)))
    session.add_all(FigureProblemArea(figures_id=row.id, problem_area=area) for area in sorted(wanted - have))
    session.flush()


def status_changed(session: Session, referral: Referral, change: StatusChange, *, now: datetime) -> None:
    """After a status change: a provider's answer to a dispatch is recorded, and the figures row follows."""
    if change.from_status is Status.DISPATCHED and change.to_status in PROVIDER_ANSWERS:
        record_dispatch_answer(session, referral, accepted=change.to_status is Status.ACCEPTED, note=change.note, now=now)
    refresh_figures(session, referral, now=now)


def record_dispatch_answer(session: Session, referral: Referral, *, accepted: bool, note: str | None,
                           now: datetime) -> DispatchAnswer | None:
    """The provider's answer to the referral's current dispatch, with the category of its reason; None without one."""
    item = _latest_dispatch(session, referral.id)
    if item is None or session.scalar(select(DispatchAnswer.id).where(DispatchAnswer.dispatch_item_id == item.id)) is not None:
        return None  # never dispatched (nothing to answer), or answered already
    answer = DispatchAnswer(dispatch_item_id=item.id, service_id=item.service_id, accepted=accepted, answered_at=now,
                            decline_reason=None if accepted else classify_decline(note).value)
    session.add(answer)
    session.flush()
    return answer


def forget_pupil(session: Session, referral: Referral) -> None:
    """On erasure: the row keeps only closed sets and milestones; no pupil key, school, CLB, place, age or grade.

    It stays linked to its referral: that keeps no more than the row (pseudonymised), and a later status change
    updates this row instead of counting the referral twice.
    """
    row = figures_of(session, referral.id)
    if row is None:
        return
    row.pupil_key = None
    for name in ERASED_FIELDS:
        setattr(row, name, None)
    session.flush()


def missing_referrals(session: Session) -> list[int]:
    """Ids of the referrals without a figures row (made before the table existed), oldest first."""
    has_row = exists().where(ReferralFigures.referral_id == Referral.id)
    return list(session.scalars(select(Referral.id).where(~has_row).order_by(Referral.id)))


def backfill_figures(session: Session, now: datetime, *, progress: Callable[[int, int], None] | None = None,
                     every: int = BACKFILL_EVERY) -> int:
    """Give every referral without a figures row one; progress(done, total) every `every` rows and at the end."""
    ids = missing_referrals(session)
    for done, referral_id in enumerate(ids, start=1):
        refresh_figures(session, session.get_one(Referral, referral_id), now=now)
        if done % every == 0 or done == len(ids):
            session.flush()
            if progress is not None:
                progress(done, len(ids))
    return len(ids)
