"""Eligibility rules from the domain (DOMAIN.md, 'Rules for a referral'): small pure functions with Dutch reasons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from intake.facts import PostcodeOf, ReferralFacts
from intake.vocabulary import CarePhase, DesiredForm, Labelled, ReferrerRole, SchoolLevel

COMPULSORY_SCHOOLING_START = 5  # leerplicht starts at 5 since September 2020
COMPULSORY_SCHOOLING_END = 18
AREA = "Het Meldpunt werkt enkel voor de gemeenten van Vlaams-Brabant (Asse-Halle-Vilvoorde en Vlaams-Brabant Oost)."


class Severity(StrEnum):
    """How much a finding weighs: a note, a flag for the coordinator, or a block."""

    NOTE = "note"
    FLAG = "flag"
    BLOCK = "block"


class Outcome(Labelled):
    """The verdict on a referral."""

    ELIGIBLE = ("eligible", "Ontvankelijk")
    FLAGGED = ("flagged", "Ontvankelijk, met aandachtspunten voor de coördinator")
    NOT_ELIGIBLE = ("not_eligible", "Niet ontvankelijk via het Meldpunt")


class Finding(BaseModel):
    """What one rule found, in Dutch, with advice for the referrer."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    reason: str
    advice: str | None = None


class Assessment(BaseModel):
    """The outcome with every finding behind it."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    findings: tuple[Finding, ...] = ()


class Context(BaseModel):
    """What the rules need besides the facts: today and the catalogue's direct-route services."""

    model_config = ConfigDict(frozen=True)

    today: date
    direct_route_services: Mapping[str, str] = {}  # service id -> name


Rule = Callable[[ReferralFacts, Context], Finding | None]


def referrer_not_clb(facts: ReferralFacts, context: Context) -> Finding | None:
    """Parents or a facility may ask, but the CLB stays the referrer (draaischijffunctie)."""
    if facts.referrer_role in (None, ReferrerRole.CLB):
        return None
    return Finding(
        rule="aanmelder-geen-clb", severity=Severity.FLAG,
        reason=f"De aanmelding komt van: {facts.referrer_role.label.lower()}, niet van een CLB-medewerker.",
        advice="De coördinator brengt het CLB en de school erbij, onder meer voor de leerplicht "
        "en om te bekijken of er nog andere mogelijkheden zijn.",
    )


def care_phase_too_early(facts: ReferralFacts, context: Context) -> Finding | None:
    """Referral to a school-external offer is possible only from 'uitbreiding van zorg'."""
    if facts.care_phase in (None, CarePhase.UITBREIDING_VAN_ZORG):
        return None
    return Finding(
        rule="fase-te-vroeg", severity=Severity.BLOCK,
        reason=f"De begeleiding zit in de fase '{facts.care_phase.label.lower()}'; doorverwijzen "
        "kan pas vanaf 'uitbreiding van zorg', na indicatiestelling.",
        advice="In de brede basiszorg en de verhoogde zorg neemt de school eerst zelf maatregelen. "
        "Meld aan zodra de begeleiding in de fase 'uitbreiding van zorg' zit.",
    )


def school_not_consulted(facts: ReferralFacts, context: Context) -> Finding | None:
    """The CLB refers in consultation with the school; a school that does not agree is flagged."""
    if facts.school_consulted is False:
        return Finding(
            rule="school-niet-betrokken", severity=Severity.BLOCK,
            reason="De aanmelding gebeurt niet in samenspraak met de school.",
            advice="Overleg eerst met de school: een doorverwijzing gebeurt altijd in samenspraak "
            "met de onderwijsinstelling.",
        )
    if facts.school_agrees is False:
        return Finding(
            rule="school-niet-akkoord", severity=Severity.FLAG,
            reason="De school gaat (nog) niet akkoord met de aanmelding.",
            advice="De coördinator bekijkt met jou en de school hoe het verder kan.",
        )
    return None


def outside_area(facts: ReferralFacts, context: Context) -> Finding | None:
    """The Meldpunt serves the municipalities of Vlaams-Brabant only (Statbel's postcode table, not ranges)."""
    found, deciding = facts.place_on(context.today), facts.deciding_postcode
    if found is None or deciding is None or found.in_area:
        return None
    source, postcode = deciding
    if not found.known:
        reason = f"Postcode {postcode} is geen Belgische postcode."
        advice = "Kijk de postcode na en pas ze aan."
    elif source is PostcodeOf.HOME:
        reason = f"De leerling is niet ingeschreven en woont buiten Vlaams-Brabant (postcode {postcode})."
        advice = (f"{AREA} Ligt de laatste school in Vlaams-Brabant, geef dan de postcode van die school: "
                  "die bepaalt de regio.")
    else:
        reason = f"Postcode {postcode} ligt buiten Vlaams-Brabant."
        advice = f"{AREA} Zoek schoolextern aanbod in de regio van de school."
    return Finding(rule="buiten-vlaams-brabant", severity=Severity.BLOCK, reason=reason, advice=advice)


