"""The referral form by mail: rendering, parsing filled-in forms, and reading real-looking mails."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.questionnaire import Questionnaire, load_questionnaire
from intake.vocabulary import Mode
from mail.body import history_start, strip_history
from mail.form import MARK, FormResult, all_text, body_text, parse_form, render_form

TODAY = date(2026, 11, 18)
FIXTURES = Path(__file__).parent / "mail_fixtures" / "form"

# What a CLB staff member types after each label of a blank full form (pupil enrolled, individual).
FILLED = {
    "Aanmelder is": "1",
    "Naam aanmelder": "Els Janssens",
    "CLB of organisatie": "Vrij CLB Halle",
    "E-mail aanmelder": "els.janssens@vrijclbhalle.be",
    "Telefoon aanmelder": "02 356 12 80",
    "Voornaam leerling": "Zoë",
    "Achternaam leerling": "Peeters",
    "Geboortedatum leerling": "14/03/2011",
    "Postcode woonplaats leerling": "1502",
    "Ingeschreven in een school": "ja",
    "Naam school": "Sint-Jozefscollege",
    "Postcode school": "1502",
    "Onderwijsniveau": "secundair",
    "Leerjaar": "3e jaar",
    "Onderwijsvorm": "5",
    "Fase in het zorgcontinuüm": "3",
    "Overlegd met de school": "ja",
    "School akkoord": "ja",
    "Leerling geïnformeerd": "ja",
    "Ouders geïnformeerd": "nee",
    "Probleemgebieden": "1, 3",
    "Hulpvraag": "Komt nog twee dagen per week naar school.",
    "Gewenste vorm": "Individueel traject",
    "Plaats": "2",
    "Dringendheid": "dringend",
    "Contactpersoon school": "An Claes, leerlingenbegeleider",
    "E-mail contactpersoon school": "an.claes@sjc-lembeek.be",
}
EXPECTED = {
    "referrer_role": "clb",
    "referrer_name": "Els Janssens",
    "referrer_organisation": "Vrij CLB Halle",
    "referrer_email": "els.janssens@vrijclbhalle.be",
    "referrer_phone": "02 356 12 80",
    "pupil_first_name": "Zoë",
    "pupil_last_name": "Peeters",
    "pupil_birth_date": "2011-03-14",
    "pupil_home_postcode": "1502",
    "pupil_enrolled": True,
    "school_name": "Sint-Jozefscollege",
    "school_postcode": "1502",
    "school_level": "secundair",
    "school_year": "3e jaar",
    "education_form": "arbeidsmarkt",
    "care_phase": "uitbreiding-van-zorg",
    "school_consulted": True,
    "school_agrees": True,
    "pupil_informed": True,
    "parents_informed": False,
    "problem_areas": ["spijbelen", "gedrag"],
    "help_request": "Komt nog twee dagen per week naar school.",
    "desired_form": "individueel",
    "location_preference": "buiten-school",
    "urgency": "dringend",
    "school_contact_name": "An Claes, leerlingenbegeleider",
    "school_contact_email": "an.claes@sjc-lembeek.be",
}


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    """The questionnaire with the catalogue's interventions as choices."""
    return Intake(load_questionnaire(), load_catalogue()).questionnaire


def fill(form: str, values: dict[str, str]) -> str:
    """Type each value after its label, as a person does in a mail client."""
    lines = []
    for line in form.splitlines():
        label = line.rstrip().removesuffix(":")
        lines.append(f"{label}: {values[label]}" if label in values and line.rstrip().endswith(":") else line)
    return "\n".join(lines)


def parse(text: str, questionnaire: Questionnaire, mode: Mode = Mode.FULL) -> FormResult:
    """parse_form with the test's clock."""
    return parse_form(text, questionnaire, mode=mode, today=TODAY)


