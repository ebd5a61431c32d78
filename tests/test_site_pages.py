"""The website's pages from plain values (no database): what a CLB staff member reads, links, weight, nothing from elsewhere."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest

from intake import site
from intake.catalogue import AgeRange
from intake.catalogue_loader import load_catalogue
from intake.declaration import PartnerKind, Signature
from intake.report_model import Audience, Period, Report
from intake.retention import RetentionPeriods
from intake.schedule import parse_moments
from intake.texts import TEMPLATES_DIR
from intake.vocabulary import Region, SchoolLevel
from meldpunt.site_pages import STAMP, SiteContent, SiteLinks, pages
from tests.report_fixture import sample_report
from tests.site_check import PAGE_LIMIT, broken_links, external_references, html_pages, read_page, weight

LINKS = SiteLinks(mail_address="meldpunt@meldpunt.example", telegram_username=None, site_url="https://meldpunt.example/",
                  dispatch_moments=parse_moments("wo 09:00, vr 09:00"))
ARKTOS = Signature(kind=PartnerKind.PROVIDER, name="Arktos vzw", organization_id="arktos", signed_on=date(2025, 3, 14))
CLB = Signature(kind=PartnerKind.CLB, name="CLB Halle", signed_on=date(2025, 2, 1))
SCHOOLS = Signature(kind=PartnerKind.SCHOOL_COMMUNITY, name="Scholengemeenschap Zennevallei", signed_on=date(2025, 4, 2))
# Stored codes a person must never read (the filter's data attributes and option values may hold them: they are markup).
_CODE = r"(?:ahv|oost|secundair|basis|individueel|klas|spijbelen|gedrag|meldpunt|naft|onbekend|vlaamse-overheid)"
CODES = re.compile(rf">\s*{_CODE}(?:\s*,\s*{_CODE})*\s*<")


def content(**changes: object) -> SiteContent:
    """The bundled catalogue, three signatures and no figures, unless changed."""
    values: dict[str, object] = {"catalogue": load_catalogue(), "signatures": (ARKTOS, CLB, SCHOOLS), "links": LINKS,
                                 "retention": RetentionPeriods()}
    return SiteContent(**{**values, **changes})  # type: ignore[arg-type]


def write(made: dict[str, str], root: Path) -> Path:
    """The pages and the assets in a folder, as the builder lays them out."""
    for relative, text in made.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text.replace(STAMP, "03/12/2026 10:30"), "utf-8")
    for name in site.ASSETS:
        (root / name).write_bytes((TEMPLATES_DIR / "site" / name).read_bytes())
    return root


def main_text(text: str) -> str:
    """A page's main content as words, tags removed."""
    inner = text.partition('<main id="inhoud" tabindex="-1">')[2].partition("</main>")[0]
    return html.unescape(re.sub(r" ([:,.;)])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", inner).split())))


def test_every_page_has_its_stable_path_and_every_link_works(tmp_path: Path) -> None:
    made = pages(content())
    catalogue = load_catalogue()
    assert set(made) == set(site.all_pages(catalogue))
    assert {"index.html", "aanbod/index.html", "aanbod/naft-arktos-ahv/index.html", "aanbieders/arktos/index.html",
            "intentieverklaring/index.html", "cijfers/index.html", "colofon/index.html"} <= set(made)
    root = write(made, tmp_path)
    assert broken_links(root) == []
    for path in html_pages(root):
        assert read_page(path).h1 == 1, path
        assert weight(root, path) <= PAGE_LIMIT, path


