"""No promise the dispatch cannot keep: where a referral cannot go is decided at submission (SQLite and PostgreSQL).

A referral whose preferred provider is full, or that has no certain service, goes to the coordinator at
once; the staff member reads why (terminal and mail), and `meldpunt review` lists it right away. A
referral that became unfit later (the catalogue changed after submission) is still set aside on batch day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from desk import dispatch
from desk.workflow import Channel, IntakeWorkflow
from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from mail.form import render_form
from store import referrals
from store.models import Staff
from tests.mail_harness import MailHarness, running_harness
from tests.test_cli_review import Runner, run, status_of  # noqa: F401 — `run` is a fixture
from tests.test_mail_form import FILLED
from tests.test_mail_processor import ELS, all_referrals, fill, text_of
from tests.test_workflow import FULL, NOW, converse, els  # noqa: F401 — `els` is a fixture

S = Status
INTRO = "naft-groep-intro-ahv"
ARKTOS = "naft-arktos-ahv"
PREFERRED = 20  # FULL[20] answers "Voorkeur interventie"
KLAAR = "klaar voor"


def catalogue_with(**changes: dict[str, Any]) -> Catalogue:
    """The bundled catalogue with some services changed (service id → fields)."""
    bundled = load_catalogue()
    services = [s.model_copy(update=changes[s.id]) if s.id in changes else s for s in bundled.services]
    return bundled.model_copy(update={"services": services})


def intake_with(**changes: dict[str, Any]) -> Intake:
    """The engine over the real questionnaire and a changed catalogue, as after an approved catalogue change."""
    return Intake(load_questionnaire(), catalogue_with(**changes))


def choice_number(intake: Intake, service_id: str) -> str:
    """What a person types to pick this service as preferred intervention."""
    choices = intake.questionnaire.get("preferred_intervention").choices
    return str(next(n for n, c in enumerate(choices, start=1) if c.value == service_id))


def chat(intake: Intake, sessions: sessionmaker[Session], staff: Staff, lines: list[str]) -> str:
    """Els types these lines in the terminal channel; the last reply."""
    workflow = IntakeWorkflow(intake, sessions)
    workflow.open(channel=Channel.TERMINAL, external_id=staff.email, staff=staff, mode=Mode.FULL, now=NOW)
    return converse(workflow, staff, lines)


def test_a_full_preferred_provider_sends_the_referral_to_the_coordinator_at_once(
    run: Runner, session_factory: sessionmaker[Session], els: Staff,  # noqa: F811
) -> None:
    intake = intake_with(**{INTRO: {"capacity": 0}})
    lines = list(FULL)
    lines[PREFERRED] = choice_number(intake, INTRO)
    reply = chat(intake, session_factory, els, lines)
    assert "MSI-2026-0001" in reply and KLAAR not in reply, reply
    assert "De coördinator van het Meldpunt bekijkt ze eerst" in reply
    assert "NAFT-traject Groep Intro (Asse-Halle-Vilvoorde) neemt op dit moment geen aanmeldingen aan" in reply
    assert status_of(session_factory, "MSI-2026-0001") is S.NEEDS_REVIEW

    listed = run("review").output
    assert "MSI-2026-0001" in listed and "neemt op dit moment geen aanmeldingen aan" in listed, listed


def test_no_certain_service_sends_the_referral_to_the_coordinator_at_once(session_factory: sessionmaker[Session], els: Staff) -> None:  # noqa: F811
    # The two services that fit for certain take no referrals now: what remains is uncertain.
    intake = intake_with(**{INTRO: {"accepting_referrals": False}, ARKTOS: {"accepting_referrals": False}})
    reply = chat(intake, session_factory, els, FULL)
    assert KLAAR not in reply and "De coördinator van het Meldpunt bekijkt ze eerst" in reply, reply
    assert "geen aanbod dat zeker past" in reply and "de coördinator kiest een aanbod" in reply
    with session_factory() as session:
        referral = referrals.get_referral(session, "MSI-2026-0001")
        assert referral is not None and referral.status is S.NEEDS_REVIEW
        assert "de coördinator kiest een aanbod" in (referrals.status_history(session, referral)[-1].note or "")


def test_a_fit_referral_is_still_promised_the_next_batch(session_factory: sessionmaker[Session], els: Staff) -> None:  # noqa: F811
    reply = chat(intake_with(), session_factory, els, FULL)
    assert "klaar voor de volgende verzending" in reply
    assert status_of(session_factory, "MSI-2026-0001") is S.QUEUED


def test_a_referral_that_became_unfit_later_is_still_set_aside_on_batch_day(session_factory: sessionmaker[Session], els: Staff) -> None:  # noqa: F811
    chat(intake_with(), session_factory, els, FULL)
    assert status_of(session_factory, "MSI-2026-0001") is S.QUEUED
    later = intake_with(**{ARKTOS: {"capacity": 0}, INTRO: {"capacity": 0}})
    with session_factory() as session:
        plan = dispatch.make_plan(session, later)
    assert plan.mails == {} and [item.reference for item in plan.set_aside] == ["MSI-2026-0001"]


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_by_mail_the_confirmation_says_the_coordinator_looks_first_and_why(harness: MailHarness) -> None:
    # What the service does when a catalogue change is approved: every channel reads workflow.intake.
    harness.workflow.intake = intake_with(**{INTRO: {"capacity": 0}})
    form = fill(render_form(harness.workflow.intake.questionnaire), {**FILLED, "Voorkeur interventie": choice_number(harness.workflow.intake, INTRO)})
    await harness.send(harness.new_mail(ELS, "Aanmelding", form))
    harness.clock.advance(timedelta(seconds=1))
    await harness.process()
    (confirmation,) = harness.inbox(ELS)
    text = text_of(confirmation)
    assert KLAAR not in text and "De coördinator van het Meldpunt bekijkt ze eerst" in text, text
    assert "neemt op dit moment geen aanmeldingen aan" in text
    (referral,) = all_referrals(harness)
    assert referral.status is S.NEEDS_REVIEW
