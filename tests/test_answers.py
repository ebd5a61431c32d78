"""Answer parsing: what people really type is understood, and nothing they type crashes it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.answers import Invalid, parse_answer
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.messages import Inbound, OutKind
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode

TODAY = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
QUESTIONNAIRE = load_questionnaire()


@pytest.mark.parametrize(
    ("question_id", "typed", "stored"),
    [
        ("referrer_role", "CLB-medewerker", "clb"),
        ("referrer_role", " 2 ", "ouder"),
        ("referrer_role", "voorz", "voorziening"),
        ("care_phase", "Uitbreiding van zorg", "uitbreiding-van-zorg"),
        ("care_phase", "uitbreiding van zorg", "uitbreiding-van-zorg"),
        ("school_level", "Basisonderwijs", "basis"),
        ("problem_areas", "1 en 3", ["spijbelen", "gedrag"]),
        ("problem_areas", "Spijbelen; thuissituatie; 1", ["spijbelen", "thuissituatie"]),
        ("pupil_enrolled", "Neen", False),
        ("pupil_enrolled", "JA!", True),
        ("pupil_birth_date", "3-9-2012", "2012-09-03"),
        ("pupil_birth_date", "2012-09-03", "2012-09-03"),
        ("pupil_home_postcode", "B-3000 Leuven", "3000"),
        ("referrer_email", " <Els.Janssens@CLB.example> ", "els.janssens@clb.example"),
        ("referrer_phone", "+32 470/12.34.56", "+32 470/12.34.56"),
        ("pupil_initials", "j d", "J.D."),
    ],
)
def test_what_people_type_is_understood(question_id: str, typed: str, stored: object) -> None:
    assert parse_answer(QUESTIONNAIRE.get(question_id), typed, today=TODAY) == stored


@pytest.mark.parametrize(("typed", "stored"), [("1000", "1000"), ("9000 Gent", "9000"), ("B-1300", "1300"), ("3090", "3090")])
def test_belgian_postcodes_outside_vlaams_brabant_stay_valid(typed: str, stored: str) -> None:
    assert parse_answer(QUESTIONNAIRE.get("pupil_home_postcode"), typed, today=TODAY) == stored


@pytest.mark.parametrize("typed", ["9999", "1999", "3499", "1234 Ergens"])
def test_a_postcode_that_does_not_exist_is_refused_with_a_reason(typed: str) -> None:
    result = parse_answer(QUESTIONNAIRE.get("school_postcode"), typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert f"{typed[:4]} is geen Belgische postcode" in result.reason


def test_an_unknown_postcode_is_asked_again() -> None:
    intake = Intake(QUESTIONNAIRE, load_catalogue())
    prefill = {"referrer_role": "clb", "referrer_name": "Els", "referrer_organisation": "CLB", "referrer_email": "els@clb.example",
               "referrer_phone": "02 123 45 67", "pupil_first_name": "Zoë", "pupil_last_name": "Peeters", "pupil_birth_date": "2011-03-14"}
    state, _ = intake.start(mode=Mode.FULL, now=NOW, prefill=prefill)
    assert state.current == "pupil_home_postcode"
    state, outbounds = intake.step(state, Inbound.from_text("9999"), now=NOW)
    assert state.current == "pupil_home_postcode" and "pupil_home_postcode" not in state.answers
    assert [o.kind for o in outbounds] == [OutKind.INVALID, OutKind.QUESTION]
    assert "9999 is geen Belgische postcode" in outbounds[0].text


def test_an_ambiguous_start_of_a_choice_is_refused() -> None:
    result = parse_answer(QUESTIONNAIRE.get("care_phase"), "ver", today=TODAY)  # unique: verhoogde zorg
    assert result == "verhoogde-zorg"
    ambiguous = parse_answer(QUESTIONNAIRE.get("problem_areas"), "s", today=TODAY)  # spijbelen, schoolmoeheid, socio-…
    assert isinstance(ambiguous, Invalid)


def test_control_characters_are_removed_from_text() -> None:
    assert parse_answer(QUESTIONNAIRE.get("help_request"), "lijn\x00 een\x07", today=TODAY) == "lijn een"


@settings(max_examples=300, deadline=None)
@given(question_index=st.integers(min_value=0, max_value=len(QUESTIONNAIRE.questions) - 1), typed=st.text(max_size=300))
def test_any_text_gives_a_value_or_a_dutch_reason(question_index: int, typed: str) -> None:
    question = QUESTIONNAIRE.questions[question_index]
    result = parse_answer(question, typed, today=TODAY)
    if isinstance(result, Invalid):
        assert result.reason.endswith("."), "a full Dutch sentence"
    else:
        assert result is not None and result != ""
