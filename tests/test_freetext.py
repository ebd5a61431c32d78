"""Free-text questions: the facts a consult needs are read, and nothing is guessed from a year."""

from __future__ import annotations

from datetime import date

import pytest

from intake.catalogue_loader import load_catalogue
from intake.consult import consult
from intake.freetext import read_question
from intake.vocabulary import DesiredForm, ProblemArea, Region, SchoolLevel

TODAY = date(2026, 11, 18)


def test_the_example_question_is_enough_for_a_consult_in_asse_halle_vilvoorde() -> None:
    read = read_question("Ik heb een leerling van 15 in Halle die al weken spijbelt, wat raden jullie aan?", today=TODAY)
    assert read.place == "halle" and read.age == 15 and read.enough_for_consult
    assert read.facts.region is Region.AHV and read.facts.problem_areas == {ProblemArea.ABSENTEEISM}
    names = [s.service_id for s in consult(read.facts, load_catalogue(), today=TODAY).suggestions if s.certain]
    assert set(names) == {"naft-arktos-ahv", "naft-groep-intro-ahv"}


@pytest.mark.parametrize(
    ("text", "postcode", "level"),
    [
        ("Leerling uit 3000 Leuven, secundair, agressief gedrag", 3000, SchoolLevel.SECONDARY),
        ("Kind in het 5e leerjaar in Tienen", 3300, SchoolLevel.PRIMARY),
        ("postcode: 1800, zit in het BSO", 1800, SchoolLevel.SECONDARY),
        ("een jongere uit Sint-Pieters-Leeuw, derde graad", 1600, SchoolLevel.SECONDARY),
        ("een leerling in Overijse, secundair", 3090, SchoolLevel.SECONDARY),
        ("School in Pajottegem (vroeger Herne), BSO", 1540, SchoolLevel.SECONDARY),
        ("leerling uit Kessel-Lo, 2e graad", 3010, SchoolLevel.SECONDARY),
        ("zit in het ASO in Wezembeek-Oppem", 1970, SchoolLevel.SECONDARY),
    ],
)
def test_place_and_level(text: str, postcode: int, level: SchoolLevel) -> None:
    read = read_question(text, today=TODAY)
    assert (read.facts.school_postcode, read.facts.school_level) == (postcode, level)


def test_a_leerling_in_overijse_goes_to_halle_vilvoorde() -> None:
    read = read_question("een leerling in Overijse van 14 die spijbelt", today=TODAY)
    assert read.place == "overijse" and read.facts.school_postcode == 3090
    certain = {s.service_id for s in consult(read.facts, load_catalogue(), today=TODAY).suggestions if s.certain}
    assert certain == {"naft-arktos-ahv", "naft-groep-intro-ahv"}


def test_a_municipality_outside_is_read_only_as_a_name() -> None:
    """Names outside Vlaams-Brabant count when written as a name: "diploma halen" is not Halen."""
    assert read_question("Leerling uit Wavre, 15 jaar", today=TODAY).facts.school_postcode == 1300
    assert read_question("Een school in Gent", today=TODAY).facts.school_postcode == 9000
    plain = read_question("hij wil zijn diploma halen, is 16 jaar en de boom in", today=TODAY)
    assert plain.facts.school_postcode is None and not plain.enough_for_consult


def test_an_unknown_postcode_is_not_read() -> None:
    assert read_question("postcode 9999, secundair", today=TODAY).facts.school_postcode is None


def test_a_birth_year_is_not_a_postcode() -> None:
    read = read_question("Een leerling, geboren in 2011, wil stoppen met school.", today=TODAY)
    assert read.facts.school_postcode is None and not read.enough_for_consult
    assert ProblemArea.PERSPECTIVE in read.facts.problem_areas


def test_form_and_problems_are_recognised() -> None:
    read = read_question("Is een time-out mogelijk? Veel angst en cannabis, thuissituatie is moeilijk.", today=TODAY)
    assert read.facts.desired_form is DesiredForm.TIME_OUT
    assert read.facts.problem_areas == {ProblemArea.SOCIO_EMOTIONAL, ProblemArea.SUBSTANCES, ProblemArea.HOME}


def test_brussels_is_recognised_as_outside_the_area() -> None:
    read = read_question("Leerling van 14 in Brussel", today=TODAY)
    assert read.facts.school_postcode == 1000 and read.facts.region is None
    assert consult(read.facts, load_catalogue(), today=TODAY).nothing_fits
