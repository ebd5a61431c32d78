"""The coordinator's day across its parts: every item of the agenda settles with the very line the agenda shows.

The agenda (desk/agenda.py) writes the lines, the line reader (desk/agenda_lines.py) carries them out; this test
holds the two together. By mail: the morning digest goes out through the real outbox, the coordinator replies
with the lines copied from it, the real processor applies them, and the next agenda is empty. By chat: /vandaag,
the lines typed back, /vandaag again. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.agenda import build_agenda
from desk.digest import DigestConfig, DigestOutcome, MorningDigest
from intake.agenda import Agenda, AgendaRules, ItemKind
from intake.lifecycle import Status
from intake.schedule import parse_moments
from intake.workhours import WorkCalendar
from store.models import Staff
from tests.agenda_lines_fixtures import make_waiting
from tests.chat_transcript import COORDINATOR_CHAT, COORDINATOR_USER, transcript
from tests.mail_harness import COORDINATOR, DOMAIN, MailHarness, running_harness, shared_intake
from tests.test_decisions import ELS, add_staff, eligible_answers, make_referral
from tests.test_mail_processor import text_of

MONDAY = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
RULES = AgendaRules(accept_within_days=5, dispatch_moments=parse_moments("wo 09:00, vr 09:00"))
ANSWER = "Ja, dat kan vanaf 11 jaar."
ELS_USER = 1001
# An action line as the agenda prints it: indented under its item, a subject, a colon, the verb.
_ACTION = re.compile(r"^ {3}((?:MSI-\d{4}-\d{4,}|Vraag #\d+|Aanbod #\d+|Quarantaine #\d+|Mail #\d+): \S.*)$", re.MULTILINE)


def _agenda(sessions: sessionmaker[Session], now: datetime) -> Agenda:
    """The agenda as the coordinator would see it at `now`."""
    with sessions() as session:
        return build_agenda(session, now=now, calendar=WorkCalendar(), rules=RULES, intake=shared_intake())


def _one_of_each(session: Session, now: datetime, *, asker_chat_id: int | None = None) -> set[ItemKind]:
    """A question, an offer change, a quarantined and a failed mail, a late dispatch, and a zeer dringend referral to decide."""
    # Fourteen days back: long enough for each to be on the agenda.
    make_waiting(session, now - timedelta(days=14), referral_status=Status.DISPATCHED, asker_chat_id=asker_chat_id)
    els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
    make_referral(session, Status.NEEDS_REVIEW, staff=els, now=now - timedelta(days=1), answers={**eligible_answers(), "urgency": "zeer-dringend"})
    return {ItemKind.DECIDE, ItemKind.NOT_ACCEPTED, ItemKind.QUESTION, ItemKind.OFFER_CHANGE, ItemKind.QUARANTINE, ItemKind.FAILED_MAIL}


def _lines_to_send(shown: str) -> list[str]:
    """The action lines a text shows, as the coordinator copies them: her answer in place of the placeholder."""
    return [line.replace("<je antwoord>", ANSWER) for line in _ACTION.findall(shown)]


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The real SMTP intake, processor and outbox, on a clock the test moves."""
    async with running_harness(session_factory, tmp_path, now=MONDAY) as wired:
        yield wired


async def test_every_item_of_the_digest_settles_by_replying_with_the_lines_it_shows(harness: MailHarness) -> None:
    h = harness
    with h.sessions.begin() as session:
        add_staff(session)
        kinds = _one_of_each(session, MONDAY)
    before = _agenda(h.sessions, MONDAY)
    assert {item.kind for item in before.items} == kinds and all(item.action for item in before.items)
    digest_config = DigestConfig(coordinator_email=COORDINATOR, domain=DOMAIN, at=time(8, 0), calendar=WorkCalendar(), rules=RULES)
    assert MorningDigest(h.sessions, shared_intake, digest_config, clock=h.clock).run() is DigestOutcome.SENT
    while (await h.runner.drain()).sent:
        pass
    (digest,) = h.inbox(COORDINATOR)
    lines = _lines_to_send(text_of(digest))
    assert len(lines) == len(before.items), "one line per item, copied from the mail as she reads it"
    assert lines[0].endswith(": goedkeuren"), "the zeer dringend referral comes first"
    await h.send(h.reply_to(digest, "\n".join(lines), sender=COORDINATOR))
    await h.process()
    while (await h.runner.drain()).sent:
        pass
    reply = text_of(h.inbox(COORDINATOR)[-1])
    assert "Niet verwerkt" not in reply and "niet begrepen" not in reply, reply
    after = _agenda(h.sessions, MONDAY + timedelta(minutes=5))
    assert after.items == (), [item.subject for item in after.items]
    assert any(ANSWER in text_of(mail) for mail in h.inbox(ELS)), "Els got the coordinator's answer to her question"


def test_every_item_of_vandaag_settles_by_typing_the_lines_it_shows_in_her_chat(session_factory: sessionmaker[Session]) -> None:
    chat = transcript(session_factory)
    chat.staff(ELS_USER, ELS, "Els Janssens")  # she asked her question in her linked chat: the answer goes there
    with session_factory.begin() as session:
        _one_of_each(session, chat.desk.clock(), asker_chat_id=ELS_USER)
    answer = chat.send(COORDINATOR_USER, "/vandaag", chat=COORDINATOR_CHAT)
    lines = _lines_to_send("\n".join(reply.text for reply in answer.replies))
    assert len(lines) == 6, lines
    typed = chat.send(COORDINATOR_USER, "\n".join(lines), chat=COORDINATOR_CHAT)
    said = "\n".join(reply.text for reply in typed.replies)
    assert "✖" not in said and said.count("✅") == 6, said
    assert any(reply.chat_id == ELS_USER and ANSWER in reply.text for reply in typed.replies), "Els reads the answer in her chat"
    chat.verify(COORDINATOR_USER, [("/vandaag", "Niets wacht op je.")], chat=COORDINATOR_CHAT)
