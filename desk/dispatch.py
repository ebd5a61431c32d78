"""Dispatch batches in the store: plan, send through the outbox in one transaction, remind late providers.

A batch is one transaction: the batch row (unique per slot, so a slot never runs twice), one outbox
mail per provider address with its Message-ID fixed, a DispatchItem per referral and the referrals
moved to `dispatched`. A crash before the commit leaves nothing behind; after it, the outbox sends
every mail and resends a crashed one under the same Message-ID. No referral can be in two batches:
only `queued` referrals are planned, and the same commit moves them out of `queued`.
Functions flush but never commit; the caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.catalogue import Service
from intake.dialogue import Intake
from intake.dispatch import ProviderRow, choose_service, csv_name, provider_row, rows_csv
from intake.lifecycle import Status
from intake.texts import brussels_time, compose_mail, render
from intake.urgency import urgency_mark, urgency_of, urgency_rank
from intake.workhours import WorkCalendar
from store import audit, dispatches, outbox, referrals
from store.dispatch_models import DispatchBatch, DispatchItem
from store.mail_models import MailKind, OutboxMessage
from store.models import Referral

log = logging.getLogger(__name__)

RENDER_TRIES = 3


@dataclass(frozen=True)
class Planned:
    """A referral ready to go: to which service, and its block of the provider mail."""

    referral_id: int
    reference: str
    service: Service
    row: ProviderRow
    text: str
    urgency: str | None = None  # the `urgency` answer: the provider's mail lists the urgent ones first


@dataclass(frozen=True)
class SetAside:
    """A queued referral that cannot go out in this batch, with the reason for the coordinator."""

    referral_id: int
    reference: str
    reason: str
    unreadable: bool = False  # its answers would not fit a mail: the referrer reads that, not the coordinator's instruction


@dataclass
class _Notice:
    """What one referrer hears of a batch: where their referrals went, and which stayed behind and why."""

    sent: list[tuple[str, Service]] = field(default_factory=list)
    held: list[SetAside] = field(default_factory=list)


@dataclass
class Plan:
    """What a batch would send: referrals per provider address, and what it sets aside."""

    mails: dict[str, list[Planned]] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)

    @property
    def referral_count(self) -> int:
        """How many referrals go out."""
        return sum(len(planned) for planned in self.mails.values())


@dataclass(frozen=True)
class BatchReport:
    """What a batch did."""

    slot_key: str
    referrals: int
    mails: int
    set_aside: int


def make_plan(session: Session, intake: Intake, *, submitted_before: datetime | None = None) -> Plan:
    """Plan every queued referral (submitted before the cutoff), oldest first; reads only, so a dry run shows exactly this."""
    plan = Plan()
    query = select(Referral).where(Referral.status == Status.QUEUED).order_by(Referral.submitted_at, Referral.id)
    if submitted_before is not None:
        query = query.where(Referral.submitted_at <= submitted_before)
    for referral in session.scalars(query):
        reference = referral.reference or f"#{referral.id}"
        choice = choose_service(assigned=referral.assigned_service_id, answers=referral.answers or {},
                                suggestions=referral.suggestions, catalogue=intake.catalogue)
        if choice.service is None or choice.reason is not None:
            plan.set_aside.append(SetAside(referral.id, reference, choice.reason or ""))
            continue
        planned = _render(referral, reference, choice.service, intake)
        if isinstance(planned, SetAside):
            plan.set_aside.append(planned)
            continue
        address = (choice.service.dispatch_email or "").lower()
        plan.mails.setdefault(address, []).append(planned)
    for planned_here in plan.mails.values():
        planned_here.sort(key=lambda item: urgency_rank(item.urgency))  # stable: oldest first within a level
    return plan


def _render(referral: Referral, reference: str, service: Service, intake: Intake) -> Planned | SetAside:
    """The referral's block of the provider mail, an urgent one marked; after RENDER_TRIES failures it is set aside."""
    answers = referral.answers or {}  # loaded and decrypted by the plan's one query; read here once
    urgency = urgency_of(answers)
    for attempt in range(1, RENDER_TRIES + 1):
        try:
            row = provider_row(reference=reference, service=service, answers=answers,
                               eligibility=referral.eligibility, questionnaire=intake.questionnaire)
            text = render("mail/_dispatch_referral.txt.j2", row=row, mark=urgency_mark(urgency))
            return Planned(referral.id, reference, service, row, text, urgency if isinstance(urgency, str) else None)
        except Exception as error:  # noqa: BLE001 — whatever breaks one referral must not stop the batch
            # Type only: the message could quote an answer.
            log.warning("aanmelding %s kon niet worden opgemaakt (poging %d): %s", reference, attempt, type(error).__name__)
    return SetAside(referral.id, reference, f"De gegevens konden na {RENDER_TRIES} pogingen niet in een mail gezet worden; kijk de antwoorden na.",
                    unreadable=True)


