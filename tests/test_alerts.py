"""Immediate alerts to the coordinator (issue 16, point 3): each urgent event once, by mail when there is no chat.

Real parts on SQLite and PostgreSQL: the workflow submits (flagged ones go to the coordinator), the batch
dispatches and sets aside, decision lines hold and decline, the outbox runner fails a mail against an aiosmtpd
sink; a fixed clock throughout.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from desk import alerts
from desk.agenda import first_other_service
from desk.alerts import AlertJob
from desk.dispatch import run_batch
from intake.lifecycle import Status
from mail.outbox import OutboxRunner
from store import agenda as agenda_rows
from store import alerts as alert_store
from store import referrals
from store.alert_models import ScanSource
from store.db import alembic_config, create_db_engine, make_session_factory, upgrade_database
from store.mail_models import OutboxStatus
from store.models import Staff, StatusChange
from tests.alert_fixtures import (
    COORDINATOR,
    DOMAIN,
    PUPIL_NAMES,
    act,
    alert_intake,
    alert_mails,
    alerts_seen,
    closed_intake,
    dispatch,
    job,
    meldpunt_services,
    provider_of,
    submit,
)
from tests.dispatch_fixtures import NOW, add_staff
from tests.mail_harness import COORDINATOR as HARNESS_COORDINATOR
from tests.mail_harness import Clock, running_harness
from tests.test_outbox import Sink, _config, sink  # noqa: F401 — `sink` is a fixture


@pytest.fixture
def els(session_factory: sessionmaker[Session]) -> Staff:
    """Els, a registered CLB staff member."""
    return add_staff(session_factory)


def _no_pupil_name(text: str) -> None:
    """Fail when the pupil's first or last name is in text."""
    assert not any(name in text for name in PUPIL_NAMES), text


def test_a_flagged_zeer_dringend_referral_and_an_urgent_refusal_alert_once_each_and_normal_ones_never(
    session_factory: sessionmaker[Session], els: Staff,
) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    first, second = meldpunt_services(intake)[:2]
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=first)
    urgent = submit(session_factory, intake, els, "dringend", now=clock(), service=second)
    normal_declined = submit(session_factory, intake, els, "normaal", now=clock(), service=second)
    runner = job(session_factory, clock)
    assert runner.run() == 0, "queued referrals need nothing"
    dispatch(session_factory, intake, now=clock())  # all three go out
    act(session_factory, intake, f"{urgent}: geweigerd - volzet", now=clock(), provider=provider_of(session_factory, urgent))
    act(session_factory, intake, f"{normal_declined}: geweigerd - volzet", now=clock(), provider=provider_of(session_factory, normal_declined))
    crisis_b = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=first, flagged=True)
    submit(session_factory, intake, els, "normaal", now=clock(), service=first, flagged=True)
    assert [runner.run() for _ in range(3)] == [2, 0, 0]
    assert alerts_seen(session_factory) == [("weigering", urgent, "mail"), ("beslissing", crisis_b, "mail")]
    refusal, decision = alert_mails(session_factory)
    assert (refusal.to_address, decision.to_address) == (COORDINATOR, COORDINATOR)
    assert f"{urgent}: doorverwijzen naar " in refusal.body_text and "! Dringend" in refusal.subject and "volzet" in refusal.body_text
    with session_factory() as session:  # the service the agenda suggests for the same re-route
        declined = referrals.get_referral(session, urgent)
        assert declined is not None
        suggested = first_other_service(declined, set(agenda_rows.services_sent(session, [declined.id])[declined.id]), intake.catalogue)
    assert suggested is not None and f"{urgent}: doorverwijzen naar {suggested}" in refusal.body_text
    assert f"{crisis_b}: goedkeuren" in decision.body_text and "‼ Zeer dringend" in decision.subject
    assert "niet akkoord" in decision.body_text and "bij het indienen" in decision.body_text, "the workflow's reason"
    assert "zeer dringend" in decision.body_text
    for mail in (refusal, decision):
        _no_pupil_name(mail.subject + mail.body_text + (mail.body_html or ""))
    assert crisis not in decision.body_text



