"""The agenda's one-line actions: read (pure) and applied by mail through the real processor, SMTP intake and outbox.

Each form settles its item by a reply to a mail of ours (SQLite and PostgreSQL, fixed clock): a question answered
and relayed to its asker, an offer change approved or rejected with the provider told, a quarantined mail
handled, a failed mail queued again and really sent, a provider reminded. Refusals come back in Dutch; a
provider's lines and a coordinator's new (non-reply) mail change nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake.agenda_lines import Deed, Subject, has_agenda_line, parse_agenda_lines
from intake.lifecycle import Status
from store import inbound, referrals
from store.dispatch_models import ChangeStatus
from store.mail_models import OutboxStatus, QuestionStatus
from tests.agenda_lines_fixtures import (
    FAILED_SUBJECT,
    PROFO,
    QUESTION_TEXT,
    Waiting,
    audit_details,
    make_waiting,
    offer_status,
    outbox_row,
    quarantine_open,
    question_of,
)
from tests.mail_harness import COORDINATOR, MailHarness, running_harness
from tests.test_decisions import ARKTOS, ELS
from tests.test_mail_processor import text_of

S = Status


# --- reading the lines (pure) -------------------------------------------------------------------------


def test_each_form_is_read_whatever_its_case_quote_marks_or_bullets() -> None:
    lines, problems = parse_agenda_lines(
        "Dag,\n> Vraag #12: Ja, dat kan via het Meldpunt.\n- AANBOD #3: goedkeuren\n* aanbod #4: weigeren - bestaat niet meer\n"
        "• Quarantaine #5: afgehandeld\nmail #9: opnieuw\nMail #10 - afgehandeld\nGroeten, vraag maar raak",
    )
    assert problems == []
    assert [(line.subject, line.number, line.deed, line.text) for line in lines] == [
        (Subject.QUESTION, 12, Deed.ANSWER, "Ja, dat kan via het Meldpunt."), (Subject.OFFER, 3, Deed.APPROVE, None),
        (Subject.OFFER, 4, Deed.REJECT, "bestaat niet meer"), (Subject.QUARANTINE, 5, Deed.HANDLED, None),
        (Subject.MAIL, 9, Deed.AGAIN, None), (Subject.MAIL, 10, Deed.HANDLED, None),
    ]
    assert lines[0].label == "Vraag #12"


def test_unclear_lines_are_explained_in_dutch_and_other_text_is_ignored() -> None:
    lines, problems = parse_agenda_lines("Vraag #12: <je antwoord>\nAanbod #3: weigeren\nMail #9: misschien\nVraag 12: zonder nummerteken")
    assert lines == []
    reasons = [p.reason for p in problems]
    assert "Schrijf je antwoord na 'Vraag #12:'" in reasons[0], "the agenda's placeholder copied as is is no answer"
    assert "Geef na 'weigeren' een reden" in reasons[1]
    assert "Niet begrepen: 'misschien'. Schrijf 'Mail #9: opnieuw'" in reasons[2]
    assert len(problems) == 3 and not has_agenda_line("Vraag 12: zonder nummerteken\nMailtje van gisteren")
    assert parse_agenda_lines("Vraag #1234567890: te lang nummer") == ([], []), "ten digits name no item"


def test_reading_stays_linear_on_hostile_input() -> None:
    """1 MB of the worst prefix for the pattern costs about ten times 100 KB, not a hundred times."""
    def cost(size: int) -> float:
        text = ("> " * (size // 2)) + "vraag #" + " " * 50
        start = time.process_time()
        parse_agenda_lines(text)
        has_agenda_line(text)
        return max(time.process_time() - start, 0.002)

    small, large = cost(100_000), cost(1_000_000)
    assert large < 2.0 and large / small < 30


# --- by mail ------------------------------------------------------------------------------------------


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


def waiting(harness: MailHarness, status: Status = S.ACCEPTED) -> Waiting:
    """One item of each kind; the referral is with Arktos."""
    with harness.sessions.begin() as session:
        return make_waiting(session, harness.clock(), referral_status=status)


async def reply_as_coordinator(harness: MailHarness, body: str) -> str:
    """The coordinator replies to a mail of ours (as to the morning digest) with lines; the text of our answer."""
    ours = await harness.our_mail_to(COORDINATOR, kind="escalatie", subject="Meldpunt: wat er vandaag op je wacht")
    before = len(harness.inbox(COORDINATOR))
    await harness.send(harness.reply_to(ours, body, sender=COORDINATOR))
    await harness.process()
    replies = harness.inbox(COORDINATOR)[before:]
    assert replies, "every mail of lines is answered"
    return text_of(replies[-1])


async def test_every_form_settles_its_item_by_a_reply_to_our_mail(harness: MailHarness) -> None:
    items = waiting(harness)
    body = (f"Vraag #{items.question}: Ja, vanaf 11 jaar kan het via het Meldpunt.\nAanbod #{items.offer}: goedkeuren\n"
            f"Quarantaine #{items.quarantined}: afgehandeld\nMail #{items.failed}: opnieuw\n{items.referral}: herinneren")
    reply = await reply_as_coordinator(harness, body)

    assert f"Verwerkt: Vraag #{items.question} is beantwoord; je antwoord is per e-mail doorgegeven" in reply
    assert f"Verwerkt: Aanbod #{items.offer} is goedgekeurd" in reply and f"Verwerkt: Quarantaine #{items.quarantined} is afgehandeld" in reply
    assert f"Verwerkt: Mail #{items.failed} staat opnieuw in de wachtrij" in reply
    assert f"Verwerkt: {items.referral}: {ARKTOS} krijgt nu een herinnering" in reply and "Niet verwerkt" not in reply
    with harness.sessions() as session:
        assert question_of(session, items.question).status is QuestionStatus.ANSWERED
        assert offer_status(session, items.offer) is ChangeStatus.APPROVED
        assert audit_details(session, "aanbod-goedgekeurd") == [f"wijziging:{items.offer}"]
        assert not quarantine_open(session, items.quarantined)
        assert [m.id for m in inbound.quarantined(session)] == [items.quarantined], "the mail itself is kept for its retention"
        assert outbox_row(session, items.failed).status is OutboxStatus.SENT
        referral = referrals.get_referral(session, items.referral)
        assert referral is not None and referral.status is S.ACCEPTED
        assert referrals.last_note(session, referral).note == "herinnering verstuurd"  # type: ignore[union-attr]
    to_els = [text_of(m) for m in harness.inbox(ELS)]
    assert any("vanaf 11 jaar kan het" in t and QUESTION_TEXT[:30] in t for t in to_els), "the asker gets the answer by mail"
    assert [m["Subject"] for m in harness.inbox(ELS)].count(FAILED_SUBJECT) == 1, "the failed mail really went out"
    (decided,) = harness.inbox(PROFO)
    assert "Wijziging aan je aanbod goedgekeurd" in str(decided["Subject"]) and "→ 3" in text_of(decided)
    (reminder,) = harness.inbox(ARKTOS)[-1:]
    assert str(reminder["Subject"]).startswith("Herinnering") and items.referral in text_of(reminder)
    assert "Zoë" not in text_of(reminder), "the reminder names the reference, never the pupil"
    assert "vraagt hoe het staat" in text_of(reminder) and "nog niets gehoord" not in text_of(reminder), "asked by the coordinator, not a lapse of days"


async def test_the_other_forms_reject_an_offer_change_and_set_a_failed_mail_aside(harness: MailHarness) -> None:
    items = waiting(harness)
    reply = await reply_as_coordinator(harness, f"Aanbod #{items.offer}: weigeren - graag eerst overleggen\nMail #{items.failed}: afgehandeld")
    assert f"Verwerkt: Aanbod #{items.offer} is geweigerd" in reply and f"Verwerkt: Mail #{items.failed} is afgehandeld" in reply
    with harness.sessions() as session:
        assert offer_status(session, items.offer) is ChangeStatus.REJECTED
        assert audit_details(session, "aanbod-geweigerd") == [f"wijziging:{items.offer}"]
        row = outbox_row(session, items.failed)
        assert row.status is OutboxStatus.FAILED and row.handled_at is not None and row.handled_by == COORDINATOR
    (told,) = harness.inbox(PROFO)
    assert "graag eerst overleggen" in text_of(told)
    assert FAILED_SUBJECT not in [m["Subject"] for m in harness.inbox(ELS)], "a handled mail is not sent"


async def test_refusals_say_in_dutch_why_and_change_nothing(harness: MailHarness) -> None:
    items = waiting(harness, S.NEEDS_REVIEW)
    body = (f"Vraag #{items.question + 50}: ja\nAanbod #{items.offer + 50}: goedkeuren\nQuarantaine #{items.failed + 50}: afgehandeld\n"
            f"Mail #{items.failed + 50}: opnieuw\n{items.referral}: herinneren\nAanbod #{items.offer}: weigeren")
    reply = await reply_as_coordinator(harness, body)
    assert f"Vraag #{items.question + 50} bestaat niet of is al beantwoord." in reply
    assert f"Er is geen wijziging aan het aanbod met nummer {items.offer + 50}" in reply
    assert f"Quarantaine #{items.failed + 50} bestaat niet, staat niet in quarantaine of is al afgehandeld." in reply
    assert f"Mail #{items.failed + 50} bestaat niet, is niet mislukt of is al afgehandeld." in reply
    assert f"{items.referral}: staat op '{S.NEEDS_REVIEW.label}'; 'herinneren' kan nog niet." in reply
    assert "Geef na 'weigeren' een reden" in reply and "Verwerkt:" not in reply
    with harness.sessions() as session:
        assert offer_status(session, items.offer) is ChangeStatus.PENDING
        assert question_of(session, items.question).status is QuestionStatus.OPEN
    assert harness.inbox(ARKTOS) == [] and harness.inbox(PROFO) == []

    again = await reply_as_coordinator(harness, f"Quarantaine #{items.quarantined}: afgehandeld\nQuarantaine #{items.quarantined}: afgehandeld")
    assert again.count("Verwerkt: ") == 1 and "Niet verwerkt: " in again, "a line written twice settles once"


async def test_a_finished_referral_has_nobody_to_remind(harness: MailHarness) -> None:
    items = waiting(harness, S.COMPLETED)
    reply = await reply_as_coordinator(harness, f"{items.referral}: herinneren")
    assert "'herinneren' kan dan niet meer" in reply and harness.inbox(ARKTOS) == []


async def test_a_provider_cannot_use_the_coordinators_lines(harness: MailHarness) -> None:
    items = waiting(harness, S.DISPATCHED)
    ours = await harness.our_mail_to(ARKTOS)
    lines = (f"Vraag #{items.question}: nee\nAanbod #{items.offer}: goedkeuren\nQuarantaine #{items.quarantined}: afgehandeld\n"
             f"Mail #{items.failed}: opnieuw")
    await harness.send(harness.reply_to(ours, lines, sender=ARKTOS))
    await harness.process()
    await harness.send(harness.reply_to(ours, f"{items.referral}: herinneren", sender=ARKTOS))
    await harness.process()
    with harness.sessions() as session:
        assert question_of(session, items.question).status is QuestionStatus.OPEN
        assert offer_status(session, items.offer) is ChangeStatus.PENDING
        assert quarantine_open(session, items.quarantined) and outbox_row(session, items.failed).status is OutboxStatus.FAILED
        referral = referrals.get_referral(session, items.referral)
        assert referral is not None
        assert "herinnering verstuurd" not in [c.note for c in referrals.status_history(session, referral)]
    assert "kan enkel de coördinator" in text_of(harness.inbox(ARKTOS)[-1])
    assert not any(str(m["Subject"]).startswith("Herinnering") for m in harness.inbox(ARKTOS))


async def test_lines_in_a_new_mail_of_the_coordinator_change_nothing(harness: MailHarness) -> None:
    items = waiting(harness)
    await harness.send(harness.new_mail(COORDINATOR, "Mijn overzicht", f"Vraag #{items.question}: ja\nMail #{items.failed}: opnieuw"))
    await harness.process()
    with harness.sessions() as session:
        assert question_of(session, items.question).status is QuestionStatus.OPEN
        assert outbox_row(session, items.failed).status is OutboxStatus.FAILED
    (asked,) = harness.inbox(COORDINATOR)
    assert "niets mee gedaan" in text_of(asked)
