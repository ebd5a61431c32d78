"""Kill the dispatcher 20 times during a batch of 500 referrals for 12 providers: every referral arrives, once per Message-ID.

The dispatcher runs as a real process (tests/dispatch_child.py: Dispatcher.tick for a fixed slot, then
the OutboxRunner mail by mail) against the test's database and an aiosmtpd sink on 127.0.0.1. The
test SIGKILLs it at seeded random points and starts it again, each time with a clock 11 minutes
further on (past STALE_AFTER, so mails left `sending` are recovered), then lets a last one finish.
Ten referrers share the 500 referrals, so the batch queues 22 mails: 12 to providers, 10 notices.

Kill points (seeded; `MELDPUNT_TEST_SEED` picks another seed). While the batch is not committed, up
to BATCH_KILLS kills at a uniform random moment of the batch transaction: the test first records
when each statement of a run_batch it rolls back began, draws a moment in [0, 1.05 × its length]
(the first kill before its last statement, so one kill surely hits the open transaction), and turns
it into "the i-th statement after `INSERT INTO dispatch_batches`, then d seconds", which the process
reports line by line. So kills land in planning (one long stretch without SQL), in the writes and
around the commit, whatever the machine's speed. The other kills wait for the process's first
delivery at the sink, then a random 0–6 ms (half of them) or 6–60 ms: between the relay's 250 and
the `sent` commit (the mail goes again, under the same Message-ID), or on the claim of the next mail.
The process waits 200 ms between hand-overs (rate_per_minute), so such a kill costs at most one mail.
"""

from __future__ import annotations

import bisect
import csv
import io
import os
import queue
import random
import re
import signal
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from desk import dispatch
from intake.lifecycle import Status
from intake.references import REFERENCE
from mail.outbox import STALE_AFTER
from store import dispatches
from store.db import create_db_engine, make_session_factory
from store.dispatch_models import DispatchBatch, DispatchItem
from store.mail_models import OutboxMessage, OutboxStatus
from store.models import Referral
from tests.child_process import ChildProcess
from tests.dispatch_child import DOMAIN, SLOT_KEY
from tests.dispatch_fixtures import NOW, add_staff, intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import Delivery, SinkThread

SEED = int(os.environ.get("MELDPUNT_TEST_SEED", "20261130"))
REFERRALS = 500
REFERRERS = 10  # staff members, each told in one notice mail: 22 mails in all with the 12 provider mails
KILLS = 20
BATCH_KILLS = 8
START = NOW + timedelta(hours=2)  # Monday 13:00 in Brussels: the 12:00 slot is due
RESTART_STEP = STALE_AFTER + timedelta(minutes=1)
STEP_TIMEOUT = 90.0  # seconds any one wait may take before the test fails (never hangs)
FINAL_RUNS = 3
PROVIDER = re.compile(r"^aanmeldingen@aanbieder\d{2}\.example$")


class Child(ChildProcess):
    """One `python -m tests.dispatch_child` process, its output read line by line in a thread."""

    def __init__(self, database_url: str, port: int, start: datetime, maildir: Path) -> None:
        """Start the process with its clock at start."""
        super().__init__("tests.dispatch_child", database_url, str(port), "--start", start.isoformat(), "--maildir", str(maildir))

    def wait_line(self, prefix: str, *, skip: int = 0) -> bool:
        """Wait for the skip+1-th line starting with prefix: True when it came, False when the process ended first."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                return False
            if line.startswith(prefix):
                if skip == 0:
                    return True
                skip -= 1
        raise AssertionError(f"no '{prefix}' within {STEP_TIMEOUT} s:\n{self.tail()}")

    def sleep(self, seconds: float) -> bool:
        """Sleep, but return False at once if the process ends meanwhile."""
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last commit, like a power cut of the process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self) -> int:
        """Wait for the process to end by itself; its exit code."""
        try:
            return self.process.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the dispatcher did not finish within {STEP_TIMEOUT} s:\n{self.tail()}") from None


BATCH_START = "sql INSERT INTO dispatch_batches"


@dataclass
class KillPoint:
    """One kill: where it was aimed and what the database and sink looked like around it."""

    number: int
    mode: str  # "batch": after the statement-th statement of the batch; "sending": after the process's first delivery
    delay: float
    statement: int = 0
    committed_before: bool = False
    committed_after: bool = False
    delivered_before: int = 0
    delivered_after: int = 0


def batch_committed(sessions: sessionmaker[Session]) -> bool:
    """Whether the slot's batch is in the database."""
    with sessions() as session:
        return dispatches.batch_exists(session, SLOT_KEY)


