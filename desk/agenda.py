"""The coordinator's agenda: everything that waits for her, assembled from the store, in the order she settles it.

The store reads the rows (store/agenda.py, a few statements, never one per referral); this module
decides why each waits and which one line settles it (written exactly as the coordinator's line
actions read them); intake/agenda.py orders them; templates/coordinator/ words them.
No item names a pupil: reference, urgency, reason, provider and age in working days only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from desk import catalogue_changes, dispatch
from intake.agenda import Agenda, AgendaItem, AgendaRules, ItemKind, NextBatch, RoundTable, ordered, round_table_date, split_round_tables
from intake.brussels import BRUSSELS
from intake.catalogue import Catalogue
from intake.dialogue import Intake
from intake.dispatch import unfit_reason
from intake.eligibility import Outcome
from intake.findings import weighing_reasons
from intake.lifecycle import Status
from intake.schedule import next_slot
from intake.texts import message
from intake.urgency import urgency_of
from intake.vocabulary import Mode, ReferralRoute
from intake.workhours import WorkCalendar, local_day
from store import agenda as rows
from store import questions
from store.audit import AuditAction, AuditChannel, AuditPurpose, record_audit
from store.models import Referral

_REASONS = "coordinator/agenda_reasons.txt.j2"


def build_agenda(session: Session, *, now: datetime, calendar: WorkCalendar, rules: AgendaRules, intake: Intake) -> Agenda:
    """What waits for the coordinator at `now`, most urgent first, then the longest waiting; with today's information."""
    items = [
        *_referrals_to_decide(session, now=now, calendar=calendar, intake=intake),
        *_dispatches_late(session, now=now, calendar=calendar, rules=rules),
        *_questions(session, now=now, calendar=calendar),
        *_offer_changes(session, now=now, calendar=calendar),
        *_mails(session, now=now, calendar=calendar),
    ]
    today, tomorrow = split_round_tables(_round_tables(session), local_day(now))
    return Agenda(now=now, items=ordered(items), round_tables_today=today, round_tables_week=tomorrow,
                  next_batch=_next_batch(session, now=now, calendar=calendar, rules=rules, intake=intake))


def record_agenda_view(session: Session, agenda: Agenda, *, actor: str, channel: AuditChannel, now: datetime) -> None:
    """One audit row per view of the agenda, as `review list` writes one: who, how, and how many items (no data)."""
    record_audit(session, actor=actor, action=AuditAction.LIST_READ, now=now, detail=f"agenda: {len(agenda.items)} punten",
                 channel=channel, purpose=AuditPurpose.REVIEW)


def _reason(name: str, **context: Any) -> str:
    """A reason from templates/coordinator/agenda_reasons.txt.j2."""
    return message(name, source=_REASONS, **context)


def _day(moment: datetime) -> str:
    """A date as a Flemish reader reads it: dd/mm/jjjj (Brussels)."""
    return moment.astimezone(BRUSSELS).strftime("%d/%m/%Y")


def _referrals_to_decide(session: Session, *, now: datetime, calendar: WorkCalendar, intake: Intake) -> list[AgendaItem]:
    """needs_review referrals (with which kind of wait) and provider refusals to re-route (with the first other fitting service)."""
    waiting = rows.waiting_referrals(session)
    sent = rows.services_sent(session, [w.referral.id for w in waiting if w.referral.status is Status.DECLINED])
    items: list[AgendaItem] = []
    for wait in waiting:
        referral, reference = wait.referral, wait.referral.reference or f"#{wait.referral.id}"
        if referral.status is Status.DECLINED:
            went_to = sent.get(referral.id, [])
            suggestion = first_other_service(referral, set(went_to), intake.catalogue)
            reason = _reason("reroute", provider=went_to[-1] if went_to else referral.assigned_service_id or "-", suggestion=suggestion)
            kind, action = ItemKind.REROUTE, f"{reference}: doorverwijzen naar {suggestion}" if suggestion else None
        else:
            kind, action, reason = ItemKind.DECIDE, f"{reference}: goedkeuren", _decide_reason(wait, intake)
        items.append(AgendaItem(kind=kind, subject=reference, urgency=urgency_of(referral.answers), since=wait.since,
                                waiting_days=calendar.days_between(wait.since, now), reason=reason, action=action))
    return items


def _decide_reason(wait: rows.WaitingReferral, intake: Intake) -> str:
    """Why a needs_review referral waits: missing answers, flagged, not eligible, held or set aside, or without a service."""
    referral = wait.referral
    missing = intake.missing(referral.answers or {}, mode=Mode(referral.mode))
    if missing:
        return _reason("decide_missing", missing=", ".join(f"'{q.label}'" for q in missing))
    if wait.came_from is Status.QUEUED:
        return _reason("decide_held", note=wait.note)
    eligibility = referral.eligibility or {}
    findings = weighing_reasons(eligibility.get("findings", []))
    outcome = eligibility.get("outcome")
    if outcome == Outcome.NOT_ELIGIBLE.value:
        return _reason("decide_not_eligible", findings=findings)
    if outcome == Outcome.FLAGGED.value:
        return _reason("decide_flagged", findings=findings)
    if outcome == Outcome.ELIGIBLE.value:
        return _reason("decide_unplaced", note=wait.note)
    return _reason("decide_other", note=wait.note)


