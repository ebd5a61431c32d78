"""The public catalogue in chat: region, then kind of offer, then the services with their websites."""

from __future__ import annotations

from typing import Any

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.keyboards import Action, Button, Press, data, label
from intake.catalogue import Catalogue, Service
from intake.vocabulary import OfferKind, ReferralRoute, Region
from store.models import Staff

ALL_REGIONS = "*"  # the region argument of "Alle regio's"


def command(scope: Scope, event: ChatEvent, staff: Staff | None = None) -> Answer:
    """/aanbod: the first step, choosing a region."""
    return browse(scope, Press(Action.CATALOGUE, ()))


def browse(scope: Scope, press: Press) -> Answer:
    """One step of the catalogue browser; a button whose region or kind we do not know is stale."""
    catalogue = scope.workflow.intake.catalogue
    if not press.args:
        rows = tuple((Button(r.label, data(Action.CATALOGUE, r.value)),) for r in Region)
        everywhere = (Button(label("all_regions"), data(Action.CATALOGUE, ALL_REGIONS)),)
        return Answer([Reply(chat_text("catalogue_regions"), buttons=(*rows, everywhere))])
    region = press.args[0]
    in_region = [s for s in catalogue.services if region == ALL_REGIONS or s.service_areas is None or region in s.service_areas]
    region_label = _region_label(region)
    if region_label is None:
        return Answer(toast=chat_text("stale"))
    if len(press.args) == 1:
        kinds = [k for k in OfferKind if any(s.kind is k for s in in_region)]
        rows = tuple((Button(k.label, data(Action.CATALOGUE, region, k.value)),) for k in kinds)
        return Answer([Reply(chat_text("catalogue_kinds", region=region_label.capitalize()), buttons=rows)])
    kind = press.args[1]
    if kind not in set(OfferKind):
        return Answer(toast=chat_text("stale"))
    services = [_service_card(catalogue, s) for s in in_region if s.kind.value == kind]
    back = ((Button(label("other_kind"), data(Action.CATALOGUE, region)), Button(label("other_region"), data(Action.CATALOGUE))),)
    return Answer([Reply(chat_text("catalogue_list", region=region_label, kind=OfferKind.parse(kind).label, services=services), buttons=back)])


def _region_label(region: str) -> str | None:
    """How a region argument reads in a sentence; None for one we do not know."""
    if region == ALL_REGIONS:
        return chat_text("catalogue_all_regions")
    return Region.parse(region).label if region in set(Region) else None


def _service_card(catalogue: Catalogue, service: Service) -> dict[str, Any]:
    """What a person reads of one service in the catalogue browser."""
    organization = catalogue.organization(service.organization_id)
    return {
        "name": service.name, "organization": organization.name if organization else "",
        "description": service.description, "direct": service.referral_route is ReferralRoute.DIRECT,
        "levels": ", ".join(level.label for level in service.levels) if service.levels else None,
        "areas": ", ".join(area.label for area in service.service_areas) if service.service_areas else None,
        "website": service.website or (organization.website if organization else None),
    }
