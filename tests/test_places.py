"""Postcodes and municipalities: every municipality of Vlaams-Brabant lands in its own arrondissement."""

from __future__ import annotations

from datetime import date

import pytest

from intake import places
from intake.catalogue_loader import load_catalogue
from intake.consult import consult
from intake.facts import ReferralFacts
from intake.vocabulary import DesiredForm, Region, SchoolLevel

TODAY = date(2026, 11, 22)

# The two administrative arrondissements of Vlaams-Brabant after the mergers of 1 January 2025
# (Galmaarden, Gooik and Herne became Pajottegem), written out by hand: the expected answer must
# not come from the table under test.
HALLE_VILVOORDE = (
    "Affligem", "Asse", "Beersel", "Bever", "Dilbeek", "Drogenbos", "Grimbergen", "Halle", "Hoeilaart",
    "Kampenhout", "Kapelle-op-den-Bos", "Kraainem", "Lennik", "Liedekerke", "Linkebeek", "Londerzeel",
    "Machelen", "Meise", "Merchtem", "Opwijk", "Overijse", "Pajottegem", "Pepingen", "Roosdaal",
    "Sint-Genesius-Rode", "Sint-Pieters-Leeuw", "Steenokkerzeel", "Ternat", "Vilvoorde", "Wemmel",
    "Wezembeek-Oppem", "Zaventem", "Zemst",
)
LEUVEN = (
    "Aarschot", "Begijnendijk", "Bekkevoort", "Bertem", "Bierbeek", "Boortmeerbeek", "Boutersem", "Diest",
    "Geetbets", "Glabbeek", "Haacht", "Herent", "Hoegaarden", "Holsbeek", "Huldenberg", "Keerbergen",
    "Kortenaken", "Kortenberg", "Landen", "Leuven", "Linter", "Lubbeek", "Oud-Heverlee", "Rotselaar",
    "Scherpenheuvel-Zichem", "Tervuren", "Tielt-Winge", "Tienen", "Tremelo", "Zoutleeuw",
)
EXPECTED = {**{name: Region.AHV for name in HALLE_VILVOORDE}, **{name: Region.OOST for name in LEUVEN}}


@pytest.mark.parametrize(("name", "region"), sorted(EXPECTED.items()))
def test_every_municipality_of_vlaams_brabant_is_in_its_arrondissement(name: str, region: Region) -> None:
    postcodes = places.postcodes_named(name, on=TODAY)
    assert postcodes, f"{name} has postcodes"
    for postcode in postcodes:
        found = places.place(postcode, on=TODAY)
        assert found.region is region, f"{postcode} {name}: {found}"
        assert name in found.municipalities


def test_no_other_postcode_lies_in_vlaams_brabant() -> None:
    """The other way round: a postcode with a region belongs to one of the 63 municipalities above."""
    in_area = [places.place(code, on=TODAY) for code in range(1000, 10000)]
    named = {name for found in in_area if found.in_area for name in found.municipalities}
    assert named == set(EXPECTED)


def test_overijse_is_halle_vilvoorde_and_gets_its_naft_providers() -> None:
    facts = ReferralFacts(school_postcode=3090, school_level=SchoolLevel.SECONDARY, desired_form=DesiredForm.INDIVIDUAL)
    assert facts.region_on(TODAY) is Region.AHV
    certain = {s.service_id for s in consult(facts, load_catalogue(), today=TODAY).suggestions if s.certain}
    assert certain == {"naft-arktos-ahv", "naft-groep-intro-ahv"}


@pytest.mark.parametrize(("postcode", "known", "in_area"), [
    (1000, True, False), (1300, True, False), (2000, True, False), (9000, True, False),
    (1500, True, True), (3000, True, True), (1931, True, True),
    (9999, False, False), (1999, False, False), (3499, False, False), (999, False, False),
])
def test_belgian_postcodes_are_known_and_only_vlaams_brabant_has_a_region(postcode: int, known: bool, in_area: bool) -> None:
    found = places.place(postcode, on=TODAY)
    assert (places.is_known_postcode(postcode, on=TODAY), found.in_area) == (known, in_area)
    assert (found.region is not None) == in_area


def test_a_postcode_of_two_municipalities_keeps_their_shared_region() -> None:
    """1804 (Cargovil) is shared by Vilvoorde and Zemst: both Halle-Vilvoorde."""
    found = places.place(1804, on=TODAY)
    assert set(found.municipalities) == {"Vilvoorde", "Zemst"} and found.region is Region.AHV


def test_no_postcode_is_split_over_the_two_regions_and_a_split_would_leave_the_region_open() -> None:
    split = [code for code in range(1000, 10000) if len(places.place(code, on=TODAY).regions) > 1]
    assert split == []
    # Should Statbel ever give one postcode to a municipality of each arrondissement, the pupil is in
    # the area but the region is not decided by the postcode: the consult then does not exclude on it.
    both = places.regions_of_municipalities(["23088", "24062"])
    assert both == {Region.AHV, Region.OOST}
    facts = places.Place(postcode=1234, municipalities=("Vilvoorde", "Leuven"), regions=both)
    assert facts.in_area and facts.region is None


def test_a_day_before_the_table_uses_its_first_day() -> None:
    """The table describes 1 January 2025 on; an injected clock before that must not crash the core."""
    assert places.place(3090, on=date(2024, 6, 1)).region is Region.AHV
    assert places.postcodes_named("Pajottegem", on=date(2020, 1, 1)) == (1540, 1541, 1570, 1755)


@pytest.mark.parametrize(("text", "postcode"), [
    ("Overijse", 3090), ("overijse", 3090), ("Sint-Pieters-Leeuw", 1600), ("Herne", 1540), ("Heverlee", 3001),
    ("Brussel", 1000), ("Bruxelles", 1000), ("Gent", 9000), ("Nergensdorp", None),
])
def test_a_municipality_or_known_part_is_found_by_name(text: str, postcode: int | None) -> None:
    postcodes = places.postcodes_named(text, on=TODAY)
    assert (postcodes[0] if postcodes else None) == postcode
