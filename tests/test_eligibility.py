"""A table of eligibility cases: every rule from DOMAIN.md, its outcome and its Dutch reason."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intake.eligibility import Context, Outcome, assess
from intake.facts import ReferralFacts

TODAY = date(2026, 11, 18)
BASE: dict[str, Any] = {
    "referrer_role": "clb", "pupil_birth_date": "2011-03-14", "pupil_home_postcode": "1500",
    "pupil_enrolled": True, "school_postcode": "1500", "school_level": "secundair",
    "care_phase": "uitbreiding-van-zorg", "school_consulted": True, "school_agrees": True,
    "problem_areas": ["spijbelen"], "desired_form": "individueel",
}
CONTEXT = Context(today=TODAY, direct_route_services={"groene-zorg": "Groene Zorg"})

CASES = [
    # (name, changes to BASE, outcome, rule, words in the reason)
    ("eligible", {}, Outcome.ELIGIBLE, None, None),
    ("eligible in Leuven", {"school_postcode": "3000"}, Outcome.ELIGIBLE, None, None),
    ("parent refers", {"referrer_role": "ouder"}, Outcome.FLAGGED, "aanmelder-geen-clb", "ouder"),
    ("facility refers", {"referrer_role": "voorziening"}, Outcome.FLAGGED, "aanmelder-geen-clb", "voorziening"),
    ("brede basiszorg", {"care_phase": "brede-basiszorg"}, Outcome.NOT_ELIGIBLE, "fase-te-vroeg", "brede basiszorg"),
    ("verhoogde zorg", {"care_phase": "verhoogde-zorg"}, Outcome.NOT_ELIGIBLE, "fase-te-vroeg", "verhoogde zorg"),
    ("school not consulted", {"school_consulted": False, "school_agrees": None}, Outcome.NOT_ELIGIBLE, "school-niet-betrokken", "samenspraak"),
    ("school disagrees", {"school_agrees": False}, Outcome.FLAGGED, "school-niet-akkoord", "niet akkoord"),
    ("Brussels school", {"school_postcode": "1000"}, Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "1000"),
    ("Antwerp school", {"school_postcode": "2000"}, Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "buiten Vlaams-Brabant"),
    ("Overijse 3090 is in (Halle-Vilvoorde)", {"school_postcode": "3090"}, Outcome.ELIGIBLE, None, None),
    ("Machelen 1931 is in", {"school_postcode": "1931"}, Outcome.ELIGIBLE, None, None),
    ("1999 is no postcode", {"school_postcode": "1999"}, Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "geen Belgische postcode"),
    ("Hasselt 3500 is out", {"school_postcode": "3500"}, Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "3500"),
    ("Waver 1300 is out", {"school_postcode": "1300"}, Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "1300"),
    ("primary school", {"school_level": "basis", "pupil_birth_date": "2016-05-01"}, Outcome.FLAGGED, "basisonderwijs", "beperkt"),
    ("not enrolled, last school known",
     {"pupil_enrolled": False, "school_postcode": None, "last_school_postcode": "3010"},
     Outcome.FLAGGED, "niet-ingeschreven", "niet ingeschreven"),
    ("not enrolled, home outside", {"pupil_enrolled": False, "school_postcode": None, "pupil_home_postcode": "9000"},
     Outcome.NOT_ELIGIBLE, "buiten-vlaams-brabant", "9000"),
    ("school-team coaching", {"desired_form": "coaching"}, Outcome.ELIGIBLE, "coaching-schoolteam", "rechtstreeks bij NAFT"),
    ("Groene Zorg", {"preferred_intervention": "groene-zorg"}, Outcome.NOT_ELIGIBLE, "rechtstreekse-aanmelding", "Groene Zorg"),
    ("18 years old", {"pupil_birth_date": "2008-11-01"}, Outcome.FLAGGED, "ouder-dan-leerplicht", "18 jaar"),
    ("17, birthday tomorrow", {"pupil_birth_date": "2008-11-19"}, Outcome.ELIGIBLE, None, None),
    ("4 years old", {"pupil_birth_date": "2022-06-01"}, Outcome.NOT_ELIGIBLE, "jonger-dan-leerplicht", "nog niet leerplichtig"),
    ("birth year only", {"pupil_birth_date": None, "pupil_birth_year": 2008}, Outcome.FLAGGED, "ouder-dan-leerplicht", "geboortejaar"),
]


@pytest.mark.parametrize(("name", "changes", "outcome", "rule", "words"), CASES, ids=[c[0] for c in CASES])
def test_eligibility_table(name: str, changes: dict[str, Any], outcome: Outcome, rule: str | None, words: str | None) -> None:
    answers = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    assessment = assess(ReferralFacts.from_answers(answers), CONTEXT)
    assert assessment.outcome is outcome
    if rule is None:
        assert assessment.findings == ()
        return
    finding = next(f for f in assessment.findings if f.rule == rule)
    assert words in finding.reason


def test_not_eligible_findings_carry_advice() -> None:
    answers = {**BASE, "care_phase": "brede-basiszorg", "school_postcode": "1000"}
    assessment = assess(ReferralFacts.from_answers(answers), CONTEXT)
    assert {f.rule for f in assessment.findings} == {"fase-te-vroeg", "buiten-vlaams-brabant"}
    assert all(f.advice for f in assessment.findings)


def test_partial_answers_raise_no_findings() -> None:
    assert assess(ReferralFacts.from_answers({}), CONTEXT).outcome is Outcome.ELIGIBLE
