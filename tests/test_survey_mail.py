"""The under-12 survey by mail (issue 15, point 5), on SQLite and PostgreSQL, through the real wire.

`desk.survey.start` queues the mails; the outbox runner delivers them to the aiosmtpd sink; a staff member's
reply goes in through the SMTP intake, the processor reads it, and the answer or the form with reasons goes back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk import survey
from intake.survey import SurveyNeed, find_token
from mail.outcomes import MailOutcome
from store import survey as survey_repo
from store.mail_models import InboundMail, InboundStatus
from store.survey_models import SurveyAnswer, SurveyInvite
from tests.mail_harness import DOMAIN, MailHarness, running_harness
from tests.test_mail_processor import AUTHSERV, text_of

ELS = "els.janssens@vrijclbhalle.be"
JAN = "jan.peeters@clb-leuven.be"
YEAR = 2026
FILLED = "Regio: AHV\nVragen jonger dan 12: 7\nNoden: 1, gedrag, thuissituatie\nOntbrekend aanbod: Een time-out voor het lager, bel 0470 12 34 56\n"
PASS = f"{AUTHSERV}; spf=pass smtp.mailfrom=vrijclbhalle.be; dmarc=pass header.from=vrijclbhalle.be"


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els (Halle) and Jan (Leuven) registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        wired.add_staff(JAN, "Jan Peeters", "CLB Leuven")
        yield wired


async def started(harness: MailHarness) -> survey.StartResult:
    """Start the 2026 survey and deliver its mails to the sink."""
    with harness.sessions.begin() as session:
        result = survey.start(session, year=YEAR, actor="coordinator", domain=DOMAIN, now=harness.clock())
    await harness.process()
    return result


def survey_mail(harness: MailHarness, address: str) -> EmailMessage:
    """The one survey mail address received."""
    (mail,) = [m for m in harness.inbox(address) if find_token(str(m["Subject"]))]
    return mail


def answers(harness: MailHarness) -> list[tuple[str, str, int, str | None]]:
    """Every stored answer: whose, region, count, missing offer."""
    with harness.sessions() as session:
        rows = session.execute(
            select(SurveyInvite, SurveyAnswer).join(SurveyAnswer, SurveyAnswer.invite_id == SurveyInvite.id).order_by(SurveyAnswer.id)
        ).all()
        return [(invite.staff.email, answer.region, answer.under12_questions, answer.missing_offer) for invite, answer in rows]


def last_outcome(harness: MailHarness) -> tuple[InboundStatus, str | None]:
    """How the most recent stored mail ended."""
    with harness.sessions() as session:
        row = session.scalars(select(InboundMail).order_by(InboundMail.id.desc())).first()
        assert row is not None
        return row.status, row.outcome


async def test_start_mails_every_active_staff_member_once_and_a_second_start_sends_nothing(harness: MailHarness) -> None:
    harness.add_staff("weg@clb.be", "Weg Gegaan", "CLB")
    with harness.sessions.begin() as session:
        from store import staff as staff_repo

        staff_repo.remove_staff(session, "weg@clb.be", now=harness.clock())
    result = await started(harness)
    assert (result.already, result.mailed, result.chat) == (False, 2, 0)
    for address, name in ((ELS, "Els Janssens"), (JAN, "Jan Peeters")):
        mail = survey_mail(harness, address)
        text = text_of(mail)
        assert f"Dag {name}," in text and "Regio:" in text and "Vragen jonger dan 12:" in text and "Ontbrekend aanbod:" in text
        assert "schooljaar 2026-2027" in text  # 18/11/2026 falls in 2026-2027
    assert harness.inbox("weg@clb.be") == []
    delivered = len(harness.all_deliveries())
    again = await started(harness)
    assert again.already and again.mailed == 0
    assert len(harness.all_deliveries()) == delivered, "a second start sends nothing"


async def test_a_reply_is_recorded_and_confirmed(harness: MailHarness) -> None:
    await started(harness)
    await harness.send(harness.reply_to(survey_mail(harness, ELS), FILLED, sender=ELS))
    await harness.process()
    assert last_outcome(harness) == (InboundStatus.DONE, MailOutcome.SURVEY_RECORDED)
    assert answers(harness) == [(ELS, "ahv", 7, "Een time-out voor het lager, bel [nummer]")]
    confirmation = harness.inbox(ELS)[-1]
    text = text_of(confirmation)
    assert "Bedankt!" in text and "Asse-Halle-Vilvoorde" in text and "Gedragsproblemen, Moeilijke thuissituatie" in text
    assert "vervangt" not in text
    assert find_token(str(confirmation["Subject"])) is None, "a reply carries no token"
    with harness.sessions() as session:
        results = survey_repo.survey_results(session, 2026)
        assert results is not None and results.answered == 1 and results.invited == 2


async def test_a_second_answer_replaces_the_first_and_says_so(harness: MailHarness) -> None:
    await started(harness)
    mail = survey_mail(harness, JAN)
    await harness.send(harness.reply_to(mail, "Regio: oost\nVragen jonger dan 12: 2\nNoden: leerproblemen", sender=JAN))
    await harness.process()
    await harness.send(harness.reply_to(mail, "Regio: Oost\nVragen jonger dan 12: 3\nNoden: 2\nOntbrekend aanbod: overslaan", sender=JAN))
    await harness.process()
    assert answers(harness) == [(JAN, "oost", 3, None)]
    assert "vervangt het vorige" in text_of(harness.inbox(JAN)[-1])
    with harness.sessions() as session:
        results = survey_repo.survey_results(session, 2026)
        assert results is not None and results.regions["oost"].needs == {SurveyNeed.SCHOOLVERZUIM.value: 1}


async def test_a_wrong_answer_gets_the_form_back_with_the_reason(harness: MailHarness) -> None:
    await started(harness)
    await harness.send(harness.reply_to(survey_mail(harness, ELS), "Regio: Antwerpen\nVragen jonger dan 12: een paar\nNoden: gedrag", sender=ELS))
    await harness.process()
    assert last_outcome(harness) == (InboundStatus.DONE, MailOutcome.SURVEY_INCOMPLETE)
    assert answers(harness) == []
    text = text_of(harness.inbox(ELS)[-1])
    assert 'Regio ("Antwerpen"): Kies AHV (Asse-Halle-Vilvoorde) of Oost' in text
    assert "Schrijf enkel een getal" in text
    assert "Noden: gedrag" in text, "the form comes back with what she already typed"
    # Her reply to our reply still finds the invitation: its References name the survey mail.
    await harness.send(harness.reply_to(harness.inbox(ELS)[-1], FILLED, sender=ELS, style="none"))
    await harness.process()
    assert [row[:3] for row in answers(harness)] == [(ELS, "ahv", 7)]


async def test_the_token_in_the_subject_finds_the_invitation_without_the_thread(harness: MailHarness) -> None:
    await started(harness)
    subject = str(survey_mail(harness, ELS)["Subject"])
    await harness.send(harness.new_mail(ELS, f"RE: {subject}", FILLED))
    await harness.process()
    assert [row[:3] for row in answers(harness)] == [(ELS, "ahv", 7)]


async def test_a_colleague_answering_a_forwarded_survey_is_not_recorded(harness: MailHarness) -> None:
    await started(harness)
    await harness.send(harness.reply_to(survey_mail(harness, ELS), FILLED, sender=JAN))
    await harness.process()
    assert last_outcome(harness) == (InboundStatus.DONE, MailOutcome.SURVEY_NOT_INVITED)
    assert answers(harness) == []
    assert "naar een ander adres" in text_of(harness.inbox(JAN)[-1])


async def test_a_stranger_answering_the_survey_is_not_recorded(harness: MailHarness) -> None:
    await started(harness)
    await harness.send(harness.reply_to(survey_mail(harness, ELS), FILLED, sender="ouder@thuis.example"))
    await harness.process()
    assert last_outcome(harness) == (InboundStatus.DONE, MailOutcome.UNKNOWN_SENDER)
    assert answers(harness) == []


async def test_an_unauthenticated_reply_is_not_recorded(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_harness(session_factory, tmp_path, trusted_authserv_id=AUTHSERV) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        await started(wired)
        invitation = survey_mail(wired, ELS)
        await wired.send(wired.reply_to(invitation, FILLED, sender=ELS))  # no Authentication-Results of our server
        await wired.process()
        assert last_outcome(wired)[0] is InboundStatus.QUARANTINED
        assert answers(wired) == []
        await wired.send(wired.reply_to(invitation, FILLED, sender=ELS, Authentication_Results=PASS))
        await wired.process()
        assert last_outcome(wired) == (InboundStatus.DONE, MailOutcome.SURVEY_RECORDED)
        assert [row[:3] for row in answers(wired)] == [(ELS, "ahv", 7)]


async def test_a_referral_mail_of_an_invited_staff_member_is_still_a_referral(harness: MailHarness) -> None:
    await started(harness)
    await harness.send(harness.new_mail(ELS, "Vraag", "Hebben jullie iets voor een leerling van 10 in Halle?"))
    await harness.process()
    assert last_outcome(harness) == (InboundStatus.DONE, MailOutcome.QUESTION_FORWARDED)
    assert answers(harness) == []
