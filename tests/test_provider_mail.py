"""Providers and the coordinator decide by mail, end to end on loopback (SQLite and PostgreSQL).

Real SMTP into the intake, the real processor, the outbox runner delivering to an aiosmtpd sink
(tests/mail_harness.py); referrals are made dispatched in the store the way the dispatch run leaves them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.brussels import BRUSSELS
from intake.lifecycle import Status
from store import referrals
from store.dispatch_models import CatalogueChange, ChangeStatus
from store.mail_models import InboundMail, InboundStatus, Question
from store.models import Staff
from tests.mail_harness import COORDINATOR, MailHarness, running_harness
from tests.test_decisions import ARKTOS, ELS, INTRO, make_referral
from tests.test_mail_processor import text_of

S = Status


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


def referrals_in(harness: MailHarness, *statuses: Status, provider: str = ARKTOS, service_id: str = "naft-arktos-ahv") -> list[str]:
    """Els's referrals in these statuses (dispatched ones to provider); their references."""
    with harness.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        made = [make_referral(session, status, staff=els, provider=provider, service_id=service_id, now=harness.clock()) for status in statuses]
        return [r.reference or "" for r in made]


def status_of(harness: MailHarness, reference: str) -> Status:
    """A referral's status now."""
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status


def last_processed(harness: MailHarness) -> InboundMail:
    """The most recent stored mail."""
    with harness.sessions() as session:
        return session.scalars(select(InboundMail).order_by(InboundMail.id.desc())).first()


async def test_a_provider_reports_back_on_several_referrals_in_one_mail(harness: MailHarness) -> None:
    first, second, third = referrals_in(harness, S.DISPATCHED, S.DISPATCHED, S.DISPATCHED)
    (elsewhere,) = referrals_in(harness, S.DISPATCHED, provider=INTRO, service_id="naft-groep-intro-ahv")
    body = "\n".join([
        "Dag Meldpunt,", "", "Hierbij onze terugkoppeling:",
        f"{first}: aanvaard",
        f"- {second.lower()}: ronde tafel 14/01/2027",
        f"{third}: geweigerd",  # no reason: not understood
        f"{third} afgerond",  # no outcome: not understood
        f"{elsewhere}: gestart",  # another provider's referral
        "MSI-2026-0999: aanvaard",  # does not exist
        "", "Met vriendelijke groeten,", "Arktos vzw",
    ])
    dispatch = await harness.our_mail_to(ARKTOS, subject="Terugkoppeling aanmeldingen")
    await harness.send(harness.reply_to(dispatch, body, sender=f"Arktos <{ARKTOS}>"))
    await harness.process()

    assert [status_of(harness, r) for r in (first, second, third, elsewhere)] == [S.ACCEPTED, S.ROUND_TABLE_PLANNED, S.DISPATCHED, S.DISPATCHED]
    assert last_processed(harness).status is InboundStatus.DONE and last_processed(harness).outcome == "terugkoppeling-aanbieder"

    (_, reply) = harness.inbox(ARKTOS)
    text = text_of(reply)
    assert reply["Subject"] == "Re: Terugkoppeling aanmeldingen"
    assert f"Verwerkt: {first} staat nu op 'Aanvaard door de aanbieder'." in text
    assert f"Verwerkt: {second} staat nu op 'Ronde tafel gepland'." in text
    assert f"Niet verwerkt: {elsewhere}: onbekende referentie, of deze aanmelding is niet naar jullie verzonden." in text
    assert "Niet verwerkt: MSI-2026-0999: onbekende referentie, of deze aanmelding is niet naar jullie verzonden." in text
    assert f"- {third}: geweigerd\n  Geef na 'geweigerd' een reden" in text
    assert f"- {third} afgerond\n  Schrijf na 'afgerond' hoe het traject eindigde" in text
    four_weeks_on = (harness.clock().astimezone(BRUSSELS) + timedelta(weeks=4)).strftime("%d/%m/%Y")
    assert f"MSI-2026-0042: ronde tafel {four_weeks_on}" in text, "the reply recalls the line format, with a date still to come"
    assert "Zoë" not in text and "Peeters" not in text

    (alarm,) = harness.inbox(COORDINATOR)
    alarm_text = text_of(alarm)
    assert ARKTOS in alarm_text and elsewhere in alarm_text and "MSI-2026-0999" in alarm_text
    assert first not in alarm_text

    (news,) = harness.inbox(ELS)
    news_text = text_of(news)
    assert f"{first}: Aanvaard door de aanbieder" in news_text
    assert f"{second}: Ronde tafel gepland (de aanbieder: ronde tafel op 14/01/2027)" in news_text
    assert third not in news_text and elsewhere not in news_text and "Zoë" not in news_text

    with harness.sessions() as session:
        referral = referrals.get_referral(session, second)
        assert referral is not None
        history = referrals.status_history(session, referral)
        assert [(c.to_status, c.actor) for c in history[-2:]] == [(S.ACCEPTED, ARKTOS), (S.ROUND_TABLE_PLANNED, ARKTOS)]


