"""Every view of identifying data in the chat and by mail leaves an audit row: who, channel, purpose, what (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.audit import AuditAction, AuditPurpose
from store.dispatch_models import DispatchItem
from store.mail_models import Question
from store.models import AuditEntry, Referral
from tests.dispatch_fixtures import add_staff, intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import COORDINATOR, Clock, MailHarness, running_harness
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, running_chat
from tests.test_dispatch import brussels, dispatcher
from tests.test_mail_processor import fill, form_part, text_of
from tests.test_telegram import ELS, ELS_MAIL, TYPED, staff_with_link

MAIL_ELS = "els.janssens@vrijclbhalle.be"
Row = tuple[str, str | None, str | None, str | None]


def reads(sessions: sessionmaker[Session]) -> list[Row]:
    """(actor, channel, purpose, what was seen) of every read row, oldest first."""
    with sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.READ).order_by(AuditEntry.id))
        return [(r.actor, r.channel, r.purpose, r.detail) for r in rows]


def only_ids(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """The one referral's and the one question's id."""
    with sessions() as session:
        return session.scalars(select(Referral.id)).one(), only_question(sessions)


async def test_the_chat_records_the_summary_status_and_the_coordinators_questions(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        for line in TYPED:
            await h.say(ELS, line)
        assert "Z.P." in h.last_text(ELS), "the summary shows the answers"
        summary = ("els@clb-halle.example", "telegram", "aanmelding invullen", "samenvatting van de antwoorden")
        assert reads(session_factory) == [summary]
        await h.press(ELS, "Annuleren")
        assert "Z.P." in (await h.press(ELS, "Nee, verder"))[-1].text, "the summary again, not wiped"
        assert reads(session_factory) == [summary, summary]
        await h.say(ELS, "bevestig")
        assert "Z.P." in (await h.say(ELS, "/status"))[-1].text
        status = (ELS_MAIL, "telegram", "opvolging", "initialen van de leerling")
        assert reads(session_factory)[2:] == [status]
        await h.say(ELS, "/vraag Kan Zoë al starten?")
        referral_id, question_id = only_ids(session_factory)
        assert "Kan Zoë al starten?" in h.last_text(COORDINATOR_CHAT)
        listed = (await h.say(COORDINATOR_USER, "/vragen", chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text
        assert "Kan Zoë al starten?" in listed
        await h.mail.process()  # the minimal referral's details form: only the empty name and birth date, nothing seen
        assert "Z.P." not in h.mail.inbox(ELS_MAIL)[-1].get_body(("plain",)).get_content()
    pushed = (f"coördinator (telegram-chat {COORDINATOR_CHAT})", "telegram", "vraag beantwoorden", f"vraag {question_id}")
    typed = (f"coördinator (telegram {COORDINATOR_USER})", "telegram", "vraag beantwoorden", f"vraag {question_id}")
    assert reads(session_factory)[3:] == [pushed, typed]
    with session_factory() as session:
        assert set(session.scalars(select(AuditEntry.referral_id).where(AuditEntry.action == AuditAction.READ).limit(3))) == {referral_id}


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els of Vrij CLB Halle registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(MAIL_ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_mail_records_the_coordinators_copy_of_a_question_and_a_form_that_quotes_answers(harness: MailHarness) -> None:
    await harness.send(harness.new_mail(MAIL_ELS, "Vraag over een leerling", "Dag,\n\nZoë Peeters (15) spijbelt, wat raden jullie aan?\n\nEls"))
    await harness.process()
    assert "Zoë Peeters" in harness.inbox(COORDINATOR)[0].get_body(("plain",)).get_content()
    question_id = only_question(harness.sessions)
    assert reads(harness.sessions) == [(COORDINATOR, "e-mail", "vraag beantwoorden", f"vraag {question_id}")]
    await harness.send(harness.new_mail(MAIL_ELS, "formulier", "Dag, mag ik het aanmeldingsformulier? Els"))
    await harness.process()
    blank = harness.inbox(MAIL_ELS)[-1]
    partly = {"Voornaam leerling": "Zoë", "Achternaam leerling": "Peeters"}
    await harness.send(harness.reply_to(blank, "Dag, de rest volgt.\n\nEls", history=fill(text_of(blank), partly)))
    await harness.process()
    assert "Voornaam leerling: Zoë" in form_part(harness.inbox(MAIL_ELS)[-1])
    assert reads(harness.sessions)[1:] == [(MAIL_ELS, "e-mail", "aanmelding invullen", "antwoorden (formulier)")]


def only_question(sessions: sessionmaker[Session]) -> int:
    """The one question's id."""
    with sessions() as session:
        return session.scalars(select(Question.id)).one()


def test_each_provider_mail_records_which_referrals_the_provider_received(session_factory: sessionmaker[Session]) -> None:
    intake = intake_for(twelve_provider_catalogue())
    clock = Clock(brussels(2026, 12, 2, 8, 0))  # a Wednesday before the nine o'clock batch
    runner = dispatcher(session_factory, intake, clock)
    assert runner.tick().referrals == 0, "last Friday's slot: nothing yet"
    offered = [s.id for s in intake.catalogue.services if s.dispatch_email][:2]
    queued = queue_referrals(intake, session_factory, add_staff(session_factory), 3, service_ids=offered, now=clock())
    clock.now = brussels(2026, 12, 2, 9, 0)
    assert runner.tick().referrals == 3
    with session_factory() as session:
        sent = {(i.provider_address, i.referral_id) for i in session.scalars(select(DispatchItem))}
        rows = session.scalars(select(AuditEntry).where(AuditEntry.purpose == AuditPurpose.DISPATCH)).all()
        assert len(sent) == len(queued) and {(r.actor, r.referral_id) for r in rows} == sent
        assert {(r.action, r.channel, r.detail) for r in rows} == {("gelezen", "e-mail", "aanmelding met antwoorden")}


async def test_a_question_mailed_again_to_the_coordinator_is_recorded_again(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_harness(session_factory, tmp_path, reminder_hours=8) as harness:
        harness.add_staff(MAIL_ELS, "Els Janssens", "Vrij CLB Halle")
        await harness.send(harness.new_mail(MAIL_ELS, "Vraag", "Kan Zoë Peeters uit Halle (17) nog naar NAFT?"))
        await harness.process()
        harness.clock.advance(timedelta(hours=24))  # Thursday 10:00: 8 working hours
        assert harness.processor.remind_open_questions() == 1
        row = (COORDINATOR, "e-mail", "vraag beantwoorden", f"vraag {only_question(session_factory)}")
        assert reads(session_factory) == [row, row]


async def test_a_question_sent_again_to_the_coordinators_chat_is_recorded_again(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, reminder_hours=8, reminder_interval=0.2) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/vraag Kan Zoë nog bij NAFT Halle?")
        await h.fake.wait_for_text(COORDINATOR_CHAT, "Vraag #1")
        h.mail.clock.advance(timedelta(hours=26))  # Wednesday 11:00 to Thursday 13:00: 10 working hours
        await h.fake.wait_for_text(COORDINATOR_CHAT, "Herinnering", timeout=5)
    pushed = (f"coördinator (telegram-chat {COORDINATOR_CHAT})", "telegram", "vraag beantwoorden", f"vraag {only_question(session_factory)}")
    assert reads(session_factory) == [pushed, pushed]
