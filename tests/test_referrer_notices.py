"""The referrer hears what matters, in Dutch and without the pupil's name: every mail through the real outbox (SQLite and PostgreSQL).

Set aside, held or declined by the coordinator (with the reason), set aside by a batch (with the
reason), declined by a provider (with its reason) and re-routed to another provider (named: the
catalogue is public). One mail per referrer per batch of lines, each notice once.
"""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from desk.decisions import Role, apply_actions
from intake.actions import parse_actions
from intake.lifecycle import Status
from intake.workhours import local_day
from mail.outbox import OutboxRunner
from store import referrals
from store.models import Staff
from tests.dispatch_fixtures import add_staff as add_dispatch_staff
from tests.dispatch_fixtures import intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import DOMAIN, NOW, Clock, shared_intake
from tests.maildir_order import delivered
from tests.test_cli_review import Runner, make
from tests.test_decisions import ARKTOS, ELS, eligible_answers, make_referral
from tests.test_dispatch import brussels, dispatcher, services
from tests.test_outbox import _config

S = Status
OTHER = "iemand@clb-diest.be"  # a referrer without an account: the address in the referral


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Runner:
    """`meldpunt` in-process on the test database; its outbox writes a Maildir."""
    return Runner(database_url, tmp_path / "var")


def maildir(folder: Path) -> list[tuple[str, str, str]]:
    """(recipient, subject, plain text) of every mail delivered into the Maildir, oldest first."""
    found = []
    for path in delivered(folder / "new"):
        message = message_from_bytes(path.read_bytes(), policy=default)
        found.append((str(message["To"]), str(message["Subject"]), message.get_body(("plain",)).get_content()))
    return found


def to(mails: list[str], address: str) -> list[str]:
    """The mails (recipient line first) the CLI's outbox delivered to address."""
    return [m for m in mails if m.splitlines()[0] == address]


def nameless(text: str) -> bool:
    """No first or last name of the pupil (Zoë Peeters) in the text."""
    return not any(name in text for name in ("Zoë", "Zoe", "Peeters"))


def test_held_and_declined_by_the_coordinator_the_referrer_hears_the_reason_once(run: Runner, session_factory: sessionmaker[Session]) -> None:
    queued, waiting = make(session_factory, S.QUEUED, S.NEEDS_REVIEW)
    assert run("review", "hold", queued, "--reden", "eerst het CLB van Zoë bellen").exit_code == 0
    (held,) = to(run.mails(), ELS)
    assert queued in held and "Wacht op de coördinator (de coördinator: eerst het CLB van [naam] bellen)" in held and nameless(held)
    assert run("review", "decline", waiting, "--reden", "de leerling zit in het lager onderwijs").exit_code == 0
    mails = to(run.mails(), ELS)
    assert len(mails) == 2 and mails[0] == held, "the hold is not told again"
    assert waiting in mails[1] and "Geweigerd (de coördinator: de leerling zit in het lager onderwijs)" in mails[1] and nameless(mails[1])


def test_one_mail_per_batch_of_lines_to_each_referrer(run: Runner, session_factory: sessionmaker[Session]) -> None:
    first, second = make(session_factory, S.QUEUED, S.NEEDS_REVIEW)
    with session_factory.begin() as session:
        theirs = make_referral(session, S.NEEDS_REVIEW, staff=None, answers={**eligible_answers(), "referrer_email": OTHER}).reference
    lines = [f"{first}: vasthouden - wacht op het verslag", f"{second}: weigeren - dubbele aanmelding", f"{theirs}: weigeren - geen leerplicht meer"]
    assert run("review", "record", *lines).exit_code == 0
    mails = run.mails()
    (to_els,) = to(mails, ELS)
    assert "wacht op het verslag" in to_els and "dubbele aanmelding" in to_els and theirs not in to_els
    (to_other,) = to(mails, OTHER)
    assert theirs in to_other and "geen leerplicht meer" in to_other and first not in to_other
    assert nameless(to_els) and nameless(to_other)


