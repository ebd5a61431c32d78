"""Dialogue transcripts through the pure engine: what the person says, what the assistant answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from intake.catalogue_loader import load_catalogue
from intake.dialogue import DialogueState, Intake, Phase
from intake.messages import Inbound, OutKind
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)

# A complete referral in full mode, in the order the questions come.
FULL_REFERRAL = [
    ("1", "Wat is je naam?"),
    ("Els Janssens", "Bij welk CLB"),
    ("Vrij CLB Halle", "werkadres"),
    ("els.janssens@clb.example", "telefoonnummer"),
    ("02 123 45 67", "voornaam van de leerling"),
    ("Zoë", "achternaam"),
    ("Peeters", "geboortedatum"),
    ("14/03/2011", "postcode van de woonplaats"),
    ("1500", "ingeschreven in een school"),
    ("ja", "In welke school"),
    ("Sint-Jozefscollege", "postcode van de school"),
    ("1500 Halle", "onderwijsniveau"),
    ("secundair", "leerjaar"),
    ("2e jaar", "onderwijsvorm"),
    ("1", "fase van het zorgcontinuüm"),
    ("3", "samenspraak met de school"),
    ("ja", "akkoord"),
    ("ja", "leerling op de hoogte"),
    ("ja", "ouders op de hoogte"),
    ("ja", "probleemgebieden"),
    ("1, 3", "Beschrijf kort de hulpvraag"),
    ("Komt nog twee dagen per week naar school, conflicten met leerkrachten.", "vorm van ondersteuning"),
    ("1", "Waar zou het traject"),
    ("buiten", "voorkeur voor een bepaalde interventie"),
    ("overslaan", "Hoe dringend"),
    ("1", "Welke hulp of begeleiding was er al"),
    ("overslaan", "contactpersoon op school"),
    ("An Peeters, leerlingenbegeleider", "e-mailadres van die contactpersoon"),
    ("an.peeters@school.example", "bereikbaar"),
    ("overslaan", "Overzicht van je aanmelding"),
]


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(load_questionnaire(), load_catalogue())


def say(intake: Intake, state: DialogueState, text: str, minutes: int = 1) -> tuple[DialogueState, str]:
    """One turn: the engine's reply as one text."""
    state, outbounds = intake.step(state, Inbound.from_text(text), now=state.updated_at + timedelta(minutes=minutes))
    return state, "\n".join(o.text for o in outbounds)


def verify_dialog(intake: Intake, state: DialogueState, transcript: list[tuple[str, str]]) -> DialogueState:
    """Play a transcript; every reply must contain the expected words."""
    for said, expected in transcript:
        state, reply = say(intake, state, said)
        assert expected in reply, f"after {said!r} expected {expected!r} in:\n{reply}"
    return state


def started(intake: Intake, mode: Mode = Mode.FULL, prefill: dict | None = None) -> DialogueState:
    state, outbounds = intake.start(mode=mode, now=NOW, prefill=prefill)
    assert outbounds[-1].kind is OutKind.QUESTION
    return state


def test_full_referral_reaches_summary_and_is_confirmed(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL)
    assert state.phase is Phase.SUMMARY
    state, summary = intake.step(state, Inbound.from_text("overzicht"), now=NOW)
    text = summary[-1].text
    assert "Zoë" in text and "14/03/2011" in text and "Sint-Jozefscollege" in text
    assert "Ontvankelijkheid: Ontvankelijk" in text
    assert "Arktos" in text or "Groep Intro" in text  # NAFT in Asse-Halle-Vilvoorde
    state, reply = say(intake, state, "bevestig")
    assert state.phase is Phase.DONE
    assert state.answers["pupil_birth_date"] == "2011-03-14"
    assert state.answers["problem_areas"] == ["spijbelen", "gedrag"]
    assert "location_preference" in state.answers and "earlier_help" not in state.answers


@pytest.mark.parametrize(
    ("question_index", "wrong", "reason"),
    [
        (0, "7", "Kies een nummer van 1 tot 3"),
        (3, "els at clb", "geen geldig e-mailadres"),
        (4, "12", "telefoonnummer van 9 tot 15 cijfers"),
        (7, "31/02/2011", "bestaande datum"),
        (7, "01/01/2030", "in de toekomst"),
        (8, "Halle", "4 cijfers"),
        (9, "misschien", "ja of nee"),
        (20, "1, 42", "'42' is geen keuze"),
    ],
)
def test_wrong_answer_is_asked_again_with_the_reason(intake: Intake, question_index: int, wrong: str, reason: str) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:question_index])
    asked = state.current
    state, reply = say(intake, state, wrong)
    assert reason in reply
    assert state.current == asked, "the same question is asked again"
    prompt = intake.questionnaire.get(asked).prompt
    assert reply.index(reason) < reply.index(prompt), "the reason comes first, then the question again"


def test_going_back_asks_the_previous_question_and_forgets_its_answer(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:3])
    state, reply = say(intake, state, "terug")
    assert "Bij welk CLB" in reply
    assert "referrer_organisation" not in state.answers
    state, reply = say(intake, state, "/terug")
    assert "Wat is je naam?" in reply
    state, reply = say(intake, state, "Els De Smet")
    assert state.answers["referrer_name"] == "Els De Smet"


def test_back_on_the_first_question_says_so(intake: Intake) -> None:
    state, reply = say(intake, started(intake), "terug")
    assert "eerste vraag" in reply and "Wie doet deze aanmelding?" in reply


