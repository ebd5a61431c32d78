"""Building the website from a real database (SQLite and PostgreSQL): files, links, approved changes, rebuilds, the command.

Needs store.declaration (the DECL part of issue 17) for the signatures: these tests run once that is merged.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy.orm import Session

from desk import catalogue_changes
from intake.catalogue import DEFAULT_PATH
from intake.catalogue_loader import load_catalogue
from intake.site import all_pages
from meldpunt.app import App
from meldpunt.cli import main
from meldpunt.settings import Settings
from meldpunt.site_build import MANIFEST, build_site, site_fingerprint
from store.audit import AuditAction
from store.models import AuditEntry
from tests.site_check import PAGE_LIMIT, broken_links, external_references, html_pages, weight
from tests.test_report_engine import insert_data_set

MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 09:00 in Brussels


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    """The application on this test's database, with a public address for the sitemap."""
    monkeypatch.chdir(tmp_path)  # no meldpunt.env here
    return App(Settings(database_url=database_url, var_dir=tmp_path / "var", site_url="https://meldpunt.example/site",
                        mail_address="meldpunt@meldpunt.example"))


def contents(root: Path) -> dict[str, bytes]:
    """Every file under root by its relative path."""
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def approve_capacity(app: App, service_id: str, places: int, now: datetime) -> None:
    """A provider proposes free places and the coordinator approves it, as `catalogue approve` does."""
    service = load_catalogue().service(service_id)
    assert service is not None
    with app.sessions.begin() as session:
        change = catalogue_changes.propose(session, service=service, updates={"capacity": places}, submitted_by="aanmeldingen@tryout.example", now=now)
    with app.sessions.begin() as session:
        catalogue_changes.approve(session, change.id, by="cli:coordinator", now=now)


def test_the_whole_site_is_written_public_and_sound(app: App, tmp_path: Path) -> None:
    target = tmp_path / "publiek" / "site"
    built = build_site(app, target, now=MORNING)
    catalogue = load_catalogue()
    pages = all_pages(catalogue)
    assert built.pages == len(pages) == 6 + len(catalogue.organizations) + len(catalogue.services)
    assert set(contents(target)) == {*pages, "site.css", "filter.js", "sitemap.xml", "robots.txt", MANIFEST}
    assert built.written == len(pages) + 4 and built.removed == 0
    assert broken_links(target) == []
    assert all(weight(target, path) <= PAGE_LIMIT for path in html_pages(target))
    websites = {s.website for s in catalogue.services} | {o.website for o in catalogue.organizations}
    assert all(ref.tag == "a" and (ref.value in websites or ref.value.startswith("mailto:")) for _, ref in external_references(target))
    # Public by design, whatever the umask: a web server under another account reads it.
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.rglob("*") if p.is_file()} == {0o644}
    assert {stat.S_IMODE(p.stat().st_mode) for p in [target, *target.rglob("*")] if p.is_dir()} == {0o755}
    index = (target / "index.html").read_text("utf-8")
    assert "Bijgewerkt op 02/12/2026 09:00" in index and "@@" not in index
    sitemap = (target / "sitemap.xml").read_text("utf-8")
    assert sitemap.count("<url>") == len(pages)
    assert all(f"<loc>https://meldpunt.example/site/{page}</loc><lastmod>2026-12-02</lastmod>" in sitemap for page in pages)
    assert "Sitemap: https://meldpunt.example/site/sitemap.xml" in (target / "robots.txt").read_text("utf-8")


def test_unknown_capacity_unsigned_providers_and_the_direct_route_are_said(app: App, tmp_path: Path) -> None:
    build_site(app, tmp_path / "site", now=MORNING)
    tryout = (tmp_path / "site" / "aanbod" / "tryout" / "index.html").read_text("utf-8")
    assert "<dt>Capaciteit</dt><dd><span class=\"ongekend-tekst\">niet gekend</span></dd>" in tryout
    declaration = (tmp_path / "site" / "intentieverklaring" / "index.html").read_text("utf-8")
    assert "Profo</a>: nog niet ondertekend" in declaration
    groene_zorg = (tmp_path / "site" / "aanbod" / "groene-zorg" / "index.html").read_text("utf-8")
    assert "Rechtstreeks aanmelden" in groene_zorg and "niet via het Meldpunt" in groene_zorg


