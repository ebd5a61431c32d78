"""The morning digest: once each working morning, through the real outbox to an SMTP sink; never on holidays, closure days, when empty or twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.digest import DigestConfig, DigestOutcome, MorningDigest, send_digest
from intake.agenda import AgendaRules
from intake.brussels import BRUSSELS
from intake.schedule import parse_moments
from intake.workhours import WorkCalendar
from store import questions
from store.audit import AuditAction, audit_trail
from store.digest_models import CoordinatorDigest
from store.mail_models import MailKind, OutboxMessage, Question
from tests.mail_harness import COORDINATOR, DOMAIN, MailHarness, running_harness, shared_intake
from tests.test_mail_processor import text_of

CLOSED = date(2026, 12, 24)  # a closure day of the Meldpunt; 25/12 and 01/01 are Belgian public holidays
START = datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # Monday 21/12/2026 00:00 in Brussels
RULES = AgendaRules(accept_within_days=5, dispatch_moments=parse_moments("wo 09:00, vr 09:00"))


def config(address: str | None = COORDINATOR, at: time = time(8, 0)) -> DigestConfig:
    """The digest's settings as the service builds them, with the closure day."""
    return DigestConfig(coordinator_email=address, domain=DOMAIN, at=at, calendar=WorkCalendar(closures=frozenset({CLOSED})), rules=RULES)


def ask(sessions: sessionmaker[Session], now: datetime) -> int:
    """A staff member's question waits for the coordinator; its number."""
    with sessions.begin() as session:
        return questions.open_question(session, asker_email="els@clb-halle.example", staff_id=None, channel="email",
                                       text="Mag Zoë Peeters ook naar Arktos?", context=None, now=now).id


def answer(sessions: sessionmaker[Session], number: int, now: datetime) -> None:
    """The coordinator answers it."""
    with sessions.begin() as session:
        question = session.get_one(Question, number)
        questions.answer_question(session, question, answer="Ja.", by="coördinator", now=now)


def ledger(sessions: sessionmaker[Session]) -> dict[date, int]:
    """The days the digest job settled, with how many items each listed."""
    with sessions() as session:
        return {row.day: row.items for row in session.scalars(select(CoordinatorDigest))}


