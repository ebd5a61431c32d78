"""The provider's dispatch mail lists urgent referrals first and marks them: the real batch, a real SMTP sink (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from desk import dispatch
from intake.dialogue import Intake
from mail.outbox import OutboxRunner
from store import referrals
from store.models import Staff
from tests.dispatch_fixtures import add_staff, intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import Clock
from tests.test_dispatch import brussels, dispatcher, services
from tests.test_outbox import Sink, _config, sink  # noqa: F401 — `sink` is a fixture

_HEADING = re.compile(r"^=== (.*) ===\r?$", re.MULTILINE)


def set_urgency(sessions: sessionmaker[Session], levels: dict[str, str], clock: Clock) -> None:
    """Give each referral this answer to the urgency question."""
    with sessions.begin() as session:
        for reference, level in levels.items():
            referral = referrals.get_referral(session, reference)
            assert referral is not None
            referrals.save_answers(session, referral, {**referral.answers, "urgency": level}, now=clock())


async def test_a_providers_mail_lists_zeer_dringend_then_dringend_then_the_oldest(session_factory: sessionmaker[Session], sink: tuple[Sink, int],
                                                                                 tmp_path: Path) -> None:
    handler, port = sink
    intake: Intake = intake_for(twelve_provider_catalogue())
    els: Staff = add_staff(session_factory)
    clock = Clock(brussels(2026, 12, 2, 9, 0))  # Wednesday's batch
    one, other = services(intake)[:2]
    # Submitted a second apart, oldest first: normal, high, crisis, normal, high; one crisis for another provider.
    made = queue_referrals(intake, session_factory, els, 5, service_ids=[one], now=clock() - timedelta(days=1))
    (elsewhere,) = queue_referrals(intake, session_factory, els, 1, service_ids=[other], now=clock() - timedelta(hours=1))
    old_normal, old_high, crisis, new_normal, new_high = made
    set_urgency(session_factory, {old_normal: "normaal", old_high: "dringend", crisis: "zeer-dringend", new_normal: "normaal",
                                  new_high: "dringend", elsewhere: "zeer-dringend"}, clock)
    report = dispatcher(session_factory, intake, clock).tick()
    assert report is not None and (report.referrals, report.mails) == (6, 2)
    await OutboxRunner(session_factory, _config(tmp_path, port), clock=clock).drain()
    mails = {str(m["To"]): m for m in handler.messages()}
    mail = mails[intake.catalogue.service(one).dispatch_email or ""]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    name = intake.catalogue.service(one).name
    assert _HEADING.findall(text) == [
        f"‼ ZEER DRINGEND · {crisis} · {name}", f"! DRINGEND · {old_high} · {name}", f"! DRINGEND · {new_high} · {name}",
        f"{old_normal} · {name}", f"{new_normal} · {name}",
    ]
    assert "3 aanmeldingen zijn dringend: die staan bovenaan" in text
    (attachment,) = list(mail.iter_attachments())
    rows = list(csv.reader(io.StringIO(attachment.get_content().lstrip("\ufeff")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == [crisis, old_high, new_high, old_normal, new_normal], "the spreadsheet in the same order"
    lone = mails[intake.catalogue.service(other).dispatch_email or ""].get_body(preferencelist=("plain",)).get_content()
    assert _HEADING.findall(lone) == [f"‼ ZEER DRINGEND · {elsewhere} · {intake.catalogue.service(other).name}"]
    assert "Eén aanmelding is dringend" in lone


async def test_a_mail_without_urgent_referrals_has_no_marks(session_factory: sessionmaker[Session], sink: tuple[Sink, int], tmp_path: Path) -> None:
    handler, port = sink
    intake: Intake = intake_for(twelve_provider_catalogue())
    els: Staff = add_staff(session_factory)
    clock = Clock(brussels(2026, 12, 4, 9, 0))
    first, second = queue_referrals(intake, session_factory, els, 2, service_ids=services(intake)[:1], now=clock() - timedelta(days=1))
    dispatcher(session_factory, intake, clock).tick()
    await OutboxRunner(session_factory, _config(tmp_path, port), clock=clock).drain()
    address = intake.catalogue.service(services(intake)[0]).dispatch_email
    text = next(m for m in handler.messages() if str(m["To"]) == address).get_body(preferencelist=("plain",)).get_content()
    assert [h.split(" · ")[0] for h in _HEADING.findall(text)] == [first, second], "oldest first, as before"
    assert "DRINGEND" not in text and "dringend: die staan bovenaan" not in text


def test_the_plan_reads_the_urgency_with_the_answers_in_one_query(session_factory: sessionmaker[Session]) -> None:
    intake: Intake = intake_for(twelve_provider_catalogue())
    els: Staff = add_staff(session_factory)
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    made = queue_referrals(intake, session_factory, els, 6, service_ids=services(intake)[:2], now=clock() - timedelta(days=1))
    set_urgency(session_factory, {made[4]: "zeer-dringend", made[5]: "dringend"}, clock)
    statements: list[str] = []
    engine = session_factory.kw["bind"]

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with session_factory() as session:
            plan = dispatch.make_plan(session, intake)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == statements and len(statements) == 1, statements
    first, second = plan.mails.values()
    assert [p.reference for p in first] == [made[4], made[0], made[2]] and [p.reference for p in second] == [made[5], made[1], made[3]]