def primary_school(facts: ReferralFacts, context: Context) -> Finding | None:
    """The offer for primary-school children (under 12) is limited."""
    if facts.school_level is not SchoolLevel.PRIMARY:
        return None
    return Finding(
        rule="basisonderwijs", severity=Severity.FLAG,
        reason="De leerling zit in het basisonderwijs: het aanbod voor kinderen onder 12 jaar is beperkt.",
        advice="De coördinator bekijkt welk aanbod er voor deze leerling is.",
    )


def not_enrolled(facts: ReferralFacts, context: Context) -> Finding | None:
    """A pupil without a school: the CLB of the last school, else the CLB nearest to home."""
    if facts.pupil_enrolled is not False:
        return None
    return Finding(
        rule="niet-ingeschreven", severity=Severity.FLAG,
        reason="De leerling is niet ingeschreven in een school.",
        advice="Het CLB van de laatste school wordt betrokken; is die niet gekend, dan het CLB "
        "dichtst bij de woonplaats. Een traject kan al starten om het leerrecht te garanderen.",
    )


def school_team_coaching(facts: ReferralFacts, context: Context) -> Finding | None:
    """Teacher or school-team coaching by NAFT may be requested by the school directly."""
    if facts.desired_form is not DesiredForm.COACHING:
        return None
    return Finding(
        rule="coaching-schoolteam", severity=Severity.NOTE,
        reason="Coaching van leerkrachten of het schoolteam mag de school ook rechtstreeks bij NAFT aanvragen.",
    )


def direct_route(facts: ReferralFacts, context: Context) -> Finding | None:
    """Groene Zorg takes referrals directly; they are not registered again at the Meldpunt."""
    name = context.direct_route_services.get(facts.preferred_intervention or "")
    if name is None:
        return None
    return Finding(
        rule="rechtstreekse-aanmelding", severity=Severity.BLOCK,
        reason=f"{name} werkt met rechtstreekse aanmelding, niet via het Meldpunt.",
        advice=f"Meld rechtstreeks aan bij {name}; zij bezorgen het Meldpunt op het einde van het "
        "schooljaar een overzicht. Of kies een andere voorkeur.",
    )


def outside_compulsory_schooling(facts: ReferralFacts, context: Context) -> Finding | None:
    """Compulsory schooling runs from 5 to 18; outside it the coordinator decides."""
    age = facts.age_on(context.today)
    if age is None or COMPULSORY_SCHOOLING_START <= age < COMPULSORY_SCHOOLING_END:
        return None
    approx = " (berekend uit het geboortejaar)" if facts.age_is_approximate else ""
    if age < COMPULSORY_SCHOOLING_START:
        return Finding(
            rule="jonger-dan-leerplicht", severity=Severity.BLOCK,
            reason=f"De leerling is {age} jaar{approx} en nog niet leerplichtig.",
            advice="Controleer de geboortedatum; het Meldpunt helpt leerplichtige leerlingen.",
        )
    return Finding(
        rule="ouder-dan-leerplicht", severity=Severity.FLAG,
        reason=f"De leerling is {age} jaar{approx}: buiten de leerplicht (tot 18 jaar).",
        advice="De coördinator bekijkt of een traject toch mogelijk is.",
    )


RULES: tuple[Rule, ...] = (
    referrer_not_clb, care_phase_too_early, school_not_consulted, outside_area, primary_school,
    not_enrolled, school_team_coaching, direct_route, outside_compulsory_schooling,
)


def assess(facts: ReferralFacts, context: Context) -> Assessment:
    """Run every rule; any block makes it not eligible, any flag sends it to the coordinator."""
    findings = tuple(f for rule in RULES if (f := rule(facts, context)) is not None)
    severities = {f.severity for f in findings}
    if Severity.BLOCK in severities:
        outcome = Outcome.NOT_ELIGIBLE
    elif Severity.FLAG in severities:
        outcome = Outcome.FLAGGED
    else:
        outcome = Outcome.ELIGIBLE
    return Assessment(outcome=outcome, findings=findings)
