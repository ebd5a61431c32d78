"""Benchmark: one dispatch batch of 5,000 referrals for 12 providers, next to plain smtplib sending the same mails.

Run by hand: `.venv/bin/python bench/dispatch.py [--referrals 5000] [--database URL]`.
First (not timed) one staff member's referrals are submitted through the real workflow
(tests/dispatch_fixtures.queue_referrals), preferred interventions in turn over the twelve providers of
twelve_provider_catalogue(). Then, timed: the plan alone (`Dispatcher.preview`, the dry run); the
batch (`Dispatcher.run_now`: plan, one outbox mail per provider with its CSV, a DispatchItem and a
status change per referral, the referrer's notice, one transaction); and sending (`OutboxRunner.drain`
until nothing is due, aiosmtplib, no rate limit, a new connection per mail) to an aiosmtpd sink on
127.0.0.1. The baseline sends the very same mails (built with mail.outbox.build_message from the
outbox rows, flattened to bytes once, untimed) with plain smtplib, also a new connection per mail,
to a second sink of the same kind, in the same run. Each sink runs on its own loop in a background thread.
The database is a fresh SQLite file (WAL, synchronous=FULL) in a temp folder, or an empty database
given by --database (migrated to head here).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import smtplib
import sys
import tempfile
import time
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.lifecycle import Status  # noqa: E402
from intake.references import REFERENCE  # noqa: E402
from intake.schedule import WeeklyMoment  # noqa: E402
from mail.dispatcher import DispatchConfig, Dispatcher  # noqa: E402
from mail.outbox import OutboxConfig, OutboxRunner, build_message  # noqa: E402
from store.db import create_db_engine, make_session_factory, upgrade_database  # noqa: E402
from store.dispatch_models import DispatchItem  # noqa: E402
from store.mail_models import OutboxMessage, OutboxStatus  # noqa: E402
from store.models import Referral  # noqa: E402
from tests.dispatch_fixtures import NOW, add_staff, intake_for, queue_referrals, twelve_provider_catalogue  # noqa: E402
from tests.mail_harness import Sink, SinkThread  # noqa: E402

HOST = "127.0.0.1"
DOMAIN = "meldpunt.example"
SENDER = f"meldpunt@{DOMAIN}"
PROVIDER = re.compile(r"^aanmeldingen@aanbieder\d{2}\.example$")
CHUNK = 500  # referrals queued per call, for progress lines


def queue(url: str, count: int) -> None:
    """Submit count referrals from one staff member, preferences in turn over the twelve providers (not timed)."""
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    intake = intake_for(twelve_provider_catalogue())
    services = [s.id for s in intake.catalogue.services if s.dispatch_email and PROVIDER.match(s.dispatch_email)]
    staff = add_staff(sessions)
    started = time.perf_counter()
    done = 0
    while done < count:
        # Each chunk starts the rotation where the last one stopped, so every provider gets its share.
        offset = done % len(services)
        chunk = min(CHUNK, count - done)
        queue_referrals(intake, sessions, staff, chunk, service_ids=services[offset:] + services[:offset])
        done += chunk
        print(f"  queued {done}/{count} referrals ({time.perf_counter() - started:.0f} s)", flush=True)
    engine.dispose()


def outbox_config(port: int, maildir: Path) -> OutboxConfig:
    """The runner's setup: the loopback sink as relay, no STARTTLS, no rate limit."""
    return OutboxConfig(from_address=SENDER, from_name="Meldpunt Schoolexterne Interventies", domain=DOMAIN, relay_host=HOST,
                        relay_port=port, starttls=False, maildir=maildir, rate_per_minute=None, timeout=120.0)


def bench_ours(url: str, sink: SinkThread, maildir: Path) -> dict[str, Any]:
    """Time the dry-run plan, the batch and the sending; the figures and what the store holds after."""
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    intake = intake_for(twelve_provider_catalogue())
    # A fixed clock an hour after the referrals were submitted (NOW plus seconds): runs stay alike.
    clock = lambda: NOW + timedelta(hours=1)  # noqa: E731
    config = DispatchConfig(moments=(WeeklyMoment.parse("wo 09:00"),), domain=DOMAIN)
    dispatcher = Dispatcher(sessions, lambda: intake, config, clock=clock)
    runner = OutboxRunner(sessions, outbox_config(sink.port, maildir), clock=clock)
    print("  plan (dry run) …", flush=True)
    started = time.perf_counter()
    plan = dispatcher.preview()
    plan_seconds = time.perf_counter() - started
    print(f"  batch: {plan.referral_count} referrals in {len(plan.mails)} provider mails, one transaction …", flush=True)
    started = time.perf_counter()
    report = dispatcher.run_now("bench")
    batch_seconds = time.perf_counter() - started
    print(f"  sending {report.mails} provider mails and the notices …", flush=True)

    async def drain() -> int:
        sent = 0
        while (step := await runner.drain()).sent or step.retried:
            sent += step.sent
        return sent

    started = time.perf_counter()
    sent = asyncio.run(drain())
    send_seconds = time.perf_counter() - started
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        started = time.perf_counter()
        raws = [build_message(row, runner.config).as_bytes(policy=SMTP_POLICY) for row in rows]
        build_seconds = time.perf_counter() - started
        recipients = [row.to_address for row in rows]
        unsent = sum(1 for row in rows if row.status is not OutboxStatus.SENT)
        dispatched = session.scalar(select(func.count()).select_from(Referral).where(Referral.status == Status.DISPATCHED)) or 0
        items = session.scalar(select(func.count()).select_from(DispatchItem)) or 0
    engine.dispose()
    return {"plan": plan_seconds, "batch": batch_seconds, "send": send_seconds, "build": build_seconds, "sent": sent, "report": report, "raws": raws,
            "recipients": recipients, "unsent": unsent, "dispatched": dispatched, "items": items}


