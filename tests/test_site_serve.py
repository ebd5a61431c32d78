"""`meldpunt serve` shows the website on MELDPUNT_SITE_LISTEN and rebuilds it after `catalogue approve`; safe by default."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from desk import catalogue_changes as changes
from meldpunt.app import App
from meldpunt.cli import main
from meldpunt.service import Timing, serve
from meldpunt.settings import Settings
from meldpunt.supervisor import Backoff
from tests.child_process import ROOT, without_our_settings
from tests.imap_server import free_port
from tests.telegram_fake import FakeTelegram

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
PROFO = "aanmeldingen@profo.example"
SERVICE = "naft-profo-oost"
NEW_DESCRIPTION = "Nieuw: een groepswerking op woensdagnamiddag in Leuven."
# Only the website's rebuild is quick here; the rest keeps the service's own pace.
QUICK_SITE = Timing(site=0.1, backoff=Backoff(first=0.1, cap=0.5))


@dataclass
class Page:
    """What a browser received: the status, the headers and the text."""

    status: int
    headers: dict[str, str]
    text: str


def fetch(url: str, *, method: str = "GET") -> Page:
    """One request to our server on loopback (no proxy: tests/conftest.py sets NO_PROXY)."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Page(answer.status, dict(answer.headers.items()), answer.read().decode("utf-8"))
    except urllib.error.HTTPError as refused:
        return Page(refused.code, dict(refused.headers.items()), refused.read().decode("utf-8"))


async def page_when(url: str, condition: str, *, present: bool = True, tries: int = 600) -> Page:
    """The page once `condition` is (or is no longer) in it: the rebuild job runs on its own; we look every 0.1 s."""
    page = Page(0, {}, "")
    for _ in range(tries):
        try:
            page = await asyncio.to_thread(fetch, url)
        except OSError:  # not listening yet
            page = Page(0, {}, "")
        if page.status == 200 and (condition in page.text) == present:
            return page
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url}: {condition!r} {'never appeared' if present else 'stayed'} (last status {page.status})")


@pytest.fixture
def site_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An embedded installation whose website listens on a free loopback port; yields that host:port."""
    listen = f"127.0.0.1:{free_port()}"
    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the machine is read
    for name, value in {"MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_SITE_LISTEN": listen, "MELDPUNT_SMTP_LISTEN": "",
                        "MELDPUNT_TELEGRAM_TOKEN": "", "MELDPUNT_IMAP_HOST": "", "MELDPUNT_DATABASE_URL": ""}.items():
        monkeypatch.setenv(name, value)
    yield listen


@asynccontextmanager
async def serving(timing: Timing = QUICK_SITE) -> AsyncIterator[App]:
    """`meldpunt serve` in this loop until the block ends."""
    app = App(Settings())
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop=stop, clock=lambda: NOW, timing=timing))
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
        app.engine.dispose()


def propose_description(app: App) -> int:
    """Profo's pending change of its description, stored as the provider's mail would."""
    with app.sessions.begin() as session:
        service = app.catalogue.service(SERVICE)
        assert service is not None
        return changes.propose(session, service=service, updates={"description": NEW_DESCRIPTION}, submitted_by=PROFO, now=NOW).id


async def test_the_served_site_shows_the_offer_and_an_approved_change_without_a_restart(site_settings: str) -> None:
    base = f"http://{site_settings}/"
    async with serving() as app:
        home = await page_when(base, "Meldpunt")
        assert home.headers["Content-Type"].startswith("text/html")
        offer = await page_when(base + f"aanbod/{SERVICE}/index.html", "Profo")
        assert NEW_DESCRIPTION not in offer.text
        number = await asyncio.to_thread(propose_description, app)
        approved = await asyncio.to_thread(CliRunner().invoke, main, ["catalogue", "approve", str(number)])
        assert approved.exit_code == 0, approved.output
        await page_when(base + f"aanbod/{SERVICE}/index.html", NEW_DESCRIPTION)
        assert (await page_when(base + "aanbod/index.html", "Profo")).status == 200


async def test_a_signature_the_coordinator_records_reaches_the_served_declaration_page(site_settings: str) -> None:
    page = f"http://{site_settings}/intentieverklaring/index.html"
    async with serving():
        before = await page_when(page, "Profo</a>: nog niet ondertekend")
        assert "Profo</a> (aanbieder): ondertekend op" not in before.text
        signed = await asyncio.to_thread(CliRunner().invoke, main, ["intentieverklaring", "teken", "--aanbieder", "profo", "--datum", "20/02/2018"])
        assert signed.exit_code == 0, signed.output
        after = await page_when(page, "Profo</a> (aanbieder): ondertekend op 20/02/2018")
        assert "Profo</a>: nog niet ondertekend" not in after.text


async def test_with_the_bot_running_the_home_page_links_to_it_by_the_username_telegram_gave(
    site_settings: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeTelegram() as fake:
        monkeypatch.setenv("MELDPUNT_TELEGRAM_TOKEN", fake.token)
        monkeypatch.setenv("MELDPUNT_TELEGRAM_API_URL", fake.base_url)
        async with serving():
            home = await page_when(f"http://{site_settings}/", f'href="https://t.me/{fake.bot_username}"')
    assert "vraag je aan het Meldpunt" not in home.text


async def test_the_site_server_only_reads_keeps_no_visitor_log_and_answers_in_dutch(
    site_settings: str, caplog: pytest.LogCaptureFixture,
) -> None:
    base = f"http://{site_settings}/"
    async with serving():
        home = await page_when(base, "Meldpunt")
        assert "default-src 'self'" in home.headers["Content-Security-Policy"]
        assert home.headers["X-Content-Type-Options"] == "nosniff" and home.headers["Referrer-Policy"] == "no-referrer"
        missing = await asyncio.to_thread(fetch, base + "aanbod/bestaat-niet/index.html")
        assert missing.status == 404 and "Deze pagina bestaat niet" in missing.text and "Traceback" not in missing.text
        posted = await asyncio.to_thread(fetch, base, method="POST")
        assert posted.status == 405 and "Deze website kan je enkel lezen" in posted.text
        # The database lies next to the site's folder: no path leads out of the folder to it.
        escaped = await asyncio.to_thread(fetch, base + "..%2fmeldpunt.db")
        assert escaped.status in (403, 404) and "SQLite" not in escaped.text
    assert not [r for r in caplog.records if "127.0.0.1" in r.getMessage()], "no visitor's address is logged"


def run_serve(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`meldpunt serve` as a person starts it, expected to refuse before it serves anything."""
    env = {**without_our_settings(), "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_SMTP_LISTEN": "",
           "MELDPUNT_OUTBOX": "maildir", "PYTHONPATH": str(ROOT), **settings}
    return subprocess.run([sys.executable, "-m", "meldpunt", "serve"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)


def test_serve_refuses_to_show_the_site_beyond_loopback_unless_chosen(tmp_path: Path) -> None:
    refused = run_serve(tmp_path, MELDPUNT_SITE_LISTEN=f"0.0.0.0:{free_port()}")
    assert refused.returncode != 0
    assert "De website zou luisteren op 0.0.0.0:" in refused.stderr and "MELDPUNT_SITE_PUBLIC=true" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_serve_says_in_dutch_when_the_sites_address_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        refused = run_serve(tmp_path, MELDPUNT_SITE_LISTEN=listen)
    assert refused.returncode != 0
    assert f"Het adres {listen} is al in gebruik" in refused.stderr and "MELDPUNT_SITE_LISTEN" in refused.stderr
    assert "Traceback" not in refused.stderr
