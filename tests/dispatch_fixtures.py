"""Queued referrals in bulk and a catalogue of twelve providers, for dispatch tests and benchmarks.

A referral's answers come from one real conversation (the terminal script of test_workflow), then
vary per referral in the pupil's name and the preferred intervention; each is submitted through
the real workflow (`submit_answers`), so eligibility, suggestions and status are the real ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import Channel, IntakeWorkflow
from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.messages import Inbound
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode, ReferralRoute
from store import conversations, referrals
from store import staff as staff_repo
from store.models import Staff

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
STAFF_EMAIL = "els@clb-halle.example"
# What Els types after her prefilled details: a pupil in Halle, secondary, eligible (tests/test_workflow.py).
SCRIPT = [
    "02 123 45 67", "Zoë", "Peeters", "14/03/2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair",
    "2e jaar", "1", "3", "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten",
    "overslaan", "1", "overslaan", "An Peeters", "an.peeters@school.example", "overslaan",
]


@lru_cache(maxsize=1)
def twelve_provider_catalogue() -> Catalogue:
    """The bundled catalogue with every Meldpunt service at its own address, plus one more: twelve providers."""
    bundled = load_catalogue()
    via_meldpunt = [s for s in bundled.services if s.referral_route is ReferralRoute.MELDPUNT]
    extra = via_meldpunt[-1].model_copy(update={"id": "extra-aanbod", "name": "Extra aanbod"})
    services = [
        s.model_copy(update={"dispatch_email": f"aanmeldingen@aanbieder{i:02d}.example", "dispatch_email_is_example": True})
        for i, s in enumerate([*via_meldpunt, extra], start=1)
    ]
    others = [s for s in bundled.services if s.referral_route is not ReferralRoute.MELDPUNT]
    return Catalogue.model_validate({"organizations": bundled.organizations, "services": [*services, *others]})


def intake_for(catalogue: Catalogue) -> Intake:
    """The engine over the real questionnaire and this catalogue."""
    return Intake(load_questionnaire(), catalogue)


def add_staff(sessions: sessionmaker[Session], email: str = STAFF_EMAIL, name: str = "Els Janssens") -> Staff:
    """Register a CLB staff member."""
    with sessions.begin() as session:
        return staff_repo.add_staff(session, email=email, name=name, clb="Vrij CLB Halle", now=NOW)


_TEMPLATES: dict[tuple[int, str], dict[str, Any]] = {}


def template_answers(intake: Intake, sessions: sessionmaker[Session], staff: Staff) -> dict[str, Any]:
    """The answers of one real terminal conversation, up to the summary (nothing is submitted); once per intake and person."""
    key = (id(intake), staff.email)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _converse(intake, sessions, staff)
    return dict(_TEMPLATES[key])


def _converse(intake: Intake, sessions: sessionmaker[Session], staff: Staff) -> dict[str, Any]:
    """Type the script in the terminal channel, read the answers at the summary, then cancel."""
    workflow = IntakeWorkflow(intake, sessions)
    workflow.open(channel=Channel.TERMINAL, external_id="sjabloon", staff=staff, mode=Mode.FULL, now=NOW)
    for line in SCRIPT:
        workflow.handle(channel=Channel.TERMINAL, external_id="sjabloon", inbound=Inbound.from_text(line), now=NOW)
    with sessions.begin() as session:
        conversation = conversations.get_conversation(session, Channel.TERMINAL.value, "sjabloon")
        assert conversation is not None
        answers = dict(conversation.state["answers"])
    workflow.handle(channel=Channel.TERMINAL, external_id="sjabloon", inbound=Inbound.from_text("annuleer"), now=NOW)
    assert answers.get("school_postcode") == "1500", "the script reached the summary"
    return answers


def queue_referrals(intake: Intake, sessions: sessionmaker[Session], staff: Staff, count: int, *, service_ids: list[str] | None = None,
                    now: datetime = NOW, batch_size: int = 250) -> list[str]:
    """Submit count eligible referrals, preferred interventions in turn over service_ids; their references."""
    answers = template_answers(intake, sessions, staff)
    workflow = IntakeWorkflow(intake, sessions)
    ids = service_ids or []
    made: list[str] = []
    for start in range(0, count, batch_size):
        with sessions.begin() as session:
            member = session.get_one(Staff, staff.id)
            for i in range(start, min(count, start + batch_size)):
                these = {**answers, "pupil_first_name": f"Leerling{i}"}
                if ids:
                    these["preferred_intervention"] = ids[i % len(ids)]
                draft = referrals.create_draft(session, staff_id=member.id, channel="email", mode="full", actor=member.email, now=now)
                made.append(workflow.submit_answers(session, draft, these, mode=Mode.FULL, actor=member.email, now=now + timedelta(seconds=i)).reference)
    return made
