"""`meldpunt serve` survives a failing database: a locked SQLite file and a full one.

The service runs in-process on the test's loop (`meldpunt.service.serve` with a stop event, an
injected clock for the watchdog and short intervals), on a real SQLite file, with an aiosmtpd sink
as the relay. Another connection really holds the write lock (BEGIN EXCLUSIVE); a full disk is
SQLite's own SQLITE_FULL, from `PRAGMA max_page_count` capped at the file's size on every connection
the service takes. The processor must fail, log one line, keep running, and process the mail once
the lock is released or space is freed; the watchdog must alert the coordinator exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from click.testing import CliRunner
from sqlalchemy import event, select

from intake.brussels import BRUSSELS
from meldpunt.app import App
from meldpunt.cli import main
from meldpunt.service import Timing, serve
from meldpunt.settings import Settings
from meldpunt.supervisor import Backoff
from store import inbound
from store.mail_models import InboundMail, InboundStatus, OutboxMessage, RunnerHealth
from tests.mail_harness import Clock, Sink
from tests.test_runners import until

COORDINATOR = "coordinator@meldpunt.example"
ADDRESS = "meldpunt@meldpunt.example"
PARENT = "ouder.vermeulen@ouders.example"
SUBJECT = "Lotte Vermeulen wil niet meer naar school"
FAST = Timing(outbox=0.05, dispatch=0.5, catalogue=0.5, watchdog=0.05, process=0.05, backoff=Backoff(first=0.05, cap=0.2))
WATCHDOG_SUBJECT = "Meldpunt: de intake-assistent loopt vast"


def a_mail(body: str = "Dag, kan iemand ons helpen?") -> bytes:
    """A parent's mail (an unknown sender: it gets a reply, and the coordinator a question)."""
    return (f"From: {PARENT}\r\nTo: {ADDRESS}\r\nSubject: {SUBJECT}\r\nMessage-ID: <ouder-1@ouders.example>\r\n"
            f"Date: Wed, 18 Nov 2026 10:00:00 +0100\r\n\r\n{body}\r\n").encode()


@dataclass
class Running:
    """The service under test and what the test reaches it by."""

    app: App
    clock: Clock
    sink: Sink
    database: Path

    def mail(self) -> InboundMail:
        """The one inbound mail, as stored now."""
        with self.app.sessions() as session:
            return session.scalars(select(InboundMail)).one()

    def outbox(self, kind: str | None = None) -> list[OutboxMessage]:
        """The outbox rows (of one kind)."""
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        with self.app.sessions() as session:
            return [row for row in session.scalars(query) if kind is None or row.kind == kind]

    def runner(self, name: str) -> RunnerHealth | None:
        """A runner's stored health row."""
        with self.app.sessions() as session:
            return session.get(RunnerHealth, name)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The service's settings apart from the relay's port; no meldpunt.env of the machine is read."""
    monkeypatch.chdir(tmp_path)
    yield {
        "var_dir": tmp_path / "var", "smtp_listen": "", "mail_address": ADDRESS, "coordinator_email": COORDINATOR,
        "smtp_starttls": False, "send_rate_per_minute": None, "watchdog_minutes": 15, "watchdog_failures": 1000,
        "telegram_token": None, "imap_host": None, "database_url": None,
    }


@asynccontextmanager
async def service(settings: dict[str, Any], *, received: datetime, body: str = "Dag, kan iemand ons helpen?",
                  prepare: Any = None) -> AsyncIterator[Running]:
    """A migrated database with one stored mail, then `prepare(running)`, then serve until the block ends."""
    sink = Sink()
    loop = asyncio.get_running_loop()
    sink_server = await loop.create_server(lambda: SMTP(sink, hostname="127.0.0.1"), host="127.0.0.1", port=0)
    app = App(Settings(**settings, smtp_relay=f"127.0.0.1:{sink_server.sockets[0].getsockname()[1]}"))
    database = Path(settings["var_dir"]) / "meldpunt.db"
    with app.sessions.begin() as session:
        inbound.accept(session, a_mail(body), source="smtp", envelope_from=PARENT, envelope_to=[ADDRESS], now=received)
    running = Running(app=app, clock=Clock(datetime.now(UTC)), sink=sink, database=database)
    if prepare is not None:
        prepare(running)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop=stop, clock=running.clock, timing=FAST))
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
        sink_server.close()
        await sink_server.wait_closed()
        app.engine.dispose()


def errors(caplog: pytest.LogCaptureFixture, start: str) -> list[logging.LogRecord]:
    """ERROR records whose message starts with start."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage().startswith(start)]


def assert_no_personal_data_and_one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    """Every line our code logged is one line, without a traceback, and names nobody."""
    # ("mail.log" is aiosmtpd's logger, here the test's sink; the service keeps it at WARNING.)
    ours = [r for r in caplog.records if r.name.split(".")[0] in {"meldpunt", "mail", "store"} and r.name != "mail.log"]
    for record in ours:
        line = record.getMessage()
        assert PARENT not in line and "Vermeulen" not in line and "Lotte" not in line, line
        if record.levelno >= logging.ERROR:
            assert "\n" not in line and record.exc_info is None, line


