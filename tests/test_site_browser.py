"""The website as a reader meets it: built from the catalogue, served over HTTP and opened in Debian's headless Chromium.

Two builds from one real SQLite database: the bundled catalogue, then the same after a provider's change was
approved. Every page is reached by following links from the home page and checked once (console, links, weight,
requests, axe-core); the filters are driven through the page's own controls. Two Chromium starts in all: one with
JavaScript, one without (the suite shares a small machine).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from desk import catalogue_changes
from intake.catalogue import Catalogue
from meldpunt.app import App
from meldpunt.settings import Settings
from tests.browser import (
    LOOPBACK_ONLY,
    Crawl,
    axe_core_path,
    axe_violations,
    chromium,
    crawl_site,
    describe_violations,
    is_relative,
    page_console,
    png_colours,
    require_axe_core,
    require_chromium,
    serve_directory,
    visit_page,
)
from tests.test_report_engine import insert_data_set

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday
SITE_URL = "https://meldpunt.example/"
BUNDLED, CHANGED, FIGURES = "gebundeld/", "gewijzigd/", "cijfers/"  # the builds, side by side in one served folder
FIGURES_DAY = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # in school year 2025-2026, the year of the report's data set
OOST_SECONDARY = {"naft-arktos-oost", "naft-koinoor-oost", "naft-profo-oost"}
CHANGED_SERVICE = "naft-profo-oost"
NEW_WEBSITE = "https://www.profo.be/aanbod-2027"
CHANGE = {"capacity": 3, "website": NEW_WEBSITE, "age_range": {"minimum": 12, "maximum": 18}}
FIXED_PAGES = {"index.html", "aanbod/index.html", "aanbieders/index.html", "intentieverklaring/index.html",
               "cijfers/index.html", "colofon/index.html"}
PAGE_BUDGET = 100_000  # bytes: the page with its CSS, JS and images, as the browser decodes them
PHONE, DESKTOP = (375, 812), (1280, 900)
WAIT = 10  # seconds the filters may take to settle on a busy machine; the wait ends as soon as they do


@dataclass(frozen=True)
class Sites:
    """The two builds, served: base URLs and the catalogues they were built from."""

    base: str
    root: Path
    catalogue: Catalogue
    changed_catalogue: Catalogue

    def url(self, build: str, page: str) -> str:
        """The address of one page of one build."""
        return f"{self.base}{build}{page}"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """The bundled catalogue built, then again after an approved change, then with figures; served over HTTP."""
    from meldpunt.site_build import build_site

    require_chromium()  # no browser, nothing to look with: skip before building
    root, var = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("var")
    app = App(Settings(_env_file=None, var_dir=var, site_url=SITE_URL, telegram_username="meldpunt_si_bot"))  # type: ignore[call-arg]
    before = app.catalogue
    build_site(app, root / BUNDLED, now=NOW)
    service = before.service(CHANGED_SERVICE)
    assert service is not None
    with app.sessions.begin() as session:
        number = catalogue_changes.propose(session, service=service, updates=CHANGE,
                                           submitted_by="aanmeldingen@profo.example", now=NOW).id
    with app.sessions.begin() as session:
        catalogue_changes.approve(session, number, by="cli:coordinator", now=NOW + timedelta(hours=1))
    # The same App builds again, as the running service's rebuild would: the build must read the approval fresh.
    build_site(app, root / CHANGED, now=NOW + timedelta(hours=1))
    with app.sessions() as session:
        after = catalogue_changes.apply_approved(session, before)
        insert_data_set(session)  # the reporting tests' referrals: the figures page gets its tables
    build_site(app, root / FIGURES, now=FIGURES_DAY)
    with serve_directory(root) as base:
        yield Sites(base, root, before, after)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium with JavaScript for the module; it resolves no host but 127.0.0.1."""
    with chromium(arguments=(LOOPBACK_ONLY,)) as driver:
        yield driver


@pytest.fixture(scope="module")
def browser_without_js() -> Iterator[Any]:
    """One headless Chromium with JavaScript switched off, as some readers have it."""
    with chromium(javascript=False, arguments=(LOOPBACK_ONLY,)) as driver:
        yield driver