def bench_smtplib(sink: SinkThread, raws: list[bytes], recipients: list[str]) -> float:
    """Seconds for plain smtplib to send the same bytes, a new connection per mail like the runner."""
    started = time.perf_counter()
    for raw, recipient in zip(raws, recipients, strict=True):
        with smtplib.SMTP(HOST, sink.port, local_hostname="bench.example", timeout=120) as client:
            client.sendmail(SENDER, [recipient], raw)
    return time.perf_counter() - started


def references_delivered(sink: Sink) -> set[str]:
    """The distinct references in the text part of the provider mails the sink received."""
    found: set[str] = set()
    for delivery in sink.deliveries:
        rcpts, raw = delivery.rcpt_tos, delivery.raw
        if any(PROVIDER.match(r) for r in rcpts):
            message = message_from_bytes(raw, policy=default)
            body = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
            found |= set(REFERENCE.findall(str(body.get_content()) if body is not None else ""))
    return found


def main() -> None:
    """Queue, dispatch and send, then send the same mails with smtplib; print figures, ratios and a check."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--referrals", type=int, default=5000)
    parser.add_argument("--database", default="sqlite", help="'sqlite' (a fresh file in a temp folder) or an empty database URL")
    args = parser.parse_args()
    count: int = args.referrals
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="meldpunt-bench-", dir=Path.cwd()) as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if args.database == "sqlite" else args.database
        upgrade_database(url)
        print(f"queueing {count} referrals (not timed) …", flush=True)
        queue(url, count)
        ours_sink, plain_sink = SinkThread(), SinkThread()
        try:
            print("dispatching …", flush=True)
            ours = bench_ours(url, ours_sink, Path(tmp) / "maildir")
            print(f"plain smtplib, the same {len(ours['raws'])} mails …", flush=True)
            plain = bench_smtplib(plain_sink, ours["raws"], ours["recipients"])
        finally:
            ours_sink.close()
            plain_sink.close()
    backend = "SQLite (WAL, synchronous=FULL)" if args.database == "sqlite" else url.split(":", 1)[0]
    report, mails = ours["report"], len(ours["raws"])
    megabytes = sum(len(raw) for raw in ours["raws"]) / 1e6
    total = ours["batch"] + ours["send"]
    print(f"\n{count} referrals for 12 providers, database {backend}: {report.mails} provider mails + "
          f"{mails - report.mails} notice(s) = {mails} mails, {megabytes:.1f} MB")
    rows = (
        ("plan only (dry run)", ours["plan"], ""),
        ("batch transaction (plan+write+commit)", ours["batch"], f"{count / ours['batch']:8.0f} referrals/s"),
        ("sending (OutboxRunner, aiosmtplib)", ours["send"], f"{mails / ours['send']:8.1f} mails/s  {megabytes / ours['send']:6.1f} MB/s"),
        ("total (batch + sending)", total, f"{count / total:8.0f} referrals/s"),
        ("plain smtplib, same mails", plain, f"{mails / plain:8.1f} mails/s  {megabytes / plain:6.1f} MB/s"),
        ("build_message + flatten (in sending)", ours["build"], "done by the runner per mail; pre-built for smtplib"),
    )
    for name, seconds, rate in rows:
        print(f"{name:<40} {seconds:8.2f} s  {rate}")
    print(f"ratio sending/smtplib x{ours['send'] / plain:.1f}, total/smtplib x{total / plain:.1f}; "
          f"the batch transaction is {ours['batch'] / total:.0%} of our time")
    delivered = references_delivered(ours_sink.sink)
    ok = (report.referrals == count == ours["dispatched"] == ours["items"] == len(delivered) and ours["unsent"] == 0
          and len(ours_sink.sink.deliveries) == len(plain_sink.sink.deliveries) == mails == ours["sent"])
    print(f"check: batch {report.referrals}/{count} referrals, dispatched {ours['dispatched']}, items {ours['items']}, "
          f"references in provider mails {len(delivered)}, mails sent {ours['sent']}, unsent {ours['unsent']}, "
          f"sink {len(ours_sink.sink.deliveries)} / smtplib sink {len(plain_sink.sink.deliveries)}: {'ok' if ok else 'NIET ok'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
