"""Navigation after a correction: `wijzig N` then `terug` returns to the summary and erases nothing."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.terminal import run_chat
from desk.workflow import Channel, IntakeWorkflow
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake, Phase
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from store import conversations
from store import staff as staff_repo
from tests.test_dialogue import FULL_REFERRAL, say, started, verify_dialog
from tests.test_workflow import FULL

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(load_questionnaire(), load_catalogue())


@pytest.mark.parametrize("back", ["terug", "/terug", "vorige"])
def test_back_after_an_edit_returns_to_the_summary_and_erases_nothing(intake: Intake, back: str) -> None:
    summary = verify_dialog(intake, started(intake), FULL_REFERRAL)
    state, reply = say(intake, summary, "wijzig 2")
    assert "Wat is je naam?" in reply
    state, reply = say(intake, state, back)
    assert state.phase is Phase.SUMMARY, reply
    assert "Overzicht van je aanmelding" in reply and "Naam aanmelder: Els Janssens" in reply
    assert state.answers == summary.answers and state.skipped == summary.skipped


def test_back_after_an_edit_during_the_questions_returns_to_the_open_question(intake: Intake) -> None:
    asking = verify_dialog(intake, started(intake), FULL_REFERRAL[:6])  # the pupil's last name is asked now
    state, reply = say(intake, asking, "wijzig 2")
    assert "Wat is je naam?" in reply
    state, reply = say(intake, state, "terug")
    assert state.current == asking.current and "achternaam" in reply
    assert state.answers == asking.answers


def test_after_the_edited_answer_back_works_as_usual(intake: Intake) -> None:
    summary = verify_dialog(intake, started(intake), FULL_REFERRAL)
    state, _ = say(intake, summary, "wijzig 2")
    state, reply = say(intake, state, "Els Vermeulen")
    assert state.phase is Phase.SUMMARY and "Els Vermeulen" in reply


def test_terminal_edit_then_back_keeps_every_answer(session_factory: sessionmaker[Session], intake: Intake) -> None:
    with session_factory.begin() as session:
        els = staff_repo.add_staff(session, email="els@clb-halle.example", name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
    workflow = IntakeWorkflow(intake, session_factory)
    lines = [*FULL[:-1], "wijzig 5", "terug", "pauze"]  # answer 5 is the pupil's first name
    out = io.StringIO()
    ticks = iter(range(1000))
    run_chat(workflow, els, mode=Mode.FULL, details=None, clock=lambda: NOW + timedelta(seconds=next(ticks)),
             stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    after_back = out.getvalue().rsplit("voornaam van de leerling", 1)[-1]
    assert "Overzicht van je aanmelding" in after_back, after_back
    with session_factory() as session:
        conversation = conversations.get_conversation(session, Channel.TERMINAL.value, els.email)
        assert conversation is not None
        state = conversation.state
    assert state["phase"] == "summary"
    assert state["answers"]["pupil_first_name"] == "Zoë" and state["answers"]["school_contact_email"] == "an.peeters@school.example"
