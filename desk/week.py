"""The coordinator's week view: the batches of the next seven days, what goes in them and what is held (a dry run).

What goes is exactly what desk.dispatch.make_plan plans now, grouped per provider address as the batch
sends it; everything queued now goes with the first batch, so a later batch takes only what becomes
ready in between, which nobody can predict: the view says it is the state of now. Nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from desk.dispatch import Plan, make_plan
from intake.dialogue import Intake
from intake.eligibility import Outcome
from intake.lifecycle import Status
from intake.schedule import WeeklyMoment, describe, next_slot, slots_between
from intake.texts import brussels_time, render
from intake.urgency import urgency_of
from intake.week import HeldKind, ProviderGroup, WeekLine, hold_line, ordered, ordered_groups, release_line
from intake.workhours import WorkCalendar
from store import dispatches, referrals
from store.models import Referral, StatusChange

TEMPLATE = "coordinator/week.txt.j2"
HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class SlotView:
    """One coming batch: when it runs (and the day it was moved from), and, for the first, what it sends."""

    runs: str
    moved_from: str | None
    first: bool
    groups: list[ProviderGroup] = field(default_factory=list)
    set_aside: list[WeekLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many referrals this batch sends, as far as known now."""
        return sum(len(group.lines) for group in self.groups)


@dataclass(frozen=True)
class WeekView:
    """The whole view: its moment, the coming batches and the referrals held for the coordinator."""

    made_at: str
    slots: list[SlotView]
    next_runs: str
    held: list[WeekLine]
    referral_ids: list[int]


def build_week(session: Session, *, now: datetime, moments: tuple[WeeklyMoment, ...], calendar: WorkCalendar, intake: Intake) -> WeekView:
    """The week view as of now; reads only."""
    slots = slots_between(now, now + HORIZON, moments, calendar.closures)
    plan = make_plan(session, intake)
    going = _going(session, plan, intake, now=now, calendar=calendar)
    set_aside = ordered([_line(session.get_one(Referral, item.referral_id), now, calendar, kind=HeldKind.SET_ASIDE, reason=item.reason)
                         for item in plan.set_aside])
    views = [
        SlotView(runs=describe(slot.runs_at), moved_from=describe(slot.nominal) if slot.nominal.date() != slot.runs_at.date() else None,
                 first=index == 0, groups=going if index == 0 else [], set_aside=set_aside if index == 0 else [])
        for index, slot in enumerate(slots)
    ]
    waiting = list(session.scalars(select(Referral).where(Referral.status == Status.NEEDS_REVIEW)))
    held = ordered([_held(session, referral, now, calendar) for referral in waiting])
    shown = [line.referral_id for group in going for line in group.lines] + [line.referral_id for line in set_aside + held]
    return WeekView(made_at=brussels_time(now), slots=views, next_runs=describe(next_slot(now, moments, calendar.closures).runs_at),
                    held=held, referral_ids=shown)


def render_week(view: WeekView) -> str:
    """The week view in Dutch, the same text for the command line and the coordinator's chat."""
    return render(TEMPLATE, view=view)


def _going(session: Session, plan: Plan, intake: Intake, *, now: datetime, calendar: WorkCalendar) -> list[ProviderGroup]:
    """The planned referrals per provider address, each with the line that holds it back."""
    groups = []
    for address, planned in plan.mails.items():
        organisation = intake.catalogue.organization(planned[0].service.organization_id)
        lines: list[WeekLine] = []
        for item in planned:
            base = _line(session.get_one(Referral, item.referral_id), now, calendar)
            lines.append(replace(base, action=hold_line(base.reference)))
        groups.append(ProviderGroup(organisation.name if organisation else planned[0].service.name, address, lines))
    return ordered_groups(groups)


def _line(referral: Referral, now: datetime, calendar: WorkCalendar, *, kind: HeldKind | None = None, reason: str | None = None) -> WeekLine:
    """Reference, urgency and age in working days since submission; no pupil data."""
    since = referral.submitted_at or referral.created_at
    return WeekLine(referral_id=referral.id, reference=referral.reference or f"#{referral.id}", urgency=urgency_of(referral.answers),
                    age_days=calendar.days_between(since, now), kind=kind, reason=reason)


def _held(session: Session, referral: Referral, now: datetime, calendar: WorkCalendar) -> WeekLine:
    """A referral waiting for the coordinator, why it waits (its latest note), and the line that releases it."""
    last = referrals.last_note(session, referral)
    line = _line(referral, now, calendar, kind=held_kind(session, referral), reason=last.note if last else None)
    return replace(line, action=release_line(line.reference))


def held_kind(session: Session, referral: Referral) -> HeldKind:
    """Why it waits, read from the step that brought it to the coordinator (the history keeps who and from where)."""
    entered = session.scalar(
        select(StatusChange).where(StatusChange.referral_id == referral.id, StatusChange.to_status == Status.NEEDS_REVIEW,
                                   or_(StatusChange.from_status.is_(None), StatusChange.from_status != Status.NEEDS_REVIEW))
        .order_by(StatusChange.at.desc(), StatusChange.id.desc()).limit(1)
    )
    if entered is None:
        return HeldKind.OTHER
    if entered.from_status is Status.SUBMITTED:
        outcome = (referral.eligibility or {}).get("outcome")
        return {Outcome.FLAGGED.value: HeldKind.FLAGGED, Outcome.NOT_ELIGIBLE.value: HeldKind.NOT_ELIGIBLE}.get(outcome or "", HeldKind.UNPLACED)
    if entered.from_status is Status.DECLINED:
        return HeldKind.DECLINED
    if entered.from_status is Status.QUEUED:
        return HeldKind.SET_ASIDE if dispatches.set_aside_by_batch(session, entered) else HeldKind.HELD
    return HeldKind.OTHER
