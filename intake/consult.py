"""The consult: which catalogue services fit a (partial) referral, with Dutch reasons and honest caveats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

from intake.catalogue import Catalogue, Service
from intake.facts import ReferralFacts
from intake.places import Place
from intake.service_checks import Ask, Finding, Fit, findings_for, texts_of
from intake.vocabulary import (
    DesiredForm,
    OfferKind,
    ReferralRoute,
    SchoolLevel,
)

COORDINATOR = "de coördinator van het Meldpunt"
PREFERENCE = "jouw voorkeur"
ASK_COORDINATOR = f"te bevragen bij {COORDINATOR}"
# Large enough that a preference outranks every sum of ordinary matches.
PREFERENCE_BONUS = 100


class Suggestion(BaseModel):
    """A service that may fit, with why (reasons) and what is not known (caveats)."""

    model_config = ConfigDict(frozen=True)

    service_id: str
    service_name: str
    organization_name: str
    website: str | None
    score: int
    reasons: tuple[str, ...]
    caveats: tuple[str, ...]
    certain: bool
    # Groene Zorg: the referrer applies there herself; never dispatched by the Meldpunt (seed 001).
    direct_route: bool = False


class Exclusion(BaseModel):
    """A service that cannot apply, and the Dutch reason why."""

    model_config = ConfigDict(frozen=True)

    service_id: str
    service_name: str
    reason: str


class ConsultResult(BaseModel):
    """The consult's answer: ranked suggestions, exclusions, and advice when nothing fits for sure."""

    model_config = ConfigDict(frozen=True)

    suggestions: tuple[Suggestion, ...]
    excluded: tuple[Exclusion, ...]
    nothing_fits: bool  # nothing fits for sure through the Meldpunt (a direct route does not count)
    advice: str | None
    # The service the Meldpunt would send it to without a preference or a redirect: the first certain
    # suggestion through the Meldpunt. Stored on its own key so the store can count it in SQL.
    proposed: str | None = None


def _suggest(service: Service, findings: tuple[Finding, ...], ask: Ask) -> Suggestion:
    """A suggestion from the findings; certain only when something decisive fits and nothing is unknown."""
    preferred = ask.facts.preferred_intervention == service.id
    certain = bool(texts_of(findings, Fit.MATCH)) and not texts_of(findings, Fit.UNKNOWN)
    direct = service.referral_route is ReferralRoute.DIRECT
    # The coordinator does not handle a direct route, so she is not the one to ask about it.
    caveats = texts_of(findings, Fit.UNKNOWN, Fit.NOTE) + ([] if certain or direct else [ASK_COORDINATOR])
    organization = ask.catalogue.organization(service.organization_id)
    return Suggestion(
        service_id=service.id,
        service_name=service.name,
        organization_name=organization.name if organization else service.organization_id,
        website=service.website or (organization.website if organization else None),
        score=sum(f.points for f in findings) + (PREFERENCE_BONUS if preferred else 0),
        reasons=tuple(([PREFERENCE] if preferred else []) + texts_of(findings, Fit.MATCH, Fit.BONUS)),
        caveats=tuple(caveats),
        certain=certain,
        direct_route=direct,
    )


@dataclass(frozen=True)
class _Standing:
    """What the coordinator weighs between services that fit equally well.

    `places` is the catalogue's capacity: the provider's own count of free places, kept current through
    its offer updates, so it already allows for the referrals it holds; subtracting what the Meldpunt
    sent would count those twice. `received` is how many referrals it got this school year (sent, or
    queued for it), from the store; None when the caller has no store at hand, or for a direct route,
    whose referrals the Meldpunt never sees.
    """

    places: int | None
    received: int | None


def _standing(service: Service, load: Mapping[str, int] | None) -> _Standing:
    """The service's places left and, through the Meldpunt and with a load at hand, its referrals this school year."""
    counted = load is not None and service.referral_route is ReferralRoute.MELDPUNT
    return _Standing(places=service.capacity, received=load.get(service.id, 0) if counted and load is not None else None)


def _fit(suggestion: Suggestion) -> tuple[bool, bool, int, int]:
    """Preference first, then certain before uncertain, by score, then fewest caveats."""
    return (
        PREFERENCE not in suggestion.reasons,
        not suggestion.certain,
        -suggestion.score,
        len(suggestion.caveats),  # among equals, the better known service is the safer advice
    )


def _tie(standing: _Standing) -> tuple[int, int]:
    """Between equal fits: more places left, then fewer referrals this school year."""
    return -(standing.places or 0), standing.received or 0


def _tie_reason(first: _Standing, second: _Standing) -> str | None:
    """Why the first of two equal fits ranks above the second, in Dutch; None when nothing tells them apart."""
    if (first.places or 0) != (second.places or 0):
        return f"meer vrije plaatsen ({first.places or 0} tegenover {second.places or 0})"
    if (first.received or 0) != (second.received or 0):
        return f"minder aanmeldingen dit schooljaar ({first.received or 0} tegenover {second.received or 0})"
    return None


def _ranked(candidates: list[tuple[Suggestion, _Standing]]) -> tuple[Suggestion, ...]:
    """Sorted by fit, ties shared out (then by name, for a stable order), each tie's winner saying why."""
    ordered = sorted(candidates, key=lambda c: (*_fit(c[0]), *_tie(c[1]), c[0].service_name))
    ranked = []
    for index, (suggestion, standing) in enumerate(ordered):
        why = None
        if index + 1 < len(ordered):
            following, behind = ordered[index + 1]
            tied = _fit(suggestion) == _fit(following) and not (suggestion.direct_route or following.direct_route)
            why = _tie_reason(standing, behind) if tied else None
        ranked.append(suggestion.model_copy(update={"reasons": (*suggestion.reasons, why)}) if why else suggestion)
    return tuple(ranked)


