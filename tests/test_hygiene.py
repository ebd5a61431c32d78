"""Input hygiene: no escape sequence, control or bidi character from outside reaches a person; sane answers only."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.terminal import run_chat
from desk.workflow import IntakeWorkflow
from intake.answers import Invalid, parse_answer
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.hygiene import clean_name, clean_text
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from mail.form import parse_form
from store import questions
from store import staff as staff_repo
from tests.test_dialogue import FULL_REFERRAL, say, started, verify_dialog

TODAY = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
QUESTIONNAIRE = load_questionnaire()
RETITLE = "\x1b]0;gehackt\x07"  # OSC: sets the terminal's title
RED = "\x1b[31m"
RLO = "\u202e"  # right-to-left override: "Els" would read backwards


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(QUESTIONNAIRE, load_catalogue())


@pytest.mark.parametrize(("typed", "clean"), [
    (f"{RETITLE}Els {RED}Janssens\x1b[0m", "Els Janssens"),
    ("Els\x1b]2;titel\x1b\\ Janssens", "Els Janssens"),  # OSC ended by ST
    (f"{RLO}Els\u2066 Jans\u200fsens\u061c\u202a", "Els Janssens"),
    ("Els\x9b31m Jan\x85ssens\x00\x7f", "Els Janssens"),  # C1 CSI, NEL, NUL, DEL
    ("Els\x1b", "Els"),  # a lone ESC at the end
    ("  Els \t\n Janssens  ", "Els Janssens"),
])
def test_names_lose_escapes_controls_and_bidi(typed: str, clean: str) -> None:
    assert clean_name(typed) == clean


def test_free_text_keeps_its_lines_and_has_hard_limits() -> None:
    assert clean_text(f"eerste lijn{RED}\r\ntweede{RLO} lijn\x07") == "eerste lijn\ntweede lijn"
    assert len(clean_text("a" * 5_000_000)) == 100_000
    assert len(clean_text("a" * 500, limit=20)) == 20 and len(clean_name("a " * 500)) == 200
    assert clean_text("\x1b[" + "1;" * 200_000) == ""  # an unfinished sequence, cut at the limit, costs one pass


@pytest.mark.parametrize("typed", ["Tim", "Eva", "tim", "Zoë Peeters", "Z.P.Q.R.S.", "12", "Z1"])
def test_initials_refuse_names(typed: str) -> None:
    result = parse_answer(QUESTIONNAIRE.get("pupil_initials"), typed, today=TODAY)
    assert isinstance(result, Invalid) and "initialen" in result.reason


@pytest.mark.parametrize(("typed", "stored"), [("Z.P.", "Z.P."), ("ZP", "Z.P."), ("Z P", "Z.P."), ("z.p.", "Z.P."),
                                               ("J.-P. D.", "J.P.D."), ("JVDB", "J.V.D.B."), (f"{RLO}Z.P.", "Z.P.")])
def test_initials_accept_letters_with_or_without_dots(typed: str, stored: str) -> None:
    assert parse_answer(QUESTIONNAIRE.get("pupil_initials"), typed, today=TODAY) == stored


def test_a_phone_number_is_no_first_name_and_a_help_request_needs_letters() -> None:
    phone = parse_answer(QUESTIONNAIRE.get("pupil_first_name"), "0470 12 34 56", today=TODAY)
    assert isinstance(phone, Invalid) and "telefoonnummer" in phone.reason
    for typed in ("0", "...", "12/3"):
        nothing = parse_answer(QUESTIONNAIRE.get("help_request"), typed, today=TODAY)
        assert isinstance(nothing, Invalid) and "geen letters" in nothing.reason
    assert parse_answer(QUESTIONNAIRE.get("school_year"), "3", today=TODAY) == "3", "a bare number is a school year"


def test_free_text_answers_are_stored_clean() -> None:
    typed = f"{RETITLE}Komt {RED}niet{RLO} meer naar school."
    assert parse_answer(QUESTIONNAIRE.get("help_request"), typed, today=TODAY) == "Komt niet meer naar school."


@pytest.mark.parametrize("blank", ["", "   ", RLO, f"{RED}\x1b[0m", "\u200e\u200f"])
def test_a_blank_answer_to_a_required_question_is_said_and_asked_again(intake: Intake, blank: str) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:4])  # the phone question is asked now
    after, reply = say(intake, state, blank)
    assert reply.startswith("Geen antwoord ontvangen.") and "telefoonnummer" in reply
    assert "kan ik niet gebruiken" not in reply and after.answers == state.answers


def test_a_blank_answer_to_an_optional_question_says_how_to_skip(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:24])  # the preferred intervention (optional)
    _, reply = say(intake, state, RLO)
    assert "Geen antwoord ontvangen." in reply and '"overslaan"' in reply


def test_the_terminal_answers_an_empty_line(session_factory: sessionmaker[Session], intake: Intake) -> None:
    with session_factory.begin() as session:
        els = staff_repo.add_staff(session, email="els@clb-halle.example", name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
    out = io.StringIO()
    run_chat(IntakeWorkflow(intake, session_factory), els, mode=Mode.FULL, details=None, clock=lambda: NOW,
             stdin=io.StringIO("\n"), stdout=out)
    assert "Geen antwoord ontvangen." in out.getvalue()


def test_a_staff_name_with_escapes_is_stored_clean(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        member = staff_repo.add_staff(session, email="els@clb-halle.example", name=f"{RETITLE}Els{RLO} Janssens",
                                      clb=f"Vrij CLB {RED}Halle", now=NOW)
        assert (member.name, member.clb) == ("Els Janssens", "Vrij CLB Halle")


def test_a_question_to_the_coordinator_is_stored_clean(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        asked = questions.open_question(session, asker_email="els@clb-halle.example", staff_id=None, channel="email",
                                        text=f"{RETITLE}Welk aanbod{RLO} past?\x00", context=None, now=NOW)
        assert asked.text == "Welk aanbod past?", "`meldpunt questions list` must not play escapes in a terminal"


def test_the_staff_list_in_a_terminal_shows_no_escape(tmp_path: Path) -> None:
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var")}

    def meldpunt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meldpunt", *args], env=env, capture_output=True, text=True, timeout=60)

    assert meldpunt("db", "upgrade").returncode == 0
    added = meldpunt("staff", "add", "els@clb-halle.example", "--name", f"{RETITLE}Els Janssens", "--clb", f"{RLO}Vrij CLB Halle")
    listed = meldpunt("staff", "list")
    assert added.returncode == 0 and listed.returncode == 0, added.stderr + listed.stderr
    for shown in (added.stdout, listed.stdout):
        assert "\x1b" not in shown and RLO not in shown and "\x07" not in shown
    assert "Els Janssens" in listed.stdout and "Vrij CLB Halle" in listed.stdout


def test_mail_form_values_are_read_clean_and_quoted_back_clean() -> None:
    questionnaire = Intake(QUESTIONNAIRE, load_catalogue()).questionnaire
    text = f"Voornaam leerling: {RED}Zoë{RLO}\nAchternaam leerling: {RETITLE}0470 12 34 56\n"
    result = parse_form(text, questionnaire, today=TODAY)
    assert result.answers["pupil_first_name"] == "Zoë"
    problem = next(p for p in result.problems if p.question_id == "pupil_last_name")
    assert problem.received == "0470 12 34 56" and "telefoonnummer" in problem.reason
