"""The mail channel end to end on loopback (SQLite and PostgreSQL): what a person receives, what the database keeps.

Every test sends real SMTP to the intake, runs the real processor, and reads what the outbox runner
delivered to a real aiosmtpd sink (tests/mail_harness.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import Channel
from intake.lifecycle import Status
from intake.messages import Inbound
from intake.vocabulary import Mode
from mail.form import render_form
from mail.processor import MailProcessor
from store import outbox, referrals
from store.mail_models import (
    InboundMail,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
    Question,
    QuestionStatus,
)
from store.models import Referral, Staff
from tests.mail_harness import (
    COORDINATOR,
    MailHarness,
    running_harness,
    shared_intake,
    with_headers,
)
from tests.test_mail_form import FILLED
from tests.test_mail_safety import DESK, ENVELOPES
from tests.test_workflow import MINIMAL

ELS = "els.janssens@vrijclbhalle.be"
TESTS = Path(__file__).parent
AUTOMATIC = sorted((TESTS / "mail_corpus" / "automatic").glob("*.eml"))
HUMAN = TESTS / "mail_corpus" / "human"
FORMS = TESTS / "mail_fixtures" / "form"
CORPUS_DOMAIN = "meldpunt-si.example"  # the corpora were written for this domain
AUTHSERV = "mx.meldpunt.example"


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with one registered staff member, Els of Vrij CLB Halle."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


# --- helpers ------------------------------------------------------------------------------------


def fill(text: str, values: dict[str, str]) -> str:
    """Type each value after its empty label line, as a person fills in the form of a mail."""
    lines = []
    for line in text.splitlines():
        label = line.rstrip().removesuffix(":")
        lines.append(f"{label}: {values[label]}" if label in values and line.rstrip().endswith(":") else line)
    return "\n".join(lines)


def text_of(mail: EmailMessage) -> str:
    """The plain-text body of a received mail."""
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def form_part(mail: EmailMessage) -> str:
    """The form inside a received mail, from its title to its end rule."""
    text = text_of(mail)
    start = text.index("Aanmeldingsformulier Meldpunt Schoolexterne Interventies\n")
    end = text.index("=== Einde van het formulier ===")
    return text[start:end]


def labels_in(form: str) -> list[str]:
    """The question labels of a form, in order."""
    questions = {q.label for q in shared_intake().questionnaire.questions}
    return [line.split(":")[0] for line in form.splitlines() if line.split(":")[0] in questions]


def complete_form() -> str:
    """A blank full form with every required answer typed in (a pupil in Halle, eligible)."""
    return fill(render_form(shared_intake().questionnaire), FILLED)


def all_referrals(harness: MailHarness) -> list[Referral]:
    """Every referral in the database."""
    with harness.sessions() as session:
        return list(session.scalars(select(Referral).order_by(Referral.id)))


def inbound_rows(harness: MailHarness) -> list[InboundMail]:
    """Every stored inbound mail, oldest first."""
    with harness.sessions() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def count(harness: MailHarness, model: type) -> int:
    """Rows of one table."""
    with harness.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the form round trip --------------------------------------------------------------------------


async def test_form_round_trip_with_a_mistake_ends_in_one_queued_referral(harness: MailHarness) -> None:
    """Form request, a reply with a mistake, a correction: one queued referral."""
    await harness.send(harness.new_mail(f"Els Janssens <{ELS}>", "formulier", "Dag, mag ik het aanmeldingsformulier? Els"))
    await harness.process()
    (blank,) = harness.inbox(ELS)
    form = form_part(blank)
    assert "Naam aanmelder: Els Janssens" in form and "CLB of organisatie: Vrij CLB Halle" in form
    assert f"E-mail aanmelder: {ELS}" in form and "Aanmelder is: CLB-medewerker" in form
    assert "Voornaam leerling: \n" in form, "the pupil's questions are left for Els"
    assert all_referrals(harness) == [], "asking for the form creates nothing"

    # Els types a part of the answers into the quoted form (Gmail), one of them a date that does not exist.
    partly = {"Telefoon aanmelder": "02 356 12 80", "Voornaam leerling": "Zoë", "Achternaam leerling": "Peeters",
              "Geboortedatum leerling": "31/02/2011", "Postcode woonplaats leerling": "1502"}
    await harness.send(harness.reply_to(blank, "Dag, de rest volgt nog.\n\nEls", history=fill(text_of(blank), partly)))
    await harness.process()
    problems = harness.inbox(ELS)[1]
    assert "MSI-2026-0001" in str(problems["Subject"])
    assert problems["In-Reply-To"] is not None
    text = text_of(problems)
    listed = text.split("Vul hieronder aan")[0]
    assert 'Bij "Geboortedatum leerling" kunnen we "31/02/2011" niet gebruiken. Geef een bestaande datum als dd/mm/jjjj, bijvoorbeeld 14/03/2011.' in listed
    assert '"Hulpvraag" ontbreekt nog.' in listed, "a missing answer is listed too"
    form = form_part(problems)
    assert "Referentie: MSI-2026-0001" in form
    assert "Voornaam leerling: Zoë" in form and "Telefoon aanmelder: 02 356 12 80" in form
    assert "Naam aanmelder: Els Janssens" in form, "the staff member's own details stay filled in"
    assert "Geboortedatum leerling: \n" in form, "the refused date is not filled in as if it were good"
    (draft,) = all_referrals(harness)
    assert draft.reference == "MSI-2026-0001" and draft.status is Status.DRAFT

    # Els answers that mail in Outlook, typing the corrections into the form below the original.
    corrected = fill(text_of(problems), {**FILLED, "Geboortedatum leerling": "14/03/2011"})
    await harness.send(harness.reply_to(problems, "Dag,\n\nIk vulde de rest hieronder in.\n\nEls", style="outlook", history=corrected))
    await harness.process()
    confirmation = harness.inbox(ELS)[2]
    assert str(confirmation["Subject"]) == "[MSI-2026-0001] Aanmelding ontvangen"
    text = text_of(confirmation)
    assert "Je aanmelding is ingediend met referentie MSI-2026-0001" in text
    assert "klaar voor de volgende verzending" in text, "the eligibility outcome: queued for the providers"
    assert "NAFT-traject Arktos (Asse-Halle-Vilvoorde)" in text, "suggested interventions"
    (referral,) = all_referrals(harness)
    assert referral.reference == "MSI-2026-0001" and referral.status is Status.QUEUED  # eligible: no review needed
    assert referral.answers["pupil_birth_date"] == "2011-03-14" and referral.answers["pupil_first_name"] == "Zoë"
    assert referral.answers["referrer_name"] == "Els Janssens" and referral.answers["help_request"] == FILLED["Hulpvraag"]
    assert len(harness.inbox(ELS)) == 3 and harness.inbox(COORDINATOR) == []
    assert {row.status for row in inbound_rows(harness)} == {InboundStatus.DONE}


async def test_a_reply_after_submission_changes_nothing(harness: MailHarness) -> None:
    """A submitted referral is not changed by a later reply."""
    await harness.send(harness.new_mail(ELS, "Aanmelding", complete_form()))
    await harness.process()
    (confirmation,) = harness.inbox(ELS)
    await harness.send(harness.reply_to(confirmation, "Voornaam leerling: Lotte\nAchternaam leerling: Claes"))
    await harness.process()
    refused = harness.inbox(ELS)[1]
    assert "is al ingediend" in text_of(refused) and "MSI-2026-0001" in str(refused["Subject"])
    (referral,) = all_referrals(harness)
    assert referral.answers["pupil_first_name"] == "Zoë"


# --- real-looking client mails ---------------------------------------------------------------------


async def test_outlook_html_reply_goes_the_whole_way(harness: MailHarness) -> None:
    """An Outlook HTML (cp1252) reply is read, its two bad choices listed, then corrected."""
    await harness.send(harness.new_mail(ELS, "formulier", "Graag het formulier."))
    await harness.process()
    (blank,) = harness.inbox(ELS)
    raw = (FORMS / "outlook_html_cp1252.eml").read_bytes().replace(b"msi-vlaamsbrabant.be", b"meldpunt.example")
    raw = with_headers(
        raw, Subject=f"RE: {blank['Subject']}", Thread_Topic=str(blank["Subject"]),
        In_Reply_To=str(blank["Message-ID"]), References=str(blank["Message-ID"]),
    )
    await harness.send(raw)
    await harness.process()
    problems = harness.inbox(ELS)[1]
    text = text_of(problems)
    assert 'Bij "Onderwijsvorm" kunnen we "BSO" niet gebruiken. Kies een nummer van 1 tot 9, of typ de naam van een keuze.' in text
    assert 'Bij "Voorkeur interventie" kunnen we "Arktos" niet gebruiken.' in text
    form = form_part(problems)
    assert "Voornaam leerling: Zoë" in form and "Telefoon aanmelder: 02 356 12 80" in form
    assert "Postcode school: 1502" in form

    # The two choices typed as numbers, on top of the reply; the rest stays as it was.
    await harness.send(harness.reply_to(problems, "Onderwijsvorm: 5\nVoorkeur interventie: 1\n\nGroeten,\nEls", sender=ELS))
    await harness.process()
    confirmation = harness.inbox(ELS)[2]
    assert str(confirmation["Subject"]) == "[MSI-2026-0001] Aanmelding ontvangen"
    (referral,) = all_referrals(harness)
    assert referral.status is Status.QUEUED
    assert referral.answers["education_form"] == "arbeidsmarkt"
    assert referral.answers["preferred_intervention"] == "naft-arktos-ahv"
    assert referral.answers["help_request"].endswith("– vooral in de lessen wiskunde – en thuis loopt het moeilijk.")
    assert referral.answers["pupil_first_name"] == "Zoë"


async def test_gmail_plain_reply_completes_the_details(harness: MailHarness) -> None:
    """A Gmail plain reply with quoted history completes a minimal referral."""
    reference = minimal_referral(harness)
    await harness.process()
    (request,) = harness.inbox(ELS)
    raw = (FORMS / "gmail_plain_reply.eml").read_bytes()
    raw = raw.replace(b"MSI-2026-0042", reference.encode()).replace(b"msi-vlaamsbrabant.be", b"meldpunt.example")
    raw = with_headers(raw, Subject=f"Re: {request['Subject']}", In_Reply_To=str(request["Message-ID"]), References=str(request["Message-ID"]))
    await harness.send(raw)
    await harness.process()
    confirmation = harness.inbox(ELS)[1]
    assert str(confirmation["Subject"]) == f"[{reference}] Aanmelding ontvangen"
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is Status.QUEUED
        assert referral.answers["pupil_first_name"] == "Zoë" and referral.answers["pupil_last_name"] == "Peeters"
        assert referral.answers["pupil_birth_date"] == "2011-03-14"


# --- a free question ------------------------------------------------------------------------------


async def test_free_question_gets_suggestions_and_the_coordinators_answer(harness: MailHarness) -> None:
    """A free question gets suggestions; the coordinator's reply reaches the asker."""
    question_text = "ik heb een leerling van 15 in Halle die al weken spijbelt, wat raden jullie aan?"
    await harness.send(harness.new_mail(ELS, "Vraag over een leerling", f"Dag,\n\n{question_text}\n\nGroeten,\nEls"))
    await harness.process()
    (reply,) = harness.inbox(ELS)
    text = text_of(reply).split("Aanmeldingsformulier Meldpunt")[0]
    assert str(reply["Subject"]) == "Re: Vraag over een leerling"
    assert "NAFT-traject Arktos (Asse-Halle-Vilvoorde)" in text and "NAFT-traject Groep Intro (Asse-Halle-Vilvoorde)" in text
    assert "Vlaams-Brabant Oost" not in text, "only the region of Halle"
    assert "Naam aanmelder: \n" in form_part(reply), "the blank form comes along"
    (escalation,) = harness.inbox(COORDINATOR)
    assert "Vraag over een leerling" in str(escalation["Subject"])
    assert question_text in text_of(escalation) and ELS in text_of(escalation)
    with harness.sessions() as session:
        (question,) = session.scalars(select(Question)).all()
        assert question.status is QuestionStatus.OPEN and question.asker_email == ELS

    answer = "Dag Els,\n\nArktos in Halle werkt met spijbelaars van die leeftijd; ik bel je morgen.\n\nKatrien"
    await harness.send(harness.reply_to(escalation, answer, sender=COORDINATOR))
    await harness.process()
    relayed = harness.inbox(ELS)[1]
    text = text_of(relayed)
    assert "Arktos in Halle werkt met spijbelaars van die leeftijd; ik bel je morgen." in text
    assert question_text in text, "the question is repeated with the answer"
    assert "meldpunt questions answer" not in text, "the coordinator's quoted escalation is not relayed"
    assert len(harness.inbox(COORDINATOR)) == 1, "the answer is not escalated again"
    with harness.sessions() as session:
        (question,) = session.scalars(select(Question)).all()
        assert question.status is QuestionStatus.ANSWERED and question.answered_by == COORDINATOR
        assert question.answer is not None and "ik bel je morgen" in question.answer