@pytest.fixture(scope="module")
def crawl(sites: Sites, browser: Any) -> Crawl:
    """Every page of the bundled build reached from its home page, each opened once (with axe-core when installed)."""
    axe_source = axe_core_path().read_text(encoding="utf-8") if axe_core_path().exists() else None
    return crawl_site(browser, sites.url(BUNDLED, ""), axe_source)


def test_every_page_reached_by_links_loads_without_console_errors(crawl: Crawl) -> None:
    errors = {page: visit.severe for page, visit in crawl.visits.items() if visit.severe}
    assert errors == {}
    assert len(crawl.visits) > len(FIXED_PAGES)


def test_no_link_script_or_stylesheet_is_broken_and_every_link_works_from_disk(crawl: Crawl) -> None:
    broken = {url: status for url, status in crawl.status.items() if status != 200}
    assert broken == {}, "relative targets that do not answer 200"
    for page, visit in crawl.visits.items():
        relative = [link["raw"] for link in visit.links if is_relative(link["raw"])]
        # Opened from disk (file://) or from a sub-folder of a web host, '/x' and 'map/' lead nowhere.
        assert [raw for raw in relative if raw.startswith("/")] == [], page
        assert [raw for raw in relative if urldefrag(raw).url.endswith("/")] == [], f"{page}: name index.html"
        same_page = [raw[1:] for raw in relative if raw.startswith("#") and len(raw) > 1]
        assert [target for target in same_page if target not in visit.ids] == [], f"{page}: anchors without target"