async def test_a_failed_provider_mail_alerts_once_with_its_line_and_the_mail_reaches_the_coordinator(
    session_factory: sessionmaker[Session], els: Staff, sink: tuple[Sink, int], tmp_path: Path,
) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    handler, port = sink
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=meldpunt_services(intake)[0])
    dispatch(session_factory, intake, now=clock())
    provider = provider_of(session_factory, crisis)
    handler.refuse[provider] = f"550 5.1.1 <{provider}>: Recipient address rejected"
    outbox = OutboxRunner(session_factory, _config(tmp_path, port, coordinator_email=COORDINATOR), clock=clock)
    await outbox.drain()
    runner = job(session_factory, clock)
    assert [runner.run() for _ in range(3)] == [1, 0, 0]
    [(kind, reference, channel)] = alerts_seen(session_factory)
    assert (kind, reference, channel) == ("mail-mislukt", crisis, "mail")
    [alert] = alert_mails(session_factory)
    failed_id = alert.body_text.split("Mail #")[1].split(":")[0]
    await outbox.drain()
    [received] = [m for m in handler.messages() if str(m["Subject"]).startswith("Meldpunt: ‼ Zeer dringend")]
    body = received.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert received["To"] == COORDINATOR and f"Mail #{failed_id}: opnieuw" in body
    assert f"{crisis} (zeer dringend)" in body and "SMTP 550" in body and provider not in body, "the reason, with the address left out"
    _no_pupil_name(str(received))
    assert runner.run() == 0 and len(alert_mails(session_factory)) == 1


def test_a_crash_between_finding_and_telling_loses_nothing_and_repeats_nothing(session_factory: sessionmaker[Session], els: Staff) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=meldpunt_services(intake)[0], flagged=True)
    with session_factory.begin() as session:  # the job found it and committed, then the process died
        assert alerts.scan(session, now=clock()) == 1
    with session_factory() as session:  # it died again, this time while queueing the mail: nothing of it is kept
        assert alerts.mail_pending(session, now=clock(), catalogue=intake.catalogue, to=COORDINATOR, domain="meldpunt.example", chat=False) == 1
        session.rollback()
    assert alert_mails(session_factory) == [] and alerts_seen(session_factory) == [("beslissing", crisis, None)]
    runner = job(session_factory, clock)
    assert [runner.run() for _ in range(3)] == [0, 0, 0]
    assert alerts_seen(session_factory) == [("beslissing", crisis, "mail")]
    [mail] = alert_mails(session_factory)
    assert f"{crisis}: goedkeuren" in mail.body_text and mail.status is OutboxStatus.QUEUED


def test_a_zeer_dringend_referral_the_workflow_sends_to_review_at_submission_alerts(session_factory: sessionmaker[Session], els: Staff) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service="bestaat-niet")
    normal = submit(session_factory, intake, els, "normaal", now=clock(), service="bestaat-niet")
    assert job(session_factory, clock).run() == 1
    assert alerts_seen(session_factory) == [("beslissing", crisis, "mail")]
    [mail] = alert_mails(session_factory)
    assert "bij het indienen" in mail.body_text and normal not in mail.body_text


def test_with_neither_chat_nor_address_it_is_said_once_and_the_alerts_wait(
    session_factory: sessionmaker[Session], els: Staff, caplog: pytest.LogCaptureFixture,
) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service="bestaat-niet")
    caplog.set_level(logging.INFO, logger="desk.alerts")
    nowhere = job(session_factory, clock, email=None)
    assert [nowhere.run() for _ in range(3)] == [1, 0, 0]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "MELDPUNT_COORDINATOR_EMAIL" in said[0] and "wachten" in said[0]
    assert alerts_seen(session_factory) == [("beslissing", crisis, None)] and alert_mails(session_factory) == []
    clock.advance(timedelta(hours=3))  # the address is set and the service restarted
    assert job(session_factory, clock).run() == 0
    assert alerts_seen(session_factory) == [("beslissing", crisis, "mail")] and len(alert_mails(session_factory)) == 1
    assert not any(name in r.getMessage() for r in caplog.records for name in PUPIL_NAMES)