def run_batch(session: Session, intake: Intake, *, slot_key: str, actor: str, domain: str, coordinator_email: str | None, now: datetime,
              submitted_before: datetime | None = None) -> BatchReport:
    """Plan and queue a whole batch; raises IntegrityError (at flush) when the slot already ran.

    A slot caught up late sends only what was submitted by its moment (`submitted_before`): what
    came after waits for the next slot, as it would have had the service been up.
    """
    batch = DispatchBatch(slot_key=slot_key, started_at=now, actor=actor, referrals=0, mails=0)
    session.add(batch)
    session.flush()
    plan = make_plan(session, intake, submitted_before=submitted_before)
    day = now.astimezone(BRUSSELS).date()
    notices: defaultdict[str, _Notice] = defaultdict(_Notice)
    for address, planned in plan.mails.items():
        mail = _queue_provider_mail(session, address, planned, intake, domain=domain, day=day, now=now)
        for item in planned:
            referral = session.get_one(Referral, item.referral_id)
            referral.assigned_service_id = item.service.id
            referrals.change_status(session, referral, Status.DISPATCHED, actor=actor, now=now,
                                    note=f"verstuurd naar {item.service.name} (verzending van {brussels_time(now)})")
            session.add(DispatchItem(batch_id=batch.id, referral_id=referral.id, service_id=item.service.id,
                                     provider_address=address, outbox_id=mail.id, dispatched_at=now))
            referrer = referrals.referrer_address(referral)
            if referrer:
                notices[referrer].sent.append((item.reference, item.service))
        # The provider receives the answers in full (mail and CSV): who got whose data is in the audit too.
        audit.record_view(session, audit.Viewer(address, audit.AuditChannel.EMAIL, audit.AuditPurpose.DISPATCH), seen="aanmelding met antwoorden",
                          now=now, referral_ids=[item.referral_id for item in planned])
    for set_aside in plan.set_aside:
        referral = session.get_one(Referral, set_aside.referral_id)
        referrals.change_status(session, referral, Status.NEEDS_REVIEW, actor=actor, now=now, note=set_aside.reason)
        referrer = referrals.referrer_address(referral)
        if referrer:  # the referrer was promised this batch: they hear it did not go, and why
            notices[referrer].held.append(set_aside)
    _queue_notices(session, notices, domain=domain, day=day, now=now)
    if plan.set_aside and coordinator_email:
        _queue_mail(session, "mail/dispatch_set_aside.txt.j2", kind=MailKind.ESCALATION, to=coordinator_email, domain=domain, now=now,
                    set_aside=plan.set_aside, ran_at=now)
    batch.referrals, batch.mails = plan.referral_count, len(plan.mails)
    session.flush()
    log.info("batch %s: %d aanmeldingen in %d mails, %d apart gezet", slot_key, batch.referrals, batch.mails, len(plan.set_aside))
    return BatchReport(slot_key, batch.referrals, batch.mails, len(plan.set_aside))