async def test_a_coordinator_mail_that_answers_nothing_is_quarantined(harness: MailHarness) -> None:
    """A coordinator mail outside any question thread is set aside."""
    await harness.send(harness.new_mail(COORDINATOR, "Even testen", "Komt dit aan?"))
    await harness.process()
    (row,) = inbound_rows(harness)
    assert row.status is InboundStatus.QUARANTINED and "coördinator" in (row.reason or "")
    assert harness.all_deliveries() == []


# --- cross-channel completion ---------------------------------------------------------------------


def minimal_referral(harness: MailHarness) -> str:
    """Els makes a referral in minimal mode in the chat; its reference."""
    with harness.sessions() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        session.expunge(els)
    workflow = harness.workflow
    workflow.open(channel=Channel.TELEGRAM, external_id="4242", staff=els, mode=Mode.MINIMAL, now=harness.clock())
    for line in MINIMAL:
        turn = workflow.handle(channel=Channel.TELEGRAM, external_id="4242", inbound=Inbound.from_text(line), now=harness.clock())
    assert turn.status is Status.AWAITING_DETAILS and turn.reference is not None
    return turn.reference


async def test_minimal_chat_referral_is_completed_by_mail(harness: MailHarness) -> None:
    """A minimal chat referral gets a details form by mail and is queued once it is back."""
    reference = minimal_referral(harness)
    await harness.process()
    (request,) = harness.inbox(ELS)
    assert reference in str(request["Subject"])
    form = form_part(request)
    assert labels_in(form) == ["Voornaam leerling", "Achternaam leerling", "Geboortedatum leerling"]
    assert f"Referentie: {reference}" in form
    await harness.process()
    assert len(harness.inbox(ELS)) == 1, "the details are asked once"

    filled = fill(text_of(request), {"Voornaam leerling": "Zoë", "Achternaam leerling": "Peeters", "Geboortedatum leerling": "14/03/2011"})
    await harness.send(harness.reply_to(request, "Hierbij de gegevens.", history=filled, style="outlook", sender=ELS))
    await harness.process()
    confirmation = harness.inbox(ELS)[1]
    assert str(confirmation["Subject"]) == f"[{reference}] Aanmelding ontvangen"
    assert "klaar voor de volgende verzending" in text_of(confirmation)
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is Status.QUEUED
        assert referral.answers["pupil_first_name"] == "Zoë" and referral.answers["pupil_last_name"] == "Peeters"
        assert referral.answers["pupil_birth_date"] == "2011-03-14" and referral.answers["pupil_initials"] == "Z.P."
    assert len(all_referrals(harness)) == 1


