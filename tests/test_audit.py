"""Every read of identifying data on the command line leaves an audit row; `meldpunt audit` shows them (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import pwd
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store import inbound, questions
from store.audit import AuditAction, AuditChannel, AuditPurpose, record_audit
from store.models import AuditEntry
from tests.test_cli import EMAIL, env, meldpunt  # noqa: F401 — `env` is a fixture
from tests.test_cli_review import Runner, run  # noqa: F401 — `run` is a fixture
from tests.test_decisions import ELS, add_staff, make_referral
from tests.test_workflow import FULL

ME = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"
# 22:30 UTC on 1 July is 00:30 on 2 July in Brussels: a UTC stamp cannot pass for the local one.
LATE_EVENING = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)


def reads(session_factory: sessionmaker[Session]) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    """(actor, channel, purpose, what was seen, referral id) of every read row, oldest first."""
    with session_factory() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.READ).order_by(AuditEntry.id))
        return [(r.actor, r.channel, r.purpose, r.detail, r.referral_id) for r in rows]


def test_questions_list_records_who_saw_which_question(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        referral = make_referral(session, Status.QUEUED, staff=add_staff(session))
        about = questions.open_question(session, asker_email=ELS, staff_id=None, channel="telegram", text="Kan Zoë Peeters al starten?",
                                        context={"aanmelding": referral.reference}, now=LATE_EVENING)
        loose = questions.open_question(session, asker_email=ELS, staff_id=None, channel="email", text="Is er plaats?", context=None,
                                        now=LATE_EVENING)
        ids = (referral.id, about.id, loose.id)
    listed = run("questions", "list").output
    assert "Zoë Peeters" in listed
    cli, purpose = AuditChannel.CLI.value, AuditPurpose.QUESTION.value
    assert reads(session_factory) == [(ME, cli, purpose, f"vraag {ids[1]}", ids[0]), (ME, cli, purpose, f"vraag {ids[2]}", None)]


def test_an_empty_questions_list_shows_nothing_and_records_nothing(run: Runner, session_factory: sessionmaker[Session]) -> None:
    assert "geen open vragen" in run("questions", "list").output
    assert reads(session_factory) == []


def test_referrals_show_records_channel_purpose_and_what_was_seen(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        referral = make_referral(session, Status.QUEUED, staff=add_staff(session))
        reference, referral_id = referral.reference or "", referral.id
    assert "Zoë" in run("referrals", "show", reference).output
    assert reads(session_factory) == [(ME, AuditChannel.CLI.value, AuditPurpose.FOLLOW_UP.value, "antwoorden en geschiedenis", referral_id)]


def test_quarantine_list_records_whose_mails_were_seen(run: Runner, session_factory: sessionmaker[Session]) -> None:
    run("mail", "quarantine")
    assert reads(session_factory) == [], "an empty quarantine shows no one's mail"
    with session_factory.begin() as session:
        mail, _ = inbound.accept(session, b"From: a@b.example\r\n\r\nx", source="smtp", envelope_from="ouder@b.example", envelope_to=[],
                                 now=LATE_EVENING)
        inbound.quarantine(session, mail, reason="Geen afzender of meerdere afzenders.", now=LATE_EVENING)
        mail_id = mail.id
    assert "ouder@b.example" in run("mail", "quarantine").output
    assert reads(session_factory) == [(ME, AuditChannel.CLI.value, AuditPurpose.QUARANTINE.value, f"afzender van mail {mail_id}", None)]


def test_audit_filters_by_referral_actor_and_period_in_brussels_time(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        first = make_referral(session, Status.QUEUED, staff=add_staff(session), now=LATE_EVENING)
        second = make_referral(session, Status.QUEUED, staff=first.staff, now=LATE_EVENING)
        for referral, actor, moment in ((first, "coördinator (telegram 7)", LATE_EVENING), (second, ELS, LATE_EVENING + timedelta(days=3))):
            record_audit(session, actor=actor, action=AuditAction.READ, now=moment, referral_id=referral.id, detail="antwoorden",
                         channel=AuditChannel.TELEGRAM, purpose=AuditPurpose.REVIEW)
        one, two = first.reference or "", second.reference or ""
    shown = run("audit", "--referentie", one.lower()).output
    assert "02/07/2026 00:30  coördinator (telegram 7)  gelezen  " + one in shown, shown
    assert "wat: antwoorden" in shown and "kanaal: telegram" in shown and "doel: beoordeling" in shown
    assert two not in shown and "2026-07-01" not in shown
    by_actor = run("audit", "--actor", "ELS.JANSSENS").output
    assert two in by_actor and "telegram 7" not in by_actor, "a part of the actor, in any case"
    # 02/07 in Brussels is the first referral's read, though in UTC it happened on 01/07.
    on_the_second = run("audit", "--van", "02/07/2026", "--tot", "02/07/2026").output
    assert "coördinator (telegram 7)" in on_the_second and "05/07/2026" not in on_the_second, on_the_second
    assert "Geen regels" in run("audit", "--van", "01/07/2026", "--tot", "01/07/2026").output
    later = run("audit", "--van", "03/07/2026").output
    assert two in later and "1 regel(s)" in later


def test_audit_refuses_a_date_it_cannot_read_in_dutch(run: Runner) -> None:
    wrong = run("audit", "--van", "morgen")
    assert wrong.exit_code == 2 and "'morgen' is geen datum" in wrong.output
    backwards = run("audit", "--van", "05/07/2026", "--tot", "01/07/2026")
    assert backwards.exit_code == 2 and "vóór de begindatum" in backwards.output


def test_the_terminal_chat_summary_is_found_with_meldpunt_audit(env: dict[str, str]) -> None:
    assert meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle").returncode == 0
    chat = meldpunt(env, "chat", "--as", EMAIL, stdin="\n".join(FULL) + "\n")
    assert chat.returncode == 0 and "Zoë" in chat.stdout, chat.stderr
    shown = meldpunt(env, "audit", "--actor", "els@", "--referentie", "MSI-2026-0001").stdout
    assert f"{EMAIL}  gelezen  MSI-2026-0001" in shown and "wat: samenvatting van de antwoorden" in shown, shown
    assert "kanaal: terminal-chat" in shown and "doel: aanmelding invullen" in shown and "Zoë" not in shown