def test_the_pages_reached_by_links_are_exactly_the_sitemap(sites: Sites, crawl: Crawl) -> None:
    with urllib.request.urlopen(sites.url(BUNDLED, "sitemap.xml"), timeout=WAIT) as response:  # noqa: S310
        tree = ET.fromstring(response.read())
    locations = [element.text or "" for element in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert all(location.startswith(SITE_URL) for location in locations), locations
    # A folder's address ('aanbod/') is how a web host names its index.html; both forms are fine in a sitemap.
    listed = {re.sub(r"(^|/)$", r"\1index.html", location.removeprefix(SITE_URL)) for location in locations}
    assert set(crawl.visits) == listed
    every_offer = {f"aanbod/{service.id}/index.html" for service in sites.catalogue.services}
    every_provider = {f"aanbieders/{organisation.id}/index.html" for organisation in sites.catalogue.organizations}
    assert FIXED_PAGES | every_offer | every_provider <= set(crawl.visits)
    with urllib.request.urlopen(sites.url(BUNDLED, "robots.txt"), timeout=WAIT) as response:  # noqa: S310
        assert f"{SITE_URL}sitemap.xml" in response.read().decode("utf-8")


def test_axe_core_finds_no_wcag_21_aa_violation_on_any_page(crawl: Crawl) -> None:
    require_axe_core()
    findings = [describe_violations(page, visit.violations or []) for page, visit in crawl.visits.items()
                if visit.violations]
    assert not findings, "axe-core:\n" + "\n".join(findings)


def test_every_page_weighs_at_most_100_kb_and_asks_nothing_of_another_host(sites: Sites, crawl: Crawl) -> None:
    heavy = {page: visit.weight for page, visit in crawl.visits.items() if visit.weight > PAGE_BUDGET}
    assert heavy == {}
    outside = {page: [name for name in visit.requests if not name.startswith(sites.base)]
               for page, visit in crawl.visits.items()}
    assert {page: names for page, names in outside.items() if names} == {}
    assert all(visit.weight > 0 for visit in crawl.visits.values())


def _emulate(driver: Any, size: tuple[int, int], *, mobile: bool) -> None:
    """Give the page a viewport of this size (a phone reads the page's viewport tag, as a real one does)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile})


def test_at_phone_and_desktop_width_no_page_scrolls_sideways_and_screenshots_are_not_blank(
        sites: Sites, crawl: Crawl, browser: Any) -> None:
    try:
        for size, mobile in ((PHONE, True), (DESKTOP, False)):
            _emulate(browser, size, mobile=mobile)
            for page in sorted(crawl.visits):
                browser.get(sites.url(BUNDLED, page))
                inner, scroll = browser.execute_script(
                    "return [window.innerWidth, document.documentElement.scrollWidth];")
                assert inner == size[0], f"{page}: the layout is {inner}px wide on a {size[0]}px screen (viewport tag?)"
                assert scroll <= inner, f"{page} scrolls sideways at {size[0]}px: {scroll}px wide"
                if page in ("index.html", "aanbod/index.html", f"aanbod/{CHANGED_SERVICE}/index.html"):
                    colours = png_colours(browser.get_screenshot_as_png())
                    assert len(colours) >= 4, f"{page} at {size[0]}px looks blank: {len(colours)} colours"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# Shown = drawn on the screen; the contract also wants the others to carry the hidden attribute (and only them).
VISIBLE = """
const items = Array.from(document.querySelectorAll('li.dienst'));
return items.filter(e => e.getClientRects().length > 0 || !e.hidden).map(e => (e.hidden ? 'hidden-but-drawn:' : '') + e.id);
"""


def _shown(driver: Any) -> set[str]:
    """The ids (without 'dienst-') of the interventions the list shows now; one drawn despite hidden is marked so."""
    return {element_id.replace("dienst-", "") for element_id in driver.execute_script(VISIBLE)}


def _settles_on(driver: Any, expected: set[str], total: int) -> None:
    """Wait until the list shows exactly expected and the live count says so; fail with what it shows instead."""
    def settled(_: Any) -> bool:
        count = driver.find_element(By.ID, "aantal").text
        return _shown(driver) == expected and re.match(rf"{len(expected)} van de {total}\b", count) is not None
    try:
        WebDriverWait(driver, WAIT).until(settled)
    except TimeoutException as error:  # the assertion says what differed; the timeout alone would not
        count = driver.find_element(By.ID, "aantal").text
        shown = _shown(driver)
        raise AssertionError(f"shown {sorted(shown)}, expected {sorted(expected)}; "
                             f"extra {sorted(shown - expected)}, missing {sorted(expected - shown)}; "
                             f"#aantal says {count!r}") from error


FILTER_FIELDS = {"regio": "service_areas", "niveau": "levels", "vorm": "forms", "probleem": "problem_areas"}


def _expected(catalogue: Catalogue, *, age: int | None = None, unknown_too: bool = True, **chosen: str) -> set[str]:
    """The interventions the filters should leave: a known match, or (with the checkbox) not known."""
    def fits(values: list[str] | None, wanted: str) -> bool:
        return (values is None and unknown_too) or (values is not None and wanted in values)

    def fits_age(bounds: dict[str, int | None] | None) -> bool:
        if age is None:
            return True
        if bounds is None or bounds["minimum"] is None or bounds["maximum"] is None:
            return unknown_too  # only ranges known at both ends are used in these tests
        return bounds["minimum"] <= age <= bounds["maximum"]

    services = [service.model_dump(mode="json") for service in catalogue.services]
    return {s["id"] for s in services if fits_age(s["age_range"])
            and all(fits(s[FILTER_FIELDS[name]], wanted) for name, wanted in chosen.items())}


def _reset(driver: Any) -> None:
    """Press the filter form's reset button."""
    form = driver.find_element(By.ID, "filter-regio").find_element(By.XPATH, "ancestor::form")
    buttons = form.find_elements(By.CSS_SELECTOR, "button[type=reset], input[type=reset]")
    assert buttons, "the filter form has no reset button (<button type=reset>) to show the whole offer again"
    buttons[0].click()


def test_region_and_level_narrow_the_offer_and_the_checkbox_drops_what_is_not_known(sites: Sites, browser: Any) -> None:
    catalogue, everything = sites.catalogue, {service.id for service in sites.catalogue.services}
    total = len(everything)
    browser.get(sites.url(BUNDLED, "aanbod/index.html"))
    assert browser.find_element(By.ID, "filter-regio").is_displayed(), "the script shows the filters"
    _settles_on(browser, everything, total)
    Select(browser.find_element(By.ID, "filter-regio")).select_by_value("oost")
    Select(browser.find_element(By.ID, "filter-niveau")).select_by_value("secundair")
    honest = _expected(catalogue, regio="oost", niveau="secundair")
    assert OOST_SECONDARY <= honest and "naft-groep-intro-ahv" not in honest
    _settles_on(browser, honest, total)
    checkbox = browser.find_element(By.ID, "filter-ongekend")
    assert checkbox.is_selected(), "by default nothing is left out for not being known"
    checkbox.click()
    assert _expected(catalogue, regio="oost", niveau="secundair", unknown_too=False) == OOST_SECONDARY
    _settles_on(browser, OOST_SECONDARY, total)
    _reset(browser)
    _settles_on(browser, everything, total)
    assert browser.find_element(By.ID, "filter-ongekend").is_selected()


def test_form_and_problem_area_narrow_the_offer_and_every_filter_has_a_visible_label(sites: Sites, browser: Any) -> None:
    catalogue, total = sites.catalogue, len(sites.catalogue.services)
    browser.get(sites.url(BUNDLED, "aanbod/index.html"))
    for control in (*(f"filter-{name}" for name in FILTER_FIELDS), "filter-leeftijd", "filter-ongekend"):
        assert browser.find_element(By.CSS_SELECTOR, f"label[for='{control}']").is_displayed(), control
    browser.find_element(By.ID, "filter-ongekend").click()
    Select(browser.find_element(By.ID, "filter-probleem")).select_by_value("spijbelen")
    truancy = _expected(catalogue, probleem="spijbelen", unknown_too=False)
    assert OOST_SECONDARY | {"groene-zorg"} <= truancy
    _settles_on(browser, truancy, total)
    Select(browser.find_element(By.ID, "filter-vorm")).select_by_value("time-out")
    assert _expected(catalogue, probleem="spijbelen", vorm="time-out", unknown_too=False) == {"groene-zorg"}
    _settles_on(browser, {"groene-zorg"}, total)


def test_the_age_filter_hides_an_intervention_whose_known_ages_exclude_it(sites: Sites, browser: Any) -> None:
    catalogue, total = sites.changed_catalogue, len(sites.changed_catalogue.services)
    browser.get(sites.url(CHANGED, "aanbod/index.html"))
    age = browser.find_element(By.ID, "filter-leeftijd")
    age.send_keys("20")
    too_old = _expected(catalogue, age=20)
    assert CHANGED_SERVICE not in too_old and "naft-arktos-oost" in too_old, "12 to 18 excludes 20; unknown stays"
    _settles_on(browser, too_old, total)
    age.clear()
    age.send_keys("15")
    browser.find_element(By.ID, "filter-ongekend").click()
    _settles_on(browser, {CHANGED_SERVICE}, total)
    _reset(browser)
    _settles_on(browser, {service.id for service in catalogue.services}, total)


def test_without_javascript_every_intervention_shows_and_the_filters_do_not(sites: Sites, browser_without_js: Any) -> None:
    driver = browser_without_js
    driver.get(sites.url(BUNDLED, "aanbod/index.html"))
    items = driver.find_elements(By.CSS_SELECTOR, "li.dienst")
    assert {item.get_attribute("id").removeprefix("dienst-") for item in items} == {
        service.id for service in sites.catalogue.services}
    assert all(item.is_displayed() for item in items)
    names = [item.find_element(By.CSS_SELECTOR, "a.dienst-naam") for item in items]
    assert all(name.is_displayed() and name.text.strip() for name in names)
    assert not driver.find_element(By.ID, "filter-regio").is_displayed(), "filters that cannot work are not shown"
    driver.get(sites.url(BUNDLED, "index.html"))
    assert driver.find_element(By.TAG_NAME, "h1").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, "a[href='https://t.me/meldpunt_si_bot']").is_displayed(), "how to refer"
    assert driver.find_element(By.CSS_SELECTOR, "a[href^='mailto:']").is_displayed()


