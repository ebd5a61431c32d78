"""What the dialogue says about the region and the referrer: only what really happens to the referral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.catalogue_loader import load_catalogue
from intake.dialogue import DialogueState, Intake, Phase
from intake.eligibility import Outcome
from intake.messages import Inbound, OutKind
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
STAFF = {
    "referrer_role": "clb", "referrer_name": "Els Janssens", "referrer_organisation": "Vrij CLB Halle",
    "referrer_email": "els@clb-halle.example",
}
# After the staff member's own details: phone, pupil, and the home postcode (answered by the test).
PUPIL = ["02 123 45 67", "Zoë", "Peeters", "14/03/2011"]
# From "onderwijsniveau" to the summary, for a pupil in the area (secondary, eligible).
REST = ["secundair", "2e jaar", "1", "3", "ja", "ja", "ja", "ja", "1", "Komt nog twee dagen per week.", "1",
        "buiten", "overslaan", "1", "overslaan"]
ROUND_TABLE = ["An Peeters", "an.peeters@school.example", "overslaan"]


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(load_questionnaire(), load_catalogue())


def play(intake: Intake, lines: list[str]) -> tuple[DialogueState, list[str]]:
    """Type these lines after the staff member's prefilled details; every reply text, in order."""
    state, _ = intake.start(mode=Mode.FULL, now=NOW, prefill=STAFF)
    replies: list[str] = []
    for minute, line in enumerate(lines, 1):
        state, outbounds = intake.step(state, Inbound.from_text(line), now=NOW + timedelta(minutes=minute))
        replies.append("\n".join(o.text for o in outbounds))
    return state, replies


def test_a_home_outside_vlaams_brabant_says_nothing_when_the_school_decides(intake: Intake) -> None:
    """Enrolled in Halle, living in Gent: the school's region decides, and the referral is eligible."""
    state, replies = play(intake, [*PUPIL, "9000", "ja", "Sint-Jozefscollege", "1500", *REST, *ROUND_TABLE])
    assert state.phase is Phase.SUMMARY
    assert not any("coördinator" in reply and "Let op" in reply for reply in replies[:-1]), replies
    assert intake.evaluate(state.answers, now=NOW).assessment.outcome is Outcome.ELIGIBLE
    assert "Ontvankelijkheid: Ontvankelijk\n" in replies[-1]


def test_a_home_outside_warns_only_while_it_decides_and_says_what_would_change_it(intake: Intake) -> None:
    """Not enrolled, living in Gent: home decides until a last school in Vlaams-Brabant is given."""
    state, replies = play(intake, [*PUPIL, "9000", "nee", "Atheneum Vilvoorde", "1800", *REST])
    warning = replies[5]  # the reply to "nee"
    assert "woont buiten Vlaams-Brabant (postcode 9000)" in warning
    assert "Ligt de laatste school in Vlaams-Brabant" in warning
    assert "Blijft dit zo" in warning and "coördinator" in warning
    assert state.phase is Phase.SUMMARY
    assert intake.evaluate(state.answers, now=NOW).assessment.outcome is Outcome.FLAGGED  # not enrolled: flagged only
    assert "buiten Vlaams-Brabant" not in replies[-1]


def test_a_parents_request_shows_the_parent_as_referrer_and_the_staff_member_as_who_filled_it_in(intake: Intake) -> None:
    state, replies = play(intake, [*PUPIL, "1500", "ja", "Sint-Jozefscollege", "1500", *REST, *ROUND_TABLE, "wijzig 1", "ouder"])
    summary = replies[-1]
    assert state.phase is Phase.SUMMARY
    assert "Aanmelder is: Ouder" in summary
    assert "Naam aanmelder: Els Janssens" not in summary
    assert "Ingevuld door: Els Janssens" in summary
    assert "De aanmelding komt van: ouder" in summary


def test_a_staff_members_own_referral_still_names_her_as_referrer(intake: Intake) -> None:
    state, replies = play(intake, [*PUPIL, "1500", "ja", "Sint-Jozefscollege", "1500", *REST, *ROUND_TABLE])
    assert state.phase is Phase.SUMMARY
    assert "Naam aanmelder: Els Janssens" in replies[-1] and "Ingevuld door" not in replies[-1]
    assert [o.kind for o in intake.resume(state)][-1] is OutKind.SUMMARY
