"""Referrals through the real workflow, batch and decision lines, and the alert job over them, for the alert tests."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.alerts import AlertJob
from desk.decisions import Role, apply_actions
from desk.dispatch import run_batch
from desk.workflow import IntakeWorkflow
from intake.actions import parse_actions
from intake.dialogue import Intake
from intake.vocabulary import Mode
from intake.workhours import local_day
from store import alerts as alert_repo
from store import referrals
from store.dispatch_models import DispatchItem
from store.mail_models import MailKind, OutboxMessage
from store.models import Staff
from tests.dispatch_fixtures import intake_for, template_answers, twelve_provider_catalogue
from tests.mail_harness import Clock

COORDINATOR = "coordinator@meldpunt.example"
DOMAIN = "meldpunt.example"
PUPIL_NAMES = ("Zoë", "Peeters")  # the template's pupil (tests/dispatch_fixtures.py SCRIPT)


@lru_cache(maxsize=1)
def alert_intake() -> Intake:
    """Twelve providers, each at its own address."""
    return intake_for(twelve_provider_catalogue())


def meldpunt_services(intake: Intake) -> list[str]:
    """The services that take referrals through the Meldpunt."""
    return [s.id for s in intake.catalogue.services if s.dispatch_email]


def submit(
    sessions: sessionmaker[Session], intake: Intake, staff: Staff, urgency: str, *, now: datetime, service: str | None = None,
    flagged: bool = False,
) -> str:
    """Submit the template's pupil with this urgency (and preferred service) through the real workflow; the reference.

    flagged: the school does not agree (intake/eligibility.py school_not_consulted), so the workflow sends the
    referral to the coordinator at submission with that reason.
    """
    answers = template_answers(intake, sessions, staff) | {"urgency": urgency}
    if service is not None:
        answers["preferred_intervention"] = service
    if flagged:
        answers["school_agrees"] = False
    with sessions.begin() as session:
        member = session.get_one(Staff, staff.id)
        draft = referrals.create_draft(session, staff_id=member.id, channel="email", mode="full", actor=member.email, now=now)
        return IntakeWorkflow(intake, sessions).submit_answers(session, draft, answers, mode=Mode.FULL, actor=member.email, now=now).reference


def act(sessions: sessionmaker[Session], intake: Intake, line: str, *, now: datetime, provider: str | None = None) -> None:
    """Apply one decision line, as the coordinator (or the provider at that address) writes it."""
    actions, problems = parse_actions(line, today=local_day(now))
    assert actions and not problems, line
    role, actor = (Role.PROVIDER, provider) if provider else (Role.COORDINATOR, COORDINATOR)
    with sessions.begin() as session:
        [decision] = apply_actions(session, actions, role=role, actor=actor, intake=intake, domain=DOMAIN, now=now, provider_address=provider)
        assert decision.applied, decision.message


def dispatch(sessions: sessionmaker[Session], intake: Intake, *, now: datetime) -> None:
    """Run a batch now, as `meldpunt dispatch --now` does."""
    with sessions.begin() as session:
        run_batch(session, intake, slot_key=f"handmatig {now.isoformat()}", actor="planning", domain=DOMAIN, coordinator_email=COORDINATOR, now=now)


def closed_intake(intake: Intake, service: str) -> Intake:
    """The same intake with one service no longer taking referrals: a batch sets its referrals aside."""
    closed = intake.catalogue.model_copy(update={"services": [
        s.model_copy(update={"accepting_referrals": False}) if s.id == service else s for s in intake.catalogue.services
    ]})
    return intake_for(closed)


def provider_of(sessions: sessionmaker[Session], reference: str) -> str:
    """The address the referral was sent to."""
    with sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return session.scalars(select(DispatchItem.provider_address).where(DispatchItem.referral_id == referral.id)).one()


def job(sessions: sessionmaker[Session], clock: Clock, *, email: str | None = COORDINATOR, chat: bool = False) -> AlertJob:
    """The periodic job "alarmen" as serve builds it."""
    return AlertJob(sessions, alert_intake, clock, email, DOMAIN, chat)


def alerts_seen(sessions: sessionmaker[Session]) -> list[tuple[str, str | None, str | None]]:
    """Every alert as (kind, reference, channel), oldest first."""
    with sessions() as session:
        return [(a.kind.value, a.reference, a.channel) for a in alert_repo.all_alerts(session)]


def alert_mails(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """The alert mails in the outbox, oldest first (read, then detached)."""
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.ALERT).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows
