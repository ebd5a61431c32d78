"""/vandaag in Telegram, as transcripts of the chat desk (no network): the coordinator's chat only, audited like /vragen."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.chat import chat_text
from intake.lifecycle import Status
from store.audit import AuditAction, audit_trail
from store.models import Staff
from tests.chat_transcript import COORDINATOR_CHAT, COORDINATOR_USER, transcript
from tests.test_decisions import eligible_answers, make_referral

ELS, ELS_MAIL = 1001, "els@clb-halle.example"


def test_the_coordinator_sees_her_day_in_her_chat_and_staff_do_not(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    chat.verify(COORDINATOR_USER, [("/vandaag", "Niets wacht op je.")], chat=COORDINATOR_CHAT)
    now = chat.desk.clock()
    with session_factory.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS_MAIL)).one()
        crisis = make_referral(session, Status.NEEDS_REVIEW, staff=els, now=now, answers={**eligible_answers(), "urgency": "zeer-dringend"}).reference
    chat.verify(COORDINATOR_USER, [("/vandaag", f"1. ‼ zeer dringend · {crisis} · sinds vandaag (sinds 18/11/2026 11:00)")], chat=COORDINATOR_CHAT)
    shown = chat.last(COORDINATOR_CHAT)
    assert f"\n   {crisis}: goedkeuren" in shown and "Zoë" not in shown and "Peeters" not in shown
    # In Els's own chat /vandaag is no command of hers: she gets her help, never the coordinator's agenda.
    answer = chat.send(ELS, "/vandaag")
    said = "\n".join(reply.text for reply in answer.replies)
    assert crisis not in said and "wacht op je" not in said
    with session_factory() as session:
        views = [row for row in audit_trail(session) if row.action == AuditAction.LIST_READ and (row.detail or "").startswith("agenda")]
        assert [(row.actor, row.channel, row.detail) for row in views] == [
            (f"coördinator (telegram {COORDINATOR_USER})", "telegram", "agenda: 0 punten"),
            (f"coördinator (telegram {COORDINATOR_USER})", "telegram", "agenda: 1 punten"),
        ]


def test_the_coordinators_menu_and_help_name_vandaag() -> None:
    from bot.chat import command_menu

    assert ("vandaag", "Alles wat vandaag op je wacht, het dringendste eerst") in command_menu("coordinator_menu")
    assert "/vandaag" in chat_text("coordinator_help")
