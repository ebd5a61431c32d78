"""Benchmark: dialogue turns through engine and store on SQLite, next to a bare SQLite insert+commit.

Run by hand: `make bench` (or `.venv/bin/python bench/dialogue_turns.py --turns 10000`).
Each turn loads the conversation, steps the engine, saves the state and commits (WAL, synchronous=FULL),
exactly as a channel does. The baseline is the cheapest durable write SQLite can do on the same disk
with the same pragmas, so the ratio shows what our logic costs on top of durability.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desk.workflow import Channel, IntakeWorkflow  # noqa: E402
from intake.catalogue_loader import load_catalogue  # noqa: E402
from intake.dialogue import Intake, Mode  # noqa: E402
from intake.messages import Inbound
from intake.questionnaire import load_questionnaire  # noqa: E402
from store import staff as staff_repo  # noqa: E402
from store.db import create_db_engine, make_session_factory, upgrade_database  # noqa: E402

ANSWERS = [
    "02 123 45 67", "Zoë", "Peeters", "14/03/2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair",
    "2e jaar", "1", "3", "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten",
    "overslaan", "1", "overslaan", "An Peeters", "an.peeters@school.example", "overslaan", "bevestig",
]


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which `fraction` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_turns(folder: Path, turns: int) -> list[float]:
    """Seconds per turn for `turns` turns of complete referrals, one conversation after another."""
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade_database(url)
    sessions = make_session_factory(create_db_engine(url))
    workflow = IntakeWorkflow(Intake(load_questionnaire(), load_catalogue()), sessions)
    now = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
    with sessions.begin() as session:
        member = staff_repo.add_staff(session, email="bench@clb.example", name="Bench", clb="CLB", now=now)
    samples: list[float] = []
    conversation = 0
    while len(samples) < turns:
        conversation += 1
        external_id = f"bench-{conversation}"
        workflow.open(channel=Channel.TELEGRAM, external_id=external_id, staff=member, mode=Mode.FULL, now=now)
        for answer in ANSWERS:
            now += timedelta(seconds=1)
            started = time.perf_counter()
            workflow.handle(channel=Channel.TELEGRAM, external_id=external_id, inbound=Inbound.from_text(answer), now=now)
            samples.append(time.perf_counter() - started)
            if len(samples) == turns:
                break
    return samples


def bench_bare_sqlite(folder: Path, count: int) -> list[float]:
    """Seconds per bare insert+commit of a state-sized row, same pragmas as the store."""
    connection = sqlite3.connect(folder / "bare.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT)")
    payload = "x" * 1500  # about the size of a saved dialogue state
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.execute("INSERT INTO t (state) VALUES (?)", (payload,))
        connection.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    connection.close()
    return samples


def report(name: str, samples: list[float]) -> tuple[float, float]:
    """Print p50/p99/throughput in milliseconds and return (p50, p99)."""
    p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
    rate = len(samples) / sum(samples)
    print(f"{name:<28} n={len(samples):>6}  p50={p50 * 1000:7.3f} ms  p99={p99 * 1000:7.3f} ms  "
          f"mean={statistics.fmean(samples) * 1000:7.3f} ms  {rate:8.0f}/s")
    return p50, p99


def main() -> None:
    """Run both measurements in one temporary folder and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meldpunt-bench-", dir=Path.cwd()) as tmp:
        folder = Path(tmp)
        bare = bench_bare_sqlite(folder, args.turns)
        turns = bench_turns(folder, args.turns)
    bare_p50, bare_p99 = report("bare SQLite insert+commit", bare)
    turn_p50, turn_p99 = report("dialogue turn (engine+store)", turns)
    print(f"ratio turn/bare: p50 x{turn_p50 / bare_p50:.1f}, p99 x{turn_p99 / bare_p99:.1f}")
    verdict = "gehaald" if turn_p99 < 0.005 else "NIET gehaald"
    print(f"doel p99 < 5 ms per beurt: {verdict} ({turn_p99 * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