def test_nothing_is_loaded_from_elsewhere_and_only_provider_sites_and_mail_are_linked(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    websites = {s.website for s in catalogue.services} | {o.website for o in catalogue.organizations}
    root = write(pages(content(links=SiteLinks(**{**LINKS.__dict__, "telegram_username": "MeldpuntSIBot"}))), tmp_path)
    for page, reference in external_references(root):
        assert reference.tag == "a" and reference.attribute == "href", (page, reference)
        if reference.value.startswith("http"):
            assert reference.value in websites or reference.value == "https://t.me/MeldpuntSIBot", (page, reference)
            assert "noopener" in reference.rel, (page, reference)
        else:
            assert reference.value.startswith("mailto:meldpunt@meldpunt.example"), (page, reference)
    for path in html_pages(root):
        text = path.read_text("utf-8")
        assert "<style" not in text and " style=" not in text and "<script>" not in text, path
        assert "Content-Security-Policy" in text and '<meta name="description"' in text and 'lang="nl"' in text
        assert 'name="viewport"' in text and 'href="#inhoud"' in text


def test_the_home_page_says_how_to_refer() -> None:
    home = main_text(pages(content())["index.html"])
    assert "CLB-medewerker" in home and "uitbreiding van zorg" in home and "in samenspraak met de school" in home
    assert "op woensdag en vrijdag om 9 uur" in home
    assert "meldpunt@meldpunt.example" in home and "formulier" in home
    assert "Het adres van de Telegram-bot vraag je aan het Meldpunt" in home, "no username: honest, no dead link"
    with_bot = pages(content(links=SiteLinks(**{**LINKS.__dict__, "telegram_username": "MeldpuntSIBot"})))["index.html"]
    assert 'href="https://t.me/MeldpuntSIBot"' in with_bot
    other_days = pages(content(links=SiteLinks(**{**LINKS.__dict__, "dispatch_moments": parse_moments("ma 14:30, do 14:30, di 09:00")})))
    assert "op maandag en donderdag om 14.30 uur, en op dinsdag om 9 uur" in main_text(other_days["index.html"])


def test_an_intervention_page_shows_every_fact_in_words_and_unknown_honestly() -> None:
    made = pages(content())
    arktos = main_text(made["aanbod/naft-arktos-ahv/index.html"])
    for words in ("Arktos", Region.AHV.label, SchoolLevel.SECONDARY.label, "Individueel traject", "Op school ja",
                  "Vlaamse overheid (NAFT)", "Capaciteit niet gekend", "Via het Meldpunt", "http://www.arktos.be/"):
        assert words in arktos, words
    assert re.search(r"Laatst bijgewerkt \d\d/\d\d/\d{4}", arktos)
    tako = main_text(made["aanbod/tako/index.html"])
    assert "Regio niet gekend" in tako and "Leeftijd niet gekend" in tako and "Capaciteit niet gekend" in tako
    for path, text in made.items():
        assert not CODES.search(text.partition("<main")[2]), (path, CODES.search(text.partition("<main")[2]))


def test_groene_zorg_shows_its_direct_route() -> None:
    page = main_text(pages(content())["aanbod/groene-zorg/index.html"])
    assert "Rechtstreeks aanmelden" in page and "rechtstreeks aan bij Groene Zorg" in page and "niet via het Meldpunt" in page
    assert "op het einde van het schooljaar een overzicht" in page
    offer = main_text(pages(content())["aanbod/index.html"])
    assert "Aanmelden gebeurt rechtstreeks bij Groene Zorg, niet via het Meldpunt." in offer


def test_the_offer_list_carries_the_filter_contract() -> None:
    offer = pages(content())["aanbod/index.html"]
    item = re.search(r'<li class="dienst"[^>]*id="dienst-naft-arktos-oost">', offer)
    assert item is not None
    assert 'data-regio="oost"' in item[0] and 'data-niveau="secundair"' in item[0] and "data-probleem=" in item[0]
    unknown = re.search(r'<li class="dienst"[^>]*id="dienst-tako">', offer)
    assert unknown is not None and "data-regio" not in unknown[0] and "data-min-leeftijd" not in unknown[0]
    assert offer.count('<li class="dienst"') == len(load_catalogue().services)
    assert offer.count('class="dienst-naam"') == len(load_catalogue().services)
    for control in ('<select id="filter-regio">', '<select id="filter-niveau">', '<select id="filter-vorm">', '<select id="filter-probleem">',
                    '<input type="number" id="filter-leeftijd"', '<input type="checkbox" id="filter-ongekend" checked>',
                    '<p id="aantal" aria-live="polite"'):
        assert control in offer, control
    for name in ("regio", "niveau", "vorm", "probleem", "leeftijd", "ongekend"):
        assert f'<label for="filter-{name}">' in offer
    assert '<form id="filters" class="filters" hidden>' in offer, "without JavaScript the form stays hidden"
    assert "12 van de 12 interventies" in offer
    words = main_text(offer)
    for fact in ("Financiering Vlaamse overheid (NAFT)", "Waar op school: ja · buiten de school: ja", "Aanmelden Via het Meldpunt",
                 "Website http://www.arktos.be/", "Capaciteit niet gekend"):
        assert fact in words, fact


def test_age_attributes_come_from_the_known_bounds() -> None:
    catalogue = load_catalogue()
    service = catalogue.services[0].model_copy(update={"age_range": AgeRange(minimum=12)})
    assert site.unknown_filters(service) == [] and site.unknown_filters(catalogue.services[-1]) == ["regio", "niveau", "leeftijd"]
    assert site.filter_attributes(service) == {
        "data-regio": "ahv", "data-niveau": "secundair", "data-vorm": "individueel klas coaching",
        "data-probleem": "spijbelen schoolmoeheid gedrag socio-emotioneel relatie-school thuissituatie perspectief", "data-min-leeftijd": "12"}


def test_the_declaration_lists_who_signed_by_kind_and_who_did_not_yet() -> None:
    page = main_text(pages(content())["intentieverklaring/index.html"])
    assert "ronde tafel" in page and "warme overdracht" in page and "zorgcontinuüm" in page
    assert "Arktos (aanbieder): ondertekend op 14/03/2025" in page
    assert "CLB Halle (CLB): ondertekend op 01/02/2025" in page
    assert "Scholengemeenschap Zennevallei (scholengemeenschap): ondertekend op 02/04/2025" in page
    raw = pages(content())["intentieverklaring/index.html"]
    assert raw.index("<h3>Scholen (via hun scholengemeenschap)") < raw.index("<h3>CLB's") < raw.index("<h3>Aanbieders die nog niet")
    assert "Profo: nog niet ondertekend" in page and "Arktos: nog niet ondertekend" not in page
    provider = main_text(pages(content())["aanbieders/profo/index.html"])
    assert "nog niet ondertekend" in provider
    assert "ondertekend op 14/03/2025" in main_text(pages(content())["aanbieders/arktos/index.html"])
    nobody = main_text(pages(content(signatures=()))["intentieverklaring/index.html"])
    assert "Er zijn nog geen handtekeningen geregistreerd." in nobody and "Arktos: nog niet ondertekend" in nobody


def test_the_figures_page_shows_suppressed_cells_or_says_there_are_none() -> None:
    sample = sample_report(Audience.PUBLIC)
    demand = replace(sample.tables[0], key="vraag_aanbod")
    figures = main_text(pages(content(figures=replace(sample, tables=(demand, *sample.tables[1:]))))["cijfers/index.html"])
    assert "Er zijn nog geen cijfers" not in figures
    assert "Vraag per interventie" in figures and "Reisburo/Roulot <5 <5" in figures and "Wereld van Indra <b> 9 <5" in figures
    assert "Totaal 31 24" in figures and "doorlooptijden" not in figures.lower(), "only the chosen tables"
    empty = Report(title="Cijfers", period=Period.school_year(2026), audience=Audience.PUBLIC, generated_at=sample_report().generated_at,
                   min_cell=5, tables=())
    assert "Er zijn nog geen cijfers" in main_text(pages(content(figures=empty))["cijfers/index.html"])
    assert "Er zijn nog geen cijfers" in main_text(pages(content(figures=None))["cijfers/index.html"])


def test_the_colophon_names_sources_and_the_configured_retention() -> None:
    periods = RetentionPeriods(inbound_days=21, draft_days=45, question_days=200, referral_school_years=2)
    page = main_text(pages(content(retention=periods))["colofon/index.html"])
    assert "geen cookies" in page and "geen logboek van bezoekers" in page
    assert "45 dagen na de laatste stap" in page and "21 dagen na de verwerking" in page and "200 dagen na het antwoord" in page
    assert "nog 2 schooljaren" in page and "inzage" in page and "wissen" in page and "coördinator" in page
    assert "22/11/2026" in page, "the catalogue's latest review date"


def test_dispatch_days_are_grouped_by_time_in_week_order() -> None:
    assert site.dispatch_days(parse_moments("vr 09:00, wo 09:00")) == [(["woensdag", "vrijdag"], time(9, 0))]


@pytest.mark.parametrize("path", ["index.html", "aanbod/index.html", "aanbod/tako/index.html"])
def test_links_climb_to_the_root_from_any_depth(path: str) -> None:
    assert f'href="{site.root_of(path)}site.css"' in pages(content())[path]