def test_opened_from_disk_the_filters_work_and_the_links_lead_to_pages(sites: Sites, browser: Any) -> None:
    browser.get_log("browser")  # only this test's pages count below
    browser.get((sites.root / BUNDLED / "aanbod" / "index.html").as_uri())
    assert browser.find_element(By.ID, "filter-regio").is_displayed(), "filter.js loads from disk too"
    Select(browser.find_element(By.ID, "filter-regio")).select_by_value("oost")
    _settles_on(browser, _expected(sites.catalogue, regio="oost"), len(sites.catalogue.services))
    browser.find_element(By.CSS_SELECTOR, f"#dienst-{CHANGED_SERVICE} a.dienst-naam").click()
    WebDriverWait(browser, WAIT).until(lambda driver: driver.current_url.endswith(f"/aanbod/{CHANGED_SERVICE}/index.html"))
    assert "NAFT-traject Profo" in browser.find_element(By.TAG_NAME, "h1").text
    assert page_console(browser) == []


def test_the_figures_page_with_tables_is_accessible_and_fits_a_phone(sites: Sites, browser: Any) -> None:
    axe_source = require_axe_core()
    browser.get_log("browser")
    try:
        _emulate(browser, PHONE, mobile=True)
        visit = visit_page(browser, sites.url(FIGURES, "cijfers/index.html"), axe_source)
        assert browser.find_elements(By.CSS_SELECTOR, "main table"), "the figures are shown as tables"
        inner, scroll = browser.execute_script("return [window.innerWidth, document.documentElement.scrollWidth];")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert scroll <= inner, f"the figures page scrolls sideways on a phone: {scroll}px wide"
    assert visit.severe == []
    assert not visit.violations, describe_violations("cijfers/index.html", visit.violations or [])


