"""The website's pages as text, from plain values (catalogue, signatures, figures, links): no database, no clock, no files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake import site
from intake.catalogue import Catalogue
from intake.declaration import PartnerKind, Signature, unsigned_providers
from intake.report_model import Report, Suppressed, Table
from intake.retention import RetentionPeriods
from intake.schedule import WeeklyMoment
from intake.texts import render
from intake.vocabulary import DesiredForm, ProblemArea, Region, SchoolLevel
from meldpunt.report_forms.cells import cell_text, is_number, value_columns

# Stands where the "Bijgewerkt op" moment goes: a page is compared without it, so an unchanged page is not rewritten.
STAMP = "@@BIJGEWERKT@@"
# The public report's tables the figures page shows (never per school: the public report has none anyway).
FIGURE_TABLES = ("vraag_aanbod", "regio", "leeftijdsgroep", "niveau", "probleemgebied", "trajecten")
# The offer list's filters: the select's id suffix and the closed set its options come from.
FILTERS = (("regio", Region), ("niveau", SchoolLevel), ("vorm", DesiredForm), ("probleem", ProblemArea))


@dataclass(frozen=True)
class SiteLinks:
    """How a CLB staff member reaches the Meldpunt: its mail address, the bot's username (if known), the site's address."""

    mail_address: str
    telegram_username: str | None
    site_url: str
    dispatch_moments: tuple[WeeklyMoment, ...]


@dataclass(frozen=True)
class SiteContent:
    """Everything the pages show: the catalogue with approved changes, their dates, the signatures, the figures."""

    catalogue: Catalogue
    signatures: tuple[Signature, ...]
    links: SiteLinks
    retention: RetentionPeriods
    figures: Report | None = None
    approved: Mapping[str, date] = field(default_factory=dict)


def _page(template: str, path: str, content: SiteContent, **context: Any) -> str:
    """One page rendered in the site's layout, its links relative to where it lies."""
    return render(f"site/{template}", root=site.root_of(path), path=path, stamp=STAMP, links=content.links, **context) + "\n"


def _offer_context(content: SiteContent) -> dict[str, Any]:
    """What the offer list, the provider pages and the service pages share."""
    catalogue = content.catalogue
    return {
        "catalogue": catalogue, "organizations": {o.id: o for o in catalogue.organizations},
        "updated": {s.id: site.last_update(s, content.approved.get(s.id)) for s in catalogue.services},
        "attributes": {s.id: site.filter_attributes(s) for s in catalogue.services},
        "unknown": {s.id: site.unknown_filters(s) for s in catalogue.services},
        "service_page": site.service_page, "provider_page": site.provider_page,
    }


def _figure_rows(table: Table) -> list[list[str]]:
    """A table's rows (and totals row) as text cells: "<5" for a suppressed count, "–" when not known."""
    kinds = [column.kind for column in value_columns(table)]
    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    return [[row.label, *(cell_text(cell, kind) for cell, kind in zip(row.cells, kinds, strict=False))] for row in rows]


def _counts_something(table: Table) -> bool:
    """Whether a table counts anyone: a count above zero, or one hidden for being small (a period without referrals has only zeros)."""
    rows = [*table.rows, *([table.total] if table.total is not None else [])]
    return any(isinstance(cell, Suppressed) or (is_number(cell) and cell != 0) for row in rows for cell in row.cells)


def _figures_context(figures: Report | None) -> dict[str, Any]:
    """The figures page's tables, or none when the period has no referrals yet (said honestly on the page)."""
    if figures is None:
        return {"report": None, "tables": []}
    chosen = [t for key in FIGURE_TABLES for t in figures.tables if t.key == key]
    if not any(_counts_something(t) for t in chosen):
        return {"report": figures, "tables": []}
    return {"report": figures, "tables": [{"table": t, "header": [c.label for c in t.columns], "rows": _figure_rows(t)} for t in chosen]}


def _declaration_context(content: SiteContent) -> dict[str, Any]:
    """Who signed the declaration, by partner kind, and which catalogue organisations have not signed yet."""
    names = {o.id: o.name for o in content.catalogue.organizations}
    return {"groups": site.by_kind(content.signatures), "unsigned": unsigned_providers(content.signatures, content.catalogue),
            "names": names, "provider_kind": PartnerKind.PROVIDER}


def fixed_pages(content: SiteContent) -> dict[str, str]:
    """The home, offer, providers, declaration, figures and colophon pages."""
    offer = _offer_context(content)
    filters = [(name, enum, list(enum)) for name, enum in FILTERS]
    return {
        site.HOME: _page("home.html.j2", site.HOME, content, days=site.dispatch_days(content.links.dispatch_moments),
                         services=len(content.catalogue.services)),
        site.OFFER: _page("aanbod.html.j2", site.OFFER, content, filters=filters, **offer),
        site.PROVIDERS: _page("aanbieders.html.j2", site.PROVIDERS, content, services_of=site.services_of, **offer),
        site.DECLARATION: _page("intentieverklaring.html.j2", site.DECLARATION, content, **_declaration_context(content)),
        site.FIGURES: _page("cijfers.html.j2", site.FIGURES, content, **_figures_context(content.figures)),
        site.COLOPHON: _page("colofon.html.j2", site.COLOPHON, content, retention=content.retention,
                             days=site.dispatch_days(content.links.dispatch_moments),
                             reviewed=site.latest(content.approved, content.catalogue.services)),
    }


def detail_pages(content: SiteContent) -> dict[str, str]:
    """A page per provider and per intervention, at their stable paths."""
    offer = _offer_context(content)
    signed = site.signed_providers(content.signatures)
    pages = {
        site.provider_page(o.id): _page("aanbieder.html.j2", site.provider_page(o.id), content, organization=o,
                                        services=site.services_of(content.catalogue, o.id), signature=signed.get(o.id), **offer)
        for o in content.catalogue.organizations
    }
    for service in content.catalogue.services:
        path = site.service_page(service.id)
        pages[path] = _page("dienst.html.j2", path, content, service=service, organization=offer["organizations"][service.organization_id],
                            **offer)
    return pages


def pages(content: SiteContent) -> dict[str, str]:
    """Every HTML page of the site by its path, each with STAMP where the moment of building goes."""
    return {**fixed_pages(content), **detail_pages(content)}


def sitemap(site_url: str, lastmod: Mapping[str, date]) -> str:
    """sitemap.xml: every page's absolute address and the date it last changed (index.html as the folder's own address)."""
    return render("site/sitemap.xml.j2", site_url=site_url, pages=sorted(lastmod.items())) + "\n"


def robots(site_url: str) -> str:
    """robots.txt: everything may be read, and where the sitemap is."""
    return render("site/robots.txt.j2", site_url=site_url) + "\n"
