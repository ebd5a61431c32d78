"""What a registered staff member gets back by mail (issue 11, points 16, 17, 21), on SQLite and PostgreSQL.

Through the real wire: SMTP intake, processor, outbox runner and the aiosmtpd sink (tests/mail_harness.py),
on a fixed clock moved by hand.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from mail.intent import asks_for_form, asks_question
from store.mail_models import InboundStatus, Question
from tests.mail_harness import COORDINATOR, MailHarness
from tests.test_mail_form import FILLED
from tests.test_mail_processor import (
    ELS,
    all_referrals,
    complete_form,
    count,
    form_part,
    harness,  # noqa: F401 — the fixture: Els of Vrij CLB Halle registered, the daily cap the default 10
    inbound_rows,
    reconfigure,
    text_of,
)

UNREAD = "geen ingevuld formulier en geen vraag"
CAPPED = "maximum"


def form_for(first_name: str) -> str:
    """A complete form for one pupil of Els (the first name tells the referrals apart)."""
    return complete_form().replace(f"Voornaam leerling: {FILLED['Voornaam leerling']}", f"Voornaam leerling: {first_name}")


# --- point 16: confirmations are not capped by the daily auto-reply limit ---------------------------


async def test_a_busy_day_of_referrals_gets_every_confirmation(harness: MailHarness) -> None:
    """Twelve forms in one day: twelve confirmations; her other mail still has its own daily allowance."""
    names = [f"Leerling{number}" for number in range(1, 13)]
    for name in names:
        await harness.send(harness.new_mail(ELS, "Aanmelding", form_for(name)))
        harness.clock.advance(timedelta(minutes=20))
    await harness.process()
    confirmations = harness.inbox(ELS)
    assert len(confirmations) == 12, [row.reason for row in inbound_rows(harness)]
    assert all("MSI-" in str(mail["Subject"]) for mail in confirmations)
    assert len(all_referrals(harness)) == 12
    assert all(row.reason is None for row in inbound_rows(harness))

    await harness.send(harness.new_mail(ELS, "formulier", "Mag ik nog een leeg formulier?"))
    await harness.process()
    assert len(harness.inbox(ELS)) == 13, "the confirmations did not use up the day's allowance"


async def test_a_responder_echoing_our_form_is_still_stopped(harness: MailHarness) -> None:
    """An undetected auto-responder that quotes our form-problems mail back loops only up to the ceiling."""
    reconfigure(harness, staff_form_reply_limit=15)
    await harness.send(harness.new_mail(ELS, "Aanmelding", complete_form().split("Geboortedatum")[0]))
    await harness.process()
    for _ in range(20):  # her mailbox answers every mail of ours, quoting it whole, without any header signal
        last = harness.inbox(ELS)[-1]
        await harness.send(harness.reply_to(last, "Ik ben afwezig tot maandag.", sender=ELS))
        await harness.process()
    assert len(harness.inbox(ELS)) == 15
    rows = inbound_rows(harness)
    assert {row.status for row in rows} == {InboundStatus.DONE}
    assert all(CAPPED in (row.reason or "") for row in rows[15:]) and all(row.reason is None for row in rows[:15])
    assert len(all_referrals(harness)) == 1, "every echo stays with the one referral"


# Other mail keeps the daily cap: tests/test_mail_processor.py::test_the_eleventh_mail_of_a_day_gets_no_reply_until_the_next_day


# --- point 17: a question that asks for the form gets both -------------------------------------------

QUESTION = "wat raden jullie aan voor een leerling van 15 in Halle die al weken spijbelt?"


async def test_a_question_that_asks_for_the_form_gets_the_form_and_reaches_the_coordinator(harness: MailHarness) -> None:
    """The form comes back, and the question is not lost: suggestions, and the coordinator has it."""
    body = f"Dag,\n\nMag ik het aanmeldingsformulier? En {QUESTION}\n\nGroeten,\nEls"
    await harness.send(harness.new_mail(ELS, "formulier en een vraag", body))
    await harness.process()
    (reply,) = harness.inbox(ELS)
    assert "Naam aanmelder:" in form_part(reply), "the form"
    assert "NAFT-traject Arktos (Asse-Halle-Vilvoorde)" in text_of(reply), "the consult's suggestions"
    (escalation,) = harness.inbox(COORDINATOR)
    assert QUESTION in text_of(escalation)
    assert count(harness, Question) == 1


async def test_asking_only_for_the_form_gets_only_the_form(harness: MailHarness) -> None:
    """"Mag ik het formulier?" is a question about the form only: the coordinator is not bothered."""
    await harness.send(harness.new_mail(ELS, "formulier", "Dag,\n\nMag ik het aanmeldingsformulier?\n\nEls"))
    await harness.process()
    (reply,) = harness.inbox(ELS)
    assert "Naam aanmelder: Els Janssens" in form_part(reply), "prefilled, as before"
    assert UNREAD not in text_of(reply)
    assert harness.inbox(COORDINATOR) == [] and count(harness, Question) == 0


# --- point 21: unreadable mail gets the form with a word of explanation; questions still escalate ------


def attachment_only(harness: MailHarness) -> EmailMessage:
    """A mail with a binary attachment and no text at all."""
    mail = harness.new_mail(ELS, "", "")
    mail.clear_content()
    mail.add_attachment(bytes(range(256)) * 8, maintype="application", subtype="octet-stream", filename="scan001.bin")
    return mail


async def quoted_only(harness: MailHarness) -> EmailMessage:
    """A reply to our form mail with nothing typed above the quoted text (its subject names the form: ours)."""
    first = await harness.our_mail_to(ELS, kind="antwoord", subject="Aanmeldingsformulier Meldpunt Schoolexterne Interventies")
    return harness.reply_to(first, "", sender=ELS)


GARBAGE = {
    "random": ("asdf", "qwerty zxcvb asdkjh\n\nlkjlkj poiu"),
    "empty": ("", ""),
    "signature-only": ("", "Met vriendelijke groeten,\n\nEls Janssens\nCLB-medewerker | Vrij CLB Halle\nT 02 356 12 80"),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
async def test_unreadable_mail_gets_the_form_with_an_explanation(harness: MailHarness, name: str) -> None:
    """No form, no question: the form with a short explanation, and nothing for the coordinator."""
    subject, body = GARBAGE[name]
    await harness.send(harness.new_mail(ELS, subject, body))
    await harness.process()
    assert_unreadable(harness)


@pytest.mark.parametrize("build", ["attachment-only", "quoted-only"])
async def test_attachment_or_quote_only_gets_the_form_with_an_explanation(harness: MailHarness, build: str) -> None:
    """A scan without a word, or a reply that only quotes us: the same."""
    mail = attachment_only(harness) if build == "attachment-only" else await quoted_only(harness)
    await harness.send(mail)
    await harness.process()
    assert_unreadable(harness)


def assert_unreadable(harness: MailHarness) -> None:
    """The last reply to Els is the form with the explanation; the coordinator got nothing."""
    reply = harness.inbox(ELS)[-1]
    assert UNREAD in text_of(reply)
    assert "Naam aanmelder: Els Janssens" in form_part(reply), "the form, prefilled with what we know of her"
    assert harness.inbox(COORDINATOR) == [] and count(harness, Question) == 0
    assert inbound_rows(harness)[-1].outcome == "onleesbaar-formulier-verstuurd"


REAL_QUESTIONS = {
    "question-mark": ("Wachtlijst", "Dag,\n\nHoe lang is de wachtlijst voor een time-out?\n\nEls"),
    "question-word-no-mark": ("Leerling", "Kunnen jullie helpen met een leerling die niet meer naar school komt\n\nEls"),
    "asks-advice": ("Advies", "Graag advies over een jongen van 14 in Leuven die spijbelt.\n\nEls"),
    "question-in-the-subject": ("Hoe meld ik een leerling uit het basisonderwijs aan?", "Els"),
    "wrapped-over-lines": ("Vraag", "Een leerling van 16 in Tienen komt niet meer, wat kunnen we\ndoen om hem terug te krijgen?"),
}


@pytest.mark.parametrize("name", sorted(REAL_QUESTIONS))
async def test_a_real_question_still_reaches_the_coordinator(harness: MailHarness, name: str) -> None:
    """A question mark or a question word in a sentence of real words: escalated as before."""
    subject, body = REAL_QUESTIONS[name]
    await harness.send(harness.new_mail(ELS, subject, body))
    await harness.process()
    (reply,) = harness.inbox(ELS)
    assert UNREAD not in text_of(reply)
    assert len(harness.inbox(COORDINATOR)) == 1 and count(harness, Question) == 1
    assert inbound_rows(harness)[-1].outcome == "vraag-doorgestuurd"


# --- the rule itself, sentence by sentence (no I/O) ---------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text", "question"),
    [
        ("formulier", "Mag ik het aanmeldingsformulier?", False),
        ("Vraag", "Ik heb het formulier ingevuld, maar hoe stuur ik het terug?", False),  # the form's own text answers it
        ("formulier", "Mag ik het formulier? Wat kost een time-out?", True),
        ("Wachtlijst", "Hoe lang is de wachtlijst?", True),
        ("", "Is er nog plaats bij Arktos voor een leerling", True),
        ("", "Graag advies: een meisje van 13 dat niet meer komt.", True),
        ("", "Wat nu?", False),  # two words: too little to pass on
        ("", "asdf qwerty? zxcv bnm?", False),  # no vowels: no real words
        ("", "Met vriendelijke groeten,\nEls Janssens\nCLB-medewerker", False),
        ("Re: Aanmeldingsformulier Meldpunt Schoolexterne Interventies", "", False),
        ("", "In bijlage het verslag van het MDO.", False),
    ],
)
def test_what_counts_as_a_question(subject: str, text: str, question: bool) -> None:
    assert asks_question(subject, text) is question


@pytest.mark.parametrize(
    ("subject", "text", "form"),
    [
        ("formulier", "", True),
        ("Aanmelding", "Dag, graag het aanmeldingsformulier.", True),
        ("Re: Aanmeldingsformulier Meldpunt Schoolexterne Interventies", "", False),  # our subject, repeated
        ("Aanmelding", "Dag,\n" + "bla " * 60 + "formulier", False),  # only the first lines count
    ],
)
def test_what_counts_as_asking_for_the_form(subject: str, text: str, form: bool) -> None:
    assert asks_for_form(subject, text) is form
