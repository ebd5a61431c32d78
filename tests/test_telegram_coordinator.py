"""The coordinator in Telegram: the review queue, decisions line by line, recorded feedback and the next batch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store import referrals
from store.models import Staff
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, ChatHarness, running_chat
from tests.test_decisions import ELS, make_referral
from tests.test_mail_processor import text_of

S = Status


def made(h: ChatHarness, *statuses: Status) -> list[str]:
    """Referrals of Els in these statuses; their references."""
    with h.mail.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        return [make_referral(session, status, staff=els, now=h.mail.clock()).reference or "" for status in statuses]


def status_of(h: ChatHarness, reference: str) -> Status:
    with h.mail.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status


async def coordinator(h: ChatHarness, text: str) -> str:
    """What the bot answers the coordinator in their chat."""
    return (await h.say(COORDINATOR_USER, text, chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text


async def test_the_coordinator_reviews_and_decides_in_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        held, other = made(h, S.NEEDS_REVIEW, S.NEEDS_REVIEW)
        queue = await coordinator(h, "/nakijken")
        assert f"{held} · {S.NEEDS_REVIEW.label}" in queue and other in queue and "Wachten op jou (2)" in queue
        assert "Zoë" not in queue and "Peeters" not in queue, "the chat never shows the pupil's identity"
        answer = await coordinator(h, f"{held}: goedkeuren\n{other}: weigeren\nMSI-2026-9999: goedkeuren")
        assert f"✅ {held} staat nu op '{S.QUEUED.label}'." in answer
        assert f"✖️ {other}: weigeren" in answer and "een reden" in answer, "a refusal needs a reason"
        assert "✖️ MSI-2026-9999: onbekende referentie." in answer
        assert (status_of(h, held), status_of(h, other)) == (S.QUEUED, S.NEEDS_REVIEW)
        declined = await coordinator(h, f"/beslis {other}: weigeren - geen plaats meer")
        assert declined.startswith(f"✅ {other} staat nu op '{S.DECLINED.label}'")
        assert status_of(h, other) is S.DECLINED
        await h.deliver_mail()
        notices = [text_of(m) for m in h.mail.inbox(ELS)]
        assert any(held in t and S.QUEUED.label in t for t in notices) and any("geen plaats meer" in t for t in notices)
        with session_factory() as session:
            referral = referrals.get_referral(session, held)
            assert referral is not None
            last = referrals.status_history(session, referral)[-1]
            assert (last.to_status, last.actor) == (S.QUEUED, f"coördinator (telegram {COORDINATOR_USER})")


async def test_feedback_by_phone_is_recorded_and_the_next_batch_is_shown(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        dispatched, queued = made(h, S.DISPATCHED, S.QUEUED)
        answer = await coordinator(h, f"{dispatched}: gestart")
        assert f"✅ {dispatched} staat nu op '{S.IN_PROGRESS.label}'." in answer and status_of(h, dispatched) is S.IN_PROGRESS
        with session_factory() as session:
            referral = referrals.get_referral(session, dispatched)
            assert referral is not None
            assert [c.to_status for c in referrals.status_history(session, referral)][-2:] == [S.ACCEPTED, S.IN_PROGRESS]
        preview = await coordinator(h, "/verzending")
        # The dispatched referral went to Arktos this school year, so the equal fit goes to Groep Intro.
        assert "Volgende batch:" in preview and "Naar aanmeldingen@groepintro.example (1): " + queued in preview
        assert "er is niets verstuurd" in preview and status_of(h, queued) is S.QUEUED
        assert "/nakijken" in await coordinator(h, "/help")
        scoped = [c["command"] for commands in h.fake.commands.values() for c in commands]
        assert {"nakijken", "beslis", "verzending"} <= set(scoped)


async def test_staff_cannot_decide_in_their_own_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(1001, ELS)
        (held,) = made(h, S.NEEDS_REVIEW)
        await h.say(1001, f"{held}: goedkeuren")
        assert status_of(h, held) is S.NEEDS_REVIEW, "only the coordinator's chat decides"