async def test_the_coordinator_decides_by_replying(harness: MailHarness) -> None:
    waiting, queued, sent = referrals_in(harness, S.NEEDS_REVIEW, S.QUEUED, S.DISPATCHED)
    dispatch = await harness.our_mail_to(ARKTOS)
    await harness.send(harness.reply_to(dispatch, f"{sent}: geweigerd - geen plaats\nMSI-2026-0999: aanvaard", sender=ARKTOS))
    await harness.process()
    (alarm,) = harness.inbox(COORDINATOR)
    body = "\n".join([
        f"{waiting}: goedkeuren", f"{queued}: vasthouden - eerst het CLB bellen",
        f"{sent}: doorverwijzen naar naft-groep-intro-ahv", f"{queued}: corrigeer Postcode school = 15",
    ])
    await harness.send(harness.reply_to(alarm, body, sender=COORDINATOR))
    await harness.process()

    assert [status_of(harness, r) for r in (waiting, queued, sent)] == [S.QUEUED, S.NEEDS_REVIEW, S.QUEUED]
    assert last_processed(harness).outcome == "beslissingen-coordinator"
    replies = harness.inbox(COORDINATOR)[1:]
    assert len(replies) == 1
    text = text_of(replies[0])
    assert f"Verwerkt: {waiting} staat nu op 'Klaar voor verzending'." in text
    assert f"Verwerkt: {queued} staat nu op 'Wacht op de coördinator'." in text
    assert f"Verwerkt: {sent} is doorverwezen naar NAFT-traject Groep Intro (Asse-Halle-Vilvoorde)" in text
    assert f"Niet verwerkt: {queued}: 'Postcode school' is niet gecorrigeerd: Een Belgische postcode heeft 4 cijfers" in text
    assert "MSI-2026-0042: goedkeuren" in text, "the coordinator's reminder lists the coordinator's verbs"

    # Els heard of the provider's refusal first, then of the coordinator's three decisions in one mail.
    refusal, decisions = harness.inbox(ELS)
    assert f"{sent}: Geweigerd (de aanbieder: geen plaats)" in text_of(refusal)
    decided = text_of(decisions)
    assert f"{queued}: Wacht op de coördinator (de coördinator: eerst het CLB bellen)" in decided
    assert waiting in decided and f"{sent}: Klaar voor verzending (de coördinator: doorverwezen naar NAFT-traject Groep Intro" in decided


async def test_a_coordinator_mail_without_lines_is_still_quarantined(harness: MailHarness) -> None:
    await harness.send(harness.new_mail(COORDINATOR, "Even iets anders", "Kunnen we volgende week afspreken?"))
    await harness.process()
    assert last_processed(harness).status is InboundStatus.QUARANTINED


async def test_a_provider_question_goes_to_the_coordinator(harness: MailHarness) -> None:
    await harness.send(harness.new_mail(ARKTOS, "Vraag over de verzending", "Kunnen jullie de aanmeldingen ook op maandag sturen?"))
    await harness.process()
    assert last_processed(harness).outcome == "vraag-aanbieder"
    (reply,) = harness.inbox(ARKTOS)
    assert "bezorgd aan de coördinator" in text_of(reply)
    (escalation,) = harness.inbox(COORDINATOR)
    assert "ook op maandag sturen" in text_of(escalation)
    with harness.sessions() as session:
        (question,) = session.scalars(select(Question)).all()
        assert question.asker_email == ARKTOS


async def test_a_provider_mails_an_offer_change_for_the_coordinator_to_approve(harness: MailHarness) -> None:
    body = "Dag Meldpunt,\n\nDienst: naft-arktos-ahv\nCapaciteit: 3\nNeemt aanmeldingen aan: ja\n\nGroeten,\nArktos"
    ours = await harness.our_mail_to(ARKTOS, subject="Aanbod bijwerken")
    await harness.send(harness.reply_to(ours, body, sender=ARKTOS))
    await harness.process()
    assert last_processed(harness).outcome == "aanbod-voorgesteld"
    (_, reply) = harness.inbox(ARKTOS)
    assert reply["Subject"] == "Re: Aanbod bijwerken" and "keurt een wijziging eerst goed" in text_of(reply)
    (to_coordinator,) = harness.inbox(COORDINATOR)
    assert "Wijziging voorgesteld" in str(to_coordinator["Subject"]) and "3" in text_of(to_coordinator)
    with harness.sessions() as session:
        (change,) = session.scalars(select(CatalogueChange)).all()
        assert (change.service_id, change.new, change.status) == ("naft-arktos-ahv", {"capacity": 3}, ChangeStatus.PENDING)
    assert harness.workflow.intake.catalogue.service("naft-arktos-ahv").capacity is None, "nothing changes before approval"


async def test_a_reply_to_our_reply_gets_one_re_in_its_subject(harness: MailHarness) -> None:
    await harness.send(harness.new_mail(ARKTOS, "RE: Antw: Vraag over de verzending", "Nog een vraag: kan het ook op maandag?"))
    await harness.process()
    (reply,) = harness.inbox(ARKTOS)
    assert reply["Subject"] == "Re: Vraag over de verzending"
