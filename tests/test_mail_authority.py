"""Who may act by mail: only a reply to a mail we sent that person, from a sender our server vouched for.

The attacks of issue 10, end to end on loopback (real SMTP intake, processor, outbox, sink; SQLite and
PostgreSQL): a forged coordinator mail that changed a school contact and declined a referral, forged
provider feedback and offer changes, and a client writing our own Authentication-Results header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store import referrals
from store import staff as staff_repo
from store.dispatch_models import CatalogueChange
from store.mail_models import InboundMail, InboundStatus
from store.models import Staff
from tests.mail_harness import COORDINATOR, DOMAIN, NOW, MailHarness, running_harness
from tests.test_decisions import ARKTOS, ELS, INTRO, make_referral
from tests.test_mail_processor import AUTHSERV, complete_form, text_of

S = Status
FORGED_CONTACT = "buiten@elders.example"
PASS = f"{AUTHSERV}; spf=pass smtp.mailfrom=vrijclbhalle.be; dmarc=pass header.from=vrijclbhalle.be"


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


def made(harness: MailHarness, *statuses: Status) -> list[str]:
    """Els's referrals in these statuses (dispatched ones to Arktos); their references."""
    with harness.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        return [make_referral(session, status, staff=els, now=harness.clock()).reference or "" for status in statuses]


def state_of(harness: MailHarness, reference: str) -> tuple[Status, str]:
    """A referral's status and school contact address now."""
    with harness.sessions() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status, str(referral.answers.get("school_contact_email"))


def last_outcome(harness: MailHarness) -> str | None:
    """How the most recent stored mail ended."""
    with harness.sessions() as session:
        row = session.scalars(select(InboundMail).order_by(InboundMail.id.desc())).first()
        assert row is not None and row.status is InboundStatus.DONE
        return row.outcome


def attack(first: str, second: str) -> str:
    """The forged lines of the report: a school contact redirected, another referral declined."""
    return f"{first}: corrigeer E-mail contactpersoon school = {FORGED_CONTACT}\n{second}: weigeren - geen plaats"


@pytest.mark.parametrize("disguise", ["new-mail", "made-up-thread", "thread-of-a-mail-to-someone-else"])
async def test_a_forged_coordinator_mail_changes_nothing(harness: MailHarness, disguise: str) -> None:
    first, second = made(harness, S.QUEUED, S.NEEDS_REVIEW)
    before = [state_of(harness, r) for r in (first, second)]
    if disguise == "new-mail":
        forged = harness.new_mail(COORDINATOR, "Beslissingen", attack(first, second))
    elif disguise == "made-up-thread":
        forged = harness.new_mail(COORDINATOR, "Re: Meldpunt", attack(first, second), In_Reply_To=make_msgid(domain=DOMAIN))
    else:  # a mail we really sent, but to Els: its Message-ID is no token for the coordinator
        to_els = await harness.our_mail_to(ELS, kind="antwoord")
        forged = harness.reply_to(to_els, attack(first, second), sender=COORDINATOR)
    await harness.send(forged)
    await harness.process()

    assert [state_of(harness, r) for r in (first, second)] == before
    assert last_outcome(harness) == "antwoord-vereist"
    (warning,) = harness.inbox(COORDINATOR)
    text = text_of(warning)
    assert "niets mee gedaan" in text and first in text and second in text
    assert FORGED_CONTACT not in text and "weigeren" not in text, "the forged lines never come back ready to send on"
    assert [m for m in harness.inbox(ELS) if m["Subject"] != "Meldpunt: aanmeldingen"] == [], "Els hears of no change"


async def test_the_coordinator_acts_by_replying_to_a_mail_of_ours(harness: MailHarness) -> None:
    (waiting,) = made(harness, S.NEEDS_REVIEW)
    await harness.send(harness.new_mail(COORDINATOR, "Beslissingen", f"{waiting}: goedkeuren"))
    await harness.process()
    (asked,) = harness.inbox(COORDINATOR)
    assert state_of(harness, waiting)[0] is S.NEEDS_REVIEW

    await harness.send(harness.reply_to(asked, f"{waiting}: goedkeuren", sender=COORDINATOR))
    await harness.process()
    assert state_of(harness, waiting)[0] is S.QUEUED
    assert last_outcome(harness) == "beslissingen-coordinator"


