"""A month in the life of two referrals, end to end on loopback: filter, Wednesday's batch, feedback by mail, reminders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import CompletionOutcome, Status
from intake.schedule import parse_moments
from mail.dispatcher import DispatchConfig, Dispatcher
from store import referrals
from store.dispatch_models import DispatchItem
from store.models import Staff
from tests.mail_harness import COORDINATOR, MailHarness, running_harness
from tests.test_decisions import ELS, make_referral
from tests.test_dispatch import brussels
from tests.test_mail_processor import text_of

S = Status


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    async with running_harness(session_factory, tmp_path, now=brussels(2026, 11, 30, 10)) as wired:  # a Monday
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_a_month_tells_the_whole_story_of_each_trajectory(harness: MailHarness) -> None:
    with harness.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        flagged = make_referral(session, S.NEEDS_REVIEW, staff=els, now=harness.clock()).reference or ""
        quiet = make_referral(session, S.QUEUED, staff=els, now=harness.clock()).reference or ""
    dispatcher = Dispatcher(harness.sessions, lambda: harness.workflow.intake,
                            DispatchConfig(moments=parse_moments("wo 09:00, vr 09:00"), domain=harness.config.domain, coordinator_email=COORDINATOR),
                            clock=harness.clock)

    # Monday: the coordinator lets the flagged referral through, replying to a mail of ours.
    review = await harness.our_mail_to(COORDINATOR, kind="escalatie", subject="Meldpunt: aanmeldingen om na te kijken")
    await harness.send(harness.reply_to(review, f"{flagged}: goedkeuren", sender=COORDINATOR))
    await harness.process()
    dispatcher.tick()  # closes last Friday's slot (nothing was waiting from before it)
    assert referrals_status(harness, flagged) is S.QUEUED

    # Wednesday 09:00: both go to their provider, once.
    harness.clock.now = brussels(2026, 12, 2, 9, 1)
    assert dispatcher.tick().referrals == 2 and dispatcher.tick() is None
    await harness.process()
    with harness.sessions() as session:
        (provider,) = set(session.scalars(select(DispatchItem.provider_address)))
    (batch_mail,) = harness.inbox(provider)
    assert flagged in text_of(batch_mail) and quiet in text_of(batch_mail)

    # The provider reports back on one of them over the weeks, replying to the batch mail.
    for day, line in [(3, "aanvaard"), (7, "ronde tafel 14/12/2026"), (15, "gestart")]:
        harness.clock.now = brussels(2026, 12, day, 11)
        await harness.send(harness.reply_to(batch_mail, f"{flagged}: {line}", sender=provider))
        await harness.process()
    assert referrals_status(harness, flagged) is S.IN_PROGRESS

    # The other stays without news: a reminder after ten working days, the coordinator after twenty.
    harness.clock.now = brussels(2026, 12, 16, 9, 30)
    dispatcher.tick()
    await harness.process()
    reminder = harness.inbox(provider)[-1]
    assert "Herinnering" in str(reminder["Subject"]) and quiet in text_of(reminder) and flagged not in text_of(reminder)
    harness.clock.now = brussels(2026, 12, 31, 9, 30)  # Christmas is no working day
    dispatcher.tick()
    await harness.process()
    assert any("zonder nieuws" in str(m["Subject"]) and quiet in text_of(m) for m in harness.inbox(COORDINATOR))

    harness.clock.now = brussels(2027, 1, 8, 11)
    await harness.send(harness.reply_to(batch_mail, f"{flagged}: afgerond - terug naar school", sender=provider))
    await harness.process()

    with harness.sessions() as session:
        referral = referrals.get_referral(session, flagged)
        assert referral is not None and referral.outcome is CompletionOutcome.BACK_TO_SCHOOL
        story = [(c.to_status, c.actor) for c in referrals.status_history(session, referral)]
    assert [status for status, _ in story] == [
        S.DRAFT, S.SUBMITTED, S.QUEUED, S.NEEDS_REVIEW, S.QUEUED, S.DISPATCHED, S.ACCEPTED, S.ROUND_TABLE_PLANNED, S.IN_PROGRESS, S.COMPLETED,
    ]
    actors = dict((status, actor) for status, actor in story)
    assert actors[S.DISPATCHED] == "planning" and actors[S.ACCEPTED] == provider and actors[S.COMPLETED] == provider
    assert (S.QUEUED, COORDINATOR) in story, "the coordinator's approval is in the history"
    told = "\n".join(text_of(m) for m in harness.inbox(ELS))
    assert "verstuurde het Meldpunt" in told and "Afgerond" in told and "Traject loopt" in told, "the referrer heard every step"


def referrals_status(harness: MailHarness, reference: str) -> Status:
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status
