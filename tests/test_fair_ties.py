"""Equal candidates share the load: places left, then fewest referrals this school year, said in the reasons."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from desk import dispatch as store_dispatch
from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.consult import ConsultResult, consult
from intake.dispatch import choose_service
from intake.facts import ReferralFacts
from intake.vocabulary import DesiredForm, LocationPreference, SchoolLevel
from store import referrals
from store.service_load import referrals_this_school_year, school_year_start
from tests.dispatch_fixtures import add_staff, intake_for, queue_referrals, twelve_provider_catalogue

TODAY = date(2026, 11, 22)
ARKTOS, INTRO = "naft-arktos-ahv", "naft-groep-intro-ahv"
HALLE = ReferralFacts(
    school_postcode=1500, school_level=SchoolLevel.SECONDARY, desired_form=DesiredForm.INDIVIDUAL,
    location_preference=LocationPreference.OUTSIDE_SCHOOL,
)


def _with(catalogue: Catalogue, service_id: str, **changes: Any) -> Catalogue:
    services = tuple(s.model_copy(update=changes) if s.id == service_id else s for s in catalogue.services)
    return Catalogue.model_validate({"organizations": catalogue.organizations, "services": services})


def _top(result: ConsultResult) -> list[str]:
    return [s.service_id for s in result.suggestions[:2]]


def test_fewer_referrals_this_school_year_ranks_first_and_says_why() -> None:
    result = consult(HALLE, load_catalogue(), today=TODAY, load={ARKTOS: 7, INTRO: 3})
    assert _top(result) == [INTRO, ARKTOS]
    assert "minder aanmeldingen dit schooljaar (3 tegenover 7)" in result.suggestions[0].reasons
    assert not any("aanmeldingen dit schooljaar" in r for r in result.suggestions[1].reasons)
    assert result.proposed == INTRO


def test_more_places_left_ranks_first_before_the_load() -> None:
    catalogue = _with(_with(load_catalogue(), ARKTOS, capacity=3), INTRO, capacity=7)
    result = consult(HALLE, catalogue, today=TODAY, load={ARKTOS: 0, INTRO: 9})
    assert _top(result) == [INTRO, ARKTOS]
    assert "meer vrije plaatsen (7 tegenover 3)" in result.suggestions[0].reasons


def test_without_a_load_equal_candidates_keep_a_stable_order_and_claim_no_reason() -> None:
    result = consult(HALLE, load_catalogue(), today=TODAY)
    assert _top(result) == [ARKTOS, INTRO]
    assert not any("tegenover" in r for s in result.suggestions for r in s.reasons)


def test_a_preference_or_a_better_fit_is_not_overruled_by_the_load() -> None:
    preferred = consult(HALLE.model_copy(update={"preferred_intervention": ARKTOS}), load_catalogue(), today=TODAY, load={ARKTOS: 50})
    assert preferred.suggestions[0].service_id == ARKTOS
    fitter = _with(load_catalogue(), ARKTOS, capacity=2)  # known free places: a better fit than unknown ones
    assert consult(HALLE, fitter, today=TODAY, load={ARKTOS: 50}).suggestions[0].service_id == ARKTOS


@pytest.mark.parametrize(("moment", "start"), [
    (datetime(2026, 11, 22, 12, 0, tzinfo=UTC), datetime(2026, 8, 31, 22, 0, tzinfo=UTC)),
    (datetime(2026, 8, 31, 21, 59, tzinfo=UTC), datetime(2025, 8, 31, 22, 0, tzinfo=UTC)),  # 23:59 in Brussels
    (datetime(2026, 8, 31, 22, 0, tzinfo=UTC), datetime(2026, 8, 31, 22, 0, tzinfo=UTC)),  # midnight, 1 September
    (datetime(2027, 3, 1, 8, 0, tzinfo=UTC), datetime(2026, 8, 31, 22, 0, tzinfo=UTC)),
])
def test_the_school_year_starts_on_1_september_in_brussels(moment: datetime, start: datetime) -> None:
    assert school_year_start(moment) == start


def _chosen(sessions: sessionmaker[Session], references: list[str], catalogue: Catalogue) -> list[str]:
    """The service the dispatch would send each referral to, in order."""
    chosen = []
    with sessions() as session:
        for reference in references:
            referral = referrals.get_referral(session, reference)
            assert referral is not None
            choice = choose_service(assigned=referral.assigned_service_id, answers=referral.answers,
                                    suggestions=referral.suggestions, catalogue=catalogue)
            assert choice.service is not None and choice.reason is None
            chosen.append(choice.service.id)
    return chosen


def test_equal_referrals_in_a_row_alternate_between_the_equal_providers(session_factory: sessionmaker[Session]) -> None:
    catalogue = twelve_provider_catalogue()
    intake = intake_for(catalogue)
    staff = add_staff(session_factory)
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    first = queue_referrals(intake, session_factory, staff, 4, now=now)
    assert _chosen(session_factory, first, catalogue) == [ARKTOS, INTRO, ARKTOS, INTRO]
    with session_factory.begin() as session:
        report = store_dispatch.run_batch(session, intake, slot_key="2026-12-02 09:00", actor="systeem",
                                          domain="meldpunt.example", coordinator_email=None, now=now + timedelta(days=2))
        assert report.referrals == 4
    # Sent this school year now (2 and 2), not queued: the next ones still share.
    later = queue_referrals(intake, session_factory, staff, 3, now=now + timedelta(days=3))
    assert Counter(_chosen(session_factory, later, catalogue)) == {ARKTOS: 2, INTRO: 1}
    with session_factory() as session:
        assert referrals_this_school_year(session, now=now + timedelta(days=3)) == {ARKTOS: 4, INTRO: 3}
        second = referrals.get_referral(session, later[1])
        assert second is not None
        reasons = [r for s in second.suggestions["suggestions"] for r in s["reasons"] if "tegenover" in r]
        assert reasons == ["minder aanmeldingen dit schooljaar (2 tegenover 3)"]
        # Next school year only what still waits to be sent counts; last year's batch does not weigh any more.
        assert referrals_this_school_year(session, now=datetime(2027, 9, 1, 8, 0, tzinfo=UTC)) == {ARKTOS: 2, INTRO: 1}
