"""Two processors on one database never process a mail twice: atomic claims, and recovery that leaves held claims alone.

Each processor has its own engine, like two `meldpunt serve` processes. On SQLite only one serve may
run (the lock file, tests/test_serve_start.py), yet the claim itself must be atomic; on PostgreSQL
several instances are allowed, so a second instance that starts (and recovers interrupted mail)
while the first is busy must not take the first one's mail.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import IntakeWorkflow
from mail.form import render_form
from mail.processor import MailProcessor
from mail.replies import ProcessorConfig
from store import inbound
from store.db import create_db_engine, make_session_factory, upgrade_database
from store.mail_models import InboundMail, InboundStatus, OutboxMessage
from store.models import Referral
from tests.conftest import PostgresServer
from tests.mail_harness import NOW, Clock, shared_intake
from tests.test_mail_form import FILLED
from tests.test_mail_processor import fill

MAILS = 300
DOMAIN = "meldpunt.example"
CLB = "vrijclbhalle.be"


def pair(url: str) -> tuple[MailProcessor, MailProcessor]:
    """Two processors on the database at url, each with its own engine (two processes)."""
    config = ProcessorConfig(address=f"meldpunt@{DOMAIN}", domain=DOMAIN, allowed_domains=(CLB,), coordinator_email=f"coordinator@{DOMAIN}")
    built = []
    for _ in range(2):
        sessions = make_session_factory(create_db_engine(url))
        built.append(MailProcessor(sessions, IntakeWorkflow(shared_intake(), sessions), config, clock=Clock(NOW)))
    return built[0], built[1]


@pytest.fixture
def processors(database_url: str) -> Iterator[tuple[MailProcessor, MailProcessor]]:
    """Two processors on the test database (SQLite and PostgreSQL)."""
    both = pair(database_url)
    yield both
    for processor in both:
        processor.sessions.kw["bind"].dispose()


@pytest.fixture
def postgresql_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh migrated database on the PostgreSQL test server (several instances are for PostgreSQL only)."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with postgres_server.admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(postgres_server.url(name))
    yield postgres_server.url(name)
    with postgres_server.admin_connection() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def instances(postgresql_url: str) -> Iterator[tuple[MailProcessor, MailProcessor]]:
    """Two processors on one PostgreSQL database."""
    both = pair(postgresql_url)
    yield both
    for processor in both:
        processor.sessions.kw["bind"].dispose()


def store_forms(sessions: sessionmaker[Session], count: int = MAILS) -> None:
    """count complete referral forms, each from its own CLB address (so each gets its own reply)."""
    form = fill(render_form(shared_intake().questionnaire), FILLED).replace("\n", "\r\n")
    with sessions.begin() as session:
        for number in range(count):
            raw = (f"From: medewerker{number}@{CLB}\r\nTo: meldpunt@{DOMAIN}\r\nSubject: Aanmelding\r\n"
                   f"Message-ID: <form-{number}@{CLB}>\r\n\r\n{form}\r\n").encode()
            inbound.accept(session, raw, source="smtp", envelope_from=None, envelope_to=[], now=NOW)


def assert_each_processed_once(sessions: sessionmaker[Session], count: int = MAILS) -> None:
    """Every mail done, one referral and one confirmation per mail, none twice."""
    with sessions() as session:
        statuses = list(session.execute(select(InboundMail.status, InboundMail.outcome)))
        referrals = session.scalar(select(func.count()).select_from(Referral))
        replies = list(session.scalars(select(OutboxMessage.in_reply_to).where(OutboxMessage.kind == "antwoord")))
    assert statuses == [(InboundStatus.DONE, "aanmelding-ingediend")] * count
    assert len(replies) == len(set(replies)) == count, "one confirmation per mail, none twice"
    assert referrals == count, "one referral per mail"


def run_both(first: MailProcessor, second: MailProcessor, *, second_after: int | None = None) -> None:
    """first processes everything; second joins (recovering first, as a starting serve does) after second_after
    mails are done, or (None) both recover before either starts."""
    def done() -> int:
        with first.sessions() as session:
            return int(session.scalar(select(func.count()).where(InboundMail.status == InboundStatus.DONE)) or 0)

    def join() -> None:
        if second_after is not None:
            deadline = time.monotonic() + 120
            while done() < second_after and time.monotonic() < deadline:
                time.sleep(0.005)
            second.recover()
        second.process_all()

    first.recover()
    if second_after is None:
        second.recover()
    workers = [threading.Thread(target=first.process_all), threading.Thread(target=join)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers)


def test_two_processors_claim_each_mail_once(processors: tuple[MailProcessor, MailProcessor], database_url: str) -> None:
    """Both start together: a claim chosen by SELECT and then UPDATEd let both take the same mail on SQLite."""
    first, second = processors
    store_forms(first.sessions)
    run_both(first, second)
    assert_each_processed_once(first.sessions)


@pytest.mark.postgresql
def test_a_second_instance_joining_on_postgresql_processes_no_mail_twice(instances: tuple[MailProcessor, MailProcessor]) -> None:
    """The second instance starts while the first is busy: its recovery must leave the first one's mail alone."""
    first, second = instances
    store_forms(first.sessions)
    run_both(first, second, second_after=20)
    assert_each_processed_once(first.sessions)


@pytest.mark.postgresql
def test_recovery_skips_a_mail_another_instance_is_processing(instances: tuple[MailProcessor, MailProcessor], postgresql_url: str) -> None:
    """Deterministic: the first instance is held mid-mail (the outbox table locked); the second recovers and looks for work."""
    first, second = instances
    store_forms(first.sessions, count=1)
    url = make_url(postgresql_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as blocker:
        blocker.execute("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")  # the first one waits when it queues its reply
        worker = threading.Thread(target=first.process_next)
        worker.start()
        deadline = time.monotonic() + 60
        with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True) as watcher:
            while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                                      (url.database,)).fetchone()[0]:
                assert time.monotonic() < deadline, "the first processor never reached the locked outbox"
                time.sleep(0.01)
        assert second.recover() == 0, "a claim a live transaction holds is no orphan"
        assert second.process_next() is False, "and nobody else may claim it"
        blocker.commit()  # the first one goes on
        worker.join(timeout=60)
    assert_each_processed_once(first.sessions, count=1)
