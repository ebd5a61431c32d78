"""The catalogue of school-external interventions: a pydantic schema after Open Referral HSDS."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    field_validator,
    model_validator,
)

from intake.vocabulary import (
    DesiredForm,
    FundingSource,
    OfferKind,
    ProblemArea,
    ReferralRoute,
    Region,
    SchoolLevel,
)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "store" / "catalogue.yaml"
# RFC 2606 reserves .example: mail to such an address can never reach a real provider by accident.
EXAMPLE_SUFFIX = ".example"

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# The Dutch name of each field, for the checker's sentences.
FIELD_LABELS: dict[str, str] = {
    "id": "kenmerk",
    "name": "naam",
    "organization_id": "organisatie",
    "kind": "soort aanbod",
    "description": "beschrijving",
    "forms": "vormen van begeleiding",
    "on_site": "op school mogelijk",
    "off_site": "buiten de school mogelijk",
    "levels": "onderwijsniveau",
    "problem_areas": "probleemgebieden",
    "service_areas": "werkgebied",
    "age_range": "leeftijd",
    "eligibility_description": "voorwaarden",
    "funding": "financiering",
    "capacity": "capaciteit",
    "accepting_referrals": "neemt aanmeldingen aan",
    "referral_route": "aanmeldingsweg",
    "website": "website",
    "dispatch_email": "verzendadres",
    "dispatch_email_is_example": "verzendadres is een voorbeeld",
    "last_reviewed": "laatst nagekeken",
    "source": "bron",
    "minimum": "minimumleeftijd",
    "maximum": "maximumleeftijd",
}

# What the checker lists as "niet gekend" when it is null.
_OPTIONAL_FACTS = (
    "description", "forms", "on_site", "off_site", "levels", "problem_areas", "service_areas",
    "age_range", "eligibility_description", "funding", "capacity", "website", "dispatch_email",
)


def _check_url(value: str | None) -> str | None:
    """Accept only absolute web addresses, so a link a person clicks always works."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("een webadres moet beginnen met http:// of https://")
    return value


class _Frozen(BaseModel):
    """A value: immutable, and unknown fields are refused (a typo must not silently vanish)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Organization(_Frozen):
    """A provider organisation (HSDS organization)."""

    id: Identifier
    name: Text
    website: str | None = None
    description: Text | None = None

    _url = field_validator("website")(_check_url)


class AgeRange(_Frozen):
    """Age limits in whole years; a missing bound is not known."""

    minimum: int | None = None
    maximum: int | None = None

    @field_validator("minimum", "maximum")
    @classmethod
    def _not_negative(cls, value: int | None) -> int | None:
        """A negative age is a typo."""
        if value is not None and value < 0:
            raise ValueError("een leeftijd kan niet negatief zijn")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        """The lower bound cannot exceed the upper one."""
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("de minimumleeftijd is groter dan de maximumleeftijd")
        return self


class Service(_Frozen):
    """One intervention a provider offers (HSDS service); None everywhere means 'niet gekend'."""

    id: Identifier
    organization_id: Identifier
    name: Text
    kind: OfferKind
    description: Text | None = None
    forms: tuple[DesiredForm, ...] | None = None
    on_site: bool | None = None
    off_site: bool | None = None
    levels: tuple[SchoolLevel, ...] | None = None
    problem_areas: tuple[ProblemArea, ...] | None = None
    service_areas: tuple[Region, ...] | None = None
    age_range: AgeRange | None = None
    eligibility_description: Text | None = None
    funding: tuple[FundingSource, ...] | None = None
    capacity: int | None = None
    accepting_referrals: bool = True
    referral_route: ReferralRoute
    website: str | None = None
    dispatch_email: str | None = None
    dispatch_email_is_example: bool = False
    last_reviewed: date
    source: Text

    _url = field_validator("website")(_check_url)

    @field_validator("forms", "levels", "problem_areas", "service_areas", "funding")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        """An empty list would claim 'none at all'; not known must be written as null."""
        if value is not None and not value:
            raise ValueError("een lege lijst mag niet; schrijf null als het niet gekend is")
        return value

    @field_validator("capacity")
    @classmethod
    def _capacity_not_negative(cls, value: int | None) -> int | None:
        """Free places are counted from zero."""
        if value is not None and value < 0:
            raise ValueError("de capaciteit kan niet negatief zijn")
        return value

    @field_validator("dispatch_email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        """Catch obvious typos in the address referrals are mailed to."""
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is geen geldig e-mailadres")
        return value

    @model_validator(mode="after")
    def _example_flag_matches(self) -> Service:
        """An example address must be marked as one, and only an example address may be."""
        is_example_domain = (self.dispatch_email or "").lower().endswith(EXAMPLE_SUFFIX)
        if self.dispatch_email_is_example and not is_example_domain:
            raise ValueError(
                "dispatch_email_is_example staat op true, maar dispatch_email is geen voorbeeldadres "
                f"op het domein {EXAMPLE_SUFFIX}"
            )
        if is_example_domain and not self.dispatch_email_is_example:
            raise ValueError(
                f"dispatch_email ligt op het voorbeelddomein {EXAMPLE_SUFFIX}: "
                "zet dispatch_email_is_example op true of vul het echte adres in"
            )
        return self


def _duplicates(what: str, ids: list[str]) -> list[str]:
    """Dutch sentences for every id that occurs more than once."""
    seen = sorted({i for i in ids if ids.count(i) > 1})
    return [f"het kenmerk (id) '{i}' komt {ids.count(i)} keer voor bij de {what}" for i in seen]


class Catalogue(_Frozen):
    """All organisations and their services, with unique ids and no dangling references."""

    organizations: tuple[Organization, ...]
    services: tuple[Service, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        """Ids are unique and every service belongs to a known organisation."""
        known = {o.id for o in self.organizations}
        problems = _duplicates("organisaties", [o.id for o in self.organizations])
        problems += _duplicates("diensten", [s.id for s in self.services])
        problems += [
            f"dienst '{s.id}', veld 'organization_id': de organisatie '{s.organization_id}' bestaat niet"
            for s in self.services
            if s.organization_id not in known
        ]
        if problems:
            raise ValueError("\n".join(problems))  # one line per problem; the checker splits them
        return self

    def service(self, service_id: str) -> Service | None:
        """The service with this id, or None."""
        return next((s for s in self.services if s.id == service_id), None)

    def organization(self, organization_id: str) -> Organization | None:
        """The organisation with this id, or None."""
        return next((o for o in self.organizations if o.id == organization_id), None)
