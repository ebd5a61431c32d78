"""Immediate alerts in the coordinator's chat (issue 16, point 3): by chat when it is set, by mail when the chat cannot carry them.

The real bot polls the fake Bot API (tests/telegram_harness.py); its job `send_alerts` is called as the
service's periodic runner calls it. The clock is the harness's fixed clock, moved by hand.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from desk.alerts import CHAT_GRACE, AlertJob
from intake.lifecycle import Status
from meldpunt.cli_status import RUNNER_ORDER
from meldpunt.periodic import Periodic
from meldpunt.service import register_bot_jobs
from meldpunt.supervisor import Supervisor
from store import referrals
from tests.alert_fixtures import PUPIL_NAMES, alert_intake, alert_mails, alerts_seen, submit
from tests.dispatch_fixtures import add_staff
from tests.mail_harness import COORDINATOR
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, ChatHarness, running_chat


def _job(h: ChatHarness) -> AlertJob:
    """The job "alarmen" of a service whose bot has the coordinator's chat."""
    return AlertJob(h.mail.sessions, alert_intake, h.mail.clock, COORDINATOR, h.mail.config.domain, True)


def _crisis(h: ChatHarness) -> str:
    """A zeer dringend referral the workflow sends to the coordinator at submission (its preferred service does not exist)."""
    staff = add_staff(h.mail.sessions)
    return submit(h.mail.sessions, alert_intake(), staff, "zeer-dringend", now=h.mail.clock(), service="bestaat-niet")


async def test_with_a_coordinator_chat_the_alert_arrives_there_once_and_its_line_settles_it(
    session_factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        crisis, job = _crisis(h), _job(h)
        assert [job.run() for _ in range(3)] == [1, 0, 0]
        for _ in range(3):
            await h.bot.send_alerts()
        [alert] = h.fake.messages_to(COORDINATOR_CHAT)
        assert alert.text.startswith(f"‼ Zeer dringend: {crisis} wacht op je beslissing.") and f"\n{crisis}: goedkeuren" in alert.text
        assert not any(name in alert.text for name in PUPIL_NAMES)
        assert alerts_seen(session_factory) == [("beslissing", crisis, "chat")]
        periodic = Periodic(Supervisor(session_factory, asyncio.Event(), clock=h.mail.clock))
        register_bot_jobs(periodic, h.bot)
        assert {"chatalarmen"} <= {job.name for job in periodic.jobs} <= set(RUNNER_ORDER), "serve runs it; `meldpunt status` lists it"
        h.mail.clock.advance(CHAT_GRACE + timedelta(minutes=1))
        assert job.run() == 0 and alert_mails(session_factory) == [], "carried by the chat: no mail after it"
        answer = (await h.say(COORDINATOR_USER, f"{crisis}: goedkeuren", chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text
        assert answer.startswith(f"✅ {crisis}")
        with session_factory() as session:
            referral = referrals.get_referral(session, crisis)
            assert referral is not None and referral.status is Status.QUEUED


async def test_an_alert_the_chat_cannot_carry_waits_and_then_goes_by_mail_once(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        crisis, job = _crisis(h), _job(h)
        assert job.run() == 1
        h.fake.fail_next("sendMessage", status=400, retry_after=None, description="Bad Request: chat not found")
        await h.bot.send_alerts()
        assert h.fake.messages_to(COORDINATOR_CHAT) == [] and alerts_seen(session_factory) == [("beslissing", crisis, None)]
        await h.stop_bot()  # Telegram is away for a while: the job keeps it pending, never marks it sent
        await h.bot.send_alerts()
        assert job.run() == 0 and alert_mails(session_factory) == [], "the chat still has time"
        h.mail.clock.advance(CHAT_GRACE + timedelta(minutes=1))
        assert [job.run() for _ in range(3)] == [0, 0, 0]
        assert alerts_seen(session_factory) == [("beslissing", crisis, "mail")]
        await h.deliver_mail()
        [mail] = [m for m in h.mail.inbox(COORDINATOR) if crisis in str(m["Subject"])]
        assert f"{crisis}: goedkeuren" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        await h.start_bot()
        await h.bot.send_alerts()
        assert h.fake.messages_to(COORDINATOR_CHAT) == [], "mailed: not in the chat as well"


async def test_without_a_coordinator_address_the_chat_carries_an_alert_however_late(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.desk.config = replace(h.desk.config, coordinator_email=None)
        crisis = _crisis(h)
        job = AlertJob(h.mail.sessions, alert_intake, h.mail.clock, None, h.mail.config.domain, True)
        assert job.run() == 1
        await h.stop_bot()
        h.mail.clock.advance(timedelta(hours=5))  # Telegram was away all morning, and there is no address to mail
        assert job.run() == 0 and alert_mails(session_factory) == []
        await h.start_bot()
        await h.bot.send_alerts()
        [alert] = h.fake.messages_to(COORDINATOR_CHAT)
        assert f"{crisis}: goedkeuren" in alert.text and alerts_seen(session_factory) == [("beslissing", crisis, "chat")]
