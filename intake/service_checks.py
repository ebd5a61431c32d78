"""The consult's checks of one catalogue service against a referral: region, level, age, form, place, capacity, problems, route."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from intake.catalogue import AgeRange, Catalogue, Service
from intake.facts import ReferralFacts
from intake.vocabulary import (
    Labelled,
    LocationPreference,
    ReferralRoute,
    Region,
)


class Fit(Enum):
    """What one check found about one service."""

    MATCH = "match"  # a decisive criterion fits: region, level, form, place, age
    BONUS = "bonus"  # fits, but would not decide on its own: problem areas, free places
    EXCLUDE = "exclude"
    UNKNOWN = "unknown"  # a decisive criterion the referral answers, but the catalogue does not know
    NOTE = "note"  # worth saying, does not make the fit uncertain


@dataclass(frozen=True)
class Finding:
    outcome: Fit
    text: str
    points: int = 0


@dataclass(frozen=True)
class Ask:
    """The referral as the checks need it; the age is computed once for the injected day."""

    facts: ReferralFacts
    catalogue: Catalogue
    age: int | None
    region: Region | None


Check = Callable[[Service, Ask], list[Finding]]


def _lower(label: str) -> str:
    """A label in the middle of a sentence."""
    return label[:1].lower() + label[1:]


def _lowers(items: Iterable[Labelled]) -> str:
    """Labels of enum members, joined for a sentence."""
    return ", ".join(_lower(item.label) for item in items)


def _region(service: Service, ask: Ask) -> list[Finding]:
    """The service's known area must contain the referral's region."""
    region = ask.region
    if region is None:
        return []
    if service.service_areas is None:
        return [Finding(Fit.UNKNOWN, "werkgebied niet gekend")]
    if region in service.service_areas:
        return [Finding(Fit.MATCH, f"werkgebied {region.label}", 3)]
    areas = ", ".join(area.label for area in service.service_areas)
    return [Finding(Fit.EXCLUDE, f"werkt niet in {region.label} (werkgebied: {areas})")]


def _level(service: Service, ask: Ask) -> list[Finding]:
    """Primary or secondary; NAFT is for secondary pupils only (seed 001: 'leerlingen SO')."""
    level = ask.facts.school_level
    if level is None:
        return []
    if service.levels is None:
        return [Finding(Fit.UNKNOWN, "onderwijsniveau niet gekend")]
    if level in service.levels:
        return [Finding(Fit.MATCH, f"voor {_lower(level.label)}", 2)]
    text = f"niet voor {_lower(level.label)} (enkel {_lowers(service.levels)})"
    return [Finding(Fit.EXCLUDE, text)]


def _form(service: Service, ask: Ask) -> list[Finding]:
    """The desired form of help must be among the known forms."""
    form = ask.facts.desired_form
    if form is None:
        return []
    if service.forms is None:
        return [Finding(Fit.UNKNOWN, "aangeboden vormen van begeleiding niet gekend")]
    if form in service.forms:
        return [Finding(Fit.MATCH, f"biedt {_lower(form.label)} aan", 2)]
    text = f"biedt geen {_lower(form.label)} aan (wel: {_lowers(service.forms)})"
    return [Finding(Fit.EXCLUDE, text)]


_PLACES = {
    LocationPreference.IN_SCHOOL: ("on_site", "op school"),
    LocationPreference.OUTSIDE_SCHOOL: ("off_site", "buiten de school"),
}


def _place(service: Service, ask: Ask) -> list[Finding]:
    """In school or outside it, when the referral has a preference."""
    preference = ask.facts.location_preference
    if preference not in _PLACES:
        return []  # not answered, or no preference: anything goes
    attribute, place = _PLACES[preference]
    possible = getattr(service, attribute)
    if possible is None:
        return [Finding(Fit.UNKNOWN, f"niet gekend of het {place} kan doorgaan")]
    if possible:
        return [Finding(Fit.MATCH, f"kan {place} doorgaan", 1)]
    return [Finding(Fit.EXCLUDE, f"gaat niet {place} door")]


def _span(bounds: AgeRange) -> str:
    """'12 tot 18 jaar', 'vanaf 12 jaar' or 'tot 18 jaar'."""
    if bounds.minimum is not None and bounds.maximum is not None:
        return f"{bounds.minimum} tot {bounds.maximum} jaar"
    if bounds.minimum is not None:
        return f"vanaf {bounds.minimum} jaar"
    return f"tot {bounds.maximum} jaar"


def _within(bounds: AgeRange, age: int) -> bool:
    """Inside the known bounds; a missing bound does not limit."""
    low = bounds.minimum if bounds.minimum is not None else age
    high = bounds.maximum if bounds.maximum is not None else age
    return low <= age <= high


def _age(service: Service, ask: Ask) -> list[Finding]:
    """The pupil's age must lie within a known age range."""
    if ask.age is None:
        return []
    bounds = service.age_range
    if bounds is None or (bounds.minimum is None and bounds.maximum is None):
        # Not decisive: no provider's age limits are known yet, and the level already narrows it.
        return [Finding(Fit.NOTE, "leeftijdsgrenzen niet gekend")]
    # From the birth year alone the pupil may not have had this year's birthday yet.
    ages = {ask.age - 1, ask.age} if ask.facts.age_is_approximate else {ask.age}
    if any(_within(bounds, age) for age in ages):
        return [Finding(Fit.MATCH, f"leeftijd past ({_span(bounds)})", 1)]
    text = f"leeftijd ({ask.age} jaar) valt buiten de leeftijdsgrenzen ({_span(bounds)})"
    return [Finding(Fit.EXCLUDE, text)]


