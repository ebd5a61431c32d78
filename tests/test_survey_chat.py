"""The under-12 survey in Telegram (issue 15, point 5): on the fake Bot API, with the mail channel behind it.

A linked staff member gets the first question in chat and answers step by step (buttons for region and needs,
a number, a text or Overslaan); the answer is recorded once and a second one replaces it. SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk import survey
from store import survey as survey_repo
from store.survey_models import SurveyAnswer, SurveyAnswerNeed, SurveyInvite
from tests.telegram_harness import ChatHarness, running_chat

ELS, ELS_CHAT = "els.janssens@vrijclbhalle.be", 501
JAN = "jan.peeters@clb-leuven.be"


def start(h: ChatHarness) -> survey.StartResult:
    """Start the 2026 survey."""
    with h.mail.sessions.begin() as session:
        return survey.start(session, year=2026, actor="coordinator", domain=h.mail.config.domain, now=h.mail.clock())


def stored(h: ChatHarness) -> list[tuple[str, int, list[str], str | None]]:
    """Every stored answer: region, count, needs, missing offer."""
    with h.mail.sessions() as session:
        rows = []
        for answer in session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)):
            needs = sorted(session.scalars(select(SurveyAnswerNeed.need).where(SurveyAnswerNeed.answer_id == answer.id)))
            rows.append((answer.region, answer.under12_questions, needs, answer.missing_offer))
        return rows


async def test_the_survey_round_trip_in_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.register(JAN, "Jan Peeters", "CLB Leuven")
        h.link(ELS_CHAT, ELS)
        result = start(h)
        assert (result.mailed, result.chat) == (2, 1)
        await h.deliver_mail()
        assert len(h.mail.inbox(ELS)) == 1 and len(h.mail.inbox(JAN)) == 1, "the mail goes to everyone, also to the linked one"
        await h.bot.ask_survey()
        (question,) = h.fake.messages_to(ELS_CHAT)
        assert "bevraging 2026" in question.text and "anoniem" in question.text and "Vraag 1 van 4" in question.text
        assert [t for t, _ in question.buttons()] == ["Asse-Halle-Vilvoorde", "Vlaams-Brabant Oost"]
        await h.bot.ask_survey()
        assert len(h.fake.messages_to(ELS_CHAT)) == 1, "asked once"

        (count_question,) = await h.press(ELS_CHAT, "Vlaams-Brabant Oost")
        assert count_question.text.startswith("Vraag 2 van 4")
        assert "✔ Vlaams-Brabant Oost" in h.fake.messages_to(ELS_CHAT)[0].text, "the choice stays visible under the question"
        wrong, again = await h.say(ELS_CHAT, "een stuk of vijf")
        assert "Schrijf enkel een getal" in wrong.text and again.text.startswith("Vraag 2 van 4")
        (needs_question,) = await h.say(ELS_CHAT, "5")
        assert needs_question.text.startswith("Vraag 3 van 4")
        await h.press(ELS_CHAT, "Klaar")
        assert h.last_text(ELS_CHAT).startswith("Vraag 3 van 4"), "Klaar without a need asks for one"
        await h.press(ELS_CHAT, "Gedragsproblemen")
        await h.press(ELS_CHAT, "Leerproblemen")
        assert "✅ Gedragsproblemen" in [t for t, _ in h.with_button(ELS_CHAT, "Klaar").buttons()]
        (missing_question,) = await h.press(ELS_CHAT, "Klaar")
        assert missing_question.text.startswith("Vraag 4 van 4") and "Overslaan" in missing_question.buttons()[0][0]
        (thanks,) = await h.say(ELS_CHAT, "Een time-out voor 10-jarigen, mail els@vrijclbhalle.be")
        assert thanks.text.startswith("Bedankt!") and "vervangt" not in thanks.text
        assert stored(h) == [("oost", 5, ["gedrag", "leerproblemen"], "Een time-out voor 10-jarigen, mail [adres]")]

        # The chat is free again: what she types now is no survey answer.
        after = await h.say(ELS_CHAT, "7")
        assert not any(m.text.startswith("Bedankt!") for m in after)
        assert len(stored(h)) == 1


async def test_a_second_answer_in_chat_replaces_the_mail_answer_and_says_so(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        start(h)
        await h.bot.ask_survey()
        await h.deliver_mail()
        (invitation,) = h.mail.inbox(ELS)
        await h.mail.send(h.mail.reply_to(invitation, "Regio: AHV\nVragen jonger dan 12: 2\nNoden: gedrag", sender=ELS))
        await h.deliver_mail()
        assert stored(h) == [("ahv", 2, ["gedrag"], None)]
        await h.press(ELS_CHAT, "Asse-Halle-Vilvoorde")
        await h.say(ELS_CHAT, "3")
        await h.say(ELS_CHAT, "thuissituatie")  # typed instead of pressed: read all the same
        (thanks,) = await h.press(ELS_CHAT, "Overslaan")
        assert "vervangt het vorige" in thanks.text
        assert stored(h) == [("ahv", 3, ["thuissituatie"], None)]
        with h.mail.sessions() as session:
            results = survey_repo.survey_results(session, 2026)
            assert results is not None and results.answered == 1 and results.regions["ahv"].questions_sum == 3


async def test_only_the_last_question_may_be_skipped_and_annuleer_stops(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        start(h)
        await h.bot.ask_survey()
        (refused,) = await h.say(ELS_CHAT, "/overslaan")
        assert "niet overslaan" in refused.text
        wrong, _ = await h.say(ELS_CHAT, "Antwerpen")
        assert "Kies AHV" in wrong.text
        (stopped,) = await h.say(ELS_CHAT, "/annuleer")
        assert "gestopt" in stopped.text
        stale = h.with_button(ELS_CHAT, "Asse-Halle-Vilvoorde")
        await h.press_data(ELS_CHAT, stale, stale.button("Asse-Halle-Vilvoorde"))
        assert stored(h) == []
        with h.mail.sessions() as session:
            (invite,) = session.scalars(select(SurveyInvite)).all()
            assert invite.chat_step is None and invite.answered_at is None
        (question,) = await h.say(ELS_CHAT, "/bevraging")  # she changes her mind: the questions again
        assert question.text.startswith("Vraag 1 van 4")
        await h.press(ELS_CHAT, "Asse-Halle-Vilvoorde", message=question)
        await h.say(ELS_CHAT, "0")
        await h.say(ELS_CHAT, "anders")
        (thanks,) = await h.say(ELS_CHAT, "/overslaan")
        assert thanks.text.startswith("Bedankt!")
        assert stored(h) == [("ahv", 0, ["anders"], None)]


async def test_bevraging_without_an_invitation_says_so(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        (told,) = await h.say(ELS_CHAT, "/bevraging")
        assert "geen bevraging" in told.text


async def test_a_staff_member_who_answered_by_mail_is_not_asked_in_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        start(h)
        await h.deliver_mail()
        (invitation,) = h.mail.inbox(ELS)
        await h.mail.send(h.mail.reply_to(invitation, "Regio: AHV\nVragen jonger dan 12: 0\nNoden: anders", sender=ELS))
        await h.deliver_mail()
        await h.bot.ask_survey()
        assert h.fake.messages_to(ELS_CHAT) == []


async def test_the_survey_waits_behind_a_referral_in_progress_until_she_presses_a_region(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        (referral_question, *_) = await h.say(ELS_CHAT, "/aanmelden")
        start(h)
        await h.bot.ask_survey()
        assert "bevraging 2026" in h.last_text(ELS_CHAT)
        # She was answering her referral: what she types still goes there, not to the survey's first question.
        typed = await h.say(ELS_CHAT, "help")
        assert not any("Kies AHV" in m.text for m in typed), "the referral's help, not the survey's refusal"
        with h.mail.sessions() as session:
            assert session.scalars(select(SurveyInvite.answered_at)).one() is None
        # Pressing a region is choosing the survey: from then on it asks, and /annuleer hands the chat back.
        (count_question,) = await h.press(ELS_CHAT, "Asse-Halle-Vilvoorde")
        assert count_question.text.startswith("Vraag 2 van 4")
        assert referral_question.text
