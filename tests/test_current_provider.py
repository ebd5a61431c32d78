"""Reminders and feedback rights follow a referral's current dispatch only, after a decline and a redirect (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from intake.schedule import parse_moments
from mail.dispatcher import DispatchConfig, Dispatcher
from store.dispatch_models import DispatchItem
from store.models import Referral, Staff
from tests.mail_harness import COORDINATOR, MailHarness, running_harness
from tests.test_decisions import ARKTOS, ELS, INTRO, eligible_answers, make_referral
from tests.test_dispatch import brussels
from tests.test_dispatch_story import referrals_status
from tests.test_mail_processor import text_of

S = Status
P1_SERVICE = "naft-arktos-ahv"  # the referrer's preference, at ARKTOS's address
P2_SERVICE = "naft-groep-intro-ahv"  # at INTRO's address


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    async with running_harness(session_factory, tmp_path, now=brussels(2026, 11, 30, 10)) as wired:  # a Monday
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


def reminders(harness: MailHarness, address: str) -> list[str]:
    """The text of every reminder the provider at address received."""
    return [text_of(m) for m in harness.inbox(address) if "Herinnering" in str(m["Subject"])]


def overdue(harness: MailHarness) -> list[str]:
    """The text of every overdue list the coordinator received."""
    return [text_of(m) for m in harness.inbox(COORDINATOR) if "zonder nieuws" in str(m["Subject"])]


async def at(harness: MailHarness, dispatcher: Dispatcher, *when: int) -> None:
    """Move the clock, let the dispatcher tick and deliver what it queued."""
    harness.clock.now = brussels(*when)
    dispatcher.tick()
    await harness.process()


async def redirect(harness: MailHarness, reference: str) -> None:
    """The coordinator sends the referral to P2, replying to a mail of ours."""
    ours = await harness.our_mail_to(COORDINATOR, kind="escalatie", subject="Meldpunt: aanmeldingen om na te kijken")
    await harness.send(harness.reply_to(ours, f"{reference}: doorverwijzen naar {P2_SERVICE}", sender=COORDINATOR))
    await harness.process()


async def write(harness: MailHarness, to: EmailMessage, line: str, *, sender: str) -> str:
    """A provider replies to a mail of ours with one line; the text of our answer."""
    await harness.send(harness.reply_to(to, line, sender=sender))
    await harness.process()
    return text_of(harness.inbox(sender)[-1])


async def test_after_a_decline_and_a_redirect_only_the_new_provider_is_reminded_and_may_report(harness: MailHarness) -> None:
    with harness.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        answers = {**eligible_answers(), "preferred_intervention": P1_SERVICE}
        early, late = (make_referral(session, S.QUEUED, staff=els, answers=answers, now=harness.clock()).reference or "" for _ in range(2))
    dispatcher = Dispatcher(harness.sessions, lambda: harness.workflow.intake,
                            DispatchConfig(moments=parse_moments("wo 09:00, vr 09:00"), domain=harness.config.domain, coordinator_email=COORDINATOR),
                            clock=harness.clock)
    dispatcher.tick()  # closes last Friday's slot
    await at(harness, dispatcher, 2026, 12, 2, 9, 1)  # Wednesday: both go to P1
    p1 = ARKTOS
    with harness.sessions() as session:
        assert set(session.scalars(select(DispatchItem.provider_address))) == {p1}
    (p1_batch,) = harness.inbox(p1)

    # P1 declines one at once; the coordinator redirects it; Friday's batch sends it to P2.
    harness.clock.now = brussels(2026, 12, 3, 11)
    assert "Verwerkt" in await write(harness, p1_batch, f"{early}: geweigerd - geen plaats", sender=p1)
    await redirect(harness, early)
    await at(harness, dispatcher, 2026, 12, 4, 9, 1)
    (p2_batch,) = harness.inbox(INTRO)
    assert early in text_of(p2_batch)

    # Ten working days after the first batch: P1 is reminded of what it still has, not of what went on to P2.
    await at(harness, dispatcher, 2026, 12, 16, 9, 30)
    (p1_reminder,) = reminders(harness, p1)
    assert late in p1_reminder and early not in p1_reminder
    assert reminders(harness, INTRO) == [], "P2 got it on Friday: not yet"

    # P1 declines the other after its reminder; it goes to P2 on Friday, when P2 is reminded of the first.
    harness.clock.now = brussels(2026, 12, 17, 10)
    assert "Verwerkt" in await write(harness, harness.inbox(p1)[-2], f"{late}: geweigerd - geen plaats", sender=p1)
    await redirect(harness, late)
    await at(harness, dispatcher, 2026, 12, 18, 9, 1)
    (p2_reminder,) = reminders(harness, INTRO)
    assert early in p2_reminder and late not in p2_reminder
    assert len(reminders(harness, p1)) == 1, "P1 is not reminded of referrals it no longer has"

    # Ten working days after P1's reminder: P1 is no longer late for anything.
    await at(harness, dispatcher, 2026, 12, 31, 9, 30)
    assert not any(p1 in text for text in overdue(harness)), "the coordinator's overdue list does not name P1"
    await at(harness, dispatcher, 2027, 1, 5, 9, 30)
    (listed,) = overdue(harness)
    assert f"{early}: {INTRO}" in listed and p1 not in listed and late not in listed

    # P1 writes about it anyway: told it is no longer theirs; nothing changes, and it is no forgery.
    alarms = len(harness.inbox(COORDINATOR))
    answer = await write(harness, p1_batch, f"{early}: aanvaard", sender=p1)
    assert f"Niet verwerkt: {early}: deze aanmelding ligt niet meer bij jullie" in answer
    assert "onbekende referentie" not in answer
    assert referrals_status(harness, early) is S.DISPATCHED
    assert len(harness.inbox(COORDINATOR)) == alarms, "a former provider's line is no alarm for the coordinator"

    # P2's word is carried out.
    answer = await write(harness, p2_batch, f"{early}: aanvaard", sender=INTRO)
    assert f"Verwerkt: {early} staat nu op 'Aanvaard door de aanbieder'." in answer
    with harness.sessions() as session:
        referral = session.scalars(select(Referral).where(Referral.reference == early)).one()
        assert referral.status is S.ACCEPTED and referral.assigned_service_id == P2_SERVICE
