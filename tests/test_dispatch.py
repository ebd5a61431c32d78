"""Dispatch on Wednesday and Friday: the schedule on a fake clock, provider mails in a real SMTP sink, reminders."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.brussels import BRUSSELS
from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.references import REFERENCE
from intake.schedule import WeeklyMoment, due_slot, parse_moments, slots_between
from mail.dispatcher import DispatchConfig, Dispatcher
from mail.outbox import OutboxRunner
from store import referrals
from store.dispatch_models import DispatchBatch, DispatchItem
from store.mail_models import OutboxMessage, OutboxStatus
from store.models import Referral, Staff
from tests.dispatch_fixtures import add_staff, intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import Clock
from tests.test_outbox import Sink, _config, sink  # noqa: F401 — `sink` is a fixture

MOMENTS = parse_moments("wo 09:00, vr 09:00")
COORDINATOR = "coordinator@meldpunt.example"
DOMAIN = "meldpunt.example"


def brussels(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in Brussels time."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


# --- the schedule, pure ----------------------------------------------------------------------------

def test_batches_run_on_wednesday_and_friday_at_nine_brussels_time() -> None:
    slots = slots_between(brussels(2027, 3, 1, 0), brussels(2027, 3, 15, 0), MOMENTS)
    assert [s.runs_at for s in slots] == [brussels(2027, 3, 3), brussels(2027, 3, 5), brussels(2027, 3, 10), brussels(2027, 3, 12)]
    assert slots[0].key == "2027-03-03 09:00"
    # Summer time: still 09:00 on the wall clock, so 07:00 UTC.
    assert slots_between(brussels(2027, 6, 1, 0), brussels(2027, 6, 3, 0), MOMENTS)[0].runs_at.astimezone(UTC).hour == 7


def test_a_public_holiday_or_closure_day_moves_the_batch_to_the_next_working_day() -> None:
    # Friday 25 December 2026 is Christmas: that batch runs Monday 28 December, under its own name.
    christmas = [s for s in slots_between(brussels(2026, 12, 21, 0), brussels(2026, 12, 31, 0), MOMENTS)]
    assert [(s.key, s.runs_at) for s in christmas] == [("2026-12-23 09:00", brussels(2026, 12, 23)), ("2026-12-25 09:00", brussels(2026, 12, 28)),
                                                       ("2026-12-30 09:00", brussels(2026, 12, 30))]
    closed = frozenset({date(2026, 12, 30), date(2026, 12, 31)})
    moved = slots_between(brussels(2026, 12, 29, 0), brussels(2027, 1, 5, 0), MOMENTS, closed)
    # Wednesday 30 is closed, Thursday 31 too, Friday 1 January is New Year: both batches run Monday 4 January.
    assert [(s.key, s.runs_at) for s in moved] == [("2026-12-30 09:00", brussels(2027, 1, 4)), ("2027-01-01 09:00", brussels(2027, 1, 4))]


def test_after_a_long_outage_only_the_newest_missed_slot_is_due() -> None:
    assert due_slot(brussels(2027, 3, 12, 15), MOMENTS).key == "2027-03-12 09:00"  # Wednesday's was missed too
    assert due_slot(brussels(2027, 3, 3, 8, 59), MOMENTS).key == "2027-02-26 09:00"


def test_a_schedule_that_cannot_be_read_is_explained_in_dutch() -> None:
    assert parse_moments("woensdag 9u30, vr 14:00") == (WeeklyMoment.parse("wo 09:30"), WeeklyMoment.parse("vr 14:00"))
    with pytest.raises(ValueError, match="geen verzendmoment; schrijf bijvoorbeeld 'wo 09:00'"):
        parse_moments("wednesday 9")


# --- batches against a real database ------------------------------------------------------------------

@pytest.fixture
def intake() -> Intake:
    return intake_for(twelve_provider_catalogue())


@pytest.fixture
def els(session_factory: sessionmaker[Session]) -> Staff:
    return add_staff(session_factory)


def services(intake: Intake) -> list[str]:
    """The twelve services that take referrals through the Meldpunt."""
    return [s.id for s in intake.catalogue.services if s.dispatch_email]


def dispatcher(sessions: sessionmaker[Session], intake: Intake, clock: Clock, **changes: Any) -> Dispatcher:
    config = DispatchConfig(moments=MOMENTS, domain=DOMAIN, coordinator_email=COORDINATOR, **changes)
    return Dispatcher(sessions, lambda: intake, config, clock=clock)


def batches(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(DispatchBatch.slot_key).order_by(DispatchBatch.id)))


def status_of(sessions: sessionmaker[Session], reference: str) -> Status:
    with sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status


def test_a_missed_batch_is_caught_up_once_and_never_runs_twice(session_factory: sessionmaker[Session], intake: Intake, els: Staff) -> None:
    clock = Clock(brussels(2026, 12, 2, 8, 0))  # Wednesday before nine
    runner = dispatcher(session_factory, intake, clock)
    first = queue_referrals(intake, session_factory, els, 3, service_ids=services(intake), now=clock())
    # Last Friday's slot had nothing from before its moment: it is marked done, nothing is sent early.
    assert runner.tick().referrals == 0 and status_of(session_factory, first[0]) is Status.QUEUED, "nothing before nine"
    assert runner.tick() is None
    clock.now = brussels(2026, 12, 3, 14, 0)  # the service was down on Wednesday; it is back on Thursday
    report = runner.tick()
    assert report is not None and report.slot_key == "2026-12-02 09:00" and report.referrals == 3
    assert runner.tick() is None, "the slot ran; another tick finds nothing due"
    second = Dispatcher(session_factory, lambda: intake, runner.config, clock=clock)
    assert second.tick() is None, "a second instance does not run it again either"
    assert batches(session_factory) == ["2026-11-27 09:00", "2026-12-02 09:00"]
    later = queue_referrals(intake, session_factory, els, 1, service_ids=services(intake), now=clock())
    clock.now = brussels(2026, 12, 4, 9, 0)
    # Submitted on Thursday, after Wednesday's moment: it went with Friday's batch, not the late Wednesday one.
    assert runner.tick().referrals == 1 and status_of(session_factory, later[0]) is Status.DISPATCHED
    assert batches(session_factory)[1:] == ["2026-12-02 09:00", "2026-12-04 09:00"]


def test_a_simulated_month_sends_every_referral_once_on_the_next_wednesday_or_friday(session_factory: sessionmaker[Session], intake: Intake,
                                                                                     els: Staff) -> None:
    start = brussels(2026, 12, 1, 0)
    clock = Clock(start)
    runner = dispatcher(session_factory, intake, clock)
    rng = random.Random(5)
    submitted: dict[str, datetime] = {}
    # Every two hours for four weeks (Christmas included), sometimes a referral arrives, and the dispatcher ticks.
    for step in range(28 * 12):
        clock.now = start + timedelta(hours=2 * step)
        if rng.random() < 0.3:
            for reference in queue_referrals(intake, session_factory, els, 1, service_ids=services(intake), now=clock()):
                submitted[reference] = clock()
        runner.tick()
    slots = slots_between(start, clock() + timedelta(seconds=1), MOMENTS)
    # The first tick also closed last Friday's slot (empty: nothing was waiting from before it).
    assert batches(session_factory) == ["2026-11-27 09:00", *(s.key for s in slots)], "every slot ran once, in order"
    with session_factory() as session:
        items = session.execute(select(Referral.reference, DispatchItem.dispatched_at).join(DispatchItem)).all()
    sent = dict(items)
    assert len(items) == len(sent), "no referral is in two batches"
    for reference, at in submitted.items():
        expected = next((s.runs_at for s in slots if s.runs_at >= at), None)
        if expected is None:
            assert reference not in sent, "arrived after the last slot: waits for the next one"
            continue
        # The tick that runs a slot is the first one at or after it (every two hours).
        assert reference in sent and expected <= sent[reference] < expected + timedelta(hours=2), reference
    assert brussels(2026, 12, 28) in [s.runs_at for s in slots], "Christmas Friday's batch ran on Monday"


async def test_each_provider_gets_one_mail_with_only_its_own_referrals_and_a_csv(session_factory: sessionmaker[Session], intake: Intake, els: Staff,
                                                                                 sink: tuple[Sink, int], tmp_path: Path) -> None:
    handler, port = sink
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    made = queue_referrals(intake, session_factory, els, 30, service_ids=services(intake), now=clock() - timedelta(days=1))
    report = dispatcher(session_factory, intake, clock).tick()
    assert report is not None and (report.referrals, report.mails) == (30, 12)
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=clock)
    assert (await runner.drain()).sent == 13  # twelve providers and the referrer's notice
    by_address = {rcpt[0]: raw for _, rcpt, raw in handler.received}
    expected: dict[str, set[str]] = {}
    with session_factory() as session:
        for item in session.scalars(select(DispatchItem)):
            expected.setdefault(item.provider_address, set()).add(session.get_one(Referral, item.referral_id).reference or "")
    assert len(expected) == 12 and sum(len(v) for v in expected.values()) == 30
    for message in handler.messages():
        address = str(message["To"])
        if address not in expected:
            continue
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert set(REFERENCE.findall(text)) == expected[address], "a provider reads only its own referrals"
        assert "Voornaam leerling: Leerling" in text and "Contactpersoon school: An Peeters" in text
        assert message.get_body(preferencelist=("html",)) is not None, "readable in HTML too"
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename() == "aanmeldingen-2026-12-02.csv"
        rows = list(csv.reader(io.StringIO(attachment.get_content().lstrip("\ufeff")), delimiter=";"))
        assert rows[0][:2] == ["Referentie", "Aanbod"] and {r[0] for r in rows[1:]} == expected[address]
        assert "MSI-2026-0001: aanvaard" in text or f"{sorted(expected[address])[0]}: aanvaard" in text
    notice = next(m for m in handler.messages() if str(m["To"]) == els.email)
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "Op 02/12/2026 verstuurde het Meldpunt" in body and all(reference in body for reference in made)
    assert "Leerling" not in body, "the notice names no pupil"
    assert len(by_address) == 13


async def test_a_referral_that_cannot_be_rendered_is_set_aside_and_the_rest_goes_out(session_factory: sessionmaker[Session], intake: Intake,
                                                                                     els: Staff) -> None:
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    good, broken, unplaced = queue_referrals(intake, session_factory, els, 3, service_ids=services(intake)[:1], now=clock() - timedelta(days=1))
    with session_factory.begin() as session:
        referral = referrals.get_referral(session, broken)
        assert referral is not None
        # Stored by an older version, say: a date the provider mail cannot show.
        referrals.save_answers(session, referral, {**referral.answers, "pupil_birth_date": "14 maart"}, now=clock())
        other = referrals.get_referral(session, unplaced)
        assert other is not None
        other.assigned_service_id = "groene-zorg"  # referrals go there directly, never through the Meldpunt
    report = dispatcher(session_factory, intake, clock).tick()
    assert report is not None and (report.referrals, report.set_aside) == (1, 2)
    assert status_of(session_factory, good) is Status.DISPATCHED
    assert status_of(session_factory, broken) is Status.NEEDS_REVIEW and status_of(session_factory, unplaced) is Status.NEEDS_REVIEW
    with session_factory() as session:
        referral = referrals.get_referral(session, broken)
        assert referral is not None
        assert "na 3 pogingen niet in een mail" in (referrals.status_history(session, referral)[-1].note or "")
        alarm = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == COORDINATOR)).one()
    assert broken in alarm.body_text and unplaced in alarm.body_text and "rechtstreeks" in alarm.body_text and good not in alarm.body_text


async def test_a_refusing_provider_alerts_the_coordinator_a_busy_one_is_retried(session_factory: sessionmaker[Session], intake: Intake, els: Staff,
                                                                                sink: tuple[Sink, int], tmp_path: Path) -> None:
    handler, port = sink
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    ids = services(intake)[:3]
    queue_referrals(intake, session_factory, els, 3, service_ids=ids, now=clock() - timedelta(days=1))
    addresses = [intake.catalogue.service(i).dispatch_email for i in ids]
    handler.refuse = {addresses[0]: "550 5.1.1 Mailbox unknown", addresses[1]: "451 4.3.0 Try again later"}
    dispatcher(session_factory, intake, clock).tick()
    runner = OutboxRunner(session_factory, _config(tmp_path, port), clock=clock)
    await runner.drain()
    with session_factory() as session:
        rows = {m.to_address: m for m in session.scalars(select(OutboxMessage))}
    assert rows[addresses[0]].status is OutboxStatus.FAILED and rows[addresses[1]].status is OutboxStatus.RETRY
    assert rows[addresses[2]].status is OutboxStatus.SENT
    del handler.refuse[addresses[1]]
    clock.advance(timedelta(minutes=2))
    await runner.drain()
    alarms = [m for m in handler.messages() if str(m["To"]) == COORDINATOR]
    alarm_text = alarms[0].get_body(preferencelist=("plain",)).get_content() if alarms else ""
    assert len(alarms) == 1 and "verzending" in alarm_text and "550" in alarm_text
    delivered = [rcpt[0] for _, rcpt, _ in handler.received]
    assert delivered.count(addresses[1]) == 1 and addresses[0] not in delivered


async def test_the_configured_sending_rate_is_kept(session_factory: sessionmaker[Session], intake: Intake, els: Staff, sink: tuple[Sink, int],
                                                   tmp_path: Path) -> None:
    handler, port = sink
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    queue_referrals(intake, session_factory, els, 4, service_ids=services(intake)[:4], now=clock() - timedelta(days=1))
    dispatcher(session_factory, intake, clock).tick()
    # A fake monotonic clock that moves only when the runner pauses: the relay sees each mail at the
    # moment the runner lets it go, whatever the machine's speed.
    now = [0.0]

    async def pause(seconds: float) -> None:
        now[0] += seconds

    stamps: list[float] = []
    original = handler.handle_DATA

    async def stamped(*args: Any) -> str:
        stamps.append(now[0])
        return await original(*args)

    handler.handle_DATA = stamped  # type: ignore[method-assign] — the test's own sink, stamped
    runner = OutboxRunner(session_factory, _config(tmp_path, port, rate_per_minute=600), clock=clock, monotonic=lambda: now[0], pause=pause)
    await runner.drain()
    assert len(stamps) == 5
    gaps = [b - a for a, b in pairwise(stamps)]
    assert gaps == pytest.approx([0.1] * 4), f"600 a minute is one per 0.1 s: {gaps}"


def test_late_providers_are_reminded_and_then_the_coordinator_is_told(session_factory: sessionmaker[Session], intake: Intake, els: Staff) -> None:
    clock = Clock(brussels(2026, 11, 4, 9, 0))  # a Wednesday
    ids = services(intake)[:2]
    quiet, answered = queue_referrals(intake, session_factory, els, 2, service_ids=ids, now=clock() - timedelta(days=1))
    runner = dispatcher(session_factory, intake, clock, reminder_days=10)
    runner.tick()
    with session_factory.begin() as session:
        referral = referrals.get_referral(session, answered)
        assert referral is not None
        referrals.change_status(session, referral, Status.ACCEPTED, actor="aanbieder", now=clock())

    def mails(kind: str) -> list[OutboxMessage]:
        with session_factory() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))

    clock.now = brussels(2026, 11, 18, 9, 0)  # nine working days later (11 November is a holiday)
    runner.tick()
    assert mails("herinnering-aanbieder") == []
    clock.now = brussels(2026, 11, 19, 9, 0)  # ten working days
    runner.tick()
    (reminder,) = mails("herinnering-aanbieder")
    assert reminder.to_address == intake.catalogue.service(ids[0]).dispatch_email
    assert quiet in reminder.body_text and answered not in reminder.body_text and "10 werkdagen" in reminder.body_text
    runner.tick()
    assert len(mails("herinnering-aanbieder")) == 1, "reminded once"
    clock.now = brussels(2026, 12, 2, 9, 0)  # nine more working days
    runner.tick()
    assert not [m for m in mails("escalatie") if "zonder nieuws" in m.subject]
    clock.now = brussels(2026, 12, 3, 9, 0)  # ten
    runner.tick()
    told = [m for m in mails("escalatie") if "zonder nieuws" in m.subject]
    assert len(told) == 1 and quiet in told[0].body_text and told[0].to_address == COORDINATOR
    clock.now = brussels(2026, 12, 30, 9, 0)
    runner.tick()
    assert len([m for m in mails("escalatie") if "zonder nieuws" in m.subject]) == 1, "told once"
