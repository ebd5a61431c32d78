"""A correction asks what it makes necessary: the questionnaire's conditions run again (CLI, mail, chat; SQLite and PostgreSQL).

"Overlegd met de school: ja" makes "School akkoord" a required question. A coordinator who corrects the
first must not be able to send the referral on without the second, whichever channel the line came by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.decisions import Role
from desk.workflow import IntakeWorkflow
from intake.lifecycle import Status
from intake.vocabulary import Mode
from store import referrals
from store.models import Staff
from tests.mail_harness import COORDINATOR, NOW, MailHarness, running_harness, shared_intake
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, running_chat
from tests.test_cli_review import Runner, run, status_of  # noqa: F401 — `run` is a fixture
from tests.test_decisions import ELS, add_staff, apply, eligible_answers, notices
from tests.test_mail_processor import text_of

S = Status
CONSULTED = "Overlegd met de school"
AGREES = "School akkoord"


def not_consulted() -> dict[str, Any]:
    """Eligible answers, except that the school was not consulted (so its agreement was never asked)."""
    answers = {**eligible_answers(), "school_consulted": False}
    del answers["school_agrees"]
    return answers


def submitted(session_factory: sessionmaker[Session], answers: dict[str, Any]) -> str:
    """Els submits these answers through the real workflow; the reference."""
    with session_factory.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).first() or add_staff(session)
        draft = referrals.create_draft(session, staff_id=els.id, channel="email", mode="full", actor=ELS, now=NOW)
        done = IntakeWorkflow(shared_intake(), session_factory).submit_answers(session, draft, answers, mode=Mode.FULL, actor=ELS, now=NOW)
        return done.reference


def answers_of(session_factory: sessionmaker[Session], reference: str) -> dict[str, Any]:
    """A referral's stored answers."""
    with session_factory() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return dict(referral.answers)


def test_on_the_command_line_a_correction_asks_for_school_akkoord(run: Runner, session_factory: sessionmaker[Session]) -> None:
    reference = submitted(session_factory, not_consulted())
    assert status_of(session_factory, reference) is S.NEEDS_REVIEW, "not consulted: not eligible"

    corrected = run("review", "correct", reference, CONSULTED, "ja")
    assert corrected.exit_code == 0, corrected.output
    assert AGREES in corrected.output and "ontbreekt" in corrected.output, corrected.output
    assert status_of(session_factory, reference) is S.NEEDS_REVIEW
    listed = run("review").output
    assert reference in listed and AGREES in listed, "the review list says what is missing"

    approved = run("review", "approve", reference)
    assert approved.exit_code == 1 and AGREES in approved.output, approved.output
    assert status_of(session_factory, reference) is S.NEEDS_REVIEW, "nothing goes out incomplete"

    assert run("review", "correct", reference, AGREES, "ja").exit_code == 0
    approved = run("review", "approve", reference)
    assert approved.exit_code == 0 and status_of(session_factory, reference) is S.QUEUED, approved.output
    assert answers_of(session_factory, reference)["school_agrees"] is True


def test_a_queued_referral_that_needs_a_new_answer_goes_back_to_the_coordinator(session_factory: sessionmaker[Session]) -> None:
    answers = {**eligible_answers(), "desired_form": "klas"}
    del answers["location_preference"]  # only asked for an individual track
    reference = submitted(session_factory, answers)
    assert status_of(session_factory, reference) is S.QUEUED
    with session_factory.begin() as session:
        (decision,) = apply(session, f"{reference}: corrigeer Gewenste vorm = individueel", role=Role.COORDINATOR)
        assert decision.applied and "'Plaats'" in decision.message and "ontbreekt" in decision.message, decision.message
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is S.NEEDS_REVIEW, "no batch takes it"
        (told,) = notices(session)
        assert reference in told.body_text and "Plaats" in told.body_text and "e-mailadres" not in told.body_text


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_by_mail_the_same_correction_keeps_it_with_the_coordinator(harness: MailHarness) -> None:
    reference = submitted(harness.sessions, not_consulted())
    ours = await harness.our_mail_to(COORDINATOR, kind="escalatie", subject="Meldpunt: om na te kijken")
    await harness.send(harness.reply_to(ours, f"{reference}: corrigeer {CONSULTED} = ja", sender=COORDINATOR))
    await harness.process()
    reply = text_of(harness.inbox(COORDINATOR)[-1])
    assert AGREES in reply and "ontbreekt" in reply, reply
    assert status_of(harness.sessions, reference) is S.NEEDS_REVIEW

    await harness.send(harness.reply_to(ours, f"{reference}: goedkeuren", sender=COORDINATOR))
    await harness.process()
    assert AGREES in text_of(harness.inbox(COORDINATOR)[-1])
    assert status_of(harness.sessions, reference) is S.NEEDS_REVIEW


async def test_in_chat_the_same_correction_keeps_it_with_the_coordinator(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        reference = submitted(session_factory, not_consulted())
        said = await h.say(COORDINATOR_USER, f"{reference}: corrigeer {CONSULTED} = ja", chat_id=COORDINATOR_CHAT, chat_type="supergroup")
        answer = said[-1].text
        assert AGREES in answer and "ontbreekt" in answer, answer
        assert status_of(session_factory, reference) is S.NEEDS_REVIEW