def _queue_provider_mail(session: Session, address: str, planned: list[Planned], intake: Intake, *, domain: str, day: date, now: datetime) -> OutboxMessage:
    """One mail to a provider address with all its referrals, and the same rows as CSV."""
    organisations = sorted({_organisation_name(intake, item.service) for item in planned})
    urgent = sum(urgency_rank(item.urgency) < 2 for item in planned)
    composed = compose_mail("mail/dispatch.txt.j2", planned=planned, organisations=organisations, day=day, urgent=urgent)
    attachment = {"filename": csv_name(day), "content_type": "text/csv", "text": rows_csv([p.row for p in planned], intake.questionnaire)}
    return outbox.enqueue_mail(session, composed, kind=MailKind.DISPATCH, to=address, domain=domain, now=now, attachments=[attachment])


def _organisation_name(intake: Intake, service: Service) -> str:
    """The provider's name as its staff know it."""
    organisation = intake.catalogue.organization(service.organization_id)
    return organisation.name if organisation else service.name


def _queue_notices(session: Session, notices: dict[str, _Notice], *, domain: str, day: date, now: datetime) -> None:
    """Tell each referrer, in one mail, when and to whom their referrals went, and which did not go and why."""
    for address, notice in sorted(notices.items()):
        _queue_mail(session, "mail/dispatch_notice.txt.j2", kind=MailKind.DISPATCH_NOTICE, to=address, domain=domain, now=now,
                    sent=notice.sent, held=notice.held, day=day)


def _queue_mail(session: Session, template: str, *, kind: MailKind, to: str, domain: str, now: datetime, **context: object) -> OutboxMessage:
    """Compose a template and queue it in the outbox."""
    return outbox.enqueue_mail(session, compose_mail(template, **context), kind=kind, to=to, domain=domain, now=now)


def remind_late_providers(session: Session, *, days: int, calendar: WorkCalendar, domain: str, coordinator_email: str | None, now: datetime) -> tuple[int, int]:
    """Remind providers of referrals without news `days` working days after dispatch; tell the coordinator after twice that.

    Returns (reminder mails, referrals reported to the coordinator). "Without news" means still
    `dispatched`: any answer of the provider (accepted, declined …) moves the referral on. Only a
    referral's current dispatch counts: after a refusal and a redirect, the provider that refused
    is neither reminded nor reported for it again.
    """
    to_remind: defaultdict[str, list[tuple[DispatchItem, Referral]]] = defaultdict(list)
    to_escalate: list[tuple[DispatchItem, Referral]] = []
    for item, referral in dispatches.waiting_for_news(session):
        if item.reminded_at is None and calendar.days_between(item.dispatched_at, now) >= days:
            to_remind[item.provider_address].append((item, referral))
        elif item.reminded_at is not None and calendar.days_between(item.reminded_at, now) >= days:
            to_escalate.append((item, referral))
    for address, late in sorted(to_remind.items()):
        _queue_mail(session, "mail/provider_reminder.txt.j2", kind=MailKind.PROVIDER_REMINDER, to=address, domain=domain, now=now,
                    late=[(referral.reference, item.dispatched_at.astimezone(BRUSSELS).date()) for item, referral in late], days=days,
                    today=now.astimezone(BRUSSELS).date())
        for item, _ in late:
            item.reminded_at = now
    if to_escalate and coordinator_email:
        _queue_mail(session, "mail/provider_overdue.txt.j2", kind=MailKind.ESCALATION, to=coordinator_email, domain=domain, now=now,
                    late=[(referral.reference, item.provider_address, item.dispatched_at.astimezone(BRUSSELS).date()) for item, referral in to_escalate],
                    days=days)
    for item, _ in to_escalate:
        item.escalated_at = now
    session.flush()
    return len(to_remind), len(to_escalate)