def _within_limit(ranked: tuple[Suggestion, ...], limit: int) -> tuple[Suggestion, ...]:
    """At most `limit` suggestions through the Meldpunt; a direct route that fits is always shown, as only
    here the referrer learns of it."""
    through_meldpunt = [s for s in ranked if not s.direct_route][: max(limit, 0)]
    kept = {s.service_id for s in through_meldpunt}
    return tuple(s for s in ranked if s.direct_route or s.service_id in kept)


def _nothing_fits_advice(suggestions: tuple[Suggestion, ...], ask: Ask) -> str:
    """Say honestly that nothing fits for sure, and who to ask."""
    facts = ask.facts
    decisive = (ask.region, facts.school_level, facts.desired_form, facts.location_preference)
    if all(fact is None for fact in decisive):
        text = (
            "Er is nog te weinig gekend over de aanmelding (regio, onderwijsniveau, gewenste vorm) om een "
            f"aanbod met zekerheid aan te raden. Vul die gegevens aan of vraag raad aan {COORDINATOR}."
        )
    elif suggestions:
        text = (
            "Geen enkel aanbod past met zekerheid bij deze aanmelding: van de voorstellen is niet alles "
            f"gekend. Ze zijn te bevragen bij {COORDINATOR}."
        )
    else:
        text = f"Er is geen aanbod via het Meldpunt dat bij deze aanmelding past. Vraag raad aan {COORDINATOR}."
    if facts.school_level is SchoolLevel.PRIMARY:
        text += " Het aanbod voor kinderen uit het basisonderwijs is nog beperkt."
    return text


def _preference_advice(excluded: tuple[Exclusion, ...], ask: Ask) -> str | None:
    """Explain why a preferred intervention is not suggested."""
    wanted = ask.facts.preferred_intervention
    if wanted is None:
        return None
    service = ask.catalogue.service(wanted)
    if service is None:
        return f"Jouw voorkeur '{wanted}' staat niet in het aanbod van het Meldpunt."
    miss = next((e for e in excluded if e.service_id == wanted), None)
    if miss is None:
        return None  # it is suggested
    return f"Jouw voorkeur, {miss.service_name}, komt niet in aanmerking: {miss.reason}."


def _coaching_advice(suggestions: tuple[Suggestion, ...], ask: Ask) -> str | None:
    """Seed 001: the school may ask NAFT for teacher or team coaching itself, without the CLB."""
    if ask.facts.desired_form is not DesiredForm.COACHING:
        return None
    services = (ask.catalogue.service(s.service_id) for s in suggestions)
    if not any(service is not None and service.kind is OfferKind.NAFT for service in services):
        return None
    return (
        "Begeleiding van leerkrachten of schoolteams door een NAFT-aanbieder kan de school ook zelf "
        "rechtstreeks bij de aanbieder aanvragen."
    )


def _outside_area(found: Place, catalogue: Catalogue) -> ConsultResult:
    """A postcode outside Vlaams-Brabant (or no Belgian one): the Meldpunt cannot help, so nothing is suggested."""
    where = "is geen Belgische postcode" if not found.known else "ligt buiten Vlaams-Brabant"
    reason = f"postcode {found.postcode} {where}"
    advice = (
        f"De postcode {found.postcode} {where}. Het Meldpunt werkt enkel voor de gemeenten van Vlaams-Brabant "
        f"(Asse-Halle-Vilvoorde en Vlaams-Brabant Oost). Bij twijfel kan je {COORDINATOR} om raad vragen."
    )
    excluded = tuple(
        Exclusion(service_id=s.id, service_name=s.name, reason=reason) for s in catalogue.services
    )
    return ConsultResult(suggestions=(), excluded=excluded, nothing_fits=True, advice=advice)


def _advice(suggestions: tuple[Suggestion, ...], excluded: tuple[Exclusion, ...], ask: Ask) -> str | None:
    """All advice in one text: nothing fits through the Meldpunt, a preference that does not apply, coaching."""
    through_meldpunt = tuple(s for s in suggestions if not s.direct_route)
    parts: list[str | None] = [] if any(s.certain for s in through_meldpunt) else [_nothing_fits_advice(through_meldpunt, ask)]
    parts += [_preference_advice(excluded, ask), _coaching_advice(suggestions, ask)]
    return " ".join(part for part in parts if part) or None


def consult(facts: ReferralFacts, catalogue: Catalogue, *, today: date, limit: int = 5,
            load: Mapping[str, int] | None = None) -> ConsultResult:
    """Rank the catalogue's services for a (partial) referral; pure: `today` fixes the pupil's age and the
    postcode map, `load` (referrals per service this school year, from the store) shares out equal fits."""
    found = facts.place_on(today)
    if found is not None and not found.in_area:
        return _outside_area(found, catalogue)
    ask = Ask(facts=facts, catalogue=catalogue, age=facts.age_on(today), region=found.region if found else None)
    assessed = [(service, findings_for(service, ask)) for service in catalogue.services]
    excluded = tuple(
        Exclusion(service_id=s.id, service_name=s.name, reason="; ".join(texts_of(f, Fit.EXCLUDE)))
        for s, f in assessed
        if texts_of(f, Fit.EXCLUDE)
    )
    ranked = _ranked([
        (_suggest(s, f, ask), _standing(s, load)) for s, f in assessed if not texts_of(f, Fit.EXCLUDE)
    ])
    proposed = next((s.service_id for s in ranked if s.certain and not s.direct_route), None)
    return ConsultResult(
        suggestions=_within_limit(ranked, limit),
        excluded=excluded,
        nothing_fits=proposed is None,
        advice=_advice(ranked, excluded, ask),
        proposed=proposed,
    )
