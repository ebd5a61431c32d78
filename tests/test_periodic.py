"""The one periodic runner on virtual time: jobs run at their intervals, a failing job is reported and retried, stop is clean.

Health goes to a real database (SQLite and PostgreSQL) as `meldpunt serve` records it for the watchdog
and `meldpunt status`; time is tests/fake_time.py's, so nothing sleeps and nothing is timed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from meldpunt.app import App
from meldpunt.cli_status import RUNNER_ORDER
from meldpunt.periodic import Periodic
from meldpunt.service import Timing, register_jobs
from meldpunt.settings import Settings
from meldpunt.supervisor import Backoff, Job, Supervisor
from store import runners
from tests.fake_time import FakeTime

START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
SECRET = "Zoë Peeters, zoe.peeters@ouders.example"  # what a failing job's exception may quote: never logged


def at(seconds: float) -> datetime:
    """The virtual moment seconds after START."""
    return START + timedelta(seconds=seconds)


class Recorder:
    """Jobs that note the virtual second of each round; fail(name, n) makes a job's first n rounds fail."""

    def __init__(self, time: FakeTime) -> None:
        """Note rounds on time's clock."""
        self.time = time
        self.rounds: dict[str, list[float]] = {}
        self.failures: dict[str, int] = {}

    def job(self, name: str) -> Job:
        """An async job named name."""
        async def run() -> None:
            self.rounds.setdefault(name, []).append(self.time.seconds(self.time.clock(), START))
            if self.failures.get(name, 0) > 0:
                self.failures[name] -= 1
                raise ValueError(f"could not handle the mail of {SECRET}")

        return run


def runner(sessions: sessionmaker[Session], time: FakeTime, stop: asyncio.Event) -> Periodic:
    """A periodic runner on virtual time, recording health in sessions."""
    return Periodic(Supervisor(sessions, stop, clock=time.clock, backoff=Backoff(first=1, cap=4), sleeper=time.sleep))


async def test_each_job_runs_at_its_own_interval_and_its_health_is_recorded(session_factory: sessionmaker[Session]) -> None:
    time, stop = FakeTime(START), asyncio.Event()
    jobs = Recorder(time)
    periodic = runner(session_factory, time, stop)
    periodic.add("outbox", jobs.job("outbox"), every=5)
    periodic.add("verzending", jobs.job("verzending"), every=60, first=30)
    task = asyncio.create_task(periodic.run())
    await time.run_until(at(120), runners=2)
    assert jobs.rounds["outbox"] == [5.0 * n for n in range(25)]
    assert jobs.rounds["verzending"] == [30.0, 90.0]
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    with session_factory() as session:
        health = {report.name: report for report in runners.reports(session)}
    assert set(health) == {"outbox", "verzending"}
    assert health["verzending"].last_success_at == at(90) and health["verzending"].consecutive_failures == 0
    # A success is written at most once a minute (a failure always): at 0, 60 and 120 s, not every 5 s.
    assert health["outbox"].last_success_at == at(120)


async def test_a_failing_job_is_logged_without_personal_data_recorded_and_retried_while_the_others_go_on(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="meldpunt")
    time, stop = FakeTime(START), asyncio.Event()
    jobs = Recorder(time)
    jobs.failures["gegevens"] = 2
    periodic = runner(session_factory, time, stop)
    periodic.add("gegevens", jobs.job("gegevens"), every=10)
    periodic.add("outbox", jobs.job("outbox"), every=5)
    task = asyncio.create_task(periodic.run())
    await time.run_until(at(2), runners=2)
    with session_factory() as session:
        (failing,) = [r for r in runners.reports(session) if r.name == "gegevens"]
    assert failing.consecutive_failures == 2 and failing.last_failure_at == at(1) and failing.last_failure_type == "ValueError"
    assert failing.last_failure_place and "tests/test_periodic.py:" in failing.last_failure_place
    await time.run_until(at(20), runners=2)
    # Back-off 1 s after the first failure, 2 s after the second; then the job's own interval again.
    assert jobs.rounds["gegevens"] == [0.0, 1.0, 3.0, 13.0]
    assert jobs.rounds["outbox"] == [0.0, 5.0, 10.0, 15.0, 20.0], "the other job kept its interval"
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 2 and all(line.startswith("gegevens mislukte: ValueError in tests/test_periodic.py:") for line in lines)
    assert not any("Zoë" in r.getMessage() or "ouders.example" in r.getMessage() or r.exc_info for r in caplog.records)
    assert any(r.getMessage() == "gegevens werkt weer na 2 mislukte poging(en)" for r in caplog.records)
    with session_factory() as session:
        (recovered,) = [r for r in runners.reports(session) if r.name == "gegevens"]
    assert recovered.consecutive_failures == 0 and recovered.last_success_at == at(3) and recovered.last_failure_at == at(1)


async def test_a_wake_up_runs_a_job_before_its_interval_and_stop_ends_every_job_cleanly(session_factory: sessionmaker[Session]) -> None:
    time, stop, wake = FakeTime(START), asyncio.Event(), asyncio.Event()
    jobs = Recorder(time)
    periodic = runner(session_factory, time, stop)
    periodic.add("verwerking", jobs.job("verwerking"), every=30, wake=wake)
    periodic.add("waakhond", jobs.job("waakhond"), every=60, first=60)
    task = asyncio.create_task(periodic.run())
    await time.run_until(at(7), runners=2)
    wake.set()  # mail arrived at 7 s
    await time.run_until(at(7), runners=2)
    await time.run_until(at(40), runners=2)
    assert jobs.rounds["verwerking"] == [0.0, 7.0, 37.0], "woken at 7 s, then 30 s after that round"
    assert "waakhond" not in jobs.rounds, "its first round comes after 60 s"
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert task.done() and task.exception() is None
    assert time.parked == [], "no job waits any more"
    assert jobs.rounds["verwerking"] == [0.0, 7.0, 37.0] and "waakhond" not in jobs.rounds, "nothing ran after stop"


def test_a_name_is_registered_once(session_factory: sessionmaker[Session]) -> None:
    periodic = Periodic(Supervisor(session_factory, asyncio.Event(), clock=lambda: START))
    periodic.add("outbox", lambda: asyncio.sleep(0), every=5)
    with pytest.raises(ValueError, match="outbox"):
        periodic.add("outbox", lambda: asyncio.sleep(0), every=5)


def test_serve_registers_every_scheduled_job_under_a_name_status_knows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the machine is read
    app = App(Settings(var_dir=tmp_path / "var", database_url=None, telegram_token=None, imap_host=None, site_listen="127.0.0.1:8080"))
    periodic = Periodic(Supervisor(app.sessions, asyncio.Event(), clock=lambda: START))
    register_jobs(periodic, app, timing=Timing(), wake=asyncio.Event(), clock=lambda: START, bot=None)
    assert [(job.name, job.every) for job in periodic.jobs] == [
        ("verwerking", 30.0), ("gegevens", 30.0), ("mailvragen", 30.0), ("outbox", 5.0), ("verzending", 60.0),
        ("aanbod", 60.0), ("waakhond", 60.0), ("privacy", 86400.0), ("bevraging", 3600.0),
        ("ochtendoverzicht", 300.0), ("alarmen", 60.0), ("website", 60.0),  # the website: rebuilt within a minute
    ]
    assert {job.name for job in periodic.jobs} <= set(RUNNER_ORDER), "`meldpunt status` lists each in its place"
    app.engine.dispose()