def load_mail(name: str) -> EmailMessage:
    """A fixture mail, parsed as the mail intake does."""
    message = email.message_from_bytes((FIXTURES / name).read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def problems(result: FormResult) -> dict[str, tuple[str, str]]:
    """The problems by question id: what was received and why it is refused."""
    return {p.question_id: (p.received, p.reason) for p in result.problems}


def label_lines(form: str) -> list[str]:
    """The label of every question line in a rendered form."""
    lines = form.splitlines()
    questions = lines[next(i for i, line in enumerate(lines) if line.startswith("===")):]
    return [line.split(":")[0] for line in questions if ":" in line and not line.startswith((" ", "==="))]


# --- rendering ------------------------------------------------------------------------------


def test_blank_full_form_lists_every_full_question_by_section(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire, reference="MSI-2026-0042")
    assert form.splitlines()[1] == "Referentie: MSI-2026-0042"
    full = [q.label for q in questionnaire.questions if not q.minimal_only]
    assert [line for line in label_lines(form) if line in full] == full
    assert "Initialen leerling" not in form
    sections = [line for line in form.splitlines() if line.startswith("===")]
    assert sections[:2] == ["=== Aanmelder ===", "=== Leerling ==="]
    assert sections[-1] == "=== Einde van het formulier ==="


def test_choices_are_numbered_and_optional_and_conditional_questions_say_so(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire)
    level = form[form.index("Onderwijsniveau:"):form.index("Leerjaar:")]
    assert f"  {MARK} 1. Secundair onderwijs" in level and f"  {MARK} 2. Basisonderwijs" in level
    last_school = form[form.index("Laatste school:"):form.index("Postcode laatste school:")]
    assert f'{MARK} Enkel invullen als "Ingeschreven in een school" = nee.' in last_school
    assert f"{MARK} Mag leeg blijven." in last_school
    place = form[form.index("Plaats:"):form.index("Voorkeur interventie:")]
    assert '"Gewenste vorm" = Individueel traject' in place
    assert f"{MARK} 12. Zorgboerderij via Groene Zorg" in form


def test_every_note_line_is_marked_and_short(questionnaire: Questionnaire) -> None:
    # Mail clients re-wrap long lines; a re-wrapped half of a note would lose its mark.
    for mode in Mode:
        lines = render_form(questionnaire, mode=mode).splitlines()
        questions = lines[next(i for i, line in enumerate(lines) if line.startswith("===")):]
        assert all(len(line) <= 72 for line in lines)
        assert all(line.startswith(f"  {MARK} ") for line in questions if line.startswith(" "))


def test_no_reference_line_without_a_reference(questionnaire: Questionnaire) -> None:
    assert "Referentie" not in render_form(questionnaire)


def test_minimal_mode_has_no_name_or_birth_date_lines(questionnaire: Questionnaire) -> None:
    labels = label_lines(render_form(questionnaire, mode=Mode.MINIMAL))
    assert "Initialen leerling" in labels and "Geboortejaar leerling" in labels
    for identifying in ("Voornaam leerling", "Achternaam leerling", "Geboortedatum leerling"):
        assert identifying not in labels


def test_details_mode_asks_only_the_identity(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire, mode=Mode.DETAILS, reference="MSI-2026-0042")
    assert label_lines(form) == ["Voornaam leerling", "Achternaam leerling", "Geboortedatum leerling"]


def test_prefilled_form_shows_known_answers_and_drops_branches_that_cannot_apply(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire, answers={**EXPECTED, "preferred_intervention": "tryout"})
    assert "Geboortedatum leerling: 14/03/2011" in form
    assert "Ingeschreven in een school: ja" in form
    assert "Probleemgebieden: Spijbelen of schoolverzuim, Gedragsproblemen op school" in form
    assert "Voorkeur interventie: TryOut (Alba)" in form
    assert "Laatste school:" not in form  # enrolled is known: that branch cannot apply


# --- parsing ----------------------------------------------------------------------------------


def test_round_trip_blank_form_filled_in_is_complete(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire, reference="MSI-2026-0042")
    result = parse(fill(form, FILLED), questionnaire)
    assert result.problems == ()
    assert result.complete
    assert result.answers == EXPECTED
    assert result.reference == "MSI-2026-0042"
    assert result.labels_found == len([q for q in questionnaire.questions if not q.minimal_only])


def test_blank_form_has_no_answers_only_missing_required_ones(questionnaire: Questionnaire) -> None:
    result = parse(render_form(questionnaire), questionnaire)
    assert result.answers == {}
    assert not result.complete
    assert {p.reason for p in result.problems} == {"ontbreekt"}
    missing = {p.question_id for p in result.problems}
    assert "referrer_name" in missing and "preferred_intervention" not in missing
    assert "school_name" not in missing  # depends on an answer not given yet


@pytest.mark.parametrize("mode", list(Mode))
def test_prefilled_answers_read_back_unchanged(questionnaire: Questionnaire, mode: Mode) -> None:
    answers = {**EXPECTED, "problem_areas": ["schoolmoeheid", "middelen"], "preferred_intervention": "reisburo-roulot",
               "earlier_help": "CLB-begeleiding,\nook een time-out.", "pupil_initials": "Z.P.", "pupil_birth_year": 2011}
    result = parse(render_form(questionnaire, answers=answers, mode=mode), questionnaire, mode)
    assert result.complete, result.problems
    in_mode = {q.id for q in questionnaire.questions if q.id in answers} & set(result.answers)
    assert result.answers == {k: answers[k] for k in in_mode}


def test_prefilled_form_only_needs_what_is_missing(questionnaire: Questionnaire) -> None:
    known = {k: v for k, v in EXPECTED.items() if k not in ("school_postcode", "help_request")}
    form = render_form(questionnaire, answers=known, reference="MSI-2026-0042")
    before = parse(form, questionnaire)
    assert [(p.question_id, p.reason) for p in before.problems] == [("school_postcode", "ontbreekt"), ("help_request", "ontbreekt")]
    after = parse(fill(form, {"Postcode school": "1502", "Hulpvraag": "Spijbelt sinds oktober."}), questionnaire)
    assert after.complete
    assert after.answers == {**EXPECTED, "help_request": "Spijbelt sinds oktober."}


def test_labels_match_whatever_the_case_accents_spacing_or_colon(questionnaire: Questionnaire) -> None:
    text = (
        "NAAM AANMELDER: Els Janssens\n"
        "leerling   geinformeerd : ja\n"
        "Fase in het ZORGCONTINUUM:uitbreiding van zorg\n"
        "  **E-mail  aanmelder** :  els@vrijclbhalle.be\n"
        "3. Telefoon aanmelder: 02 356 12 80\n"
        "Email contactpersoon school: an@school.be\n"
        "Ouders geïnformeerd\n"
        "nee"
    )
    result = parse(text, questionnaire)
    assert result.answers == {
        "referrer_name": "Els Janssens", "referrer_email": "els@vrijclbhalle.be",
        "referrer_phone": "02 356 12 80", "care_phase": "uitbreiding-van-zorg",
        "pupil_informed": True, "parents_informed": False,
        "school_contact_email": "an@school.be",  # kept: whether it applies is not known yet
    }
    assert result.labels_found == 7


def test_an_answer_may_span_several_lines(questionnaire: Questionnaire) -> None:
    text = (
        "Hulpvraag: Zoë komt nog twee dagen per week naar school.\n"
        "Er zijn conflicten met leerkrachten.\n"
        "\n"
        "Thuis loopt het ook moeilijk: er is een nieuwe partner.\n"
        "  ↳ Schrijf geen namen of andere gegevens die de leerling\n"
        "\n"
        "Probleemgebieden: 1,\n"
        "3\n"
        "Eerdere hulp:\n"
        "Begeleiding door het CLB.\n"
    )
    answers = parse(text, questionnaire).answers
    assert answers["help_request"] == (
        "Zoë komt nog twee dagen per week naar school.\nEr zijn conflicten met leerkrachten.\n\n"
        "Thuis loopt het ook moeilijk: er is een nieuwe partner."
    )
    assert answers["problem_areas"] == ["spijbelen", "gedrag"]
    assert answers["earlier_help"] == "Begeleiding door het CLB."


def test_a_greeting_after_the_last_answer_is_not_part_of_it(questionnaire: Questionnaire) -> None:
    text = "Naam school: Sint-Jozefscollege\nLeerjaar: 3e jaar\n\nMet vriendelijke groeten,\nEls Janssens\nVrij CLB Halle"
    answers = parse(text, questionnaire).answers
    assert answers["school_name"] == "Sint-Jozefscollege" and answers["school_year"] == "3e jaar"
    short = parse("Postcode school: 1502\n\nEls Janssens\nVrij CLB Halle", questionnaire).answers
    assert short["school_postcode"] == "1502"


@pytest.mark.parametrize(
    ("label", "typed", "expected"),
    [
        ("Aanmelder is", "1", "clb"),
        ("Aanmelder is", "CLB-medewerker", "clb"),
        ("Aanmelder is", "2. Ouder", "ouder"),
        ("Aanmelder is", "ouder.", "ouder"),
        ("Onderwijsvorm", "A-stroom (1e graad)", "a-stroom"),
        ("Onderwijsvorm", "arbeidsmarktfinaliteit", "arbeidsmarkt"),
        ("Dringendheid", "Zeer dringend", "zeer-dringend"),
        ("Voorkeur interventie", "12", "groene-zorg"),
        ("Voorkeur interventie", "TryOut", "tryout"),
        ("Probleemgebieden", "1, 3", ["spijbelen", "gedrag"]),
        ("Probleemgebieden", "Schoolmoeheid, weinig motivatie; 8", ["schoolmoeheid", "middelen"]),
        ("Probleemgebieden", "spijbelen en middelengebruik", ["spijbelen", "middelen"]),
    ],
)
def test_choices_by_number_or_by_text(questionnaire: Questionnaire, label: str, typed: str, expected: Any) -> None:
    question = next(q for q in questionnaire.questions if q.label == label)
    assert parse(f"{label}: {typed}", questionnaire).answers[question.id] == expected


def test_invalid_values_are_reported_with_what_was_received(questionnaire: Questionnaire) -> None:
    text = (
        "Geboortedatum leerling: 31/02/2011\n"
        "Postcode school: Halle\n"
        "E-mail aanmelder: els at clb\n"
        "Aanmelder is: 7\n"
        "Overlegd met de school: misschien\n"
        "Naam aanmelder: Els Janssens"
    )
    result = parse(text, questionnaire)
    found = problems(result)
    assert found["pupil_birth_date"] == ("31/02/2011", "Geef een bestaande datum als dd/mm/jjjj, bijvoorbeeld 14/03/2011.")
    assert found["school_postcode"] == ("Halle", "Een Belgische postcode heeft 4 cijfers, bijvoorbeeld 1500 of 3000.")
    assert found["referrer_email"] == ("els at clb", "Dat is geen geldig e-mailadres, bijvoorbeeld naam@clb.be.")
    assert found["referrer_role"] == ("7", "Kies een nummer van 1 tot 3, of typ de naam van een keuze.")
    assert found["school_consulted"] == ("misschien", "Antwoord met ja of nee.")
    assert result.answers == {"referrer_name": "Els Janssens"}
    labels = {p.question_id: p.label for p in result.problems}
    assert labels["pupil_birth_date"] == "Geboortedatum leerling"
    assert not result.complete


def test_an_answer_to_a_question_that_does_not_apply_is_ignored(questionnaire: Questionnaire) -> None:
    text = (
        "Ingeschreven in een school: nee\n"
        "Naam school: Sint-Jozefscollege\n"
        "Postcode school: ???\n"
        "Laatste school: Sint-Victorinstituut\n"
        "Postcode laatste school: -\n"
        "Overlegd met de school: nee\n"
        "School akkoord: misschien\n"
        "Gewenste vorm: klastraject\n"
        "Plaats: op de maan"
    )
    result = parse(text, questionnaire)
    assert result.answers == {
        "pupil_enrolled": False, "last_school_name": "Sint-Victorinstituut",
        "school_consulted": False, "desired_form": "klas",
    }
    ids = {p.question_id for p in result.problems}
    assert ids.isdisjoint({"school_name", "school_postcode", "school_agrees", "location_preference",
                           "school_contact_name", "last_school_postcode"})


def test_dash_overslaan_and_empty_mean_unanswered(questionnaire: Questionnaire) -> None:
    text = "Eerdere hulp: -\nVoorkeur interventie: overslaan\nLeerjaar:\nNaam school: —"
    result = parse(text, questionnaire)
    assert result.answers == {}
    assert {"school_year"} <= {p.question_id for p in result.problems if p.reason == "ontbreekt"}
    assert "earlier_help" not in problems(result) and "preferred_intervention" not in problems(result)


def test_the_first_answer_wins_when_a_label_comes_twice(questionnaire: Questionnaire) -> None:
    # The newest text is on top of a reply; the quoted older form below must not override it.
    text = "Leerjaar: 4e jaar\n\nOp ma 16 nov. 2026 om 10:02 schreef Els:\n> Leerjaar: 3e jaar\n> Naam school: -\n"
    assert parse(text, questionnaire).answers == {"school_year": "4e jaar"}


def test_minimal_mode_ignores_the_pupils_name(questionnaire: Questionnaire) -> None:
    form = render_form(questionnaire, mode=Mode.MINIMAL)
    values = {k: v for k, v in FILLED.items() if k not in ("Voornaam leerling", "Achternaam leerling", "Geboortedatum leerling")}
    values |= {"Initialen leerling": "Z.P.", "Geboortejaar leerling": "2011"}
    text = fill(form, values) + "\nVoornaam leerling: Zoë\nGeboortedatum leerling: 14/03/2011\n"
    result = parse(text, questionnaire, Mode.MINIMAL)
    assert result.complete, result.problems
    assert "pupil_first_name" not in result.answers and "pupil_birth_date" not in result.answers
    assert result.answers["pupil_initials"] == "Z.P." and result.answers["pupil_birth_year"] == 2011


def test_reference_is_found_anywhere_in_any_case(questionnaire: Questionnaire) -> None:
    assert parse("Zie aanmelding msi-2026-0042 van gisteren.", questionnaire).reference == "MSI-2026-0042"
    assert parse("Nummer MSI-26-42", questionnaire).reference is None


def test_notes_survive_a_mail_client_that_lost_the_mark(questionnaire: Questionnaire) -> None:
    text = "Leerjaar: 3e jaar\n  ? Bijvoorbeeld \"2e jaar\" of \"5e leerjaar\".\nâ†³ Kies een nummer:\nOnderwijsvorm: 5"
    assert parse(text, questionnaire).answers == {"school_year": "3e jaar", "education_form": "arbeidsmarkt"}


# --- mails --------------------------------------------------------------------------------------


def test_outlook_html_in_windows_1252_answered_inside_the_quoted_form(questionnaire: Questionnaire) -> None:
    message = load_mail("outlook_html_cp1252.eml")
    new = body_text(message)
    assert new.startswith("Dag Meldpunt,")
    assert new.endswith("Trajectbegeleider – Vrij CLB Halle")
    assert "Verzonden" not in new and "&nbsp;" not in new and "MsoNormal" not in new
    assert parse(new, questionnaire).labels_found == 0
    result = parse(all_text(message), questionnaire)
    assert result.reference == "MSI-2026-0042"
    assert result.answers["pupil_first_name"] == "Zoë"
    assert result.answers["referrer_phone"] == "02 356 12 80"
    assert result.answers["help_request"].endswith("– vooral in de lessen wiskunde – en thuis loopt het moeilijk.")
    assert result.answers["earlier_help"].endswith("de leerling’s mentor volgt haar op.")
    assert problems(result) == {
        "education_form": ("BSO", "Kies een nummer van 1 tot 9, of typ de naam van een keuze."),
        "preferred_intervention": ("Arktos", "Kies een nummer van 1 tot 12, of typ de naam van een keuze."),
    }


def test_gmail_plain_reply_keeps_only_the_new_text(questionnaire: Questionnaire) -> None:
    message = load_mail("gmail_plain_reply.eml")
    new = body_text(message)
    assert new.splitlines()[0] == "Dag Meldpunt,"
    assert new.splitlines()[-2:] == ["Met vriendelijke groeten,", "Els"]
    assert "schreef" not in new and "Referentie" not in new and "<div" not in new
    result = parse(new, questionnaire, Mode.DETAILS)
    assert result.complete
    assert result.answers == {"pupil_first_name": "Zoë", "pupil_last_name": "Peeters", "pupil_birth_date": "2011-03-14"}
    assert parse(all_text(message), questionnaire, Mode.DETAILS).reference == "MSI-2026-0042"


def test_forwarded_form_is_read_from_the_whole_text(questionnaire: Questionnaire) -> None:
    message = load_mail("forwarded.eml")
    new = body_text(message)
    assert new.endswith("Groeten,\nEls")
    assert parse(new, questionnaire).labels_found == 0
    result = parse(all_text(message), questionnaire)
    assert result.complete, result.problems
    assert result.answers["pupil_enrolled"] is False
    assert result.answers["last_school_name"] == "Sint-Victorinstituut"
    assert "last_school_postcode" not in result.answers
    assert result.answers["desired_form"] == "time-out" and "location_preference" not in result.answers
    assert result.answers["problem_areas"] == ["spijbelen", "perspectief"]
    assert result.answers["help_request"].endswith("hij opnieuw een ritme kan opbouwen.")
    assert "earlier_help" not in result.answers  # "-", then a greeting and a signature


def test_forward_as_attachment_is_in_the_whole_text(questionnaire: Questionnaire) -> None:
    message = load_mail("forward_as_attachment.eml")
    assert body_text(message) == "Zie bijlage: de gegevens van de leerling, ingevuld door de school."
    result = parse(all_text(message), questionnaire, Mode.DETAILS)
    assert result.complete
    assert result.answers["pupil_first_name"] == "Zoë"  # ISO-8859-1 quoted-printable in the attached mail


def test_base64_body_with_dutch_accents(questionnaire: Questionnaire) -> None:
    new = body_text(load_mail("base64_accents.eml"))
    for word in ("Noël", "Desmet-Geërts", "één", "naïeve", "zorgcoördinator"):
        assert word in new
    result = parse(new, questionnaire)
    assert result.complete, result.problems
    assert result.answers["pupil_last_name"] == "Desmet-Geërts"
    assert result.answers["problem_areas"] == ["schoolmoeheid", "socio-emotioneel"]
    assert result.answers["earlier_help"] == "Twee gesprekken met de CLB-psycholoog; naïeve aanpak\nvia de klassenraad werkte niet."


def test_form_answered_inline_in_the_quoted_part(questionnaire: Questionnaire) -> None:
    message = load_mail("inline_answers.eml")
    new = body_text(message)
    assert new == "Beste,\n\nIk heb de antwoorden tussen de vragen gezet.\n\nGroeten,\nEls"
    assert parse(new, questionnaire).labels_found == 0
    whole = all_text(message)
    assert "> " not in whole
    result = parse(whole, questionnaire)
    assert result.complete, result.problems
    assert result.reference == "MSI-2026-0042"
    assert result.answers["referrer_email"] == "els.janssens@vrijclbhalle.be"
    assert result.answers["help_request"].count("\n") == 2
    assert result.answers["earlier_help"] == (
        "Begeleiding door het CLB sinds september, twee gesprekken met de\nleerlingenbegeleider."
    )
    assert "preferred_intervention" not in result.answers and "school_contact_phone" not in result.answers


def _plain(body: bytes, charset: str) -> EmailMessage:
    """A one-part text/plain mail with these raw 8-bit bytes under this declared charset."""
    head = f"From: a@b.be\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit\n\n"
    message = email.message_from_bytes(head.encode() + body, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_wrong_or_unknown_charset_does_not_crash() -> None:
    assert body_text(_plain("Naam: Zoë".encode("latin-1"), "utf-8")) == "Naam: Zo\ufffd"
    assert body_text(_plain("Naam: Zoë".encode("latin-1"), "x-klingon")) == "Naam: Zoë"
    assert body_text(_plain("Naam: Zoë".encode(), "x-klingon")) == "Naam: Zoë"
    assert body_text(_plain("Naam: “Zoë”".encode("cp1252"), "iso-8859-1")) == "Naam: “Zoë”"


def test_html_is_used_when_the_plain_part_is_empty() -> None:
    message = EmailMessage()
    message.set_content("\n")
    message.add_alternative("<p class=MsoNormal>Leerjaar:&nbsp;3e jaar</p><p>1. eerste&nbsp;punt</p>", subtype="html")
    assert body_text(message) == "Leerjaar: 3e jaar\n1. eerste punt"


@pytest.mark.parametrize(
    "history",
    [
        "-----Original Message-----\nFrom: Meldpunt\nSent: Monday",
        "-----Oorspronkelijk bericht-----\nVan: Meldpunt",
        "________________________________\nVan: Meldpunt <m@x.be>\nVerzonden: maandag 16 november 2026 10:02\nAan: Els",
        "From: Meldpunt <m@x.be>\nSent: Monday, November 16, 2026 10:02 AM\nTo: Els",
        "On Mon, Nov 16, 2026 at 10:02 AM Meldpunt <m@x.be> wrote:\n> Leerjaar:",
        "Op 16 nov. 2026, om 10:02 heeft Meldpunt <m@x.be> het volgende geschreven:\n\n> Leerjaar:",
        "---------- Forwarded message ---------\nFrom: Jan",
        "-- \nEls Janssens\nVrij CLB Halle",
    ],
)
def test_history_and_signature_are_cut(history: str) -> None:
    assert strip_history(f"Leerjaar: 3e jaar\n\n{history}\nLeerjaar: 5e jaar") == "Leerjaar: 3e jaar"


def test_ordinary_sentences_are_not_taken_for_history() -> None:
    text = "Op school schreef de mentor het volgende:\nVan: maandag tot woensdag afwezig.\nLeerjaar: 3e jaar"
    assert history_start(text.splitlines()) == 3
    assert strip_history("a\n> quoted\nb") == "a\nb"


# --- never crash ------------------------------------------------------------------------------

_FORM_PIECES = st.sampled_from([
    "Naam aanmelder:", "Hulpvraag: ", "Probleemgebieden: 1,", "Ingeschreven in een school: nee", "Plaats:",
    "  ↳ Kies een nummer:", "=== Einde van het formulier ===", "> ", "-- ", "Op ma 16 nov. 2026 om 10:02 schreef X <a@b>:",
    "Geboortedatum leerling: 31/02/2011", "Voorkeur interventie: 1, 2", "MSI-2026-0042", "", "\n", ":", "Groeten",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.lists(st.one_of(_FORM_PIECES, st.text(max_size=20))).map("\n".join)))
def test_parse_form_never_crashes(questionnaire: Questionnaire, text: str) -> None:
    for mode in Mode:
        result = parse(text, questionnaire, mode)
        assert result.complete == (not result.problems)


_MAIL_HEADS = st.sampled_from([
    b"",
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n",
    b"Content-Type: text/html; charset=x-unknown\nContent-Transfer-Encoding: quoted-printable\n\n",
    b'Content-Type: multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/html\n\n',
    b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: message/rfc822\n\n',
    b"Content-Type: text/plain; charset*=utf-8''%ZZ\n\n",
])


@settings(max_examples=300, deadline=None)
@given(_MAIL_HEADS, st.binary(max_size=2000))
def test_body_text_never_crashes(head: bytes, data: bytes) -> None:
    message = email.message_from_bytes(head + data, policy=email.policy.default)
    assert isinstance(body_text(message), str)  # type: ignore[arg-type]
    assert isinstance(all_text(message), str)  # type: ignore[arg-type]


_MIME_LINE = st.tuples(
    st.sampled_from([b"Content-Type: ", b"Content-Transfer-Encoding: ", b"Content-Disposition: ", b"--b", b""]),
    st.sampled_from([b"text/plain", b"text/html", b"multipart/mixed; boundary=b", b"message/rfc822", b"base64",
                     b"quoted-printable", b"x-uuencode", b"attachment", b"text/plain; charset=utf-16", b"text/plain; charset=\"\""]),
    st.binary(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_MIME_LINE, max_size=20))
def test_body_text_never_crashes_on_broken_mime(lines: list[tuple[bytes, bytes, bytes]]) -> None:
    data = b"\n".join(head + value + b"\n" + rest for head, value, rest in lines)
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(body_text(message), str)  # type: ignore[arg-type]
    assert isinstance(all_text(message), str)  # type: ignore[arg-type]
