"""`meldpunt dispatch` as a subprocess: the dry run changes nothing, --now sends and reports its own batch."""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from intake.catalogue_loader import load_catalogue
from mail.outbox import OutboxConfig, OutboxRunner
from store import outbox
from tests.dispatch_fixtures import add_staff, intake_for, queue_referrals
from tests.test_cli import EMAIL, env, meldpunt  # noqa: F401 — `env` is a fixture
from tests.test_workflow import FULL

# Three services at three provider addresses: one batch of three referrals makes three provider mails.
SERVICES = ["naft-arktos-ahv", "naft-groep-intro-ahv", "wereld-van-indra"]
OTHERS = 10  # mails already waiting in the outbox that are not the batch's (replies, notices …)


def test_dry_run_shows_what_goes_to_whom_and_now_sends_it(env: dict[str, str], tmp_path: Path) -> None:
    meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    assert meldpunt(env, "chat", "--as", EMAIL, stdin="\n".join(FULL) + "\n").returncode == 0
    dry = meldpunt(env, "dispatch", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Proefdraai: er wordt niets verstuurd" in dry.stdout and "Volgende geplande batch:" in dry.stdout
    assert "Naar aanmeldingen@arktos.example" in dry.stdout and "MSI-2026-0001  NAFT-traject Arktos" in dry.stdout
    assert "voorbeeldadres op .example" in dry.stdout, "the coordinator is warned the bundled addresses are examples"
    assert "Zoë" not in dry.stdout, "the overview names no pupil"
    listed = json.loads(meldpunt(env, "referrals", "list", "--json").stdout)
    assert listed[0]["status"] == "queued", "a dry run changes nothing"

    sent = meldpunt(env, "dispatch", "--now")
    assert sent.returncode == 0, sent.stderr
    assert "Batch klaar: 1 aanmelding(en) in 1 mail(s)" in sent.stdout
    assert "Van deze batch: 1 van de 1 mail(s) naar de aanbieders verstuurd." in sent.stdout
    assert "in totaal 2 mail(s) uit de wachtrij" in sent.stdout, "the provider mail and the referrer's notice"
    assert json.loads(meldpunt(env, "referrals", "list", "--json").stdout)[0]["status"] == "dispatched"
    box = mailbox.Maildir(Path(env["MELDPUNT_VAR_DIR"]) / "maildir", create=False)
    recipients = sorted(str(m["To"]) for m in box)
    assert recipients == ["aanmeldingen@arktos.example", EMAIL]
    assert "Er staan geen aanmeldingen klaar" in meldpunt(env, "dispatch").stdout


def test_both_flags_are_refused_in_dutch(env: dict[str, str]) -> None:
    both = meldpunt(env, "dispatch", "--dry-run", "--now")
    assert both.returncode == 2 and "Kies --dry-run of --now, niet allebei." in both.stderr


class ServingOutbox:
    """What `meldpunt serve` runs beside the command: an outbox runner in its own thread, draining until stopped."""

    def __init__(self, sessions: sessionmaker[Session], maildir: Path) -> None:
        """Start draining into the same Maildir the command uses."""
        config = OutboxConfig(from_address="meldpunt@meldpunt.example", from_name="Meldpunt", domain="meldpunt.example", maildir=maildir)
        self.runner = OutboxRunner(sessions, config, clock=lambda: datetime.now(UTC))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self.thread.start()

    async def _serve(self) -> None:
        """Drain one mail at a time, so the command and this runner really take turns."""
        while not self.stopped.is_set():
            if not (await self.runner.drain(limit=1)).sent:
                await asyncio.sleep(0.01)  # idle, as serve's runner waits between drains

    def stop(self) -> None:
        """Stop after the current drain, then send what is left."""
        self.stopped.set()
        self.thread.join(timeout=60)
        while asyncio.run(self.runner.drain()).sent:
            pass


def _queued_batch(session_factory: sessionmaker[Session]) -> None:
    """Three referrals for three providers, and OTHERS mails of other kinds already queued."""
    staff = add_staff(session_factory, EMAIL)
    queue_referrals(intake_for(load_catalogue()), session_factory, staff, len(SERVICES), service_ids=SERVICES, now=datetime.now(UTC))
    with session_factory.begin() as session:
        for i in range(OTHERS):
            outbox.enqueue(session, kind="antwoord", to_address=f"iemand{i}@clb.example", subject="Antwoord", body_text="Dag,",
                           domain="meldpunt.example", now=datetime.now(UTC))


def _cli_env(database_url: str, var: Path) -> dict[str, str]:
    """The command on the test database, mailing into var/maildir (no sending rate: a Maildir is no relay to spare)."""
    return {**os.environ, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(var), "MELDPUNT_OUTBOX": "maildir",
            "MELDPUNT_SEND_RATE_PER_MINUTE": "60000", "PYTHONUNBUFFERED": "1"}


def test_now_reports_its_own_batch_not_the_rest_of_the_queue(database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    _queued_batch(session_factory)
    sent = meldpunt(_cli_env(database_url, tmp_path / "var"), "dispatch", "--now")
    assert sent.returncode == 0, sent.stderr
    out = sent.stdout
    assert "Batch klaar: 3 aanmelding(en) in 3 mail(s) naar de aanbieders" in out
    assert "Van deze batch: 3 van de 3 mail(s) naar de aanbieders verstuurd." in out, out
    # It also sent the 10 waiting mails and the referrer's notice: said as such, never as this batch's.
    assert "14 mail(s) uit de wachtrij, ook andere dan die van deze batch" in out, out
    assert "\n14 mail(s) verstuurd." not in "\n" + out


def test_now_while_serve_sends_reports_its_batch_truthfully(database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    _queued_batch(session_factory)
    maildir = tmp_path / "var" / "maildir"
    serving = ServingOutbox(session_factory, maildir)
    try:
        sent = meldpunt(_cli_env(database_url, tmp_path / "var"), "dispatch", "--now")
    finally:
        serving.stop()
    assert sent.returncode == 0, sent.stderr
    out = sent.stdout
    # Whoever handed each mail over, the command says what became of its own three.
    assert "Van deze batch: 3 van de 3 mail(s) naar de aanbieders verstuurd." in out, out
    assert "draaiende dienst" in out, out
    delivered = [str(m["Message-ID"]) for m in mailbox.Maildir(maildir, create=False)]
    assert len(delivered) == len(set(delivered)) == 3 + 1 + OTHERS, "every mail once, whoever sent it"
