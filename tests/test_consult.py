"""Consult cases: what a CLB staff member sees suggested, excluded and advised for a referral."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intake.catalogue import AgeRange, Catalogue
from intake.catalogue_loader import load_catalogue
from intake.consult import ConsultResult, consult
from intake.dispatch import choose_service
from intake.facts import ReferralFacts
from intake.freetext import read_question
from intake.texts import compose_mail, render
from intake.vocabulary import DesiredForm, LocationPreference, ProblemArea, Region, SchoolLevel

TODAY = date(2026, 11, 22)
AHV_NAFT = {"naft-arktos-ahv", "naft-groep-intro-ahv"}
OOST_NAFT = {"naft-arktos-oost", "naft-koinoor-oost", "naft-profo-oost"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The bundled catalogue."""
    return load_catalogue()


def _ask(catalogue: Catalogue, limit: int = 5, **answers: Any) -> ConsultResult:
    """Consult for a referral with these answers, on a fixed day."""
    return consult(ReferralFacts(**answers), catalogue, today=TODAY, limit=limit)


def _certain(result: ConsultResult) -> set[str]:
    """Ids of the suggestions that certainly fit."""
    return {s.service_id for s in result.suggestions if s.certain}


def _excluded(result: ConsultResult) -> dict[str, str]:
    """Excluded service id -> reason."""
    return {e.service_id: e.reason for e in result.excluded}


def _with(catalogue: Catalogue, service_id: str, **changes: Any) -> Catalogue:
    """A copy of the catalogue with one service changed; the catalogue itself is validated again."""
    services = tuple(s.model_copy(update=changes) if s.id == service_id else s for s in catalogue.services)
    return Catalogue.model_validate({"organizations": catalogue.organizations, "services": services})


SECONDARY_INDIVIDUAL = {"school_level": SchoolLevel.SECONDARY, "desired_form": DesiredForm.INDIVIDUAL}


