"""Benchmark: referral form mails through SMTP intake, processing and the queued reply, next to a bare aiosmtpd sink.

Run by hand: `.venv/bin/python bench/mail_intake.py --mails 500`.
The same N filled-in forms (one registered staff member, distinct Message-IDs, CRLF bytes) go over one
smtplib connection to two servers on 127.0.0.1, each on its own loop in a background thread: a bare
aiosmtpd handler that only says 250, and our intake, which says 250 only after the raw mail is
committed (SQLite, WAL, synchronous=FULL). Then MailProcessor.process_all() parses every mail,
creates and routes the referral and queues the confirmation. The ratios show what durability and our
logic cost on top of receiving SMTP at all.
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desk.workflow import IntakeWorkflow, staff_prefill  # noqa: E402
from intake.catalogue_loader import load_catalogue  # noqa: E402
from intake.dialogue import Intake  # noqa: E402
from intake.questionnaire import load_questionnaire  # noqa: E402
from mail.form import render_form  # noqa: E402
from mail.processor import MailProcessor, ProcessorConfig  # noqa: E402
from mail.smtp_intake import IntakeHandler, start_smtp_server  # noqa: E402
from store import staff as staff_repo  # noqa: E402
from store.db import create_db_engine, make_session_factory, upgrade_database  # noqa: E402
from store.mail_models import InboundMail, OutboxMessage  # noqa: E402
from store.models import Referral  # noqa: E402

T = TypeVar("T")
HOST = "127.0.0.1"
MELDPUNT = "meldpunt@meldpunt.example"
SENDER = "els@clb-halle.example"  # a registered staff member
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
# The answers of tests/test_workflow.py FULL, after the staff member's prefilled details, by form label.
ANSWERS = {
    "Telefoon aanmelder": "02 123 45 67", "Voornaam leerling": "Zoë", "Achternaam leerling": "Peeters",
    "Geboortedatum leerling": "14/03/2011", "Postcode woonplaats leerling": "1500", "Ingeschreven in een school": "ja",
    "Naam school": "Sint-Jozefscollege", "Postcode school": "1500", "Onderwijsniveau": "secundair",
    "Leerjaar": "2e jaar", "Onderwijsvorm": "1", "Fase in het zorgcontinuüm": "3", "Overlegd met de school": "ja",
    "School akkoord": "ja", "Leerling geïnformeerd": "ja", "Ouders geïnformeerd": "ja", "Probleemgebieden": "1, 3",
    "Hulpvraag": "Komt nog twee dagen per week.", "Gewenste vorm": "1", "Plaats": "buiten",
    "Voorkeur interventie": "overslaan", "Dringendheid": "1", "Eerdere hulp": "overslaan",
    "Contactpersoon school": "An Peeters", "E-mail contactpersoon school": "an.peeters@school.example",
    "Telefoon contactpersoon school": "overslaan",
}


class Sink:
    """The baseline handler: accepts every mail and forgets it."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        """Count the mail and say 250."""
        self.received += 1
        return "250 OK"


class LoopThread:
    """An asyncio loop in a daemon thread, so blocking smtplib can run in the main thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self, server: asyncio.Server) -> None:
        """Close the server, stop the loop and join the thread."""
        server.close()
        self.run(server.wait_closed())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def build_mails(intake: Intake, prefill: dict[str, Any], count: int) -> list[bytes]:
    """`count` complete referral forms as a staff member returns them, each with its own Message-ID."""
    lines = []
    for line in render_form(intake.questionnaire, answers=prefill).splitlines():
        label = line.rstrip().removesuffix(":")
        lines.append(f"{label}: {ANSWERS[label]}" if label in ANSWERS and line.rstrip().endswith(":") else line)
    body = "Beste,\n\nHierbij de aanmelding.\n\n" + "\n".join(lines) + "\n"
    mails = []
    for number in range(1, count + 1):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = SENDER, MELDPUNT, "Aanmelding leerling"
        message["Date"], message["Message-ID"] = format_datetime(NOW), f"<bench-{number}@clb-halle.example>"
        message.set_content(body)
        mails.append(message.as_bytes(policy=SMTP_POLICY))
    return mails


