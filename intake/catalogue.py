"""The catalogue of school-external interventions (after Open Referral HSDS), its loader and Dutch checker."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
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


class CatalogueError(ValueError):
    """The catalogue file cannot be used; `problems` are Dutch sentences for the coordinator."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"Het aanbod in {path} is niet bruikbaar:\n{lines}")


@dataclass
class CatalogueReport:
    """The checker's verdict: errors make the file unusable, warnings say what is still to be filled in."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    catalogue: Catalogue | None = None

    @property
    def ok(self) -> bool:
        """True when the file loads; warnings do not block."""
        return not self.errors

    def render(self) -> str:
        """A readable Dutch text for the coordinator."""
        lines = [f"Controle van het aanbod: {self.path}"]
        if self.ok and self.catalogue is not None:
            lines.append(
                f"Resultaat: in orde ({len(self.catalogue.services)} diensten van "
                f"{len(self.catalogue.organizations)} organisaties)."
            )
        else:
            lines.append(f"Resultaat: NIET in orde ({len(self.errors)} fout(en)).")
        for title, items in (("Fouten", self.errors), ("Aandachtspunten", self.warnings)):
            if items:
                lines += ["", f"{title}:", *(f"  - {item}" for item in items)]
        return "\n".join(lines)


def _read(path: Path) -> tuple[Any, list[str]]:
    """The parsed YAML, or Dutch reasons why the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"Het bestand {path} bestaat niet."]
    except UnicodeDecodeError:
        return None, [f"Het bestand {path} is geen UTF-8-tekst."]
    except OSError as error:
        return None, [f"Het bestand {path} kan niet gelezen worden ({error.strerror or error})."]
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as error:
        return None, [_yaml_problem(error)]


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where the YAML syntax breaks, in Dutch; the parser's own words are kept as a hint."""
    mark = getattr(error, "problem_mark", None)
    where = f" op regel {mark.line + 1}, kolom {mark.column + 1}" if mark is not None else ""
    hint = getattr(error, "problem", None) or str(error)
    return f"Het bestand is geen geldige YAML{where} (melding van de lezer: {hint})."


_REASONS: dict[str, str] = {
    "missing": "ontbreekt (verplicht veld)",
    "extra_forbidden": "is geen gekend veld (tikfout?)",
    "string_type": "moet tekst zijn",
    "string_too_short": "mag niet leeg zijn",
    "string_pattern_mismatch": "mag enkel kleine letters, cijfers en koppeltekens bevatten",
    "int_type": "moet een geheel getal zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "bool_type": "moet true of false zijn",
    "bool_parsing": "moet true of false zijn",
    "date_type": "moet een datum zijn (JJJJ-MM-DD)",
    "date_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_from_datetime_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_from_datetime_inexact": "moet een datum zijn zonder uur (JJJJ-MM-DD)",
    "tuple_type": "moet een lijst zijn",
    "list_type": "moet een lijst zijn",
    "model_type": "moet een groep velden (naam: waarde) zijn",
    "model_attributes_type": "moet een groep velden (naam: waarde) zijn",
    "dict_type": "moet een groep velden (naam: waarde) zijn",
}