def test_halle_school_gets_the_ahv_naft_providers(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    top_two = {s.service_id for s in result.suggestions[:2]}
    assert top_two == AHV_NAFT == _certain(result)
    assert not result.nothing_fits
    for suggestion in result.suggestions[:2]:
        assert "werkgebied Asse-Halle-Vilvoorde" in suggestion.reasons
        assert "voor secundair onderwijs" in suggestion.reasons
        assert "vrije plaatsen niet gekend" in suggestion.caveats
    for service_id in OOST_NAFT:
        assert "werkt niet in Asse-Halle-Vilvoorde" in _excluded(result)[service_id]
    shown = {s.service_id for s in result.suggestions}
    assert not shown & OOST_NAFT


def test_leuven_school_gets_the_oost_naft_providers(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=3000, **SECONDARY_INDIVIDUAL)
    assert {s.service_id for s in result.suggestions[:3]} == OOST_NAFT == _certain(result)
    for service_id in AHV_NAFT:
        assert "werkt niet in Vlaams-Brabant Oost" in _excluded(result)[service_id]


def test_overijse_lies_in_halle_vilvoorde_not_in_oost(catalogue: Catalogue) -> None:
    """Overijse (3090) is in arrondissement Halle-Vilvoorde, although its postcode starts with 3."""
    result = _ask(catalogue, school_postcode=3090, **SECONDARY_INDIVIDUAL)
    assert _certain(result) == AHV_NAFT
    assert "werkt niet in Asse-Halle-Vilvoorde" in _excluded(result)["naft-arktos-oost"]


def test_region_follows_the_last_school_for_a_pupil_not_enrolled(catalogue: Catalogue) -> None:
    result = _ask(catalogue, pupil_enrolled=False, last_school_postcode=1800, pupil_home_postcode=3000)
    assert _certain(result) == AHV_NAFT


def test_uncertain_providers_rank_below_and_are_to_be_asked(catalogue: Catalogue) -> None:
    result = _ask(catalogue, limit=20, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    certain_flags = [s.certain for s in result.suggestions]
    assert certain_flags == sorted(certain_flags, reverse=True)  # all certain ones first
    indra = next(s for s in result.suggestions if s.service_id == "wereld-van-indra")
    assert not indra.certain
    assert "werkgebied niet gekend" in indra.caveats
    assert "te bevragen bij de coördinator van het Meldpunt" in indra.caveats


def test_primary_pupil_excludes_naft_with_a_reason(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=3000, school_level=SchoolLevel.PRIMARY)
    excluded = _excluded(result)
    for service_id in OOST_NAFT:
        assert "niet voor basisonderwijs" in excluded[service_id]
    assert not {s.service_id for s in result.suggestions} & (OOST_NAFT | AHV_NAFT)
    # Only providers whose level is unknown remain: honest, but not certain.
    assert result.nothing_fits
    assert result.advice is not None
    assert "coördinator van het Meldpunt" in result.advice
    assert "basisonderwijs" in result.advice


GROENE_ZORG_LINE = "rechtstreeks aanmelden bij Groene Zorg (http://www.groenezorg.be/)"


def test_a_farm_time_out_is_suggested_as_a_direct_route_with_its_website(catalogue: Catalogue) -> None:
    result = _ask(
        catalogue,
        school_postcode=1500,
        desired_form=DesiredForm.TIME_OUT,
        location_preference=LocationPreference.OUTSIDE_SCHOOL,
    )
    farm = next(s for s in result.suggestions if s.service_id == "groene-zorg")
    assert farm.direct_route and farm.website == "http://www.groenezorg.be/"
    assert "biedt time-out / dagbesteding buiten de school aan" in farm.reasons
    assert "te bevragen bij de coördinator van het Meldpunt" not in farm.caveats
    assert "groene-zorg" not in _excluded(result)
    assert result.advice is None or "Groene Zorg" not in result.advice, "shown in the list, not as a closing line"
    shown = render("dialogue/_suggestions.txt.j2", consult=result)
    line = next(line for line in shown.splitlines() if "Groene Zorg" in line)
    assert GROENE_ZORG_LINE in line and "te bevragen bij de coördinator" not in line


def test_the_mail_consult_shows_the_farm_as_a_direct_route(catalogue: Catalogue) -> None:
    read = read_question("Een leerling van 15 in Overijse: kan een time-out op een boerderij?", today=TODAY)
    result = consult(read.facts, catalogue, today=TODAY)
    mail = compose_mail("mail/consult.txt.j2", subject_of_mail="vraag", number=3, consult=result, read=read, form="(formulier)")
    assert "(Overijse, 15 jaar)" in mail.text
    assert f"Zorgboerderij via Groene Zorg - {GROENE_ZORG_LINE}, niet via het Meldpunt" in mail.text


def test_a_direct_route_is_shown_even_past_the_limit_and_never_chosen_for_dispatch(catalogue: Catalogue) -> None:
    """Groene Zorg, made as certain as can be, ranks first; the dispatch still takes a Meldpunt service."""
    changed = _with(catalogue, "groene-zorg", service_areas=(Region.AHV,), levels=(SchoolLevel.SECONDARY,), capacity=4)
    changed = _with(changed, "tryout", service_areas=(Region.AHV,), levels=(SchoolLevel.SECONDARY,), forms=(DesiredForm.TIME_OUT,))
    result = _ask(changed, limit=1, school_postcode=1500, school_level=SchoolLevel.SECONDARY, desired_form=DesiredForm.TIME_OUT)
    assert [(s.service_id, s.certain, s.direct_route) for s in result.suggestions] == [("groene-zorg", True, True), ("tryout", True, False)]
    assert result.proposed == "tryout" and not result.nothing_fits
    choice = choose_service(assigned=None, answers={}, suggestions=result.model_dump(mode="json"), catalogue=changed)
    assert choice.service is not None and choice.service.id == "tryout"


def test_a_direct_route_alone_means_nothing_fits_through_the_meldpunt(catalogue: Catalogue) -> None:
    groene_zorg = catalogue.service("groene-zorg")
    assert groene_zorg is not None
    only = Catalogue(organizations=catalogue.organizations, services=(groene_zorg,))
    result = _ask(only, school_postcode=3000, desired_form=DesiredForm.TIME_OUT)
    assert [s.service_id for s in result.suggestions] == ["groene-zorg"]
    assert result.nothing_fits and result.proposed is None
    assert result.advice is not None and "via het Meldpunt" in result.advice and "coördinator van het Meldpunt" in result.advice
    choice = choose_service(assigned=None, answers={}, suggestions=result.model_dump(mode="json"), catalogue=only)
    assert choice.service is None


def test_a_direct_route_that_does_not_fit_stays_out(catalogue: Catalogue) -> None:
    individual = _ask(catalogue, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    assert "biedt geen individueel traject" in _excluded(individual)["groene-zorg"]
    unknown_form = _ask(catalogue, limit=20, school_postcode=1500)
    assert "groene-zorg" not in {s.service_id for s in unknown_form.suggestions}
    assert "rechtstreeks bij Groene Zorg" in _excluded(unknown_form)["groene-zorg"]


def test_full_or_paused_providers_are_excluded(catalogue: Catalogue) -> None:
    changed = _with(catalogue, "naft-arktos-ahv", capacity=0)
    changed = _with(changed, "naft-groep-intro-ahv", accepting_referrals=False)
    result = _ask(changed, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    assert "geen vrije plaatsen" in _excluded(result)["naft-arktos-ahv"]
    assert "geen aanmeldingen" in _excluded(result)["naft-groep-intro-ahv"]
    assert _certain(result) == set()
    assert result.nothing_fits
    assert result.advice is not None and "coördinator" in result.advice


def test_known_free_places_count_as_a_reason(catalogue: Catalogue) -> None:
    changed = _with(catalogue, "naft-groep-intro-ahv", capacity=3)
    result = _ask(changed, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    first = result.suggestions[0]
    assert first.service_id == "naft-groep-intro-ahv"
    assert "3 vrije plaats(en)" in first.reasons


def test_preferred_intervention_comes_first(catalogue: Catalogue) -> None:
    for preferred in AHV_NAFT:
        result = _ask(catalogue, school_postcode=1500, preferred_intervention=preferred, **SECONDARY_INDIVIDUAL)
        assert result.suggestions[0].service_id == preferred
        assert result.suggestions[0].reasons[0] == "jouw voorkeur"
        assert result.advice is None


def test_preferred_intervention_that_does_not_apply_is_explained(catalogue: Catalogue) -> None:
    result = _ask(
        catalogue, school_postcode=1500, preferred_intervention="naft-profo-oost", **SECONDARY_INDIVIDUAL
    )
    assert "naft-profo-oost" in _excluded(result)
    assert result.advice is not None
    assert "Jouw voorkeur" in result.advice and "Profo" in result.advice
    assert "werkt niet in Asse-Halle-Vilvoorde" in result.advice


def test_brussels_is_outside_the_meldpunt(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=1000, **SECONDARY_INDIVIDUAL)
    assert result.suggestions == ()
    assert result.nothing_fits
    assert result.advice is not None
    assert "buiten Vlaams-Brabant" in result.advice
    assert "coördinator van het Meldpunt" in result.advice
    assert len(result.excluded) == len(catalogue.services)
    assert all("buiten Vlaams-Brabant" in e.reason for e in result.excluded)


def test_partial_facts_neither_exclude_nor_claim_certainty(catalogue: Catalogue) -> None:
    result = _ask(catalogue, limit=20)
    assert set(_excluded(result)) == {"groene-zorg"}  # only the direct route, which needs no facts
    assert len(result.suggestions) == len(catalogue.services) - 1
    assert all(s.score == 0 and not s.certain for s in result.suggestions)
    assert result.nothing_fits
    assert result.advice is not None and "te weinig gekend" in result.advice


def test_unknown_place_is_a_caveat_and_known_place_a_reason(catalogue: Catalogue) -> None:
    result = _ask(catalogue, limit=20, school_postcode=1500, location_preference=LocationPreference.IN_SCHOOL)
    by_id = {s.service_id: s for s in result.suggestions}
    assert "kan op school doorgaan" in by_id["naft-arktos-ahv"].reasons
    assert "niet gekend of het op school kan doorgaan" in by_id["tako"].caveats
    assert "gaat niet op school door" in _excluded(result)["groene-zorg"]


def test_wrong_form_is_excluded(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=1500, desired_form=DesiredForm.TIME_OUT)
    assert "biedt geen time-out" in _excluded(result)["naft-arktos-ahv"]


def test_age_outside_a_known_range_is_excluded(catalogue: Catalogue) -> None:
    changed = _with(catalogue, "naft-arktos-ahv", age_range=AgeRange(minimum=12, maximum=18))
    young = _ask(changed, school_postcode=1500, pupil_birth_date=date(2016, 5, 1))
    assert "valt buiten de leeftijdsgrenzen (12 tot 18 jaar)" in _excluded(young)["naft-arktos-ahv"]
    fitting = _ask(changed, school_postcode=1500, pupil_birth_date=date(2011, 5, 1))
    first = fitting.suggestions[0]
    assert first.service_id == "naft-arktos-ahv" and "leeftijd past (12 tot 18 jaar)" in first.reasons
    # Born in 2007, only the year known: may still be 18 on the injected day, so not excluded.
    approximate = _ask(changed, school_postcode=1500, pupil_birth_year=2007)
    assert "naft-arktos-ahv" not in _excluded(approximate)


def test_problem_areas_score_but_do_not_exclude(catalogue: Catalogue) -> None:
    result = _ask(
        catalogue,
        school_postcode=3000,
        problem_areas=frozenset({ProblemArea.PERSPECTIVE, ProblemArea.SUBSTANCES}),
        **SECONDARY_INDIVIDUAL,
    )
    koinoor = next(s for s in result.suggestions if s.service_id == "naft-koinoor-oost")
    assert any("perspectief" in r for r in koinoor.reasons)
    only_substances = _ask(
        catalogue, school_postcode=3000, problem_areas=frozenset({ProblemArea.SUBSTANCES}), **SECONDARY_INDIVIDUAL
    )
    assert _certain(only_substances) == OOST_NAFT


def test_coaching_advice_says_the_school_may_ask_naft_directly(catalogue: Catalogue) -> None:
    result = _ask(catalogue, school_postcode=1500, desired_form=DesiredForm.COACHING)
    first = result.suggestions[0]
    assert first.service_id in AHV_NAFT and first.certain
    assert result.advice is not None
    assert "leerkrachten of schoolteams" in result.advice and "rechtstreeks" in result.advice
    individual = _ask(catalogue, school_postcode=1500, desired_form=DesiredForm.INDIVIDUAL)
    assert individual.advice is None


def test_limit_and_json_round_trip(catalogue: Catalogue) -> None:
    result = _ask(catalogue, limit=2, school_postcode=1500, **SECONDARY_INDIVIDUAL)
    assert len(result.suggestions) == 2
    stored = result.model_dump(mode="json")
    assert ConsultResult.model_validate(stored) == result
    assert stored["suggestions"][0]["organization_name"] in {"Arktos", "Groep Intro"}