def test_an_approved_change_rewrites_only_the_pages_that_show_it(app: App, tmp_path: Path) -> None:
    target = tmp_path / "site"
    build_site(app, target, now=MORNING)
    before = contents(target)
    again = build_site(app, target, now=MORNING + timedelta(hours=2))
    assert (again.written, again.removed) == (0, 0) and contents(target) == before, "nothing changed: nothing written"
    approve_capacity(app, "tryout", 4, MORNING + timedelta(hours=3))
    next_day = MORNING + timedelta(days=1)
    built = build_site(app, target, now=next_day)
    after = contents(target)
    changed = {path for path in after if after[path] != before.get(path)} - {MANIFEST}
    assert changed == {"aanbod/tryout/index.html", "aanbod/index.html", "aanbieders/alba/index.html", "colofon/index.html", "sitemap.xml"}
    assert built.written == len(changed)
    tryout = after["aanbod/tryout/index.html"].decode()
    assert "4 vrije plaatsen" in tryout and "<dt>Laatst bijgewerkt</dt><dd>02/12/2026</dd>" in tryout
    assert "Bijgewerkt op 03/12/2026 09:00" in tryout, "a rewritten page says when"
    assert "Bijgewerkt op 02/12/2026 09:00" in after["aanbod/naft-arktos-ahv/index.html"].decode(), "an unchanged page keeps its moment"
    assert "<loc>https://meldpunt.example/site/aanbod/tryout/index.html</loc><lastmod>2026-12-03</lastmod>" in after["sitemap.xml"].decode()


def test_the_fingerprint_moves_with_an_approval_and_a_new_day_only(app: App, tmp_path: Path) -> None:
    first = site_fingerprint(app, now=MORNING)
    assert site_fingerprint(app, now=MORNING + timedelta(hours=5)) == first
    assert build_site(app, tmp_path / "site", now=MORNING, telegram_username="AndereBot").fingerprint == first, "serve compares the two"
    service = load_catalogue().service("tryout")
    assert service is not None
    with app.sessions.begin() as session:
        pending = catalogue_changes.propose(session, service=service, updates={"capacity": 2}, submitted_by="a@tryout.example", now=MORNING)
    assert site_fingerprint(app, now=MORNING) == first, "a pending change shows nowhere"
    with app.sessions.begin() as session:
        catalogue_changes.approve(session, pending.id, by="cli:coordinator", now=MORNING)
    approved = site_fingerprint(app, now=MORNING)
    assert approved != first
    assert site_fingerprint(app, now=MORNING + timedelta(days=1)) != approved, "the figures are refreshed once a day"


def test_files_no_longer_made_are_removed_and_others_left_alone(app: App, tmp_path: Path) -> None:
    target = tmp_path / "site"
    build_site(app, target, now=MORNING)
    (target / "eigen.txt").write_text("van de webmaster", "utf-8")
    data = yaml.safe_load(DEFAULT_PATH.read_text("utf-8"))
    data["services"] = [s for s in data["services"] if s["id"] != "tako"]
    smaller = tmp_path / "aanbod.yaml"
    smaller.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    shrunk = App(Settings(database_url=app.settings.database_url, var_dir=app.settings.var_dir, catalogue_path=smaller))
    built = build_site(shrunk, target, now=MORNING)
    assert built.removed == 1 and not (target / "aanbod" / "tako").exists()
    assert (target / "eigen.txt").read_text("utf-8") == "van de webmaster"
    assert "tako" not in (target / "sitemap.xml").read_text("utf-8") and broken_links(target) == []