def _reason(error: dict[str, Any]) -> list[str]:
    """The Dutch reason(s) for one pydantic error; our own validators already speak Dutch."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).splitlines()
    if kind == "enum":
        allowed = str(ctx.get("expected", "")).replace(" or ", " of ")
        return [f"de waarde {error['input']!r} is niet toegelaten; kies uit {allowed}"]
    if kind in _REASONS:
        return [_REASONS[kind]]
    return [f"is ongeldig (technische melding: {error['msg']})"]


def _entry_name(loc: tuple[Any, ...], data: Any) -> tuple[str, tuple[Any, ...]]:
    """'Dienst 'x' (nr. 3 onder services)' for an entry of a section, and the rest of the location."""
    sections = {"organizations": "Organisatie", "services": "Dienst"}
    if len(loc) < 2 or loc[0] not in sections or not isinstance(loc[1], int):
        return "Het aanbod", loc
    entries = data.get(loc[0]) if isinstance(data, dict) else None
    entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
    ident = entry.get("id") if isinstance(entry, dict) else None
    named = f" '{ident}'" if ident else ""
    return f"{sections[loc[0]]}{named} (nr. {loc[1] + 1} onder '{loc[0]}')", loc[2:]


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A Dutch description of where in the file an error sits, naming the field."""
    who, rest = _entry_name(loc, data)
    if not rest:
        return who
    names = [str(part) for part in rest if not isinstance(part, int)]
    items = [part for part in rest if isinstance(part, int)]
    label = FIELD_LABELS.get(names[-1]) if names else None
    text = f"{who}, veld '{'.'.join(names)}'" + (f" ({label})" if label else "")
    return text + (f", element {items[-1] + 1}" if items else "")


def dutch_errors(error: ValidationError, data: Any = None) -> list[str]:
    """Turn pydantic's errors into Dutch sentences: location, then reason."""
    return [
        f"{_where(tuple(e['loc']), data)}: {reason}."
        for e in error.errors(include_url=False)
        for reason in _reason(e)
    ]


def _validate(data: Any) -> tuple[Catalogue | None, list[str]]:
    """The catalogue, or Dutch reasons why the data is invalid."""
    if not isinstance(data, dict):
        return None, ["Het bestand moet een groep velden zijn met 'organizations' en 'services'."]
    try:
        return Catalogue.model_validate(data), []
    except ValidationError as error:
        return None, dutch_errors(error, data)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue (default: the bundled store/catalogue.yaml)."""
    path = path or DEFAULT_PATH
    data, problems = _read(path)
    catalogue, invalid = _validate(data) if not problems else (None, [])
    if catalogue is None:
        raise CatalogueError(path, problems + invalid)
    return catalogue


def _unknowns(service: Service) -> list[str]:
    """The Dutch names of what is not known about a service."""
    missing = ["soort aanbod"] if service.kind is OfferKind.UNKNOWN else []
    missing += [FIELD_LABELS[name] for name in _OPTIONAL_FACTS if getattr(service, name) is None]
    if service.referral_route is ReferralRoute.DIRECT:
        # The Meldpunt sends nothing to a direct-route provider, so no address is missing.
        missing = [m for m in missing if m != FIELD_LABELS["dispatch_email"]]
    if service.age_range is not None:
        missing += [FIELD_LABELS[b] for b in ("minimum", "maximum") if getattr(service.age_range, b) is None]
    return missing


def _service_warnings(service: Service) -> list[str]:
    """What the coordinator still has to fill in or replace for one service."""
    who = f"Dienst '{service.id}' ({service.name})"
    warnings = [f"{who}: niet gekend: {', '.join(m)}."] if (m := _unknowns(service)) else []
    if service.dispatch_email_is_example:
        warnings.append(
            f"{who}: het verzendadres {service.dispatch_email} is een voorbeeld; "
            "de coördinator vervangt het door het echte adres."
        )
    elif service.dispatch_email is None and service.referral_route is ReferralRoute.MELDPUNT:
        warnings.append(f"{who}: er is nog geen verzendadres; aanmeldingen kunnen niet verzonden worden.")
    return warnings


def check_catalogue(path: Path | None = None) -> CatalogueReport:
    """Check a catalogue file and say in Dutch what is wrong and what is still unknown."""
    path = path or DEFAULT_PATH
    data, problems = _read(path)
    if problems:
        return CatalogueReport(path=path, errors=problems)
    catalogue, invalid = _validate(data)
    if catalogue is None:
        return CatalogueReport(path=path, errors=invalid)
    warnings = [w for service in catalogue.services for w in _service_warnings(service)]
    return CatalogueReport(path=path, warnings=warnings, catalogue=catalogue)
