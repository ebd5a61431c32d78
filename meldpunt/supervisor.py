"""Nothing dies silently: every runner of `meldpunt serve` runs under one supervisor that catches, logs, backs off and goes on.

A failure is one log line with the runner, the exception's class (and the database's error code)
and where it happened (our innermost frame and the innermost frame of all), never the exception's
text: a database error's text can quote a mail. Each runner's last success, last failure and
consecutive failures go to the database (store.runners), so `meldpunt status` and the watchdog see
them from another process; while the database itself fails, the report waits in memory and is
written with the next one that gets through.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from store import runners
from store.runners import RunnerReport

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
# A success is written at most this often (a failure always): the outbox drains every few seconds.
SUCCESS_WRITE_INTERVAL = timedelta(minutes=1)

Job = Callable[[], Awaitable[object]]


class Sleeper(Protocol):
    """Waits seconds, or less when one of the events is set; tests inject one that runs on fake time."""

    async def __call__(self, seconds: float, *events: asyncio.Event) -> None:
        """Return after seconds, or as soon as one of events is set."""


async def sleep(seconds: float, *events: asyncio.Event) -> None:
    """The real sleeper: wait seconds on the loop, or less when one of events is set."""
    if not events:
        await asyncio.sleep(seconds)
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


@dataclass(frozen=True)
class Backoff:
    """The wait after consecutive failures: first, twice that, … at most cap seconds."""

    first: float = 5.0
    cap: float = 300.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the failures-th failure in a row."""
        return float(min(self.first * 2 ** max(failures - 1, 0), self.cap))


def describe_error(error: BaseException) -> tuple[str, str]:
    """(type, place) of an error, free of personal data: the class with the database's error code, and file:line."""
    kind = type(error).__name__
    original = getattr(error, "orig", None)
    code = getattr(original, "sqlite_errorname", None) or getattr(original, "sqlstate", None)
    if code:
        kind = f"{kind} [{code}]"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return kind, "?"
    innermost = frames[-1]
    ours = next((frame for frame in reversed(frames) if _is_ours(frame.filename)), None)
    place = _where(innermost)
    if ours is not None and ours is not innermost:
        place = f"{_where(ours)} > {place}"
    return kind, place


def _is_ours(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(ROOT) and "site-packages" not in path.parts and ".venv" not in path.parts


def _where(frame: traceback.FrameSummary) -> str:
    """file:line, relative to the project or to site-packages, so a log line says where without a home directory."""
    path = Path(frame.filename)
    parts = path.parts
    if "site-packages" in parts:
        shown = "/".join(parts[parts.index("site-packages") + 1 :])
    elif path.resolve().is_relative_to(ROOT):
        shown = path.resolve().relative_to(ROOT).as_posix()
    else:
        shown = path.name
    return f"{shown}:{frame.lineno}"


class Supervisor:
    """Runs runners until stop; what escapes a runner is logged in one line, recorded, and retried after a back-off."""

    def __init__(
        self, sessions: sessionmaker[Session], stop: asyncio.Event, *, clock: Clock, backoff: Backoff = Backoff(),
        sleeper: Sleeper = sleep,
    ) -> None:
        """Keep where to record, when to stop, the clock, the back-off and how to wait."""
        self.sessions = sessions
        self.stop = stop
        self.clock = clock
        self.backoff = backoff
        self.sleeper = sleeper
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self._reports: dict[str, RunnerReport] = {}
        self._written: dict[str, RunnerReport] = {}

    async def repeat(self, name: str, job: Job, *, pause: Callable[[], Awaitable[object]]) -> None:
        """Run job, then pause, until stop; a failure is logged and recorded and job runs again after a back-off."""
        while not self.stop.is_set():
            try:
                await job()
            except Exception as error:  # noqa: BLE001 - the point: nothing escapes, nothing dies
                await self._wait(await self._failed(name, error))
                continue
            await self._succeeded(name)
            await pause()

    async def keep_running(self, name: str, job: Job) -> None:
        """Run a runner that runs until stop (IMAP, Telegram); if it fails or ends early, start it again after a back-off."""
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if not self._report(name).consecutive_failures:
                await self._succeeded(name)  # for these runners the last success is their last clean start
            started = loop.time()
            try:
                await job()
                if self.stop.is_set():
                    return
                raise RunnerEnded(name)
            except Exception as error:  # noqa: BLE001
                if loop.time() - started >= self.backoff.cap:
                    # It ran well for longer than any back-off: a new failure, not one more of a series.
                    self._reports[name] = replace(self._report(name), consecutive_failures=0)
                await self._wait(await self._failed(name, error))

    async def wait(self, seconds: float, *wake: asyncio.Event) -> None:
        """Wait seconds, or less when stop or one of wake is set."""
        await self.sleeper(seconds, self.stop, *wake)

    async def _wait(self, seconds: float) -> None:
        await self.sleeper(seconds, self.stop)

    async def _failed(self, name: str, error: Exception) -> float:
        """Log the failure in one line and record it; the back-off before the next try."""
        kind, place = describe_error(error)
        report = self._report(name)
        failures = report.consecutive_failures + 1
        delay = self.backoff.delay(failures)
        log.error("%s mislukte: %s in %s (%d keer na elkaar); nieuwe poging binnen %g s", name, kind, place, failures, delay)
        self._reports[name] = replace(report, last_failure_at=self.clock(), last_failure_type=kind, last_failure_place=place,
                                      consecutive_failures=failures)
        await self._write(name)
        return delay

    async def _succeeded(self, name: str) -> None:
        """Record a success; written at once after failures, else at most once a minute."""
        report = self._report(name)
        if report.consecutive_failures:
            log.info("%s werkt weer na %d mislukte poging(en)", name, report.consecutive_failures)
        self._reports[name] = replace(report, last_success_at=self.clock(), consecutive_failures=0)
        written = self._written.get(name)
        if written is None or written.last_success_at is None:
            await self._write(name)
            return
        stale = self.clock() - written.last_success_at >= SUCCESS_WRITE_INTERVAL
        if stale or written != replace(self._reports[name], last_success_at=written.last_success_at):
            await self._write(name)

    def _report(self, name: str) -> RunnerReport:
        return self._reports.setdefault(name, RunnerReport(name=name, instance=self.instance))

    async def _write(self, name: str) -> None:
        """Store the runner's report; if the database fails too, it stays in memory for the next write."""
        report = self._reports[name]

        def store() -> None:
            with self.sessions.begin() as session:
                runners.save(session, report, now=self.clock())

        try:
            await asyncio.to_thread(store)
        except Exception as error:  # noqa: BLE001 - the runner's own line already said what fails
            log.debug("%s: toestand niet bewaard (%s)", name, type(error).__name__)
            return
        self._written[name] = report


class RunnerEnded(Exception):
    """A runner that should run until stop returned early."""
