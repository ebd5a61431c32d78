"""The public website's pure rules: page paths, the offer's filter attributes, last updates, signatures and dispatch days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time

from intake.catalogue import Catalogue, Service
from intake.declaration import PartnerKind, Signature
from intake.schedule import DAY_NAMES, WeeklyMoment

# The site's fixed pages (the contract in issue 17: BROWSER's tests and the sitemap rely on these paths).
HOME = "index.html"
OFFER = "aanbod/index.html"
PROVIDERS = "aanbieders/index.html"
DECLARATION = "intentieverklaring/index.html"
FIGURES = "cijfers/index.html"
COLOPHON = "colofon/index.html"
FIXED_PAGES = (HOME, OFFER, PROVIDERS, DECLARATION, FIGURES, COLOPHON)
ASSETS = ("site.css", "filter.js")


def service_page(service_id: str) -> str:
    """The stable path of an intervention's page: its catalogue id never changes."""
    return f"aanbod/{service_id}/index.html"


def provider_page(organization_id: str) -> str:
    """The stable path of a provider's page."""
    return f"aanbieders/{organization_id}/index.html"


def all_pages(catalogue: Catalogue) -> list[str]:
    """Every HTML page of the site, fixed pages first."""
    return [*FIXED_PAGES, *(provider_page(o.id) for o in catalogue.organizations), *(service_page(s.id) for s in catalogue.services)]


def root_of(path: str) -> str:
    """The relative way up from a page to the site's root ("", "../", "../../"): links work on any host and from disk."""
    return "../" * path.count("/")


def filter_attributes(service: Service) -> dict[str, str]:
    """The data-* attributes the offer list's filter reads: stored values, space-separated; an unknown value has none."""
    found: dict[str, str] = {}
    for name, values in (("data-regio", service.service_areas), ("data-niveau", service.levels),
                         ("data-vorm", service.forms), ("data-probleem", service.problem_areas)):
        if values is not None:
            found[name] = " ".join(value.value for value in values)
    ages = service.age_range
    if ages is not None and ages.minimum is not None:
        found["data-min-leeftijd"] = str(ages.minimum)
    if ages is not None and ages.maximum is not None:
        found["data-max-leeftijd"] = str(ages.maximum)
    return found


def unknown_filters(service: Service) -> list[str]:
    """The filters (regio, niveau, vorm, probleem, leeftijd) for which this intervention's value is not known."""
    ages = service.age_range
    known = {"regio": service.service_areas is not None, "niveau": service.levels is not None, "vorm": service.forms is not None,
             "probleem": service.problem_areas is not None,
             "leeftijd": ages is not None and (ages.minimum is not None or ages.maximum is not None)}
    return [name for name, is_known in known.items() if not is_known]


def last_update(service: Service, approved_on: date | None) -> date:
    """When the offer's description last changed: its review date, or a later approved change of the provider's."""
    return max(service.last_reviewed, approved_on) if approved_on is not None else service.last_reviewed


def services_of(catalogue: Catalogue, organization_id: str) -> list[Service]:
    """An organisation's interventions, in catalogue order."""
    return [s for s in catalogue.services if s.organization_id == organization_id]


def signed_providers(signatures: Iterable[Signature]) -> dict[str, Signature]:
    """The providers' signatures by catalogue organisation id (the earliest, when one was recorded twice)."""
    found: dict[str, Signature] = {}
    for signature in sorted(signatures, key=lambda s: s.signed_on):
        if signature.kind is PartnerKind.PROVIDER and signature.organization_id is not None:
            found.setdefault(signature.organization_id, signature)
    return found


def by_kind(signatures: Iterable[Signature]) -> list[tuple[PartnerKind, list[Signature]]]:
    """The signatures grouped by partner kind in the declaration's order (schools, CLBs, providers), each by name."""
    listed = list(signatures)
    groups = [(kind, sorted((s for s in listed if s.kind is kind), key=lambda s: (s.name.casefold(), s.signed_on))) for kind in PartnerKind]
    return [(kind, group) for kind, group in groups if group]


def dispatch_days(moments: Iterable[WeeklyMoment]) -> list[tuple[list[str], time]]:
    """The dispatch moments as days per time of day, in week order: [(["woensdag", "vrijdag"], 09:00)]."""
    ordered = sorted(set(moments), key=lambda m: (m.at, m.weekday))
    times: dict[time, list[int]] = {}
    for moment in ordered:
        times.setdefault(moment.at, []).append(moment.weekday)
    return [(([DAY_NAMES[day] for day in sorted(days)]), at) for at, days in sorted(times.items(), key=lambda item: min(item[1]))]


def latest(dates: Mapping[str, date], services: Iterable[Service]) -> date | None:
    """The most recent last update over these services (None when there are none)."""
    found = [last_update(service, dates.get(service.id)) for service in services]
    return max(found) if found else None