def test_the_first_run_after_the_upgrade_alerts_nothing_that_happened_before_it(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    engine = create_db_engine(empty_database_url)
    try:
        sessions = make_session_factory(engine)
        intake, clock = alert_intake(), Clock(NOW)
        staff = add_staff(sessions)
        before = submit(sessions, intake, staff, "zeer-dringend", now=clock(), service="bestaat-niet")
        # Written by today's code (its figures columns are newer than 0014), then back to before the alerts and up again.
        engine.dispose()
        command.downgrade(alembic_config(empty_database_url), "0014")
        upgrade_database(empty_database_url)
        clock.advance(timedelta(days=1))
        runner = job(sessions, clock)
        assert runner.run() == 0 and alerts_seen(sessions) == [], f"{before} waited before the upgrade: the agenda shows it, no alert"
        after = submit(sessions, intake, staff, "zeer-dringend", now=clock(), service="bestaat-niet")
        assert runner.run() == 1 and alerts_seen(sessions) == [("beslissing", after, "mail")]
    finally:
        engine.dispose()


# Only PostgreSQL lets a lower id commit after a higher one (SQLite has one writer at a time).
@pytest.mark.parametrize("empty_database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
def test_a_change_committed_after_a_newer_one_is_still_found_and_the_mark_moves_on_once_settled(
    session_factory: sessionmaker[Session], els: Staff,
) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    service = meldpunt_services(intake)[0]
    early = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=service)
    slow = session_factory()  # a batch sets `early` aside and is slow to commit
    run_batch(slow, closed_intake(intake, service), slot_key="traag", actor="planning", domain=DOMAIN, coordinator_email=COORDINATOR, now=clock())
    late = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=service, flagged=True)  # higher ids, committed first
    runner = job(session_factory, clock)
    assert runner.run() == 1 and [ref for _, ref, _ in alerts_seen(session_factory)] == [late]
    slow.commit()
    slow.close()
    clock.advance(timedelta(minutes=1))
    assert runner.run() == 1 and [ref for _, ref, _ in alerts_seen(session_factory)] == [late, early]
    clock.advance(alert_store.SETTLE)
    assert runner.run() == 0
    with session_factory() as session:
        newest = session.scalar(select(func.max(StatusChange.id)))
        assert alert_store.scan_mark(session, ScanSource.STATUS_CHANGES).last_id == newest, "settled rows are not read again"


def test_a_zeer_dringend_referral_the_batch_sets_aside_alerts(session_factory: sessionmaker[Session], els: Staff) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    service = meldpunt_services(intake)[0]
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=service)
    # Before the batch the provider stops taking referrals: the batch sets the referral aside for the coordinator.
    dispatch(session_factory, closed_intake(intake, service), now=clock())
    assert job(session_factory, clock).run() == 1
    [mail] = alert_mails(session_factory)
    assert f"{crisis}: goedkeuren" in mail.body_text and "apart gezet bij de verzending" in mail.body_text
    assert "geen aanmeldingen aan" in mail.body_text, "the batch's reason"


async def test_a_reply_to_the_alert_mail_with_its_line_settles_it(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_harness(session_factory, tmp_path) as h:
        staff = add_staff(session_factory)
        crisis = submit(session_factory, h.workflow.intake, staff, "zeer-dringend", now=h.clock(), service=meldpunt_services(h.workflow.intake)[0],
                        flagged=True)
        assert AlertJob(session_factory, lambda: h.workflow.intake, h.clock, HARNESS_COORDINATOR, h.config.domain, False).run() == 1
        await h.process()
        [alert] = [m for m in h.inbox(HARNESS_COORDINATOR) if crisis in str(m["Subject"])]
        await h.send(h.reply_to(alert, f"{crisis}: goedkeuren", sender=HARNESS_COORDINATOR))
        await h.process()
        with session_factory() as session:
            referral = referrals.get_referral(session, crisis)
            assert referral is not None and referral.status is Status.QUEUED, "the reply to the alert acted"


def test_a_hold_by_the_coordinator_alerts_nothing(session_factory: sessionmaker[Session], els: Staff) -> None:
    intake, clock = alert_intake(), Clock(NOW)
    crisis = submit(session_factory, intake, els, "zeer-dringend", now=clock(), service=meldpunt_services(intake)[0])
    runner = job(session_factory, clock)
    act(session_factory, intake, f"{crisis}: vasthouden - eerst bellen", now=clock())
    dispatch(session_factory, intake, now=clock())  # a batch at the same moment: the hold is still hers, not the batch's
    clock.advance(timedelta(minutes=1))
    assert [runner.run() for _ in range(2)] == [0, 0], "she just decided: nothing to tell her"
    assert alerts_seen(session_factory) == [] and alert_mails(session_factory) == []
    with session_factory() as session:
        referral = referrals.get_referral(session, crisis)
        assert referral is not None and referral.status is Status.NEEDS_REVIEW, "held, waiting for her as she wanted"
