"""A dispatcher process for tests/test_dispatch_crash.py: run the due batch, then send the outbox mail by mail.

Run: `python -m tests.dispatch_child DB_URL SINK_PORT --start ISO --maildir DIR` from the repository root.
It wires what `meldpunt serve` wires for dispatch (Dispatcher over the twelve-provider catalogue, and
an OutboxRunner relaying to 127.0.0.1:SINK_PORT without STARTTLS), calls `tick()` once (the slot of
Monday 12:00 is due, so the batch runs unless it already did), then drains one mail at a time until
nothing is due. Its clock is --start plus the real time since the process began: the parent starts
each new process later, past STALE_AFTER, so mails a killed process left `sending` are recovered.
It prints one line per step (`ready`, `ticked …`, `sent …`, `done`) and one per SQL statement (`sql INSERT INTO
dispatch_batches …`), so the parent can choose when to kill it, by progress rather than by time alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from intake.schedule import WeeklyMoment
from mail.dispatcher import DispatchConfig, Dispatcher
from mail.outbox import OutboxConfig, OutboxRunner
from store.db import create_db_engine, make_session_factory
from tests.dispatch_fixtures import intake_for, twelve_provider_catalogue

DOMAIN = "meldpunt.example"
# Monday 2026-11-30 12:00 in Brussels (11:00 UTC), after the fixtures' referrals (10:00 UTC) were submitted,
# and due until the next Monday: every restart that day sees the same slot.
MOMENT = "ma 12:00"
SLOT_KEY = "2026-11-30 12:00"
# A gap between hand-overs, so the parent can kill between "the relay said 250" and the next mail.
RATE_PER_MINUTE = 300.0


def say(line: str) -> None:
    """One progress line for the parent, flushed at once (it reads the pipe line by line)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def offset_clock(start: datetime) -> Callable[[], datetime]:
    """start, moving on with the real time since this call."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


async def send_all(runner: OutboxRunner) -> int:
    """Drain one mail at a time until a drain finds nothing due; how many were sent."""
    sent = 0
    while True:
        report = await runner.drain(limit=1)
        if report.sent + report.retried + report.failed == 0:
            return sent
        sent += report.sent
        say(f"sent {report.sent} retried {report.retried} failed {report.failed}")


def main(argv: list[str] | None = None) -> int:
    """Run the due batch and send the outbox; 0 when it got to the end."""
    parser = argparse.ArgumentParser(description="Run the due dispatch batch, then send the outbox mail by mail.")
    parser.add_argument("database_url")
    parser.add_argument("sink_port", type=int)
    parser.add_argument("--start", required=True, type=datetime.fromisoformat, help="the clock's start (ISO, with offset)")
    parser.add_argument("--maildir", required=True, type=Path, help="required by OutboxConfig; unused with a relay")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    clock = offset_clock(args.start)
    engine = create_db_engine(args.database_url)
    event.listen(engine, "before_cursor_execute", lambda _conn, _cursor, statement, *_: say("sql " + " ".join(statement.split())[:60]))
    sessions = make_session_factory(engine)
    intake = intake_for(twelve_provider_catalogue())
    dispatcher = Dispatcher(sessions, lambda: intake, DispatchConfig(moments=(WeeklyMoment.parse(MOMENT),), domain=DOMAIN), clock=clock)
    runner = OutboxRunner(sessions, OutboxConfig(
        from_address=f"meldpunt@{DOMAIN}", from_name="Meldpunt Schoolexterne Interventies", domain=DOMAIN,
        relay_host="127.0.0.1", relay_port=args.sink_port, starttls=False, maildir=args.maildir, timeout=10.0,
        rate_per_minute=RATE_PER_MINUTE,
    ), clock=clock)
    try:
        say("ready")
        report = dispatcher.tick()
        say(f"ticked {report}")
        say(f"drained {asyncio.run(send_all(runner))}")
    finally:
        engine.dispose()
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