def _capacity(service: Service, ask: Ask) -> list[Finding]:
    """A provider that is full or paused cannot take the referral."""
    if not service.accepting_referrals:
        return [Finding(Fit.EXCLUDE, "neemt momenteel geen aanmeldingen aan")]
    if service.capacity is None:
        return [Finding(Fit.NOTE, "vrije plaatsen niet gekend")]
    if service.capacity == 0:
        return [Finding(Fit.EXCLUDE, "heeft geen vrije plaatsen")]
    return [Finding(Fit.BONUS, f"{service.capacity} vrije plaats(en)", 1)]


def _problems(service: Service, ask: Ask) -> list[Finding]:
    """Problem areas only score: the seeds describe them too broadly to exclude on."""
    wanted = ask.facts.problem_areas
    if not wanted:
        return []
    if service.problem_areas is None:
        return [Finding(Fit.NOTE, "probleemgebieden van het aanbod niet gekend")]
    shared = [area for area in service.problem_areas if area in wanted]
    if not shared:
        return [Finding(Fit.NOTE, "hulpvraag niet uitdrukkelijk vermeld in het aanbod")]
    return [Finding(Fit.BONUS, f"sluit aan bij de hulpvraag: {_lowers(shared)}", len(shared))]


def _route(service: Service, ask: Ask) -> list[Finding]:
    """Groene Zorg takes its referrals itself (seed 001): suggested, as a direct route, only for a form it offers."""
    if service.referral_route is not ReferralRoute.DIRECT:
        return []
    form = ask.facts.desired_form
    if form is not None and service.forms is not None and form in service.forms:
        return []  # the form check already says it fits; the suggestion is marked as a direct route
    organization = ask.catalogue.organization(service.organization_id)
    who = organization.name if organization else "de aanbieder"
    return [Finding(Fit.EXCLUDE, f"aanmelden gebeurt rechtstreeks bij {who}, niet via het Meldpunt")]


_CHECKS: tuple[Check, ...] = (_region, _level, _age, _form, _place, _capacity, _problems, _route)


def findings_for(service: Service, ask: Ask) -> tuple[Finding, ...]:
    """Every check's findings for one service."""
    return tuple(finding for check in _CHECKS for finding in check(service, ask))


def texts_of(findings: Iterable[Finding], *outcomes: Fit) -> list[str]:
    """The texts of the findings with these outcomes, in check order."""
    return [f.text for f in findings if f.outcome in outcomes]