def first_other_service(referral: Referral, sent: set[str], catalogue: Catalogue) -> str | None:
    """The first service the consult suggested that the referral was never sent to and that takes referrals via the Meldpunt now.

    The agenda and the alerts both suggest it for a re-route, so the coordinator reads the same service in each.
    """
    for suggestion in (referral.suggestions or {}).get("suggestions", []):
        service = catalogue.service(str(suggestion.get("service_id")))
        if service is None or service.id in sent or service.referral_route is not ReferralRoute.MELDPUNT:
            continue
        if unfit_reason(service) is None:
            return service.id
    return None


def _dispatches_late(session: Session, *, now: datetime, calendar: WorkCalendar, rules: AgendaRules) -> list[AgendaItem]:
    """Dispatched referrals not accepted within the rule's working days (counted from the last reminder), and providers late with feedback.

    "Late with feedback" is the provider reminder's own escalation (desk.dispatch.remind_late_providers
    set escalated_at): reminded once and still silent. A reminder after that ("herinneren") counts afresh.
    """
    items: list[AgendaItem] = []
    for item, referral in rows.still_dispatched(session):
        reference = referral.reference or f"#{referral.id}"
        counted_from = max(item.dispatched_at, item.reminded_at or item.dispatched_at)
        escalated = item.escalated_at is not None and item.escalated_at >= counted_from
        if escalated:
            reason = _reason("late_feedback", provider=item.provider_address, sent_on=_day(item.dispatched_at))
            kind = ItemKind.LATE_FEEDBACK
        elif calendar.days_between(counted_from, now) >= rules.accept_within_days:
            reminded = _day(item.reminded_at) if item.reminded_at is not None else None
            reason = _reason("not_accepted", provider=item.provider_address, sent_on=_day(item.dispatched_at), reminded_on=reminded,
                             days=calendar.days_between(counted_from, now))
            kind = ItemKind.NOT_ACCEPTED
        else:
            continue
        items.append(AgendaItem(kind=kind, subject=reference, urgency=urgency_of(referral.answers), since=item.dispatched_at,
                                waiting_days=calendar.days_between(item.dispatched_at, now), reason=reason, action=f"{reference}: herinneren"))
    return items


def _questions(session: Session, *, now: datetime, calendar: WorkCalendar) -> list[AgendaItem]:
    """Open questions of staff, with how long they have waited; the text stays in /vragen (it may name a pupil)."""
    items = []
    for question in questions.open_questions(session):
        reference = (question.context or {}).get("aanmelding")
        reason = _reason("question", channel=message("channel", source=_REASONS, name=question.channel),
                         reference=reference if isinstance(reference, str) else None)
        items.append(AgendaItem(kind=ItemKind.QUESTION, subject=f"Vraag #{question.id}", since=question.created_at,
                                waiting_days=calendar.days_between(question.created_at, now), reason=reason,
                                action=f"Vraag #{question.id}: <je antwoord>"))
    return items


def _offer_changes(session: Session, *, now: datetime, calendar: WorkCalendar) -> list[AgendaItem]:
    """Providers' offer changes waiting for approval."""
    return [AgendaItem(kind=ItemKind.OFFER_CHANGE, subject=f"Aanbod #{change.id}", since=change.submitted_at,
                       waiting_days=calendar.days_between(change.submitted_at, now), reason=_reason("offer_change", service=change.service_id),
                       action=f"Aanbod #{change.id}: goedkeuren")
            for change in catalogue_changes.pending(session)]


def _mails(session: Session, *, now: datetime, calendar: WorkCalendar) -> list[AgendaItem]:
    """Mails in quarantine and outbox mails that failed."""
    items = [AgendaItem(kind=ItemKind.QUARANTINE, subject=f"Quarantaine #{row.id}", since=row.at, waiting_days=calendar.days_between(row.at, now),
                        reason=_reason("quarantine", reason=row.what), action=f"Quarantaine #{row.id}: afgehandeld")
             for row in rows.quarantined_mails(session)]
    items += [AgendaItem(kind=ItemKind.FAILED_MAIL, subject=f"Mail #{row.id}", since=row.at, waiting_days=calendar.days_between(row.at, now),
                         reason=_reason("failed_mail", kind=message("mail_kind", source=_REASONS, kind=row.what), address=row.address),
                         action=f"Mail #{row.id}: opnieuw")
              for row in rows.failed_mails(session)]
    return items


def _round_tables(session: Session) -> list[RoundTable]:
    """The latest planned date of each referral whose round table is planned."""
    latest: dict[str, date] = {}
    for reference, note in rows.planned_round_tables(session):
        on = round_table_date(note)
        if on is not None:
            latest[reference] = on  # oldest note first: the last one wins
    return [RoundTable(reference=reference, on=on) for reference, on in latest.items()]


def _next_batch(session: Session, *, now: datetime, calendar: WorkCalendar, rules: AgendaRules, intake: Intake) -> NextBatch | None:
    """When the next batch runs, how many referrals it would send and to whom (a dry run, as /verzending shows)."""
    if not rules.dispatch_moments:
        return None
    slot = next_slot(now, rules.dispatch_moments, calendar.closures)
    plan = dispatch.make_plan(session, intake)
    recipients = tuple(sorted((address, len(planned)) for address, planned in plan.mails.items()))
    return NextBatch(runs_at=slot.runs_at, referrals=plan.referral_count, recipients=recipients)
