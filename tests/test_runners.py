"""Nothing dies silently: the supervisor, the watchdog and `meldpunt status`, on SQLite and PostgreSQL.

The supervisor runs a job that really fails (a database write against a table that is not there,
then one that works) and must log one line, record the failure and go on; the watchdog looks at real
rows with an injected clock and must alert the coordinator once per incident, through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from intake.brussels import BRUSSELS
from meldpunt.cli import main
from meldpunt.supervisor import Backoff, Supervisor
from meldpunt.watchdog import ALARM_KIND, Thresholds, Watchdog
from store import inbound, outbox, runners
from store.mail_models import OutboxMessage, OutboxStatus
from store.runners import RunnerReport
from tests.mail_harness import Clock

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # 11:00 in Brussels
COORDINATOR = "coordinator@meldpunt.example"
DOMAIN = "meldpunt.example"
SECRET_SUBJECT = "Zoë Peeters spijbelt"  # personal data that must never reach a log line


async def until(condition: object, *, timeout: float = 30.0, what: str = "") -> None:
    """Wait (bounded) until condition() holds; the supervisor runs on this loop meanwhile."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.01)


def alarms(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """The watchdog's mails in the outbox, oldest first."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ALARM_KIND).order_by(OutboxMessage.id)))


def watchdog(sessions: sessionmaker[Session], clock: Clock, *, failures: int = 3) -> Watchdog:
    """A watchdog with the default 15 minutes, alerting the coordinator."""
    return Watchdog(sessions, thresholds=Thresholds(minutes=15, failures=failures), coordinator_email=COORDINATOR, domain=DOMAIN, clock=clock)


def a_mail(number: int, *, subject: str = "Vraag") -> bytes:
    """A small raw mail from a parent."""
    return (f"From: ouder{number}@ouders.example\r\nTo: meldpunt@{DOMAIN}\r\nSubject: {subject}\r\n"
            f"Message-ID: <m{number}@ouders.example>\r\n\r\nDag,\r\n").encode()


# --- the supervisor ----------------------------------------------------------------------------


async def test_a_failing_runner_is_logged_in_one_line_recorded_and_retried(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    clock, stop = Clock(NOW), asyncio.Event()
    supervisor = Supervisor(session_factory, stop, clock=clock, backoff=Backoff(first=0.01, cap=0.02))
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        with session_factory.begin() as session:
            # The first two rounds fail the way a broken database does: in SQLAlchemy, with the
            # statement (and its data) in the exception's text, which must never reach the log.
            table = "outbox" if len(calls) > 2 else "geen_tabel"
            session.execute(text(f"SELECT count(*) FROM {table} WHERE subject = :s"), {"s": SECRET_SUBJECT})
        if len(calls) == 4:
            stop.set()

    caplog.set_level(logging.INFO, logger="meldpunt.supervisor")
    await asyncio.wait_for(supervisor.repeat("proef", lambda: asyncio.to_thread(work), pause=lambda: supervisor.wait(0)), timeout=30)

    assert len(calls) == 4, "the runner kept going after two failures"
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    for record in failures:
        line = record.getMessage()
        assert "\n" not in line and record.exc_info is None, "one line, no traceback"
        assert line.startswith("proef mislukte: ProgrammingError") or line.startswith("proef mislukte: OperationalError"), line
        assert "tests/test_runners.py:" in line, "the place in our code"
        assert " > sqlalchemy/" in line or " > psycopg/" in line or " > sqlite3/" in line, "and the innermost frame"
        assert SECRET_SUBJECT not in line and "geen_tabel" not in line, "never the statement or its data"
    assert "2 keer na elkaar" in failures[1].getMessage()
    with session_factory() as session:
        (report,) = runners.reports(session)
    assert report.name == "proef" and report.consecutive_failures == 0
    assert report.last_success_at == NOW and report.last_failure_at == NOW
    assert (report.last_failure_type in {"ProgrammingError", "OperationalError"}
            or report.last_failure_type.startswith(("ProgrammingError [", "OperationalError [")))
    assert report.last_failure_place and "tests/test_runners.py:" in report.last_failure_place


async def test_a_runner_that_ends_early_is_started_again(session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    clock, stop = Clock(NOW), asyncio.Event()
    supervisor = Supervisor(session_factory, stop, clock=clock, backoff=Backoff(first=0.01, cap=0.02))
    starts: list[int] = []

    async def poller() -> None:
        starts.append(1)
        if len(starts) == 3:
            await stop.wait()

    runner = asyncio.create_task(supervisor.keep_running("imap", poller))
    await until(lambda: len(starts) == 3, what="third start")
    stop.set()
    await asyncio.wait_for(runner, timeout=10)
    ended = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(ended) == 2 and all(line.startswith("imap mislukte: RunnerEnded") for line in ended)


# --- the watchdog ------------------------------------------------------------------------------


def _fail(sessions: sessionmaker[Session], clock: Clock, name: str, times: int) -> None:
    """A runner's report after times failures in a row (0: it works again)."""
    with sessions.begin() as session:
        runners.save(session, RunnerReport(
            name=name, instance="host:1", last_success_at=clock() - timedelta(hours=1), last_failure_at=clock(),
            last_failure_type="OperationalError [SQLITE_FULL]", last_failure_place="store/inbound.py:70", consecutive_failures=times,
        ), now=clock())


def test_watchdog_alerts_a_failing_runner_once_and_again_only_after_it_recovered(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(NOW)
    dog = watchdog(session_factory, clock)
    _fail(session_factory, clock, "verwerking", 2)
    assert dog.check() == [] and alarms(session_factory) == []
    _fail(session_factory, clock, "verwerking", 3)
    assert [i.key for i in dog.check()] == ["runner:verwerking"]
    for more in (4, 5, 9):
        clock.advance(timedelta(minutes=4))  # (the alarm itself then waits too long in the outbox after 15)
        _fail(session_factory, clock, "verwerking", more)
        dog.check()
    (alarm,) = alarms(session_factory)
    assert alarm.to_address == COORDINATOR and alarm.status is OutboxStatus.QUEUED
    assert "'verwerking' mislukte 3 keer na elkaar, laatst op 18/11/2026 11:00" in alarm.body_text
    assert "OperationalError [SQLITE_FULL] in store/inbound.py:70" in alarm.body_text
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "waakhond: runner:verwerking sinds 18/11/2026 11:00 (3); de coördinator wordt verwittigd"]

    _fail(session_factory, clock, "verwerking", 0)  # it works again: the incident is over
    assert dog.check() == []
    assert len(alarms(session_factory)) == 1
    _fail(session_factory, clock, "verwerking", 3)  # and fails anew: a new incident
    dog.check()
    assert len(alarms(session_factory)) == 2


def test_a_second_watchdog_does_not_alert_an_incident_already_alerted(session_factory: sessionmaker[Session]) -> None:
    """Two instances on one PostgreSQL (or a restart): the open alert is in the database, not in memory."""
    clock = Clock(NOW)
    _fail(session_factory, clock, "outbox", 5)
    watchdog(session_factory, clock).check()
    watchdog(session_factory, clock).check()
    assert len(alarms(session_factory)) == 1


def test_watchdog_alerts_mail_waiting_and_a_stuck_outbox_in_one_mail(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(NOW)
    with session_factory.begin() as session:
        for number in range(3):
            inbound.accept(session, a_mail(number, subject=SECRET_SUBJECT), source="smtp", envelope_from=None, envelope_to=[], now=clock())
        outbox.enqueue(session, kind="antwoord", to_address="els@clb.example", subject=SECRET_SUBJECT, body_text="x", domain=DOMAIN, now=clock())
    dog = watchdog(session_factory, clock)
    clock.advance(timedelta(minutes=14))
    assert dog.check() == [], "14 minutes is not yet too long"
    clock.advance(timedelta(minutes=2))
    assert sorted(i.key for i in dog.check()) == ["inkomend", "outbox"]
    dog.check()
    (alarm,) = alarms(session_factory)
    assert "3 ontvangen mail(s) wachten op verwerking; de oudste kwam binnen op 18/11/2026 11:00 (16 minuten geleden" in alarm.body_text
    assert "1 mail(s) van het Meldpunt zijn nog niet verstuurd" in alarm.body_text
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, "the alarm of last resort: a log line per incident, even when the outbox is stuck"
    assert not any(SECRET_SUBJECT in line or "ouders.example" in line for line in errors)


def test_an_outbox_that_keeps_sending_a_large_batch_is_not_stuck(session_factory: sessionmaker[Session]) -> None:
    """Under the relay's rate a batch takes longer than the limit; while mail leaves, nothing is stuck."""
    clock = Clock(NOW)
    with session_factory.begin() as session:
        rows = [outbox.enqueue(session, kind="verzending", to_address=f"a{n}@aanbod.example", subject="s", body_text="x", domain=DOMAIN, now=clock())
                for n in range(3)]
    clock.advance(timedelta(minutes=30))
    with session_factory.begin() as session:
        outbox.mark_sent(session, session.get_one(OutboxMessage, rows[0].id), now=clock() - timedelta(minutes=1))
    assert watchdog(session_factory, clock).check() == []
    clock.advance(timedelta(minutes=15))
    assert [i.key for i in watchdog(session_factory, clock).check()] == ["outbox"]


# --- meldpunt status ---------------------------------------------------------------------------


def status(database_url: str, tmp_path: Path) -> tuple[int, str]:
    """`meldpunt status` on the test database: its exit code and output."""
    cli = CliRunner(env={"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_WATCHDOG_MINUTES": "15"})
    result = cli.invoke(main, ["status"], catch_exceptions=False)
    return result.exit_code, result.output


def test_status_is_healthy_then_shows_a_failure_and_waiting_mail_with_exit_code_1(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    code, output = status(database_url, tmp_path)
    assert code == 0 and "Alles in orde" in output
    assert "Volgende verzending naar de aanbieders: " in output

    now = datetime.now(UTC).replace(microsecond=0)
    with session_factory.begin() as session:
        runners.save(session, RunnerReport(name="verwerking", instance="h:1", last_success_at=now - timedelta(minutes=40)), now=now)
        runners.save(session, RunnerReport(
            name="outbox", instance="h:1", last_success_at=now - timedelta(minutes=3), last_failure_at=now - timedelta(minutes=2),
            last_failure_type="OperationalError [SQLITE_BUSY]", last_failure_place="store/outbox.py:90 > sqlalchemy/engine/default.py:941",
            consecutive_failures=1,
        ), now=now)
        inbound.accept(session, a_mail(1), source="smtp", envelope_from=None, envelope_to=[], now=now - timedelta(minutes=20))
        outbox.enqueue(session, kind="antwoord", to_address="els@clb.example", subject="s", body_text="x", domain=DOMAIN, now=now)
    code, output = status(database_url, tmp_path)
    assert code == 1, output
    local = (now - timedelta(minutes=2)).astimezone(BRUSSELS)
    assert f"laatste fout: {local:%d/%m/%Y %H:%M}, OperationalError [SQLITE_BUSY] in store/outbox.py:90" in output
    assert "(1 keer na elkaar, nog niet hersteld)" in output
    assert "Ontvangen mail die wacht op verwerking: 1 (oudste van " in output and "20 min geleden)" in output
    assert "Outbox: in de wachtrij 1 " in output
    assert "ALARM" in output and "1 ontvangen mail(s) wachten langer dan 15 minuten" in output
