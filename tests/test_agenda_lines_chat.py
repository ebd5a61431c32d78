"""The agenda's one-line actions typed in the coordinator's Telegram chat (fake Bot API, real bot, SQLite and PostgreSQL).

The same lines as by mail settle the same items: a question asked in chat is answered in the asker's chat,
an offer change approved with the provider told by mail, a quarantined mail handled, a failed mail really sent
again, a provider reminded. A staff member typing the lines in their own chat changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store import referrals
from store.dispatch_models import ChangeStatus
from store.mail_models import OutboxStatus, QuestionStatus
from tests.agenda_lines_fixtures import FAILED_SUBJECT, PROFO, Waiting, make_waiting, offer_status, outbox_row, quarantine_open, question_of
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, ChatHarness, running_chat
from tests.test_decisions import ARKTOS, ELS
from tests.test_mail_processor import text_of

S = Status
ELS_CHAT = 1001


def waiting(h: ChatHarness, status: Status = S.ACCEPTED) -> Waiting:
    """One item of each kind; the question was asked in Els's linked chat."""
    with h.mail.sessions.begin() as session:
        return make_waiting(session, h.mail.clock(), referral_status=status, asker_chat_id=ELS_CHAT)


async def coordinator(h: ChatHarness, text: str) -> str:
    """What the bot answers the coordinator in their chat."""
    return (await h.say(COORDINATOR_USER, text, chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text


async def test_every_form_settles_its_item_in_the_coordinators_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        items = waiting(h)
        answer = await coordinator(h, (
            f"Vraag #{items.question}: Ja, vanaf 11 jaar kan het.\nAanbod #{items.offer}: goedkeuren\n"
            f"Quarantaine #{items.quarantined}: afgehandeld\nMail #{items.failed}: opnieuw\n{items.referral}: herinneren"))
        assert f"✅ Vraag #{items.question} is beantwoord; je antwoord is in de chat doorgegeven" in answer
        assert f"✅ Aanbod #{items.offer} is goedgekeurd" in answer and f"✅ Quarantaine #{items.quarantined} is afgehandeld" in answer
        assert f"✅ Mail #{items.failed} staat opnieuw in de wachtrij" in answer
        assert f"✅ {items.referral}: {ARKTOS} krijgt nu een herinnering" in answer and "✖️" not in answer
        told = h.last_text(ELS_CHAT)
        assert "Antwoord van de coördinator op je vraag" in told and "vanaf 11 jaar kan het" in told, "answered in the asker's chat"
        await h.deliver_mail()
        with h.mail.sessions() as session:
            assert question_of(session, items.question).status is QuestionStatus.ANSWERED
            assert offer_status(session, items.offer) is ChangeStatus.APPROVED
            assert not quarantine_open(session, items.quarantined)
            assert outbox_row(session, items.failed).status is OutboxStatus.SENT
            referral = referrals.get_referral(session, items.referral)
            assert referral is not None
            last = referrals.last_note(session, referral)
            assert last is not None and (last.note, last.actor) == ("herinnering verstuurd", f"coördinator (telegram {COORDINATOR_USER})")
        assert [m["Subject"] for m in h.mail.inbox(ELS)].count(FAILED_SUBJECT) == 1, "the failed mail really went out"
        assert "goedgekeurd" in str(h.mail.inbox(PROFO)[-1]["Subject"])
        reminder = h.mail.inbox(ARKTOS)[-1]
        assert "Herinnering" in str(reminder["Subject"]) and items.referral in text_of(reminder)


async def test_refusals_in_chat_and_a_staff_member_cannot_use_the_lines(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_CHAT, ELS)
        items = waiting(h, S.NEEDS_REVIEW)
        await h.say(ELS_CHAT, f"Vraag #{items.question}: zelf beantwoord\nMail #{items.failed}: opnieuw\nAanbod #{items.offer}: goedkeuren")
        with h.mail.sessions() as session:
            assert question_of(session, items.question).status is QuestionStatus.OPEN, "only the coordinator's chat settles"
            assert outbox_row(session, items.failed).status is OutboxStatus.FAILED
            assert offer_status(session, items.offer) is ChangeStatus.PENDING

        answer = await coordinator(h, f"Vraag #{items.question + 9}: ja\nMail #{items.failed}: misschien\n{items.referral}: herinneren")
        assert f"✖️ Vraag #{items.question + 9} bestaat niet of is al beantwoord." in answer
        assert f"✖️ Mail #{items.failed}: misschien: Niet begrepen" in answer
        assert "'herinneren' kan nog niet" in answer and "✅" not in answer
        assert "/vragen" in await coordinator(h, "/help"), "chatter and help are unchanged"
