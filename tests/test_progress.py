"""Progress in every channel: "vraag N van M" grows only when an answer adds questions, and says so."""

from __future__ import annotations

from datetime import UTC, datetime

from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake, in_mode
from intake.messages import Inbound
from intake.progress import added_by_previous, asked_count
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _before_enrolment(intake: Intake) -> dict[str, object]:
    """Dummy answers to every full-mode question before "is the pupil enrolled?"."""
    ids = [q.id for q in intake.questionnaire.questions if in_mode(q, Mode.FULL)]
    typical = {"referrer_role": "clb", "pupil_birth_date": "2011-04-03", "pupil_birth_year": 2011}
    return {key: typical.get(key, "1500" if key.endswith("postcode") else "x") for key in ids[: ids.index("pupil_enrolled")]}


def test_an_answer_that_adds_questions_says_how_many_in_the_next_question() -> None:
    intake = Intake(load_questionnaire(), load_catalogue())
    state, shown = intake.start(mode=Mode.FULL, now=NOW, prefill=_before_enrolment(intake))
    assert "erbij" not in shown[-1].text and state.current == "pupil_enrolled"
    before = asked_count(intake.questionnaire.questions, state.answers, asks=lambda q: in_mode(q, Mode.FULL))
    state, shown = intake.step(state, Inbound.from_text("ja"), now=NOW)
    after = asked_count(intake.questionnaire.questions, state.answers, asks=lambda q: in_mode(q, Mode.FULL))
    assert after > before
    assert f"van {after} · {after - before} vragen erbij door je vorige antwoord]" in shown[-1].text
    state, shown = intake.step(state, Inbound.from_text("Sint-Jozefscollege"), now=NOW)
    assert "erbij" not in shown[-1].text, "the next question counts on without a note"


def test_a_question_being_corrected_carries_no_note() -> None:
    intake = Intake(load_questionnaire(), load_catalogue())
    state, _ = intake.start(mode=Mode.FULL, now=NOW, prefill=_before_enrolment(intake))
    state, _ = intake.step(state, Inbound.from_text("ja"), now=NOW)
    asks = lambda q: in_mode(q, Mode.FULL)  # noqa: E731
    assert added_by_previous(intake.questionnaire.questions, state.answers, state.history, asks=asks) > 0
    assert added_by_previous(intake.questionnaire.questions, state.answers, (), asks=asks) == 0
    state, shown = intake.step(state, Inbound.from_text("terug"), now=NOW)
    assert state.current == "pupil_enrolled" and "erbij" not in shown[-1].text
