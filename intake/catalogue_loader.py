"""Reads the catalogue file, and checks it: what is wrong or not known, in Dutch for the coordinator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from intake.catalogue import _OPTIONAL_FACTS, DEFAULT_PATH, FIELD_LABELS, Catalogue, Service
from intake.vocabulary import OfferKind, ReferralRoute


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


def error_reasons(error: dict[str, Any]) -> list[str]:
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
        for reason in error_reasons(dict(e))
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
