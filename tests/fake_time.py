"""Virtual time for runners: a clock and a sleeper that park every waiter until the test moves time on.

Nothing waits for real: `run_until` lets every parked waiter whose moment came go, in order of time,
and each step waits (on a condition, not a timer) until every runner has parked again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass
class _Parked:
    at: datetime
    done: asyncio.Future[None]


@dataclass
class FakeTime:
    """A clock and a sleeper (meldpunt.supervisor.Sleeper) on virtual time."""

    now: datetime
    parked: list[_Parked] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def clock(self) -> datetime:
        """The virtual now."""
        return self.now

    def seconds(self, moment: datetime, start: datetime) -> float:
        """Virtual seconds from start to moment."""
        return (moment - start).total_seconds()

    async def sleep(self, seconds: float, *events: asyncio.Event) -> None:
        """Park until virtual time reaches now + seconds, or one of events is set."""
        entry = _Parked(self.now + timedelta(seconds=seconds), asyncio.get_running_loop().create_future())
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(event.wait()) for event in events]
        async with self._changed:
            self.parked.append(entry)
            self._changed.notify_all()
        try:
            await asyncio.wait([entry.done, *waiters], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            if entry in self.parked:
                self.parked.remove(entry)

    async def settled(self, runners: int) -> None:
        """Wait until runners waiters are parked (bounded, so a runner that died fails the test instead of hanging)."""
        async def all_parked() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.parked) >= runners)

        await asyncio.wait_for(all_parked(), timeout=30)

    async def run_until(self, moment: datetime, *, runners: int) -> None:
        """Move virtual time on, waiter by waiter, to moment; every runner is parked again when this returns."""
        while True:
            await self.settled(runners)
            due = min(entry.at for entry in self.parked)
            if due > moment:
                self.now = moment
                return
            self.now = due
            for entry in [entry for entry in self.parked if entry.at <= due]:
                self.parked.remove(entry)
                entry.done.set_result(None)
