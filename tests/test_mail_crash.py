"""Kill the service during a burst of mail: every mail that got a 250 is processed after the restart, once.

Runs the real `python -m meldpunt serve` as a subprocess (SMTP intake, processor and outbox on an
embedded SQLite database), sends 200 mails from a thread with smtplib, SIGKILLs the service at a
random moment of the burst, starts it again and reads the database file.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import create_db_engine
from store.mail_models import InboundMail, InboundStatus, OutboxMessage, Question
from tests.child_process import without_our_settings

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = "meldpunt@meldpunt.example"
BURST = 200
START_TIMEOUT = 120.0  # migrating a new database and loading the catalogue takes a few seconds
PROCESS_TIMEOUT = 120.0
FINAL = {InboundStatus.DONE, InboundStatus.QUARANTINED}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """`python -m meldpunt serve` in a subprocess, its output read line by line in a thread."""

    def __init__(self, var_dir: Path, port: int) -> None:
        """Remember where it keeps its data and where it listens."""
        self.var_dir, self.port = var_dir, port
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []

    def environment(self) -> dict[str, str]:
        """The test's environment without any MELDPUNT_* of the machine, plus the service's settings."""
        env = without_our_settings()
        env.update({
            "MELDPUNT_VAR_DIR": str(self.var_dir), "MELDPUNT_SMTP_LISTEN": f"127.0.0.1:{self.port}",
            "MELDPUNT_MAIL_ADDRESS": ADDRESS, "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        return env

    def start(self) -> None:
        """Start the service and wait until it says its SMTP intake listens."""
        self.lines = queue.Queue()
        # cwd: a meldpunt.env lying around in the repository must not configure the test's service.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "meldpunt", "serve"], cwd=self.var_dir.parent, env=self.environment(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if line is None:
                pytest.fail("meldpunt serve stopped before listening:\n" + "".join(self.output[-50:]))
            if "SMTP" in line:
                if "luistert" not in line:
                    pytest.fail(f"meldpunt serve does not listen for SMTP: {line}")
                return
        pytest.fail(f"meldpunt serve did not listen within {START_TIMEOUT} s:\n" + "".join(self.output[-50:]))

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last commit, exactly like a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not stop."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A service on a fresh var dir and a free port; stopped after the test whatever happens."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    running = Service(var_dir, free_port())
    try:
        yield running
    finally:
        running.stop()


def a_mail(number: int) -> tuple[str, bytes]:
    """Mail number from a person the Meldpunt does not know (each their own address, so each is answered)."""
    message_id = f"burst-{number}@ouders.example"
    message = EmailMessage()
    message["From"] = f"Ouder {number} <ouder{number}@ouders.example>"
    message["To"] = ADDRESS
    message["Subject"] = f"Vraag {number}"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(f"Dag, mijn kind ({number}) gaat al weken niet naar school. Kunnen jullie helpen?\n")
    return message_id, message.as_bytes(policy=SMTP_POLICY)


def burst(port: int, accepted: list[str], done: threading.Event) -> None:
    """Send every mail on its own connection; note the Message-ID of each that got 250."""
    try:
        for number in range(BURST):
            message_id, raw = a_mail(number)
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                    refused = client.sendmail(f"ouder{number}@ouders.example", [ADDRESS], raw)
            except (OSError, smtplib.SMTPException):
                continue  # refused, cut off or no answer: the sender's server would retry it later
            if not refused:
                accepted.append(message_id)
    finally:
        done.set()


def test_every_mail_that_got_250_is_processed_once_after_a_kill(service: Service) -> None:
    """A SIGKILL mid-burst loses no accepted mail and processes none twice."""
    service.start()
    accepted: list[str] = []
    done = threading.Event()
    sender = threading.Thread(target=burst, args=(service.port, accepted, done), daemon=True)
    kill_after = random.Random().randint(20, BURST - 40)  # a random moment, well inside the burst
    sender.start()
    while len(accepted) < kill_after and not done.is_set():
        time.sleep(0.001)
    service.kill()
    sender.join(timeout=60)
    assert not sender.is_alive()
    assert kill_after <= len(accepted) < BURST, "the kill came during the burst"

    service.start()
    engine = create_db_engine(f"sqlite:///{service.var_dir / 'meldpunt.db'}")
    try:
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while True:
            with Session(engine) as session:
                waiting = session.scalar(select(func.count()).select_from(InboundMail).where(InboundMail.status.not_in(FINAL)))
            if waiting == 0:
                break
            assert time.monotonic() < deadline, f"{waiting} mails still not processed after {PROCESS_TIMEOUT} s"
            time.sleep(0.05)
        with Session(engine) as session:
            rows = list(session.scalars(select(InboundMail)))
            replies = [row.in_reply_to or "" for row in session.scalars(select(OutboxMessage))]
            questions = session.scalar(select(func.count()).select_from(Question))
    finally:
        engine.dispose()

    stored = [row.message_id for row in rows]
    assert len(stored) == len(set(stored)), "no mail is stored twice"
    missing = set(accepted) - set(stored)
    assert not missing, f"{len(missing)} mails got 250 but were lost: {sorted(missing)[:5]}"
    assert all(row.status in FINAL for row in rows)
    # Processed once: a kill mid-mail rolled its work back, so each mail has one reply and one question.
    answered = [row for row in rows if row.outcome == "onbekende-afzender"]
    assert len(answered) == len(rows), [(r.message_id, r.status, r.reason) for r in rows if r.outcome != "onbekende-afzender"]
    assert sorted(replies) == sorted(f"<{row.message_id}>" for row in rows), "exactly one reply per mail"
    assert questions == len(rows)
