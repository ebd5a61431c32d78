"""Benchmark: CLB staff completing referrals at the same time over Telegram, next to a bare PTB echo bot.

Run by hand: `.venv/bin/python bench/telegram_turns.py [--staff 200] [--database sqlite|URL]`.
N linked staff members each type a whole minimal-mode referral ("/aanmelden", 25 answers, "bevestig")
as concurrent asyncio tasks against our fake Bot API server on 127.0.0.1, polled by our TelegramBot
(desk, workflow, store). A turn lasts from the queued user message until the fake server records the
turn's last sendMessage. The baseline is a bare python-telegram-bot echo bot (same concurrency, same
polling) against its own fake server, with the same number of people and turns, so the ratios show
what our logic and the database cost on top of PTB and HTTP. A URL given by --database should point
at an empty database (it is migrated to head; staff are registered as staff{i}@clb.example).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.desk import Desk, DeskConfig
from bot.telegram_bot import TelegramBot, TelegramConfig
from desk.workflow import IntakeWorkflow
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from store import referrals as referral_repo
from store import staff as staff_repo
from store import telegram as telegram_repo
from store.db import create_db_engine, make_session_factory, upgrade_database
from tests.telegram_fake import FakeTelegram, JSONDict

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

# What a staff member types in a minimal-mode referral (tests/test_workflow.py's answers, initials and year).
ANSWERS = [
    "02 123 45 67", "Z.P.", "2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair", "2e jaar", "1", "3",
    "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten", "overslaan", "1", "overslaan",
    "An Peeters", "an.peeters@school.example", "overslaan",
]
CONVERSATION = ["/aanmelden", *ANSWERS, "bevestig"]
FIRST_USER = 10_000  # staff member i has Telegram user id FIRST_USER + i (private chat id too)
PROBE_USER = 9_999  # the warm-up person, a staff member of their own outside the timed crowd
TURN_TIMEOUT = 60.0  # seconds one turn may take before the run is called failed


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which `fraction` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class TimedFake(FakeTelegram):
    """The fake Bot API server, stamping every sendMessage per chat and waking the one person waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: defaultdict[int, list[float]] = defaultdict(list)
        self._waiting: dict[int, tuple[int, asyncio.Future[None]]] = {}

    def _send_message(self, params: JSONDict) -> JSONDict:
        """Record the message as the base server does, then stamp it (perf_counter) for its chat."""
        message = super()._send_message(params)
        chat_id = int(message["chat"]["id"])
        stamps = self.arrivals[chat_id]
        stamps.append(time.perf_counter())
        waiting = self._waiting.get(chat_id)
        if waiting is not None and len(stamps) >= waiting[0] and not waiting[1].done():
            waiting[1].set_result(None)
        return message

    async def nth_arrival(self, chat_id: int, count: int, *, timeout: float = TURN_TIMEOUT) -> float:
        """The perf_counter time at which the chat's `count`-th bot message arrived, waiting for it if needed."""
        stamps = self.arrivals[chat_id]
        if len(stamps) < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting[chat_id] = (count, future)
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                texts = [m.text[:60] for m in self.messages_to(chat_id)[-3:]]
                raise RuntimeError(f"chat {chat_id}: {len(stamps)} of {count} messages after {timeout} s; last: {texts}") from None
            finally:
                del self._waiting[chat_id]
        return stamps[count - 1]


@dataclass
class Run:
    """One crowd's outcome: seconds per turn, wall time, and people who finished."""

    latencies: list[float]
    wall: float
    people: int


async def converse(fake: TimedFake, user_id: int, texts: list[str], expected: list[int]) -> list[float]:
    """One person types each text after the previous turn's replies arrived; seconds per turn."""
    latencies = []
    received = len(fake.arrivals[user_id])
    for text, count in zip(texts, expected, strict=True):
        received += count
        started = time.perf_counter()
        fake.send_text(user_id, text)
        latencies.append(await fake.nth_arrival(user_id, received) - started)
    return latencies


async def crowd(fake: TimedFake, user_ids: list[int], texts: list[str], expected: list[int]) -> Run:
    """Every person converses at the same time; all latencies and the wall time of the whole crowd."""
    started = time.perf_counter()
    results = await asyncio.gather(*(converse(fake, user_id, texts, expected) for user_id in user_ids))
    wall = time.perf_counter() - started
    return Run([seconds for person in results for seconds in person], wall, len(results))


async def probe(fake: TimedFake, settle: Callable[[], Awaitable[None]], user_id: int, texts: list[str]) -> list[list[str]]:
    """One person alone, waiting until the bot is idle after each text; the bot's messages per turn."""
    turns = []
    for text in texts:
        before = len(fake.messages_to(user_id))
        fake.send_text(user_id, text)
        await fake.wait_until_consumed()
        await settle()
        turns.append([m.text for m in fake.messages_to(user_id)[before:]])
    return turns


def check_probe(turns: list[list[str]]) -> tuple[list[int], str]:
    """Messages per turn of our warm-up and its reference; SystemExit unless it reached the summary and one."""
    counts = [len(messages) for messages in turns]
    summary, confirmed = "\n".join(turns[-2]), "\n".join(turns[-1])
    reference = re.search(r"MSI-\d{4}-\d+", confirmed)
    if 0 in counts or 'Typ "bevestig"' not in summary or reference is None:
        silent = [CONVERSATION[i] for i, count in enumerate(counts) if count == 0]
        sys.exit(f"warm-up failed: turns without reply {silent}; before 'bevestig': {summary[:200]!r}; "
                 f"after: {confirmed[:200]!r}")
    return counts, reference[0]


