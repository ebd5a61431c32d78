"""The pure rules of the figures (intake/figures.py): decline reasons from a provider's note, names and years, the pupil key."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.figures import DeclineReason, FigureFacts, classify_decline, normalise_grade, normalise_name, pupil_key
from intake.retention import school_year_of
from tests.test_parsers_linear import cpu_guard

R = DeclineReason
FULL = {"pupil_first_name": "Zoë", "pupil_last_name": "Van Acker", "pupil_birth_date": "2011-03-14"}
MINIMAL = {"pupil_initials": "Z.V.A.", "pupil_birth_year": 2011, "school_postcode": "1500"}


@pytest.mark.parametrize(("note", "reason"), [
    ("geen plaats", R.VOLZET),
    ("We zitten momenteel VOLZET, wachtlijst tot januari.", R.VOLZET),
    ("Helaas: onze capaciteit is bereikt", R.VOLZET),
    ("we zitten vol", R.VOLZET),
    ("Geen plek meer dit schooljaar", R.VOLZET),
    ("Buiten ons werkgebied (Leuven).", R.BUITEN_REGIO),
    ("De school ligt te ver voor onze begeleiders", R.BUITEN_REGIO),
    ("Niet in onze regio", R.BUITEN_REGIO),
    ("Past niet bij ons aanbod", R.BUITEN_DOELGROEP),
    ("buiten de doelgroep", R.BUITEN_DOELGROEP),
    ("Problematiek te zwaar, eerder psychiatrische zorg nodig", R.BUITEN_DOELGROEP),
    ("leerling is te jong voor ons traject", R.BUITEN_DOELGROEP),
    ("De leerling wil niet", R.LEERLING_OF_GEZIN),
    ("Ouders weigeren de begeleiding", R.LEERLING_OF_GEZIN),
    ("Gezin niet bereikbaar na drie pogingen", R.LEERLING_OF_GEZIN),
    ("[naam] is niet komen opdagen op het intakegesprek", R.LEERLING_OF_GEZIN),
    ("Geen motivatie bij de jongere", R.LEERLING_OF_GEZIN),
    ("De ouders willen niet, en we zitten ook vol", R.LEERLING_OF_GEZIN),  # the reason named first
    ("volgende week bellen we terug", R.ANDERE),  # "volgende" is not "vol"
    ("voldoende besproken met de school", R.ANDERE),
    ("zie mail", R.ANDERE),
    ("", R.ANDERE),
    (None, R.ANDERE),
])
def test_a_provider_s_note_gets_the_reason_it_names(note: str | None, reason: DeclineReason) -> None:
    assert classify_decline(note) is reason


@pytest.mark.parametrize("hostile", [
    "vol" + "z" * 99_997,  # one word as long as the note, a prefix phrase tried on it
    "geen " * 20_000,  # every word the start of a phrase that never ends
    "past " * 20_000,
    "a" * 100_000,
    ("wil " * 10_000 + "niet")[:100_000],
])
def test_a_hostile_note_of_100_000_characters_is_read_in_one_pass(hostile: str) -> None:
    with cpu_guard(10.0):  # stops a super-linear classifier instead of hanging the run; no time is asserted
        reason = classify_decline(hostile)
    assert reason in set(DeclineReason)
    assert classify_decline(hostile + " wachtlijst") in (reason, R.VOLZET)


def test_every_reason_has_a_dutch_label_and_fits_its_column() -> None:
    assert [r.value for r in DeclineReason] == ["volzet", "buiten-regio", "buiten-doelgroep", "leerling-of-gezin", "andere"]
    assert all(r.label and len(r.value) <= 32 for r in DeclineReason)


@pytest.mark.parametrize(("written", "grouped"), [
    ("  sint-jozefscollege   ", "Sint-Jozefscollege"),
    ("SINT-JOZEFSCOLLEGE", "Sint-Jozefscollege"),
    ("vrij clb   halle", "Vrij CLB Halle"),
    ("GO! atheneum Halle", "GO! Atheneum Halle"),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_school_and_clb_names_are_grouped_however_they_were_typed(written: str | None, grouped: str | None) -> None:
    assert normalise_name(written) == grouped


@pytest.mark.parametrize(("answer", "grade"), [
    ("3de jaar", "3"), ("2e jaar", "2"), ("1ste middelbaar", "1"), ("5e leerjaar", "5"), ("derde jaar", "3"), ("7", "7"),
    ("zevende", "7"), ("Se-n-Se", None), ("12de", None), ("0", None), ("", None), (None, None), ("9" * 5000, None),
])
def test_the_pupil_s_year_is_one_digit(answer: str | None, grade: str | None) -> None:
    assert normalise_grade(answer) == grade


def test_the_same_pupil_is_one_key_however_the_name_is_written() -> None:
    secret = b"geheim"
    same = {**FULL, "pupil_first_name": "ZOE", "pupil_last_name": "van-acker"}
    assert pupil_key(FULL, secret) == pupil_key(same, secret) == pupil_key({**FULL, "school_name": "Ander"}, secret)
    assert pupil_key(FULL, secret) != pupil_key({**FULL, "pupil_birth_date": "2011-03-15"}, secret)
    assert pupil_key(FULL, secret) != pupil_key({**FULL, "pupil_first_name": "Lotte"}, secret)


def test_another_secret_gives_another_key_and_the_key_shows_no_name() -> None:
    key = pupil_key(FULL, b"geheim")
    assert key is not None and key != pupil_key(FULL, b"ander geheim")
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    assert "acker" not in key and "2011" not in key


def test_minimal_mode_has_its_own_key_and_too_little_gives_none() -> None:
    secret = b"geheim"
    assert pupil_key(MINIMAL, secret) not in (None, pupil_key(FULL, secret))
    assert pupil_key({**MINIMAL, "pupil_initials": "zva"}, secret) == pupil_key(MINIMAL, secret)
    assert pupil_key({"pupil_first_name": "Zoë", "pupil_last_name": "Van Acker"}, secret) is None, "no birth date"
    assert pupil_key({k: v for k, v in MINIMAL.items() if k != "school_postcode"}, secret) is None
    assert pupil_key({}, secret) is None


def test_the_school_year_starts_on_the_first_of_september() -> None:
    assert [school_year_of(date(2026, 8, 31)), school_year_of(date(2026, 9, 1)), school_year_of(date(2027, 1, 5))] == [2025, 2026, 2026]


def test_an_answer_that_cannot_be_read_leaves_only_its_own_figure_empty() -> None:
    moment = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    answers = {"pupil_birth_date": "14 maart", "school_postcode": "1500", "school_level": "secundair", "problem_areas": ["gedrag"]}
    facts = FigureFacts.of(answers, eligibility=None, suggestions=None, submitted_at=moment, created_at=moment)
    assert (facts.age, facts.age_band, facts.municipality, facts.region, facts.school_level) == (None, None, "Halle", "ahv", "secundair")
    assert facts.problem_areas == ("gedrag",) and facts.eligible is None and facts.no_offer_in_region is False