def test_declined_by_a_provider_then_re_routed_the_referrer_hears_both(session_factory: sessionmaker[Session], run: Runner) -> None:
    (sent,) = make(session_factory, S.DISPATCHED)  # at Arktos
    actions, problems = parse_actions(f"{sent}: geweigerd - Zoë Peeters zit al bij ons in begeleiding", today=local_day(NOW))
    assert not problems
    with session_factory.begin() as session:
        (decision,) = apply_actions(session, actions, role=Role.PROVIDER, actor=ARKTOS, intake=shared_intake(), domain=DOMAIN, now=NOW,
                                    provider_address=ARKTOS)
    assert decision.applied
    assert run("review", "redirect", sent, "naft-groep-intro-ahv").exit_code == 0  # the CLI drains both mails
    declined, redirected = to(run.mails(), ELS)
    assert "Geweigerd (de aanbieder: [naam] [naam] zit al bij ons in begeleiding)" in declined and nameless(declined)
    assert sent in redirected and f"{S.QUEUED.label} (de coördinator: doorverwezen naar NAFT-traject Groep Intro (Asse-Halle-Vilvoorde))" in redirected
    assert nameless(redirected)


async def test_a_batch_that_sets_a_referral_aside_tells_its_referrer_why(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    intake = intake_for(twelve_provider_catalogue())
    els: Staff = add_dispatch_staff(session_factory)
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    good, unplaced, broken = queue_referrals(intake, session_factory, els, 3, service_ids=services(intake)[:1], now=clock() - timedelta(days=1))
    with session_factory.begin() as session:
        referral = referrals.get_referral(session, unplaced)
        assert referral is not None
        referral.assigned_service_id = "groene-zorg"  # referrals go there directly, never through the Meldpunt
        other = referrals.get_referral(session, broken)
        assert other is not None  # stored by an older version, say: a date the provider mail cannot show
        referrals.save_answers(session, other, {**other.answers, "pupil_birth_date": "14 maart"}, now=clock())
    report = dispatcher(session_factory, intake, clock).tick()
    assert report is not None and (report.referrals, report.set_aside) == (1, 2)
    runner = OutboxRunner(session_factory, _config(tmp_path, None), clock=clock)
    await runner.drain()
    assert dispatcher(session_factory, intake, clock).tick() is None, "the slot ran: no second notice"
    await runner.drain()
    mails = [m for m in maildir(tmp_path / "var" / "Maildir") if m[0] == els.email]
    assert len(mails) == 1, "one mail to the referrer for the whole batch"
    _, subject, text = mails[0]
    assert subject == "Verzending van je aanmeldingen (02/12/2026)"
    assert f"{good} naar " in text and "Deze aanmeldingen gingen nog niet mee met de verzending van 02/12/2026" in text
    direct = intake.catalogue.service("groene-zorg")
    assert direct is not None and f"{unplaced}: {direct.name} krijgt aanmeldingen rechtstreeks, niet via het Meldpunt." in text
    assert f"{broken}: de gegevens konden niet in de mail aan de aanbieder gezet worden." in text
    assert "kijk de antwoorden na" not in text, "the coordinator's instruction is not the referrer's"
    assert "Leerling" not in text and "Peeters" not in text


async def test_a_referrer_without_an_account_hears_of_a_set_aside_alone(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    clock = Clock(brussels(2026, 12, 4, 9, 0))  # Friday's batch
    with session_factory.begin() as session:
        referral = make_referral(session, S.QUEUED, staff=None, answers={**eligible_answers(), "referrer_email": OTHER}, now=clock() - timedelta(days=1))
        referral.assigned_service_id = "groene-zorg"
        reference = referral.reference
    report = dispatcher(session_factory, intake_for(twelve_provider_catalogue()), clock).tick()
    assert report is not None and (report.referrals, report.set_aside) == (0, 1)
    await OutboxRunner(session_factory, _config(tmp_path, None), clock=clock).drain()
    ((_, subject, text),) = [m for m in maildir(tmp_path / "var" / "Maildir") if m[0] == OTHER]
    assert subject == "Je aanmelding ging nog niet mee met de verzending (04/12/2026)"
    direct = shared_intake().catalogue.service("groene-zorg")
    assert direct is not None and f"{reference}: {direct.name} krijgt aanmeldingen rechtstreeks" in text
    assert "verstuurde het Meldpunt" not in text
    assert "laat je weten wanneer ze vertrekt" in text and nameless(text)
