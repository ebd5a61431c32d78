"""Transcripts of the chat desk's router without Telegram: linking, a referral, advice, questions, decisions.

Each turn runs Desk.handle on a real SQLite file (and PostgreSQL), in one transaction: milliseconds per
turn, no network. The Telegram wire itself is tested in tests/test_telegram*.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.chat import ChatEvent, chat_text
from intake.lifecycle import Status
from store import conversations, questions, referrals
from store.mail_models import QuestionStatus
from store.models import Referral, Staff
from tests.chat_transcript import COORDINATOR_CHAT, COORDINATOR_USER, Transcript, transcript
from tests.test_decisions import make_referral
from tests.test_telegram import MINIMAL_STEPS

ELS, STRANGER = 1001, 666
ELS_MAIL = "els@clb-halle.example"
# test_telegram's minimal referral as transcript lines: typed text, a button by label, or by data (a glob).
REFERRAL = [what if how == "type" else f"[t|*|{what}]" if how == "toggle" else f"[{what}]" for how, what in MINIMAL_STEPS]


def coordinator(chat: Transcript, script: list[tuple[str, str]]) -> None:
    """Turns of the coordinator in their group chat."""
    chat.verify(COORDINATOR_USER, script, chat=COORDINATOR_CHAT)


def test_a_stranger_links_with_a_mailed_code_and_unlinks(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens", linked=False)
    chat.verify(STRANGER, [
        ("/start", "Koppel daarom eerst dit Telegram-account"),
        ("/aanmelden", "Dat kan enkel voor geregistreerde CLB-medewerkers"),
        ("hallo", chat_text("help_unlinked")),
        ("/aanbod", chat_text("catalogue_regions")),
        (ELS_MAIL, chat_text("code_sent", email=ELS_MAIL)),
    ])
    code = chat.code_mailed_to(ELS_MAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    chat.verify(STRANGER, [
        (wrong, "Die code klopt niet"),
        (f"{code[:3]} {code[3:]}", chat_text("code_linked", name="Els Janssens")),
        ("/start", "Dag Els Janssens!"),
        ("/ontkoppel", chat_text("unlinked_done")),
        ("/aanmelden", chat_text("link_first")),
    ])


def test_an_address_that_may_not_link_gets_the_same_answer_and_no_mail(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.verify(STRANGER, [("iemand@elders.example", chat_text("code_sent", email="iemand@elders.example"))])
    with session_factory() as session:
        assert session.scalar(select(Staff).where(Staff.email == "iemand@elders.example")) is None
    with pytest.raises(AssertionError, match="no mail"):
        chat.code_mailed_to("iemand@elders.example")  # the same answer, but no code went out


def test_a_short_referral_by_typing_and_pressing_is_submitted(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    chat.verify(ELS, [("/aanmelden", chat_text("minimal_notice"))])
    assert "telefoon" in chat.last(ELS).lower()
    for line in REFERRAL:
        chat.send(ELS, line)
    chat.verify(ELS, [("[Bevestigen]", "MSI-2026-0001")])
    with session_factory() as session:
        referral = session.scalars(select(Referral)).one()
        assert (referral.reference, referral.status, referral.channel) == ("MSI-2026-0001", Status.AWAITING_DETAILS, "telegram")
        assert referral.answers is not None and referral.answers["pupil_initials"] == "Z.P."
    chat.verify(ELS, [
        ("/status", "MSI-2026-0001"),
        ("/terug", chat_text("no_conversation")),
    ])
    assert chat.commits and set(chat.commits) == {1}, "every message is one transaction: its effect commits once"


def test_a_referral_that_is_not_eligible_offers_a_question_about_it(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    too_early = [line.replace("q|care_phase|3", "q|care_phase|1") for line in REFERRAL]  # brede basiszorg
    for line in ["/aanmelden", *too_early]:
        chat.send(ELS, line)
    chat.verify(ELS, [
        ("[Bevestigen]", "MSI-2026-0001"),
        ("[Vraag aan de coördinator]", chat_text("ask_prompt", reference="MSI-2026-0001")),
        ("↩ Kan dit toch?", "nr. 1"),
    ])
    asked = chat.last(COORDINATOR_CHAT)
    assert "Kan dit toch?" in asked and "aanmelding: MSI-2026-0001" in asked and "Z.P." not in asked
    assert "aandachtspunten: geen" not in asked, "the reasons it waits for the coordinator"


def test_a_stale_or_forged_button_changes_nothing(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    for line in ["/aanmelden", *REFERRAL[:4]]:
        chat.send(ELS, line)
    no = next(button.data for row in chat.chats[ELS][-1].buttons for button in row if button.text == "Nee")
    chat.send(ELS, "[Ja]")
    back = next(button.data for row in chat.chats[ELS][-1].buttons for button in row if button.text.endswith("Terug"))
    now_asked = back.split("|")[1]  # a choice the question shown now has no button for
    for data in (no, f"q|{now_asked}|1", "q|nope|9", "zz|1"):
        answer = chat.desk.handle(ChatEvent(user_id=ELS, chat_id=ELS, private=True, button=data))
        assert answer.toast == chat_text("stale") and answer.clear_pressed, data
    with session_factory() as session:
        conversation = conversations.get_conversation(session, "telegram", str(ELS))
        assert conversation is not None and conversation.state["answers"]["pupil_enrolled"] is True


def test_advice_then_a_question_with_its_context_reaches_the_coordinator(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    chat.verify(ELS, [
        ("/advies", "postcode"),
        ("1500", "niveau"),
        ("secundair", "probleemgebieden"),
        ("[t|*|0]", ""),
        ("[Klaar]", ""),
        ("[q|desired_form|1]", "Voorgesteld aanbod"),
        ("[Vraag aan de coördinator]", chat_text("ask_prompt")),
        ("↩ Mag dit ook voor een leerling in het buitengewoon onderwijs?", "nr. 1"),
    ])
    asked = chat.last(COORDINATOR_CHAT)
    assert asked.startswith("Vraag #1 van Els Janssens") and "buitengewoon onderwijs" in asked
    assert "Context: " in asked and "1500" in asked, "the advice answers, as the coordinator reads them"


def test_the_coordinator_answers_in_chat_and_by_mail_once_the_asker_is_gone(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    chat.verify(ELS, [("/vraag Hoe lang duurt een traject?", "nr. 1"), ("/vraag", chat_text("ask_prompt"))])
    coordinator(chat, [
        ("↩ Meestal acht weken.", chat_text("answer_relayed", number=1, by_mail=False)),
        ("/vragen", chat_text("open_questions", items=[])),
        ("/antwoord 1 Nog iets.", chat_text("question_unknown", number=1)),
        ("/antwoord een", chat_text("answer_usage")),
    ])
    assert chat.last(ELS).startswith("Antwoord van de coördinator op je vraag 1") and "acht weken" in chat.last(ELS)
    chat.verify(ELS, [("/vraag Is er plaats in Halle?", "nr. 2"), ("/ontkoppel", chat_text("unlinked_done"))])
    coordinator(chat, [
        ("/vragen", "#2 · 18/11/2026 11:00 · els@clb-halle.example: Is er plaats in Halle?"),  # Brussels time
        ("/antwoord 2 Ja, vanaf maandag.", chat_text("answer_relayed", number=2, by_mail=True)),
    ])
    assert [(r.question, r.answer) for r in chat.relayed] == [(2, "Ja, vanaf maandag.")]
    with session_factory() as session:
        first = questions.get_question(session, 1)
        assert first is not None and first.status is QuestionStatus.ANSWERED


def test_the_coordinator_decides_line_by_line_and_staff_cannot(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS, ELS_MAIL, "Els Janssens")
    with session_factory.begin() as session:
        els = session.scalars(select(Staff)).one()
        held, other = (make_referral(session, Status.NEEDS_REVIEW, staff=els).reference or "" for _ in range(2))
    chat.verify(ELS, [(f"{held}: goedkeuren", chat_text("hint_linked"))])
    coordinator(chat, [
        ("/nakijken", "Wachten op jou (2)"),
        (f"{held}: goedkeuren\n{other}: weigeren", f"✅ {held} staat nu op '{Status.QUEUED.label}'."),
        ("/beslis", chat_text("decide_usage")),
        ("gewoon een babbel", ""),
        ("/verzending", "Volgende batch:"),
    ])
    with session_factory() as session:
        states = {reference: referrals.get_referral(session, reference) for reference in (held, other)}
        assert {reference: r.status for reference, r in states.items() if r} == {held: Status.QUEUED, other: Status.NEEDS_REVIEW}
    assert chat.send(COORDINATOR_USER, "gewoon een babbel", chat=COORDINATOR_CHAT).replies == [], "their chatter is not ours"