def test_a_page_changed_by_hand_is_restored_and_a_tampered_manifest_removes_nothing_outside(app: App, tmp_path: Path) -> None:
    target = tmp_path / "site"
    build_site(app, target, now=MORNING)
    (target / "colofon" / "index.html").write_text("weg", "utf-8")
    outside = tmp_path / "buiten.html"
    outside.write_text("niet van de website", "utf-8")
    manifest = json.loads((target / MANIFEST).read_text("utf-8"))
    manifest["files"]["../buiten.html"] = manifest["files"]["index.html"]
    (target / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    built = build_site(app, target, now=MORNING)
    assert (built.written, built.removed) == (1, 0)
    assert "Colofon en privacy" in (target / "colofon" / "index.html").read_text("utf-8")
    assert outside.read_text("utf-8") == "niet van de website"


def test_the_figures_page_hides_small_cells_and_names_no_school(app: App, tmp_path: Path) -> None:
    with app.sessions() as session:
        insert_data_set(session)
    build_site(app, tmp_path / "site", now=datetime(2026, 6, 15, 8, 0, tzinfo=UTC))
    figures = (tmp_path / "site" / "cijfers" / "index.html").read_text("utf-8")
    assert "schooljaar 2025-2026" in figures and "Er zijn nog geen cijfers" not in figures
    assert "<td class=\"n\">&lt;5</td>" in figures and "Asse-Halle-Vilvoorde</th><td class=\"n\">13</td>" in figures
    for private in ("Atheneum Vilvoorde", "Sint-Jozef Halle", "CLB Noord", "College Leuven"):
        assert private not in figures
    with app.sessions() as session:
        assert _report_audits(session) == ["website"], "the figures are read as the website, once"


def _report_audits(session: Session) -> list[str]:
    """The actors of the audit log's report rows."""
    from sqlalchemy import select

    return list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == AuditAction.REPORT)))


def test_without_referrals_the_figures_page_says_so(app: App, tmp_path: Path) -> None:
    build_site(app, tmp_path / "site", now=MORNING)
    figures = (tmp_path / "site" / "cijfers" / "index.html").read_text("utf-8")
    assert "Er zijn nog geen cijfers: in deze periode kwam nog geen aanmelding binnen." in figures and "<table" not in figures


def run_cli(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    """`meldpunt site bouwen …` in-process on the test database; exit code and all it printed."""
    env = {"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_TELEGRAM_USERNAME": None}
    result = CliRunner(env=env).invoke(main, ["site", "bouwen", *args])
    return result.exit_code, result.output


def test_the_command_builds_and_says_what_it_did(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "www" / "website"
    code, output = run_cli(database_url, tmp_path, str(target), "--telegram", "@MeldpuntSIBot")
    pages = len(all_pages(load_catalogue()))
    assert code == 0, output
    assert output.strip() == (f"Website gebouwd: {pages} pagina's in {target}; {pages + 4} bestanden geschreven, 0 verwijderd. "
                              "Je kan deze map zo naar elke webserver kopiëren.")
    assert 'href="https://t.me/MeldpuntSIBot"' in (target / "index.html").read_text("utf-8")
    assert stat.S_IMODE((target / "index.html").stat().st_mode) == 0o644, "the command's private umask does not apply"
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o755, "a folder made above the site lets the web server through"
    code, output = run_cli(database_url, tmp_path, str(target), "--telegram", "MeldpuntSIBot")
    assert code == 0 and "0 bestanden geschreven, 0 verwijderd" in output


def test_the_command_refuses_a_file_or_a_folder_it_cannot_write(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a_file = tmp_path / "site.txt"
    a_file.write_text("", "utf-8")
    code, output = run_cli(database_url, tmp_path, str(a_file))
    assert code != 0 and f"{a_file} is een bestand, geen map: kies een map voor de website." in output and "Traceback" not in output
    code, output = run_cli(database_url, tmp_path, str(a_file / "onder"))
    assert code != 0 and "is een bestand, geen map" in output
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "dicht"
        locked.mkdir(mode=0o555)
        code, output = run_cli(database_url, tmp_path, str(locked / "site"))
        assert code != 0 and f"In {locked} kan niet geschreven worden" in output