async def test_a_new_contact_address_waits_for_confirmation_before_any_batch(harness: MailHarness) -> None:
    (queued,) = made(harness, S.QUEUED)
    ours = await harness.our_mail_to(COORDINATOR, kind="escalatie", subject="Meldpunt: om na te kijken")
    await harness.send(harness.reply_to(ours, f"{queued}: corrigeer E-mail contactpersoon school = nieuw@school.example", sender=COORDINATOR))
    await harness.process()
    assert state_of(harness, queued) == (S.NEEDS_REVIEW, "nieuw@school.example"), "held: no batch takes it"
    reply = text_of(harness.inbox(COORDINATOR)[-1])
    assert "pas mee met een verzending na bevestiging" in reply and f"{queued}: goedkeuren" in reply
    (told,) = harness.inbox(ELS)
    assert queued in text_of(told) and "wacht op bevestiging" in text_of(told), "the referrer, who knows the school, hears of it"

    await harness.send(harness.reply_to(ours, f"{queued}: goedkeuren", sender=COORDINATOR))
    await harness.process()
    assert state_of(harness, queued) == (S.QUEUED, "nieuw@school.example")


async def test_provider_feedback_that_is_no_reply_is_refused_and_the_coordinator_told(harness: MailHarness) -> None:
    (sent,) = made(harness, S.DISPATCHED)
    await harness.send(harness.new_mail(ARKTOS, "Terugkoppeling", f"{sent}: geweigerd - geen plaats"))
    await harness.process()
    assert state_of(harness, sent)[0] is S.DISPATCHED and last_outcome(harness) == "antwoord-vereist"
    (asked,) = harness.inbox(ARKTOS)
    assert "als antwoord op een mail die het Meldpunt jou stuurde" in text_of(asked)
    (told,) = harness.inbox(COORDINATOR)
    assert ARKTOS in text_of(told) and sent in text_of(told) and "geen antwoord" in str(told["Subject"])

    await harness.send(harness.reply_to(asked, f"{sent}: aanvaard", sender=ARKTOS))
    await harness.process()
    assert state_of(harness, sent)[0] is S.ACCEPTED, "a reply to our answer is a reply to a mail of ours"


async def test_a_reply_to_another_providers_mail_does_not_act(harness: MailHarness) -> None:
    (sent,) = made(harness, S.DISPATCHED)
    to_intro = await harness.our_mail_to(INTRO)
    await harness.send(harness.reply_to(to_intro, f"{sent}: geweigerd - geen plaats", sender=ARKTOS))
    await harness.process()
    assert state_of(harness, sent)[0] is S.DISPATCHED and last_outcome(harness) == "antwoord-vereist"


async def test_an_offer_change_that_is_no_reply_stores_nothing(harness: MailHarness) -> None:
    body = "Dienst: naft-arktos-ahv\nCapaciteit: 0\nNeemt aanmeldingen aan: nee"
    await harness.send(harness.new_mail(ARKTOS, "Aanbod bijwerken", body))
    await harness.process()
    assert last_outcome(harness) == "aanbod-antwoord-vereist"
    with harness.sessions() as session:
        assert session.scalars(select(CatalogueChange)).all() == []
    (form,) = harness.inbox(ARKTOS)
    text = text_of(form)
    assert "nog niet doorgegeven" in text and "Dienst: naft-arktos-ahv" in text
    assert "Capaciteit: 0" not in text, "the form shows what we know, not the proposed values"
    (told,) = harness.inbox(COORDINATOR)
    assert ARKTOS in text_of(told)


async def test_authentication_results_written_by_a_direct_client_count_for_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    # Our border server is elsewhere: the test client on 127.0.0.1 is not it, so its header is its own.
    async with running_harness(session_factory, tmp_path, trusted_authserv_id=AUTHSERV, trusted_relays=frozenset({"192.0.2.25"})) as direct:
        direct.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        await direct.send(direct.new_mail(ELS, "Aanmelding", complete_form(), Authentication_Results=PASS))
        await direct.process()
        with direct.sessions() as session:
            (row,) = session.scalars(select(InboundMail)).all()
            assert row.status is InboundStatus.QUARANTINED and "niet via onze mailserver" in (row.reason or "")
            assert referrals.list_referrals(session) == []
        assert direct.inbox(ELS) == []


async def test_a_removed_staff_member_gets_no_form_even_from_an_allowed_domain(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_harness(session_factory, tmp_path, allowed_domains=("vrijclbhalle.be",)) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        with wired.sessions.begin() as session:
            assert staff_repo.remove_staff(session, ELS, now=NOW)
        await wired.send(wired.new_mail(ELS, "formulier", "Mag ik het formulier?"))
        await wired.send(wired.new_mail(ELS, "Aanmelding", complete_form()))
        await wired.process()
        with wired.sessions() as session:
            assert referrals.list_referrals(session) == []
            outcomes = [r.outcome for r in session.scalars(select(InboundMail).order_by(InboundMail.id))]
        assert outcomes == ["onbekende-afzender", "onbekende-afzender"]
        assert all("Dienst: " not in text_of(m) and "Naam leerling" not in text_of(m) for m in wired.inbox(ELS)), "no form"
