"""One periodic runner: every scheduled job of `meldpunt serve` runs on its own interval under the supervisor.

Each job is a public method of its owner (the outbox, the dispatcher, the processor, the bot, …),
registered by name in meldpunt/service.py; the name is what `meldpunt status` and the watchdog show.
The supervisor records each round, logs a failure in one line without personal data and retries it
after a back-off; time comes from the supervisor's injected clock and sleeper, so tests run on fake time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from meldpunt.supervisor import Job, Supervisor


@dataclass(frozen=True)
class PeriodicJob:
    """A job, how long to pause after each round, how long before the first, and what may wake it sooner."""

    name: str
    run: Job
    every: float
    first: float = 0.0
    wake: asyncio.Event | None = None  # set (mail arrived, a round ended) to run before the pause is over


class Periodic:
    """Runs every registered job on its interval until the supervisor's stop is set; then returns cleanly."""

    def __init__(self, supervisor: Supervisor) -> None:
        """Run under supervisor: its stop, clock, sleeper, back-off and health records."""
        self.supervisor = supervisor
        self.jobs: list[PeriodicJob] = []

    def add(self, name: str, run: Job, *, every: float, first: float = 0.0, wake: asyncio.Event | None = None) -> None:
        """Register a job under the name `meldpunt status` shows; one name, one job."""
        if any(job.name == name for job in self.jobs):
            raise ValueError(f"job {name!r} is already registered")
        self.jobs.append(PeriodicJob(name, run, every, first, wake))

    async def run(self) -> None:
        """Run each job in its own task (a slow batch never holds up the outbox) until stop; wait for each to end."""
        await asyncio.gather(*(self._loop(job) for job in self.jobs))

    async def _loop(self, job: PeriodicJob) -> None:
        """First pause, then rounds: run, record, pause (or a back-off after a failure), until stop."""
        supervisor = self.supervisor
        wake = () if job.wake is None else (job.wake,)
        if job.first > 0:
            await supervisor.wait(job.first, *wake)

        async def round_() -> None:
            if job.wake is not None:
                job.wake.clear()  # a wake-up while the round runs asks for the next round
            await job.run()

        await supervisor.repeat(job.name, round_, pause=lambda: supervisor.wait(job.every, *wake))