FACTS = """
const facts = {};
document.querySelectorAll('main dl dt').forEach(term => {
  const value = term.nextElementSibling;
  if (value && value.tagName === 'DD') { facts[term.textContent.trim()] = value.textContent.replace(/\\s+/g, ' ').trim(); }
});
return facts;
"""


def test_after_an_approved_change_the_intervention_page_shows_the_new_values(sites: Sites, browser: Any) -> None:
    page = f"aanbod/{CHANGED_SERVICE}/index.html"
    browser.get(sites.url(BUNDLED, page))
    before = browser.execute_script(FACTS)
    assert (before["Capaciteit"], before["Leeftijd"], before["Website"]) == ("niet gekend", "niet gekend", "http://www.profo.be/")
    assert before["Laatst bijgewerkt"] == "22/11/2026", "the catalogue's last review"
    browser.get(sites.url(CHANGED, page))
    after = browser.execute_script(FACTS)
    assert (after["Capaciteit"], after["Leeftijd"]) == ("3 vrije plaatsen", "12 tot en met 18 jaar")
    assert after["Laatst bijgewerkt"] == "02/12/2026", "the day the change was approved"
    assert browser.find_elements(By.CSS_SELECTOR, f"main a[href='{NEW_WEBSITE}']"), "the new website is linked"
    browser.get(sites.url(CHANGED, "aanbod/index.html"))
    item = browser.find_element(By.ID, f"dienst-{CHANGED_SERVICE}")
    assert (item.get_attribute("data-min-leeftijd"), item.get_attribute("data-max-leeftijd")) == ("12", "18")


TINY_PAGE = """<!doctype html><html><head><title>proef</title></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p id="p">zonder script</p>
<script>document.getElementById('p').textContent = 'met script';</script></body></html>"""


def test_the_harness_sees_what_it_must_axe_core_finds_a_missing_alt_text(tmp_path: Path, browser: Any) -> None:
    axe_source = require_axe_core()
    (tmp_path / "proef.html").write_text(TINY_PAGE, encoding="utf-8")
    with serve_directory(tmp_path) as base:
        browser.get(base + "proef.html")
        assert browser.find_element(By.ID, "p").text == "met script"
        found = {violation["id"]: violation["nodes"] for violation in axe_violations(browser, axe_source)}
    assert found.get("image-alt") == ["img"] and "html-has-lang" in found, found


def test_the_harness_sees_what_it_must_no_script_runs_without_javascript(tmp_path: Path, browser_without_js: Any) -> None:
    (tmp_path / "proef.html").write_text(TINY_PAGE, encoding="utf-8")
    with serve_directory(tmp_path) as base:
        browser_without_js.get(base + "proef.html")
        assert browser_without_js.find_element(By.ID, "p").text == "zonder script"
