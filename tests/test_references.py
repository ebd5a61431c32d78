"""One reference pattern everywhere: MSI-2026-10000 (the ten-thousandth referral of a year) is read like MSI-2026-0042."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.actions import parse_actions
from intake.lifecycle import Status
from intake.references import REFERENCE, find_reference, format_reference
from mail.form import parse_form, render_form
from store import referrals
from store.models import ReferenceCounter, Referral, Staff
from tests.mail_harness import NOW, MailHarness, running_harness, shared_intake
from tests.telegram_harness import running_chat
from tests.test_decisions import ARKTOS, ELS, make_referral
from tests.test_mail_form import FILLED
from tests.test_mail_processor import fill, text_of
from tests.test_parsers_linear import assert_linear, repeat
from tests.test_telegram_coordinator import coordinator

S = Status
BIG = "MSI-2026-10000"


def count_from(sessions: sessionmaker[Session], last: int) -> None:
    """Pretend this year already handed out `last` references."""
    with sessions.begin() as session:
        session.add(ReferenceCounter(year=NOW.year, last_number=last))


def made(sessions: sessionmaker[Session], status: Status) -> str:
    """One referral of Els in this status; its reference."""
    with sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        return make_referral(session, status, staff=els, now=NOW).reference or ""


@pytest.mark.parametrize(("text", "found"), [
    (f"Re: [{BIG}] Aanmelding onvolledig", BIG),
    ("over msi-2026-0042, dringend", "MSI-2026-0042"),
    ("MSI-2026-1234567", "MSI-2026-1234567"),
    ("XMSI-2026-0042", None), ("MSI-2026-0042x", None), ("MSI-26-0042", None), ("MSI-2026-", None),
])
def test_the_core_pattern_finds_references_of_any_length(text: str, found: str | None) -> None:
    assert find_reference(text) == found


@pytest.mark.parametrize("unit", ["MSI-2026-", "MSI-2026-0", "msi-", "0"])
def test_finding_a_reference_costs_linear_time(unit: str) -> None:
    assert_linear(find_reference, lambda n: repeat(unit, n))


def test_references_are_formatted_beyond_9999_and_read_back() -> None:
    assert [format_reference(2026, n) for n in (1, 42, 9999, 10000)] == ["MSI-2026-0001", "MSI-2026-0042", "MSI-2026-9999", BIG]
    assert REFERENCE.fullmatch(BIG) and REFERENCE.fullmatch("msi-2026-0001")


def test_a_form_and_a_feedback_line_name_the_ten_thousandth_referral() -> None:
    form = f"Referentie: {BIG}\n" + fill(render_form(shared_intake().questionnaire), FILLED)
    assert parse_form(form, shared_intake().questionnaire, today=NOW.date()).reference == BIG
    (action,), problems = parse_actions(f"{BIG.lower()}: aanvaard", today=NOW.date())
    assert problems == [] and action.reference == BIG


def test_the_store_hands_out_the_ten_thousandth_reference(session_factory: sessionmaker[Session]) -> None:
    count_from(session_factory, 9999)
    with session_factory.begin() as session:
        referral = referrals.create_draft(session, staff_id=None, channel="email", mode="full", actor=ELS, now=NOW)
        assert referrals.assign_reference(session, referral, now=NOW) == BIG
    with session_factory() as session:
        assert referrals.get_referral(session, BIG) is not None


def test_new_years_night_in_brussels_starts_the_new_years_numbers(session_factory: sessionmaker[Session]) -> None:
    brussels_new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 in Brussels
    with session_factory.begin() as session:
        referral = referrals.create_draft(session, staff_id=None, channel="email", mode="full", actor=ELS, now=brussels_new_year)
        assert referrals.assign_reference(session, referral, now=brussels_new_year) == "MSI-2027-0001"


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        count_from(session_factory, 9999)
        yield wired


async def test_replying_to_the_form_of_the_ten_thousandth_referral_continues_it(harness: MailHarness) -> None:
    partly = {"Voornaam leerling": "Zoë", "Achternaam leerling": "Peeters"}
    await harness.send(harness.new_mail(ELS, "Aanmelding", fill(render_form(shared_intake().questionnaire), partly)))
    await harness.process()
    (problems,) = harness.inbox(ELS)
    assert BIG in str(problems["Subject"])
    await harness.send(harness.reply_to(problems, "De rest staat hieronder.", style="outlook", history=fill(text_of(problems), FILLED)))
    await harness.process()
    assert f"referentie {BIG}" in text_of(harness.inbox(ELS)[-1])
    with harness.sessions() as session:
        (referral,) = session.scalars(select(Referral)).all()
        assert (referral.reference, referral.status) == (BIG, S.QUEUED), "the same referral, not a second one"


async def test_a_provider_reports_back_on_the_ten_thousandth_referral(harness: MailHarness) -> None:
    reference = made(harness.sessions, S.DISPATCHED)
    assert reference == BIG
    ours = await harness.our_mail_to(ARKTOS)
    await harness.send(harness.reply_to(ours, f"{BIG}: aanvaard", sender=ARKTOS))
    await harness.process()
    assert f"Verwerkt: {BIG} staat nu op 'Aanvaard door de aanbieder'." in text_of(harness.inbox(ARKTOS)[-1])


async def test_the_coordinator_decides_on_the_ten_thousandth_referral_in_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        count_from(session_factory, 9999)
        assert made(session_factory, S.NEEDS_REVIEW) == BIG
        answer = await coordinator(h, f"/beslis {BIG}: goedkeuren")
        assert f"✅ {BIG} staat nu op '{S.QUEUED.label}'." in answer
        answer = await coordinator(h, f"{BIG}: vasthouden - eerst het CLB bellen")
        assert f"✅ {BIG} staat nu op '{S.NEEDS_REVIEW.label}'." in answer