def short_busy_timeout(app: App) -> None:
    """Each locked attempt gives up after 0.1 s instead of 5 s (only the waiting is shorter)."""
    def pragma(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    event.listen(app.engine, "connect", pragma)
    app.engine.dispose()


async def test_a_locked_database_stops_nothing_for_good_and_the_coordinator_hears_of_it_once(
    settings: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    started = datetime.now(UTC)
    holder: list[sqlite3.Connection] = []

    def lock(running: Running) -> None:
        short_busy_timeout(running.app)
        other = sqlite3.connect(running.database, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock, as the 40 s one did
        holder.append(other)

    # The mail came in 16 minutes ago (the limit is 15): the watchdog notices at once.
    async with service(settings, received=started - timedelta(minutes=16), prepare=lock) as running:
        await until(lambda: errors(caplog, "verwerking mislukte: OperationalError [SQLITE_BUSY] in "), what="processor failure logged")
        await until(lambda: errors(caplog, "waakhond: inkomend sinds "), what="watchdog's log line")
        assert running.mail().status is InboundStatus.RECEIVED
        assert running.sink.deliveries == [], "no alarm can be queued while the database is locked"
        holder[0].execute("ROLLBACK")  # the lock is released
        holder[0].close()

        await until(lambda: running.mail().status is InboundStatus.DONE, what="the mail processed after the lock")
        await until(lambda: any(d.parsed()["Subject"] == WATCHDOG_SUBJECT for d in running.sink.deliveries), what="alarm delivered")
        for _ in range(2):  # two more watched minutes: the incident is over, nothing is alerted again
            running.clock.advance(timedelta(minutes=2))
            await until(lambda: (r := running.runner("waakhond")) is not None and r.last_success_at == running.clock(), what="watchdog round")

    alarms = [d.parsed() for d in running.sink.deliveries if d.parsed()["Subject"] == WATCHDOG_SUBJECT]
    assert len(alarms) == 1 and len(running.outbox("waakhond")) == 1
    assert alarms[0]["To"] == COORDINATOR
    body = alarms[0].get_body(("plain",)).get_content()
    assert "1 ontvangen mail(s) wachten op verwerking" in body
    assert running.mail().outcome == "onbekende-afzender" and running.mail().attempts == 1
    assert len([row for row in running.outbox("antwoord") if row.to_address == PARENT]) == 1, "processed once"
    assert_no_personal_data_and_one_line_each(caplog)

    processor = running.runner("verwerking")
    assert processor is not None and processor.consecutive_failures == 0
    assert processor.last_failure_type == "OperationalError [SQLITE_BUSY]"
    shown = CliRunner(env={"MELDPUNT_VAR_DIR": str(settings["var_dir"]), "MELDPUNT_DATABASE_URL": None}).invoke(main, ["status"])
    assert shown.exit_code == 0, shown.output
    line = next(line for line in shown.output.splitlines() if line.strip().startswith("verwerking"))
    assert f"laatste fout: {processor.last_failure_at.astimezone(BRUSSELS):%d/%m/%Y %H:%M}, OperationalError [SQLITE_BUSY] in " in line


async def test_a_full_disk_fails_the_processor_until_space_is_freed_and_the_mail_is_not_lost(
    settings: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    limit = {"pages": 0}

    def fill_the_disk(running: Running) -> None:
        running.app.engine.dispose()
        with sqlite3.connect(running.database, isolation_level=None) as direct:
            direct.execute("VACUUM")  # no free pages left inside the file
            limit["pages"] = direct.execute("PRAGMA page_count").fetchone()[0]

        def cap(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            # Not below the file's size (SQLite keeps it at least that): nothing may grow.
            dbapi_connection.execute(f"PRAGMA max_page_count={limit['pages']}")

        event.listen(running.app.engine, "checkout", cap)

    # Short enough that the claim fits in its page, long enough that the question, the reply and the
    # mail to the coordinator (which quotes it) need new pages (a page is 4 KB): processing hits SQLITE_FULL.
    body = "Dag, " + "onze zoon gaat al weken niet meer naar school en we weten niet meer wat te doen. " * 18
    async with service(settings, received=datetime.now(UTC), body=body, prepare=fill_the_disk) as running:
        await until(lambda: len(errors(caplog, "verwerking mislukte: OperationalError [SQLITE_FULL] in ")) >= 4,
                    what="four failures in a row: the processor keeps trying")
        places = [r.getMessage() for r in errors(caplog, "verwerking mislukte")]
        assert any("in store/inbound.py:" not in line for line in places), "it failed while processing, not when claiming"
        assert running.mail().status is InboundStatus.RECEIVED, "a full disk is our fault: the mail is not quarantined"
        limit["pages"] = 1_000_000  # space is freed
        await until(lambda: running.mail().status is InboundStatus.DONE, what="the mail processed once there is space")
        await until(lambda: len(running.sink.deliveries) >= 2, what="reply and question sent")

    assert running.mail().outcome == "onbekende-afzender"
    assert running.mail().attempts == 1, "the failed attempts did not count against the mail"
    assert len([row for row in running.outbox("antwoord") if row.to_address == PARENT]) == 1
    assert_no_personal_data_and_one_line_each(caplog)