def register_staff(url: str) -> dict[str, Any]:
    """Migrate the database, register the sender as staff, and return what the form prefills."""
    upgrade_database(url)
    engine = create_db_engine(url)
    with make_session_factory(engine).begin() as session:
        member = staff_repo.add_staff(session, email=SENDER, name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
    engine.dispose()
    return staff_prefill(member)


def send_all(port: int, mails: list[bytes]) -> float:
    """Seconds to send every mail over one smtplib connection (connect to QUIT)."""
    started = time.perf_counter()
    with smtplib.SMTP(HOST, port, local_hostname="bench.example", timeout=30) as client:
        for raw in mails:
            client.sendmail(SENDER, [MELDPUNT], raw)
    return time.perf_counter() - started


def bench_sink(mails: list[bytes]) -> tuple[float, int]:
    """(seconds, mails received) for the bare aiosmtpd sink."""
    sink, loop = Sink(), LoopThread()

    async def start() -> asyncio.Server:
        return await asyncio.get_running_loop().create_server(lambda: SMTP(sink, hostname=HOST), HOST, 0)

    server = loop.run(start())
    try:
        seconds = send_all(server.sockets[0].getsockname()[1], mails)
    finally:
        loop.stop(server)
    return seconds, sink.received


def bench_ours(url: str, intake: Intake, mails: list[bytes]) -> tuple[float, float, int, dict[str, int]]:
    """(intake seconds, processing seconds, processed, counts) for our server and processor."""
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    loop = LoopThread()
    server = loop.run(start_smtp_server(IntakeHandler(sessions, recipients={MELDPUNT}, clock=lambda: NOW), host=HOST, port=0))
    try:
        intake_seconds = send_all(server.sockets[0].getsockname()[1], mails)
    finally:
        loop.stop(server)
    # One sender sends all N forms today: lift the per-day auto-reply limit so each gets its confirmation.
    config = ProcessorConfig(address=MELDPUNT, domain="meldpunt.example", auto_reply_limit=len(mails) + 1)
    processor = MailProcessor(sessions, IntakeWorkflow(intake, sessions), config, clock=lambda: NOW)
    started = time.perf_counter()
    processed = processor.process_all()
    processing_seconds = time.perf_counter() - started
    with sessions() as session:
        counts = {name: session.scalar(select(func.count()).select_from(model).where(*where)) or 0 for name, model, where in (
            ("stored", InboundMail, ()), ("referrals", Referral, (Referral.reference.is_not(None),)),
            ("submitted", InboundMail, (InboundMail.outcome == "aanmelding-ingediend",)),
            ("replies", OutboxMessage, (OutboxMessage.kind == "antwoord",)),
        )}
    engine.dispose()
    return intake_seconds, processing_seconds, processed, counts


def main() -> None:
    """Run the sink and our pipeline in one temporary folder and print rates and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mails", type=int, default=500)
    args = parser.parse_args()
    count: int = args.mails
    intake = Intake(load_questionnaire(), load_catalogue())
    with tempfile.TemporaryDirectory(prefix="meldpunt-bench-", dir=Path.cwd()) as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        mails = build_mails(intake, register_staff(url), count)
        sink_seconds, sink_received = bench_sink(mails)
        intake_seconds, processing_seconds, processed, counts = bench_ours(url, intake, mails)
    total = intake_seconds + processing_seconds
    sink, ours, processing, end_to_end = count / sink_seconds, count / intake_seconds, processed / processing_seconds, count / total
    print(f"{count} mails of {len(mails[0])} bytes, one smtplib connection each run")
    for name, rate in (("bare aiosmtpd sink (250)", sink), ("our intake (250 after commit)", ours),
                       ("processing (parse+referral+reply)", processing), ("end to end (intake+processing)", end_to_end)):
        print(f"{name:<36} {rate:8.0f} mails/s  {1000 / rate:7.2f} ms/mail")
    print(f"ratio sink/intake x{sink / ours:.1f}, sink/processing x{sink / processing:.1f}, "
          f"sink/end-to-end x{sink / end_to_end:.1f}; processing is {processing_seconds / total:.0%} of our time")
    ok = sink_received == count and counts["stored"] == counts["referrals"] == counts["replies"] == counts["submitted"] == count
    print(f"check: sink {sink_received}/{count}, stored {counts['stored']}, processed {processed}, "
          f"referrals {counts['referrals']}, submitted {counts['submitted']}, replies 'antwoord' {counts['replies']}: "
          f"{'ok' if ok else 'NIET ok'}")


if __name__ == "__main__":
    main()
