"""Urgency shown and sorted: `meldpunt review`, `/nakijken`, `meldpunt referrals list` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from intake.urgency import urgency_mark, urgency_rank
from intake.vocabulary import Urgency
from store.models import Staff
from tests.mail_harness import NOW
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, running_chat
from tests.test_cli_review import Runner
from tests.test_decisions import ELS, add_staff, eligible_answers, make_referral

S = Status


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Runner:
    """`meldpunt` in-process on the test database."""
    return Runner(database_url, tmp_path / "var")


def make(sessions: sessionmaker[Session], *levels: str, status: Status = S.NEEDS_REVIEW) -> list[str]:
    """Els's referrals with these urgency answers, each an hour after the one before; their references."""
    with sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).first() or add_staff(session)
        return [
            make_referral(session, status, staff=els, answers={**eligible_answers(), "urgency": level}, now=NOW + timedelta(hours=i)).reference or ""
            for i, level in enumerate(levels)
        ]


def order_in(text: str, references: list[str]) -> list[str]:
    """The references in the order the text shows them."""
    return sorted(references, key=text.index)


def test_the_rank_and_mark_of_each_level() -> None:
    assert [urgency_rank(v) for v in ("zeer-dringend", "dringend", "normaal", None, "iets")] == [0, 1, 2, 2, 2]
    assert [urgency_mark(v) for v in ("zeer-dringend", "dringend", "normaal", None)] == ["‼ zeer dringend", "! dringend", "", ""]
    assert {u.value for u in Urgency} == {"zeer-dringend", "dringend", "normaal"}, "a new level needs a rank"


def test_review_lists_zeer_dringend_first_then_dringend_then_the_oldest(run: Runner, session_factory: sessionmaker[Session]) -> None:
    old_normal, high, new_normal, crisis, high_later = make(session_factory, "normaal", "dringend", "normaal", "zeer-dringend", "dringend")
    listed = run("review").output
    # Within a level the one waiting longest comes first: `high` waits since 11:00, `high_later` since 14:00.
    assert order_in(listed, [old_normal, high, new_normal, crisis, high_later]) == [crisis, high, high_later, old_normal, new_normal]
    block = listed[listed.index(crisis):listed.index(high)]
    assert "Urgentie: Zeer dringend (de leerling is nu niet meer op school)" in block
    assert "Urgentie: Normaal" in listed[listed.index(old_normal):]
    assert "Zoë" not in listed and "Peeters" not in listed


async def test_the_coordinators_chat_shows_the_same_order_with_the_mark(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        normal, high, crisis = make(session_factory, "normaal", "dringend", "zeer-dringend")
        queue = (await h.say(COORDINATOR_USER, "/nakijken", chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text
    assert order_in(queue, [normal, high, crisis]) == [crisis, high, normal]
    assert f"‼ zeer dringend · {crisis}" in queue and f"! dringend · {high}" in queue
    assert f"dringend · {normal}" not in queue, "a normal referral carries no mark"


def test_referrals_list_shows_urgency_and_sorts_on_request(run: Runner, session_factory: sessionmaker[Session]) -> None:
    normal, crisis, high, newest = make(session_factory, "normaal", "zeer-dringend", "dringend", "normaal", status=S.QUEUED)
    by_date = run("referrals", "list").output
    assert order_in(by_date, [normal, crisis, high, newest]) == [newest, high, crisis, normal], "newest first stays the default"
    assert "Urgentie" in by_date.splitlines()[0]
    assert "Zeer dringend" in by_date.splitlines()[[i for i, line in enumerate(by_date.splitlines()) if crisis in line][0]]
    by_urgency = run("referrals", "list", "--sorteer", "urgentie").output
    assert order_in(by_urgency, [normal, crisis, high, newest]) == [crisis, high, newest, normal], "within a level still newest first"
    assert run("referrals", "list", "--sorteer", "datum").output == by_date
    rows = json.loads(run("referrals", "list", "--sorteer", "urgentie", "--json").output)
    assert [(r["reference"], r["urgency"], r["urgency_label"]) for r in rows[:2]] == [
        (crisis, "zeer-dringend", Urgency.CRISIS.label), (high, "dringend", Urgency.HIGH.label)]
    helped = " ".join(run("referrals", "list", "--help").output.split())
    assert "--sorteer VOLGORDE datum: nieuwste eerst; urgentie: zeer dringend eerst" in helped and "[standaard: datum]" in helped
    wrong = run("referrals", "list", "--sorteer", "naam")
    assert wrong.exit_code == 2 and "urgentie" in wrong.output
