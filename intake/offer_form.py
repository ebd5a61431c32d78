"""The provider's update form: its lines (the Service field, label and reading of each) and how values read in it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from intake.catalogue import Service
from intake.texts import render
from intake.vocabulary import DesiredForm, Labelled, ProblemArea, SchoolLevel

MARK = "↳"  # starts every note line of the form, as in the referral form
RULE = "==="  # starts the closing line of the form
SERVICE_LABEL = "Dienst"
UNKNOWN_TEXT = "niet gekend"


class Kind(Enum):
    """How a value in the form is read."""

    TEXT = "text"
    COUNT = "count"
    YES_NO = "yes_no"
    URL = "url"
    CHOICES = "choices"
    AGE = "age"


@dataclass(frozen=True)
class Editable:
    """One line of the update form: its label, the Service field behind it, how it is read, a hint."""

    key: str
    field: str
    label: str
    kind: Kind
    note: str
    aliases: tuple[str, ...] = ()
    choices: type[Labelled] | None = None
    nullable: bool = True


EDITABLE: tuple[Editable, ...] = (
    Editable("description", "description", "Beschrijving", Kind.TEXT,
             "Wat jullie aanbieden, in gewone taal en in één alinea."),
    Editable("eligibility_description", "eligibility_description", "Voorwaarden", Kind.TEXT,
             "Voor wie het aanbod bedoeld is en wat vooraf nodig is."),
    Editable("accepting_referrals", "accepting_referrals", "Neemt aanmeldingen aan", Kind.YES_NO,
             "Ja of nee: nee betekent dat jullie tijdelijk geen aanmeldingen krijgen.", nullable=False),
    Editable("capacity", "capacity", "Vrije plaatsen", Kind.COUNT,
             "Het aantal vrije plaatsen nu (0 = volzet).", aliases=("Capaciteit",)),
    Editable("forms", "forms", "Vormen van begeleiding", Kind.CHOICES,
             "Eén of meer van: " + "; ".join(c.label for c in DesiredForm) + ".", choices=DesiredForm),
    Editable("on_site", "on_site", "Op school mogelijk", Kind.YES_NO, "Ja of nee."),
    Editable("off_site", "off_site", "Buiten de school mogelijk", Kind.YES_NO, "Ja of nee."),
    Editable("levels", "levels", "Onderwijsniveau", Kind.CHOICES,
             "Eén of meer van: " + "; ".join(c.label for c in SchoolLevel) + ".",
             aliases=("Onderwijsniveaus",), choices=SchoolLevel),
    Editable("problem_areas", "problem_areas", "Probleemgebieden", Kind.CHOICES,
             "Eén of meer van: " + "; ".join(c.label for c in ProblemArea) + ".", choices=ProblemArea),
    Editable("minimum", "age_range", "Minimumleeftijd", Kind.AGE, "In jaren."),
    Editable("maximum", "age_range", "Maximumleeftijd", Kind.AGE, "In jaren."),
    Editable("website", "website", "Website", Kind.URL, "Het webadres, bv. https://www.voorbeeld.be.",
             aliases=("Webadres",)),
)
EDITABLE_FIELDS = frozenset(e.field for e in EDITABLE)


def display_value(name: str, value: Any) -> str:
    """How a field's JSON value reads in the form and in mails ('niet gekend' for null)."""
    if value is None:
        return UNKNOWN_TEXT
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if name == "age_range" and isinstance(value, dict):
        low, high = value.get("minimum"), value.get("maximum")
        return f"{'?' if low is None else low} tot {'?' if high is None else high} jaar"
    editable = next((e for e in EDITABLE if e.field == name), None)
    if editable and editable.choices and isinstance(value, list):
        labels = {c.value: c.label for c in editable.choices}
        return "; ".join(labels.get(v, str(v)) for v in value)
    return str(value)


def field_label(name: str) -> str:
    """The form label of a Service field ('Leeftijd' for the age range)."""
    if name == "age_range":
        return "Leeftijd"
    return next((e.label for e in EDITABLE if e.field == name), name)


def change_rows(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """One row per changed field, in form order: label, old and new as a person reads them."""
    order = [e.field for e in EDITABLE]
    names = sorted(new, key=lambda n: order.index(n) if n in order else len(order))
    return [{"label": field_label(n), "old": display_value(n, old.get(n)), "new": display_value(n, new[n])}
            for n in names]


def _form_value(editable: Editable, values: dict[str, Any]) -> str:
    """The prefilled value of one form line."""
    if editable.field == "age_range":
        bounds = values.get("age_range") or {}
        bound = bounds.get(editable.key)
        return UNKNOWN_TEXT if bound is None else str(bound)
    return display_value(editable.field, values.get(editable.field))


def render_offer_form(service: Service, proposed: dict[str, Any] | None = None) -> str:
    """The update form for one service, prefilled with its current values (or the proposed ones)."""
    values = {**service.model_dump(mode="json"), **(proposed or {})}
    rows = [{"label": e.label, "value": _form_value(e, values), "note": e.note} for e in EDITABLE]
    return render("mail/offer_form.txt.j2", service=service, rows=rows, mark=MARK, rule=RULE,
                  service_label=SERVICE_LABEL, unknown=UNKNOWN_TEXT)
