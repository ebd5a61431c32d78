"""Dispatch planning, pure: which service a referral goes to, and what its provider reads about it.

The service is, in order: the coordinator's redirect, the referrer's preferred intervention, the
first suggestion the consult was certain of. A referral with none, or whose service takes no
referrals through the Meldpunt now, is set aside for the coordinator with the reason in Dutch.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from intake.answers import display_value
from intake.catalogue import Catalogue, Service
from intake.eligibility import Outcome
from intake.lifecycle import Status
from intake.questionnaire import Questionnaire
from intake.vocabulary import ReferralRoute

CSV_NAME = "aanmeldingen-{day}.csv"


class Choice(BaseModel):
    """The service a referral goes to, or why it cannot go anywhere yet."""

    model_config = ConfigDict(frozen=True)

    service: Service | None = None
    reason: str | None = None


def choose_service(*, assigned: str | None, answers: dict[str, Any], suggestions: dict[str, Any] | None, catalogue: Catalogue) -> Choice:
    """The service for this referral (see the module's docstring), or the reason it is set aside."""
    # A direct route (Groene Zorg) is suggested for the referrer to apply there herself, never sent by us.
    certain = [s["service_id"] for s in (suggestions or {}).get("suggestions", []) if s.get("certain") and not s.get("direct_route")]
    service_id = assigned or answers.get("preferred_intervention") or (certain[0] if certain else None)
    if service_id is None:
        return Choice(reason="Er is geen voorkeur opgegeven en geen aanbod dat zeker past: de coördinator kiest een aanbod.")
    service = catalogue.service(service_id)
    if service is None:
        return Choice(reason=f"Het aanbod '{service_id}' staat niet (meer) in de catalogus: de coördinator kiest een ander aanbod.")
    return Choice(service=service, reason=unfit_reason(service))


class Routing(NamedTuple):
    """Where a submitted referral goes, and why an eligible one cannot go out (for the referrer), or None."""

    status: Status
    unplaced: str | None = None


def route_evaluated(outcome: Outcome, choice: Choice) -> Routing:
    """Queued when eligible and the batch's own choice can take it now; else the coordinator decides."""
    if outcome is not Outcome.ELIGIBLE:
        return Routing(Status.NEEDS_REVIEW)
    # Promise the next batch only when it can keep it: the same choice the batch makes, with today's catalogue.
    if choice.service is not None and choice.reason is None:
        return Routing(Status.QUEUED)
    return Routing(Status.NEEDS_REVIEW, choice.reason)


def unfit_reason(service: Service) -> str | None:
    """Why this service cannot receive a referral through the Meldpunt now, or None."""
    if service.referral_route is not ReferralRoute.MELDPUNT:
        return f"{service.name} krijgt aanmeldingen rechtstreeks, niet via het Meldpunt."
    if not service.dispatch_email:
        return f"Voor {service.name} is nog geen verzendadres ingevuld in de catalogus."
    if not service.accepting_referrals or service.capacity == 0:
        return f"{service.name} neemt op dit moment geen aanmeldingen aan."
    return None


class ProviderRow(BaseModel):
    """One referral as its provider reads it: reference, service, every answer, eligibility notes."""

    model_config = ConfigDict(frozen=True)

    reference: str
    service_name: str
    fields: tuple[tuple[str, str, str], ...]
    notes: tuple[str, ...]


def provider_row(*, reference: str, service: Service, answers: dict[str, Any], eligibility: dict[str, Any] | None, questionnaire: Questionnaire) -> ProviderRow:
    """The provider's view of one referral; raises when stored answers no longer fit the questionnaire."""
    fields = tuple((q.section, q.label, display_value(q, answers[q.id])) for q in questionnaire.questions if q.id in answers)
    notes = tuple(str(f["reason"]) for f in (eligibility or {}).get("findings", []))
    return ProviderRow(reference=reference, service_name=service.name, fields=fields, notes=notes)


def rows_csv(rows: list[ProviderRow], questionnaire: Questionnaire) -> str:
    """The rows as CSV for a spreadsheet: one line per referral, one column per question (";", Excel's Flemish default)."""
    labels = [q.label for q in questionnaire.questions]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Referentie", "Aanbod", *labels, "Opmerkingen"])
    for row in rows:
        values = {label: value for _, label, value in row.fields}
        cells = [row.reference, row.service_name, *(values.get(label, "") for label in labels), " | ".join(row.notes)]
        writer.writerow([_inert(cell) for cell in cells])
    # A byte order mark makes Excel read the file as UTF-8 (accents in names stay right).
    return "\ufeff" + out.getvalue()


def _inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: =, +, -, @ at the start)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def csv_name(day: date) -> str:
    """The attachment's file name, e.g. aanmeldingen-2026-12-02.csv."""
    return CSV_NAME.format(day=day.isoformat())