async def test_details_of_someone_elses_referral_are_not_taken(harness: MailHarness) -> None:
    """Another staff member's reply cannot complete someone else's referral."""
    reference = minimal_referral(harness)
    await harness.process()
    (request,) = harness.inbox(ELS)
    harness.add_staff("jan@clb-leuven.example", "Jan Claes", "CLB Leuven")
    filled = fill(text_of(request), {"Voornaam leerling": "Lotte", "Achternaam leerling": "Claes", "Geboortedatum leerling": "01/01/2011"})
    await harness.send(harness.reply_to(request, "Ik vul dit aan.", history=filled, style="outlook", sender="jan@clb-leuven.example"))
    await harness.process()
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is Status.AWAITING_DETAILS
        assert "pupil_first_name" not in referral.answers


# --- automatic mail, bounces, ordinary mail --------------------------------------------------------


def reconfigure(harness: MailHarness, **changes: object) -> None:
    """Give the harness a processor with these configuration changes (what settings would give it)."""
    config = harness.config.model_copy(update=changes)
    harness.processor = MailProcessor(harness.sessions, harness.workflow, config, clock=harness.clock)


@pytest.fixture
async def si_harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The mail channel on the corpora's own domain (their X-Loop, Message-IDs and From refer to it).

    The desk is configured as DESK, as a deployment's MELDPUNT_MAIL_ADDRESS may be; the intake still takes
    mail for meldpunt@, the address the corpora write to.
    """
    async with running_harness(session_factory, tmp_path, domain=CORPUS_DOMAIN) as wired:
        reconfigure(wired, address=DESK)
        yield wired


def corpus_senders(paths: list[Path]) -> set[str]:
    """Every readable From address in these mails."""
    found: set[str] = set()
    for path in paths:
        for line in path.read_text(errors="replace").split("\n\n")[0].splitlines():
            if line.lower().startswith("from:"):
                found.update(a.lower() for _, a in getaddresses([line[5:]]) if "@" in a and a.split("@")[1])
    return found


async def test_no_automatic_mail_gets_a_reply_even_from_registered_staff(si_harness: MailHarness) -> None:
    """No mail of the automatic corpus gets any mail back, even from registered staff."""
    harness = si_harness
    assert len(AUTOMATIC) >= 84
    for address in sorted(corpus_senders(AUTOMATIC)):
        harness.add_staff(address, "Geregistreerd", "CLB")
    with harness.sessions.begin() as session:  # a mail we sent earlier, whose Message-ID one case reuses
        sent = outbox.enqueue(session, kind="antwoord", to_address="an@clb.example", subject="s", body_text="b", domain=CORPUS_DOMAIN, now=harness.clock())
        sent.message_id = "<c0ffee42.outbox@mail.meldpunt-si.example>"
        outbox.mark_sent(session, sent, now=harness.clock())
    seen: dict[bytes, int] = {}
    for path in AUTOMATIC:
        raw = path.read_bytes()
        message_id = next((line for line in raw.splitlines() if line.lower().startswith(b"message-id:")), b"")
        seen[message_id] = seen.get(message_id, 0) + 1
        if seen[message_id] > 1:  # the corpus reuses one Message-ID: keep every case a mail of its own
            raw = with_headers(raw, Message_ID=f"<{path.stem}@clb-noordrand.example>")
        await harness.send(raw, mail_from=ENVELOPES.get(path.name))
    await harness.process()
    rows = inbound_rows(harness)
    assert len(rows) == len(AUTOMATIC)
    assert {row.status for row in rows} == {InboundStatus.DONE}, [(r.id, r.status, r.reason) for r in rows if r.status is not InboundStatus.DONE]
    answered = {path.name: row.outcome for path, row in zip(AUTOMATIC, rows, strict=True) if row.outcome not in {"bounce", "automatisch"}}
    assert answered == {}, answered
    assert harness.all_deliveries() == [], "no reply, no escalation, nothing at all"
    assert all_referrals(harness) == [] and count(harness, Question) == 0


async def test_a_bounce_of_our_mail_is_recorded_on_its_outbox_row(harness: MailHarness) -> None:
    """A DSN naming a mail we sent marks that outbox row bounced."""
    await harness.send(harness.new_mail(ELS, "formulier", "Het formulier graag."))
    await harness.process()
    (sent,) = harness.inbox(ELS)
    dsn = (TESTS / "mail_corpus" / "automatic" / "bounce_postfix_dsn.eml").read_bytes()
    dsn = dsn.replace(b"<msi-20240917-0142.4f9c2a1e@meldpunt-si.example>", str(sent["Message-ID"]).encode())
    dsn = dsn.replace(b"an.peeters@vrijclb-leuven.example", ELS.encode()).replace(b"meldpunt-si.example", b"meldpunt.example")
    await harness.send(dsn, mail_from="")
    await harness.process()
    assert len(harness.inbox(ELS)) == 1 and harness.inbox(COORDINATOR) == []
    with harness.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == str(sent["Message-ID"]))).one()
        assert row.status is OutboxStatus.SENT and row.bounced_at == harness.clock()
        assert row.bounce_detail and ELS not in row.bounce_detail, "the bounce is noted without the address"
    assert inbound_rows(harness)[-1].outcome == "bounce"


HUMAN_SAMPLE = ["plain_question.eml", "gmail_alternative.eml", "html_only.eml", "iphone_mail.eml",
                "outlook_desktop_thread.eml", "quoted_printable_accents.eml", "with_pdf_attachment.eml"]


async def test_ordinary_staff_mail_gets_a_reply(si_harness: MailHarness) -> None:
    """Ordinary staff mails of the human corpus each get one reply."""
    harness = si_harness
    harness.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
    sent_ids = []
    for name in HUMAN_SAMPLE:
        message_id = f"<{Path(name).stem}@vrijclbhalle.be>"
        raw = with_headers((HUMAN / name).read_bytes(), From=f"Els Janssens <{ELS}>", Message_ID=message_id)
        await harness.send(raw)
        sent_ids.append(message_id)
    await harness.process()
    replies = harness.inbox(ELS)
    assert sorted(str(r["In-Reply-To"]) for r in replies) == sorted(sent_ids), "one reply to each mail"
    assert all(str(r["Auto-Submitted"]) == "auto-replied" for r in replies)
    assert {row.status for row in inbound_rows(harness)} == {InboundStatus.DONE}


# --- other senders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "subject", "body"),
    [
        ("Jan Peeters <jan.peeters@gemeente-halle.example>", "Aanmelding jongere", "Dag, ik werk bij de gemeente en wil een jongere aanmelden."),
        ("Mama van Zoë <sarah.mertens@gmail.example>", "Mijn dochter", "Mijn dochter van 14 gaat al weken niet naar school. Kunnen jullie helpen?"),
    ],
    ids=["unknown-sender", "parent"],
)
async def test_unknown_sender_gets_one_polite_reply_and_the_coordinator_the_mail(harness: MailHarness, sender: str, subject: str, body: str) -> None:
    """An unknown sender or a parent gets one polite reply; the coordinator gets the mail."""
    await harness.send(harness.new_mail(sender, subject, body))
    await harness.process()
    address = getaddresses([sender])[0][1]
    (reply,) = harness.inbox(address)
    assert str(reply["Subject"]) == f"Re: {subject}"
    assert "gebeuren door een medewerker van het CLB" in text_of(reply)
    assert "Naam aanmelder" not in text_of(reply), "no form for someone who may not refer"
    (escalation,) = harness.inbox(COORDINATOR)
    assert body in text_of(escalation) and address in text_of(escalation)
    assert all_referrals(harness) == []
    (row,) = inbound_rows(harness)
    assert row.outcome == "onbekende-afzender"


async def test_the_eleventh_mail_of_a_day_gets_no_reply_until_the_next_day(harness: MailHarness) -> None:
    """The daily auto-reply limit (10) holds for one day only."""
    for number in range(11):
        await harness.send(harness.new_mail(ELS, "formulier", f"Formulier graag ({number + 1})."))
    await harness.process()
    assert len(harness.inbox(ELS)) == 10
    rows = inbound_rows(harness)
    assert {row.status for row in rows} == {InboundStatus.DONE}
    assert "maximum" in (rows[-1].reason or "") and all(row.reason is None for row in rows[:10])

    harness.clock.advance(timedelta(days=1))
    await harness.send(harness.new_mail(ELS, "formulier", "Nieuwe dag, nieuw formulier."))
    await harness.process()
    assert len(harness.inbox(ELS)) == 11


# --- forged senders -----------------------------------------------------------------------------------


@pytest.fixture
async def guarded(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The mail channel trusting only Authentication-Results of our own border server."""
    async with running_harness(session_factory, tmp_path, trusted_authserv_id=AUTHSERV) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_a_vouched_for_sender_is_served(guarded: MailHarness) -> None:
    """With our server's dmarc=pass the mail is handled normally."""
    results = f"{AUTHSERV}; spf=pass smtp.mailfrom=vrijclbhalle.be; dkim=pass header.d=vrijclbhalle.be; dmarc=pass header.from=vrijclbhalle.be"
    await guarded.send(guarded.new_mail(ELS, "Aanmelding", complete_form(), Authentication_Results=results))
    await guarded.process()
    (confirmation,) = guarded.inbox(ELS)
    assert "Aanmelding ontvangen" in str(confirmation["Subject"])
    assert len(all_referrals(guarded)) == 1 and guarded.inbox(COORDINATOR) == []


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Authentication-Results": [f"{AUTHSERV}; spf=fail smtp.mailfrom=vrijclbhalle.be; dmarc=fail header.from=vrijclbhalle.be",
                                     f"{AUTHSERV}; dmarc=pass header.from=vrijclbhalle.be"]}, "DMARC: fail"),
        ({"Authentication-Results": ["mx.elders.example; dmarc=pass header.from=vrijclbhalle.be"]}, "geen Authentication-Results van onze server"),
        ({}, "geen Authentication-Results van onze server"),
    ],
    ids=["forged-lower-header", "someone-elses-header", "no-header"],
)
async def test_a_forged_sender_is_quarantined_and_the_coordinator_alerted(guarded: MailHarness, headers: dict[str, list[str]], reason: str) -> None:
    """Without our server's pass the mail is quarantined and the coordinator alerted."""
    mail = guarded.new_mail(ELS, "Aanmelding", complete_form())
    for name, values in headers.items():
        for value in values:  # in order: the first is the top one, as our border server adds it
            mail[name] = value
    await guarded.send(mail)
    await guarded.process()
    (row,) = inbound_rows(guarded)
    assert row.status is InboundStatus.QUARANTINED and row.reason == reason
    assert guarded.inbox(ELS) == [], "a forged sender gets nothing"
    (alarm,) = guarded.inbox(COORDINATOR)
    assert "quarantaine" in str(alarm["Subject"]) and reason in text_of(alarm)
    assert all_referrals(guarded) == [] and count(guarded, Question) == 0