def unsent(sessions: sessionmaker[Session]) -> int:
    """Outbox mails not yet marked sent."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)) or 0)


def queue_batch(engine: Engine, sessions: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, set[str]], list[float]]:
    """Queue the referrals; the provider address each must reach, each referrer's references, and the batch's timeline.

    The timeline is when each statement of a trial batch (rolled back) began, in seconds from the first.
    """
    intake = intake_for(twelve_provider_catalogue())
    services = [s for s in intake.catalogue.services if s.dispatch_email and PROVIDER.match(s.dispatch_email)]
    assert len(services) == 12
    expected: dict[str, str] = {}
    by_referrer: dict[str, set[str]] = {}
    per_referrer = REFERRALS // REFERRERS
    for n in range(REFERRERS):
        email = f"medewerker{n:02d}@clb-halle.example"
        staff = add_staff(sessions, email=email, name=f"Medewerker {n}")
        # Each referrer's preferences start elsewhere in the list, so every provider gets a share.
        ids = [s.id for s in services[n % 12:] + services[: n % 12]]
        references = queue_referrals(intake, sessions, staff, per_referrer, service_ids=ids)
        by_referrer[email] = set(references)
        for i, reference in enumerate(references):
            expected[reference] = str(services[(n + i) % 12].dispatch_email).lower()
    timeline: list[float] = []

    def note(*_: object) -> None:
        timeline.append(time.monotonic())

    event.listen(engine, "before_cursor_execute", note)
    try:
        with sessions() as session:
            report = dispatch.run_batch(session, intake, slot_key="proef", actor="test", domain=DOMAIN, coordinator_email=None, now=START)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert (report.referrals, report.mails) == (REFERRALS, 12)
    return expected, by_referrer, [moment - timeline[0] for moment in timeline]


def batch_point(number: int, rng: random.Random, timeline: list[float]) -> KillPoint:
    """A uniformly random moment of the batch transaction (and a little after), as statement and delay.

    The first lands in the transaction's first half: a child faster than the dry run (whose last gap once took
    0.13 s) must still be killed before its commit, whatever the machine's speed.
    """
    moment = rng.uniform(0.0, (1.05 if number > 1 else 0.5) * timeline[-1])
    statement = bisect.bisect_right(timeline, moment) - 1
    return KillPoint(number, "batch", moment - timeline[statement], statement)


def kill_once(point: KillPoint, child: Child, sink: SinkThread) -> bool:
    """Wait for the kill point and SIGKILL; False when the process ended by itself before it."""
    if point.mode == "batch":
        if not child.wait_line(BATCH_START):
            return False
        if point.statement > 0 and not child.wait_line("sql ", skip=point.statement - 1):
            return False
    else:
        deadline = time.monotonic() + STEP_TIMEOUT
        while sink.count <= point.delivered_before and child.process.poll() is None:
            assert time.monotonic() < deadline, f"no delivery within {STEP_TIMEOUT} s:\n{child.tail()}"
            time.sleep(0.0005)
        if child.process.poll() is not None:
            return False
    alive = child.sleep(point.delay)
    child.kill()
    return alive


def parse(delivery: Delivery) -> tuple[str, str, set[str], set[str]]:
    """Message-ID, text/plain body, references in the body, references in the CSV attachment."""
    message: EmailMessage = delivery.parsed()
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    in_csv: set[str] = set()
    for part in message.iter_attachments():
        if (part.get_filename() or "").endswith(".csv"):
            # A byte-order mark first, so Excel reads the file as UTF-8.
            rows = list(csv.reader(io.StringIO(str(part.get_content()).removeprefix("\ufeff")), delimiter=";"))
            assert rows[0][0] == "Referentie"
            in_csv |= {row[0] for row in rows[1:]}
    return str(message["Message-ID"]), text, set(REFERENCE.findall(text)), in_csv


class Runs:
    """Starts dispatcher processes, each with its clock a restart step further on; kills what is left at close."""

    def __init__(self, database_url: str, sink: SinkThread, maildir: Path) -> None:
        """Remember where the processes work and send."""
        self.database_url, self.sink, self.maildir = database_url, sink, maildir
        self.began = time.monotonic()
        self.children: list[Child] = []

    def start(self) -> Child:
        """A new process; its clock is real time plus 11 minutes per earlier process, so their `sending` mails are stale."""
        start = START + timedelta(seconds=time.monotonic() - self.began) + len(self.children) * RESTART_STEP
        self.children.append(Child(self.database_url, self.sink.port, start, self.maildir))
        return self.children[-1]

    def close(self) -> None:
        """SIGKILL any process still running."""
        for child in self.children:
            child.kill()


def kill_repeatedly(runs: Runs, sessions: sessionmaker[Session], timeline: list[float]) -> list[KillPoint]:
    """KILLS processes started and SIGKILLed at seeded random points (see the module's docstring)."""
    rng = random.Random(SEED)
    kills: list[KillPoint] = []
    for number in range(1, KILLS + 1):
        committed = batch_committed(sessions)
        if not committed and sum(k.mode == "batch" for k in kills) < BATCH_KILLS:
            point = batch_point(number, rng, timeline)
        else:
            assert not committed or unsent(sessions) > 0, f"seed {SEED}: nothing left to send after {len(kills)} kills"
            # Half within 6 ms of the sink's 250, where the `sent` commit is likely not made yet.
            point = KillPoint(number, "sending", rng.uniform(0.0, 0.006) if rng.random() < 0.5 else rng.uniform(0.006, 0.06))
        point.committed_before, point.delivered_before = committed, runs.sink.count
        child = runs.start()
        assert kill_once(point, child, runs.sink), f"seed {SEED}: the dispatcher ended before kill {number} ({point}):\n{child.tail()}"
        point.committed_after, point.delivered_after = batch_committed(sessions), runs.sink.count
        kills.append(point)
    return kills


def test_killed_dispatcher_delivers_every_referral_under_planned_message_ids(database_url: str, tmp_path: Path) -> None:
    """20 SIGKILLs during plan, batch and sending: all 500 referrals reach their provider; duplicates share a Message-ID."""
    engine = create_db_engine(database_url)
    sessions = make_session_factory(engine)
    sink = SinkThread()
    runs = Runs(database_url, sink, tmp_path / "maildir")
    try:
        expected, by_referrer, timeline = queue_batch(engine, sessions)
        assert len(expected) == REFERRALS
        kills = kill_repeatedly(runs, sessions, timeline)
        for _ in range(FINAL_RUNS):
            child = runs.start()
            assert child.finish() == 0, child.tail()
            if unsent(sessions) == 0:
                break
        assert unsent(sessions) == 0, f"mails still not sent after {FINAL_RUNS} clean runs"
        distinct = check_outcome(sessions, sink.sink.deliveries, expected, by_referrer)
    finally:
        runs.close()
        sink.close()
        engine.dispose()

    summary = (f"seed {SEED}: {len(kills)} kills ({sum(not k.committed_after for k in kills)} before the batch's commit), "
               f"{len(sink.sink.deliveries)} deliveries of {distinct} mails, {time.monotonic() - runs.began:.1f} s")
    print(summary)  # shown with -s
    points = "\n".join(map(str, kills))
    assert len(kills) == KILLS
    assert any(not k.committed_after for k in kills), f"no kill came before the batch's commit: {summary}\n{points}"
    assert any(k.committed_before and k.delivered_after > k.delivered_before for k in kills), f"no kill came during sending: {summary}\n{points}"


def check_outcome(sessions: sessionmaker[Session], deliveries: list[Delivery], expected: dict[str, str], by_referrer: dict[str, set[str]]) -> int:
    """Every referral reached its provider once per Message-ID; the store shows one batch, each referral dispatched once.

    Returns how many distinct mails (Message-IDs) arrived.
    """
    with sessions() as session:
        outbox = {row.message_id: row for row in session.scalars(select(OutboxMessage))}
        batches = list(session.scalars(select(DispatchBatch)))
        referrals = {r.reference: r for r in session.scalars(select(Referral))}
        items: dict[int, list[DispatchItem]] = defaultdict(list)
        for item in session.scalars(select(DispatchItem)):
            items[item.referral_id].append(item)
    assert [b.slot_key for b in batches] == [SLOT_KEY], "the slot ran exactly once"
    assert (batches[0].referrals, batches[0].mails) == (REFERRALS, 12)
    assert all(row.status is OutboxStatus.SENT for row in outbox.values())

    seen: dict[str, tuple[str, str, set[str]]] = {}  # Message-ID → recipient, body, references
    arrived: dict[str, set[str]] = defaultdict(set)  # reference → Message-IDs it arrived in
    for delivery in deliveries:
        message_id, text, references, in_csv = parse(delivery)
        assert message_id in outbox, f"{message_id} is not one of the planned Message-IDs"
        (recipient,) = delivery.rcpt_tos
        assert recipient == outbox[message_id].to_address
        if message_id in seen:
            assert seen[message_id] == (recipient, text, references), f"{message_id} was delivered twice with different content"
        seen[message_id] = (recipient, text, references)
        if PROVIDER.match(recipient):
            assert references == in_csv, f"{message_id}: text and CSV list different referrals"
            for reference in references:
                assert expected[reference] == recipient, f"{reference} went to {recipient}, not {expected[reference]}"
                arrived[reference].add(message_id)
        else:
            assert references == by_referrer[recipient], f"{recipient}'s notice lists other referrals"
    assert set(seen) == set(outbox), "every planned mail arrived"
    per_recipient: dict[str, set[str]] = defaultdict(set)
    for message_id, (recipient, _, _) in seen.items():
        per_recipient[recipient].add(message_id)
    assert all(len(ids) == 1 for ids in per_recipient.values()), "each address got one mail, however often it was delivered"
    missing = set(expected) - set(arrived)
    assert not missing, f"{len(missing)} referrals never arrived: {sorted(missing)[:5]}"
    assert all(len(ids) == 1 for ids in arrived.values()), "each referral is in one mail (one Message-ID)"

    for reference, provider in expected.items():
        referral = referrals[reference]
        assert referral.status is Status.DISPATCHED, f"{reference} is {referral.status}"
        (item,) = items[referral.id]
        assert item.provider_address == provider
        assert item.batch_id == batches[0].id
        assert outbox[next(iter(arrived[reference]))].id == item.outbox_id
    return len(seen)