def digests(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """The digest mails in the outbox."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.DIGEST).order_by(OutboxMessage.id)))


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The real outbox delivering to an aiosmtpd sink, on a clock the test moves."""
    async with running_harness(session_factory, tmp_path, now=START) as wired:
        yield wired


async def test_two_weeks_one_digest_each_working_morning(harness: MailHarness) -> None:
    h, sessions = harness, harness.sessions
    job = MorningDigest(sessions, shared_intake, config(), clock=h.clock)
    first = ask(sessions, START - timedelta(days=3))
    sent_at: list[datetime] = []
    later: int | None = None
    while h.clock.now < START + timedelta(days=14):
        if job.run() is DigestOutcome.SENT:
            sent_at.append(h.clock.now)
            while (await h.runner.drain()).sent:
                pass
        if h.clock.now == datetime(2026, 12, 22, 11, 0, tzinfo=UTC):
            job = MorningDigest(sessions, shared_intake, config(), clock=h.clock)  # a restart later the same day
        if h.clock.now == datetime(2026, 12, 29, 15, 0, tzinfo=UTC):
            answer(sessions, first, h.clock.now)  # nothing waits any more
        if h.clock.now == datetime(2026, 12, 30, 11, 0, tzinfo=UTC):
            later = ask(sessions, h.clock.now)  # after that day's (empty) check: it waits for tomorrow
        h.clock.advance(timedelta(minutes=15))

    days = [moment.astimezone(BRUSSELS) for moment in sent_at]
    assert [(d.date().isoformat(), d.strftime("%H:%M")) for d in days] == [
        ("2026-12-21", "08:00"), ("2026-12-22", "08:00"), ("2026-12-23", "08:00"), ("2026-12-28", "08:00"), ("2026-12-29", "08:00"),
        ("2026-12-31", "08:00"),
    ], "not on the closure day 24/12, the holidays 25/12 and 01/01, the weekends, nor on 30/12 when nothing waited"
    assert ledger(sessions)[date(2026, 12, 30)] == 0, "the empty day is recorded as checked"
    assert set(ledger(sessions)) == {date(2026, 12, d) for d in (21, 22, 23, 28, 29, 30, 31)}
    received = h.inbox(COORDINATOR)
    assert len(received) == 6, "once a day, also after the restart on 22/12"
    assert received[0]["Subject"] == "Ochtendoverzicht Meldpunt 21/12/2026: 1 punt wacht op je"
    body = text_of(received[-1])
    assert f"Vraag #{later}: <je antwoord>" in body and f"Vraag #{first}" not in body
    assert "antwoorden met één regel per punt" in body and "Zoë" not in body and "Peeters" not in body


def test_the_day_is_claimed_with_the_mail_in_one_transaction(session_factory: sessionmaker[Session]) -> None:
    monday = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    ask(session_factory, monday - timedelta(days=1))
    with session_factory.begin() as session:  # a crash after deciding, before the commit
        assert send_digest(session, config(), shared_intake(), now=monday) is DigestOutcome.SENT
        session.rollback()
    assert ledger(session_factory) == {} and digests(session_factory) == [], "nothing half done: neither the day nor the mail"
    first = MorningDigest(session_factory, shared_intake, config(), clock=lambda: monday)
    second = MorningDigest(session_factory, shared_intake, config(), clock=lambda: monday)  # a second service, or a restart
    assert [first.run(), second.run(), first.run()] == [DigestOutcome.SENT, DigestOutcome.ALREADY, DigestOutcome.ALREADY]
    (mail,) = digests(session_factory)
    assert mail.to_address == COORDINATOR and ledger(session_factory) == {date(2026, 12, 21): 1}
    with session_factory() as session:
        views = [(row.actor, row.channel, row.detail) for row in audit_trail(session) if row.action == AuditAction.LIST_READ]
    assert views == [(COORDINATOR, "e-mail", "agenda: 1 punten")], "the mailed view is audited once, like every view of the agenda"


def test_a_late_start_still_sends_today_but_never_a_day_already_past(session_factory: sessionmaker[Session]) -> None:
    ask(session_factory, datetime(2026, 12, 18, 9, 0, tzinfo=UTC))
    clock = [datetime(2026, 12, 22, 6, 59, tzinfo=UTC)]  # down all Monday; Tuesday 07:59 in Brussels
    job = MorningDigest(session_factory, shared_intake, config(), clock=lambda: clock[0])
    assert job.run() is DigestOutcome.NOT_YET
    clock[0] = datetime(2026, 12, 22, 15, 0, tzinfo=UTC)  # started late in the afternoon
    assert job.run() is DigestOutcome.SENT
    assert set(ledger(session_factory)) == {date(2026, 12, 22)}, "Monday's digest is not sent on Tuesday"


def test_without_a_coordinator_address_no_digest_said_once(session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    ask(session_factory, datetime(2026, 12, 18, 9, 0, tzinfo=UTC))
    job = MorningDigest(session_factory, shared_intake, config(address=None), clock=lambda: datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
    with caplog.at_level(logging.INFO, logger="desk.digest"):
        assert [job.run(), job.run()] == [DigestOutcome.NO_ADDRESS, DigestOutcome.NO_ADDRESS]
    said = [record.getMessage() for record in caplog.records if record.name == "desk.digest"]
    assert said == ["ochtendoverzicht: er is geen adres van de coördinator ingesteld (MELDPUNT_COORDINATOR_EMAIL); er gaat geen overzicht"]
    assert digests(session_factory) == [] and ledger(session_factory) == {}


async def test_the_service_runs_it_as_ochtendoverzicht_at_the_configured_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from meldpunt.app import App
    from meldpunt.periodic import Periodic
    from meldpunt.service import Timing, register_jobs
    from meldpunt.settings import Settings
    from meldpunt.supervisor import Supervisor

    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the machine is read
    app = App(Settings(var_dir=tmp_path / "var", database_url=None, telegram_token=None, imap_host=None, coordinator_email=COORDINATOR,
                       digest_time="07:30", closure_days=[CLOSED]))
    now = [datetime(2026, 12, 21, 6, 29, tzinfo=UTC)]  # 07:29 in Brussels
    periodic = Periodic(Supervisor(app.sessions, asyncio.Event(), clock=lambda: now[0]))
    register_jobs(periodic, app, timing=Timing(), wake=asyncio.Event(), clock=lambda: now[0], bot=None)
    (job,) = [job for job in periodic.jobs if job.name == "ochtendoverzicht"]
    ask(app.sessions, now[0] - timedelta(days=1))
    await job.run()
    assert digests(app.sessions) == []
    now[0] = datetime(2026, 12, 21, 6, 30, tzinfo=UTC)
    await job.run()
    await job.run()
    assert [mail.to_address for mail in digests(app.sessions)] == [COORDINATOR]
    now[0] = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # MELDPUNT_CLOSURE_DAYS
    await job.run()
    assert len(digests(app.sessions)) == 1
    app.engine.dispose()


@pytest.mark.parametrize("style", ["gmail", "outlook"])
async def test_a_reply_to_the_digest_settles_the_lines_she_wrote_and_no_other(harness: MailHarness, style: str) -> None:
    from intake.lifecycle import Status
    from store import referrals
    from tests.test_decisions import add_staff, make_referral

    h, monday = harness, datetime(2026, 12, 21, 8, 0, tzinfo=UTC)
    with h.sessions.begin() as session:
        els = add_staff(session)
        first, second = (make_referral(session, Status.NEEDS_REVIEW, staff=els, now=monday - timedelta(days=3)).reference or "" for _ in range(2))
    h.clock.now = monday
    assert MorningDigest(h.sessions, shared_intake, config(), clock=h.clock).run() is DigestOutcome.SENT
    while (await h.runner.drain()).sent:
        pass
    (digest,) = h.inbox(COORDINATOR)
    assert f"   {second}: goedkeuren" in text_of(digest)
    await h.send(h.reply_to(digest, f"{first}: goedkeuren", sender=COORDINATOR, style=style))
    await h.process()
    with h.sessions() as session:
        statuses = [referral.status for referral in (referrals.get_referral(session, ref) for ref in (first, second)) if referral is not None]
    assert statuses == [Status.QUEUED, Status.NEEDS_REVIEW], "the digest's own lines under her reply are not hers"