# --- header injection -------------------------------------------------------------------------------


ALLOWED_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
                   "x-auto-response-suppress", "x-loop", "content-type", "content-transfer-encoding", "mime-version"}


async def test_header_injection_in_answers_never_reaches_our_headers(harness: MailHarness) -> None:
    """CR LF in answers, subjects or names never adds a recipient or header."""
    # In an answer of the form: a line break in the body is just a line break.
    injected = complete_form().replace("Naam aanmelder: Els Janssens", "Naam aanmelder: Els\r\nBcc: x@evil.example")
    assert "Naam aanmelder: Els\r\nBcc: x@evil.example" in injected
    await harness.send(harness.new_mail(ELS, "Aanmelding", injected))
    # In the subject a reply repeats ("Re: …"): encoded words can carry CR LF into the decoded text.
    question = harness.new_mail(ELS, "placeholder", "Wat raden jullie aan voor een leerling in Halle?\r\nBcc: x@evil.example")
    await harness.send(with_headers(bytes(question), Subject="=?utf-8?q?Vraag=0D=0ABcc:_x@evil.example=0D=0AX-Extra:_1?="))
    # In the display name of the sender: such a From cannot be read safely, so it gets no answer at all.
    raw = with_headers(bytes(harness.new_mail(ELS, "formulier", "Het formulier graag.")),
                       From=f"=?utf-8?q?Els=0D=0ABcc:_x@evil.example?= <{ELS}>")
    await harness.send(raw)
    await harness.process()

    replies = harness.inbox(ELS)
    assert len(replies) == 2, "the form and the question are answered, only to their sender"
    assert str(replies[1]["Subject"]) == "Re: Vraag Bcc: x@evil.example X-Extra: 1", "folded into one harmless line"
    assert [row.outcome for row in inbound_rows(harness)] == ["aanmelding-ingediend", "vraag-doorgestuurd", "automatisch"]
    deliveries = harness.all_deliveries()
    assert len(deliveries) == 3  # the two replies and the question's escalation
    for delivery in deliveries:
        assert set(delivery.rcpt_tos) <= {ELS, COORDINATOR}
        head = delivery.raw.split(b"\r\n\r\n")[0].decode("ascii")
        fields = [line.split(":")[0].lower() for line in head.split("\r\n") if line and line[0] not in " \t"]
        assert set(fields) <= ALLOWED_HEADERS and len(fields) == len(set(fields)), fields
        message = delivery.parsed()
        for key in ("To", "From"):
            assert len(getaddresses([str(message[key])])) == 1
        assert message["Bcc"] is None and message["Cc"] is None and message["X-Extra"] is None
