"""The joint declaration of intent (gezamenlijke intentieverklaring): who may sign it and a recorded signature."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from intake.catalogue import Catalogue, Organization
from intake.hygiene import clean_name, has_letter
from intake.vocabulary import Labelled


class PartnerKind(Labelled):
    """Who signs, as the declaration names them: schools via their scholengemeenschap, CLBs, providers."""

    SCHOOL_COMMUNITY = ("scholengemeenschap", "scholengemeenschap")
    CLB = ("clb", "CLB")
    PROVIDER = ("aanbieder", "aanbieder")


class Signature(BaseModel):
    """One partner's signature: a provider is named by its catalogue organisation id, the others by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PartnerKind
    name: str
    organization_id: str | None = None
    signed_on: date


# The declaration was drawn up in November 2017 (seed 001, "4. Gezamenlijke intentieverklaring"): nobody signed it earlier.
DECLARATION_DATE = date(2017, 11, 1)
NAME_MIN, NAME_MAX = 2, 120


def partner_name(text: str) -> str | None:
    """A partner's name as typed, on one line without escapes, control or bidi characters; None when it is no usable name.

    A name is 2 to 120 characters with at least one letter; a longer one is refused, not cut, so nothing
    is recorded that the coordinator did not type.
    """
    name = clean_name(text, limit=NAME_MAX + 1)
    if not NAME_MIN <= len(name) <= NAME_MAX or not has_letter(name):
        return None
    return name


def partner_key(kind: PartnerKind, *, name: str, organization_id: str | None) -> str:
    """What makes two signatures the same partner: a provider's catalogue id, else the name ignoring case and spacing."""
    if kind is PartnerKind.PROVIDER:
        if not organization_id:
            raise ValueError("a provider's signature needs its catalogue organisation id")
        return organization_id
    return " ".join(name.casefold().split())


def signature_order(signature: Signature) -> tuple[int, str]:
    """The order signatures are listed in: schools, CLBs, providers (as the declaration names them), then by name."""
    return list(PartnerKind).index(signature.kind), " ".join(signature.name.casefold().split())


class DateProblem(StrEnum):
    """Why a signing date cannot be right."""

    FUTURE = "toekomst"
    BEFORE_DECLARATION = "voor-verklaring"


def signing_date_problem(day: date, *, today: date) -> DateProblem | None:
    """Why `day` cannot be the day a partner signed (`today` is the Brussels date), or None when it can."""
    if day > today:
        return DateProblem.FUTURE
    if day < DECLARATION_DATE:
        return DateProblem.BEFORE_DECLARATION
    return None


def unsigned_providers(signatures: Iterable[Signature], catalogue: Catalogue) -> list[Organization]:
    """The catalogue's providers without an active provider signature ("nog niet ondertekend"), by name.

    The one rule for the site and for `meldpunt intentieverklaring lijst`: a provider counts as signed
    only through a provider signature carrying its catalogue id, never by a matching name.
    """
    signed = {s.organization_id for s in signatures if s.kind is PartnerKind.PROVIDER}
    return sorted((o for o in catalogue.organizations if o.id not in signed), key=lambda o: o.name.casefold())
