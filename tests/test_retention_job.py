"""The retention purge as the coordinator meets it: the daily job of `meldpunt serve` and `meldpunt privacy opschonen [--proef]`.

The job runs on the one periodic runner under the supervisor, on virtual time (tests/fake_time.py): a
failing round (here the database lost a table) is logged without personal data and retried, and the
next round purges. The command runs in-process on the real clock, on data dated long enough ago.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from desk.retention import Retention
from intake.questionnaire import load_questionnaire
from intake.retention import RetentionPeriods
from meldpunt.periodic import Periodic
from meldpunt.supervisor import Backoff, Supervisor
from store import referrals, runners
from store.mail_models import InboundMail, MailKind, OutboxMessage
from tests.fake_time import FakeTime
from tests.mail_harness import DOMAIN
from tests.test_cli_review import Runner
from tests.test_retention import PUPIL, T0, held, live

START = T0 + timedelta(days=31)


def rename(sessions: sessionmaker[Session], old: str, new: str) -> None:
    """Rename a table: a database that lost one makes every purge round fail, as a real fault would."""
    with sessions.begin() as session:
        session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_the_daily_job_survives_a_failing_round_and_purges_on_the_next(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    live(session_factory)
    time, stop = FakeTime(START), asyncio.Event()
    retention = Retention(session_factory, periods=RetentionPeriods(), questionnaire=load_questionnaire(), domain=DOMAIN, clock=time.clock)
    periodic = Periodic(Supervisor(session_factory, stop, clock=time.clock, backoff=Backoff(first=1, cap=4), sleeper=time.sleep))
    periodic.add("privacy", retention.daily, every=24 * 3600)
    rename(session_factory, "questions", "questions_weg")
    task = asyncio.create_task(periodic.run())
    await time.run_until(START, runners=1)
    with session_factory() as session:
        (failing,) = runners.reports(session)
        assert failing.name == "privacy" and failing.consecutive_failures == 1
        assert all(mail.raw for mail in session.scalars(select(InboundMail))), "the failed round left everything as it was"
    rename(session_factory, "questions_weg", "questions")
    await time.run_until(START + timedelta(seconds=2), runners=1)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    with session_factory() as session:
        (recovered,) = runners.reports(session)
        assert recovered.consecutive_failures == 0 and recovered.last_success_at == START + timedelta(seconds=1)
        assert held(session)["ontvangen mails met inhoud"] == 0
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.RETENTION_WARNING)).one()
    assert any(r.getMessage().startswith("privacy mislukte: ") for r in caplog.records)
    assert not any(part in r.getMessage() for r in caplog.records for part in PUPIL)


def test_opschonen_proef_lists_counts_and_references_without_names_and_changes_nothing(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    reference = live(session_factory, datetime.now(UTC) - timedelta(days=800))  # every period is over, whatever today is
    run = Runner(database_url, tmp_path / "var")
    with session_factory() as session:
        before = held(session)

    proof = run("privacy", "opschonen", "--proef")
    assert proof.exit_code == 0, proof.output
    assert "er is niets veranderd" in proof.output and reference in proof.output and "vraag " in proof.output
    assert "ontvangen mails (inhoud en afzender): 1" in proof.output
    assert "afgesloten aanmeldingen (gepseudonimiseerd): 1" in proof.output
    assert "herinneringen aan medewerkers (een week voor het wissen): 1" in proof.output
    assert not any(part in proof.output for part in PUPIL)
    with session_factory() as session:
        assert held(session) == before

    done = run("privacy", "opschonen")
    assert done.exit_code == 0, done.output
    assert "dit is gedaan" in done.output and reference in done.output
    with session_factory() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.pseudonymised_at is not None
        assert held(session)["ontvangen mails met inhoud"] == 0 and held(session)["vragen"] == 0
    assert "Er is niets dat zijn bewaartermijn voorbij is." not in done.output
    again = run("privacy", "opschonen", "--proef")
    assert "gesprekken: 0" in again.output, "the chat waits a week after its warning"