def test_correcting_from_the_summary_returns_to_the_summary(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL)
    state, reply = say(intake, state, "wijzig 2")
    assert "Wat is je naam?" in reply and "Vorig antwoord: Els Janssens" in reply
    state, reply = say(intake, state, "Els Vermeulen")
    assert state.phase is Phase.SUMMARY
    assert "Naam aanmelder: Els Vermeulen" in reply
    state, reply = say(intake, state, "wijzig 99")
    assert "van 1 tot" in reply


def test_changing_a_condition_asks_the_new_questions_and_drops_the_old(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL)
    number = [q.id for q in intake.applicable(state) if q.id in state.answers or q.id in state.skipped].index("pupil_enrolled") + 1
    state, _ = say(intake, state, f"wijzig {number}")
    state, reply = say(intake, state, "nee")
    assert "laatste school" in reply
    assert "school_name" not in state.answers and "school_contact_name" not in state.answers
    state, reply = say(intake, state, "overslaan")
    state, reply = say(intake, state, "overslaan")
    assert state.phase is Phase.SUMMARY
    assert "niet ingeschreven" in reply  # the flag for the coordinator
    assert "Ontvankelijk, met aandachtspunten" in reply


def test_conditional_questions_follow_earlier_answers(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:15])
    state, reply = say(intake, state, "3")  # uitbreiding van zorg
    state, reply = say(intake, state, "nee")  # not in consultation with the school
    assert "Let op: De aanmelding gebeurt niet in samenspraak met de school." in reply
    assert "leerling op de hoogte" in reply, "school_agrees is not asked when the school was not consulted"
    assert "school_agrees" not in {q.id for q in intake.applicable(state)}


def test_required_question_cannot_be_skipped(intake: Intake) -> None:
    state, reply = say(intake, started(intake), "overslaan")
    assert "verplicht" in reply and state.current == "referrer_role"


def test_cancel_forgets_the_answers(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:8])
    state, reply = say(intake, state, "annuleer")
    assert state.phase is Phase.CANCELLED and state.answers == {}
    assert "geannuleerd" in reply
    state, reply = say(intake, state, "1")
    assert "afgesloten" in reply


def test_pause_and_resume_after_a_week_from_the_saved_state(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:10])
    state, reply = say(intake, state, "pauze")
    assert "bewaard" in reply
    saved = state.model_dump_json()  # what the store keeps
    restored = DialogueState.model_validate_json(saved)
    resumed = "\n".join(o.text for o in intake.resume(restored))
    assert "Welkom terug" in resumed and "In welke school" in resumed
    restored, reply = say(intake, restored, "Sint-Jozefscollege", minutes=7 * 24 * 60)
    assert "postcode van de school" in reply


def test_help_explains_the_question_and_commands(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:15])
    state, reply = say(intake, state, "help")
    assert "uitbreiding van zorg" in reply and "wijzig N" in reply
    assert state.current == "care_phase"


def test_minimal_mode_asks_initials_and_birth_year_instead_of_identity(intake: Intake) -> None:
    state = started(intake, Mode.MINIMAL)
    asked = {q.id for q in intake.applicable(state)}
    assert {"pupil_initials", "pupil_birth_year"} <= asked
    assert not asked & {"pupil_first_name", "pupil_last_name", "pupil_birth_date"}
    state = verify_dialog(intake, state, [*FULL_REFERRAL[:4], ("02 123 45 67", "initialen")])
    state, reply = say(intake, state, "Zoë Peeters")
    assert "enkel de initialen" in reply
    state, reply = say(intake, state, "z.p.")
    assert state.answers["pupil_initials"] == "Z.P."
    state, reply = say(intake, state, "2011")
    assert state.answers["pupil_birth_year"] == 2011 and "postcode van de woonplaats" in reply


def test_details_mode_asks_only_identity_on_top_of_earlier_answers(intake: Intake) -> None:
    earlier = {"school_postcode": "3000", "pupil_enrolled": True, "pupil_initials": "Z.P.", "pupil_birth_year": 2011}
    state = started(intake, Mode.DETAILS, prefill=earlier)
    state = verify_dialog(intake, state, [("Zoë", "achternaam"), ("Peeters", "geboortedatum"), ("14/03/2011", "Overzicht")])
    assert state.answers["school_postcode"] == "3000" and state.answers["pupil_first_name"] == "Zoë"


def test_prefilled_staff_details_are_not_asked(intake: Intake) -> None:
    prefill = {"referrer_role": "clb", "referrer_name": "Els", "referrer_organisation": "CLB", "referrer_email": "e@clb.example"}
    state, outbounds = intake.start(mode=Mode.FULL, now=NOW, prefill=prefill)
    assert state.current == "referrer_phone"


def test_not_eligible_is_told_at_once_and_can_still_go_to_the_coordinator(intake: Intake) -> None:
    state = verify_dialog(intake, started(intake), FULL_REFERRAL[:15])
    state, reply = say(intake, state, "brede basiszorg")
    assert "Let op" in reply and "uitbreiding van zorg" in reply
    state = verify_dialog(intake, state, FULL_REFERRAL[16:])
    assert "Niet ontvankelijk via het Meldpunt" in "\n".join(o.text for o in intake.resume(state))
    state, reply = say(intake, state, "bevestig")
    assert state.phase is Phase.DONE


def test_commands_are_recognised_with_or_without_slash() -> None:
    assert Inbound.from_text("/terug").command == "terug"
    assert Inbound.from_text("Overslaan").command == "overslaan"
    assert Inbound.from_text("wijzig 3").argument == "3"
    assert Inbound.from_text("/help@meldpunt_bot").command == "help"
    assert Inbound.from_text("stop met school").command is None  # an answer, not a command