async def bench_echo(staff: int) -> Run:
    """A bare PTB echo bot (64 concurrent updates, polling) against its own fake server, N people at once."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None and update.message is not None and update.message.text is not None:
            await context.bot.send_message(update.effective_chat.id, update.message.text)

    async with TimedFake() as fake:
        app = (ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url)
               .concurrent_updates(64).build())
        app.add_handler(MessageHandler(filters.TEXT, echo))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await converse(fake, PROBE_USER, ["warm-up"], [1])
            run = await crowd(fake, [FIRST_USER + i for i in range(staff)], CONVERSATION, [1] * len(CONVERSATION))
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    return run


def register_staff(url: str, staff: int) -> None:
    """Migrate the database, then register and link the warm-up person and N staff in one transaction."""
    upgrade_database(url)
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as session:
        for number, user_id in [(-1, PROBE_USER), *((i, FIRST_USER + i) for i in range(staff))]:
            email = "warmup@clb.example" if number < 0 else f"staff{number}@clb.example"
            member = staff_repo.add_staff(session, email=email, name=f"Medewerker {number}", clb="Vrij CLB Bench", now=now)
            telegram_repo.link(session, user_id, member, now=now)
    engine.dispose()


async def bench_ours(url: str, staff: int) -> tuple[Run, list[int], str, int]:
    """Our bot (desk, workflow, store; no rate limiter) on its own fake server: run, replies per turn, warm-up reference, referrals."""
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    workflow = IntakeWorkflow(Intake(load_questionnaire(), load_catalogue()), sessions)
    desk = Desk(workflow, sessions, DeskConfig(mode=Mode.MINIMAL, coordinator_chat_id=None, mail_domain="meldpunt.example"),
                relay_by_mail=lambda *args: None, clock=lambda: datetime.now(UTC))
    try:
        async with TimedFake() as fake:
            bot = TelegramBot(TelegramConfig(token=fake.token, api_url=fake.base_url, poll_timeout=1), desk, flood_control=False)
            await bot.start()
            try:
                expected, reference = check_probe(await probe(fake, bot.wait_idle, PROBE_USER, CONVERSATION))
                user_ids = [FIRST_USER + i for i in range(staff)]
                run = await crowd(fake, user_ids, CONVERSATION, expected)
                await bot.wait_idle()
            finally:
                await bot.stop()
            extra = {u: len(fake.arrivals[u]) - sum(expected) for u in user_ids if len(fake.arrivals[u]) != sum(expected)}
            if extra:
                sys.exit(f"unexpected message counts (person: extra messages): {dict(list(extra.items())[:5])}")
        with sessions() as session:
            ids = {member.id for member in staff_repo.list_staff(session) if member.email.startswith("staff")}
            done = [r for r in referral_repo.list_referrals(session) if r.reference and r.staff_id in ids]
        return run, expected, reference, len(done)
    finally:
        engine.dispose()


def report(name: str, run: Run) -> tuple[float, float, float]:
    """Print turns, wall time, throughput and p50/p99 in milliseconds; return (p50, p99, turns/s)."""
    p50, p99 = percentile(run.latencies, 0.50), percentile(run.latencies, 0.99)
    rate = len(run.latencies) / run.wall
    print(f"{name:<34} people={run.people:>4}  turns={len(run.latencies):>6}  wall={run.wall:6.2f} s  "
          f"{rate:7.0f} turns/s  p50={p50 * 1000:8.2f} ms  p99={p99 * 1000:8.2f} ms  max={max(run.latencies) * 1000:8.2f} ms")
    return p50, p99, rate


async def bench(url: str, staff: int) -> tuple[Run, tuple[Run, list[int], str, int]]:
    """The echo baseline first, then ours, in one loop."""
    echo = await bench_echo(staff)
    return echo, await bench_ours(url, staff)


def main() -> None:
    """Run both bots against fake servers in one process and print figures, ratios and the referral check."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--staff", type=int, default=200, help="people typing at the same time")
    parser.add_argument("--database", default="sqlite", help="'sqlite' (a fresh file in a temp folder) or an empty database URL")
    args = parser.parse_args()
    staff: int = args.staff
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="meldpunt-bench-", dir=Path.cwd()) as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if args.database == "sqlite" else args.database
        register_staff(url, staff)
        echo, (ours, expected, reference, referrals) = asyncio.run(bench(url, staff))
    backend = "SQLite (WAL, synchronous=FULL)" if args.database == "sqlite" else url.split(":", 1)[0]
    print(f"{staff} staff at once, {len(CONVERSATION)} turns each, database {backend}; "
          f"our replies per turn: {expected} ({sum(expected)} messages per referral)")
    print(f"warm-up alone: {len(CONVERSATION) - 1} turns reached the summary, 'bevestig' answered with {reference}")
    print("both bots run without rate limiter, so the ratio measures our logic; in production Telegram's own limit "
          "(about 30 messages/s per bot) is the ceiling")
    echo_p50, echo_p99, echo_rate = report("bare PTB echo bot", echo)
    ours_p50, ours_p99, ours_rate = report("our bot (desk+workflow+store)", ours)
    print(f"ratio ours/echo: p50 x{ours_p50 / echo_p50:.1f}, p99 x{ours_p99 / echo_p99:.1f}, "
          f"throughput x{ours_rate / echo_rate:.2f}")
    ok = referrals == staff
    print(f"check: referrals with a reference {referrals}/{staff}: {'ok' if ok else 'NIET ok'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
