"""The coordinator's agenda (`meldpunt vandaag`, /vandaag): every kind of item with its reason and line, in order, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.agenda import build_agenda
from desk.decisions import Role
from intake.agenda import Agenda, AgendaRules, ItemKind
from intake.lifecycle import Status
from intake.schedule import describe, parse_moments
from intake.texts import render
from intake.workhours import WorkCalendar
from store import outbox, questions, referrals
from store.audit import AuditAction, audit_trail
from store.dispatch_models import CatalogueChange, ChangeStatus, DispatchItem
from store.mail_models import InboundMail, InboundStatus, MailKind
from store.models import Referral, Staff
from tests.mail_harness import DOMAIN, shared_intake
from tests.test_correction_conditions import not_consulted, submitted
from tests.test_decisions import ARKTOS, ELS, add_staff, apply, eligible_answers, make_referral

S = Status
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 03/12/2026 10:00 in Brussels
RULES = AgendaRules(accept_within_days=5, dispatch_moments=parse_moments("wo 09:00, vr 09:00"))
CALENDAR = WorkCalendar()


def days_ago(days: int) -> datetime:
    """A moment `days` calendar days before NOW."""
    return NOW - timedelta(days=days)


def els(session: Session) -> Staff:
    """Els, registered once."""
    return session.scalars(select(Staff).where(Staff.email == ELS)).first() or add_staff(session)


def referral(session: Session, status: Status, *, at: datetime, urgency: str = "normaal", **extra: Any) -> str:
    """A referral of Els in status, made at `at`, with this urgency; its reference."""
    answers = {**eligible_answers(), "urgency": urgency}
    return make_referral(session, status, staff=els(session), answers=answers, now=at, **extra).reference or ""


def agenda_of(session_factory: sessionmaker[Session], now: datetime = NOW) -> Agenda:
    """The agenda as the coordinator would see it at now."""
    with session_factory() as session:
        return build_agenda(session, now=now, calendar=CALENDAR, rules=RULES, intake=shared_intake())


def by_subject(agenda: Agenda) -> dict[str, Any]:
    """The agenda's items by subject."""
    return {item.subject: item for item in agenda.items}


def test_an_empty_agenda_says_nothing_waits(session_factory: sessionmaker[Session]) -> None:
    agenda = agenda_of(session_factory)
    assert agenda.empty and agenda.items == ()
    text = render("coordinator/agenda.txt.j2", agenda=agenda, describe=describe)
    assert "Niets wacht op je." in text and "Stand van 03/12/2026 10:00" in text
    assert "Volgende verzending: vrijdag 04/12/2026 om 09:00: er staat nog niets klaar" in text


def test_each_kind_is_listed_with_its_reason_and_its_one_line(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        held = referral(session, S.QUEUED, at=days_ago(9))
        apply(session, f"{held}: vasthouden - wacht op het verslag van de school", role=Role.COORDINATOR, now=days_ago(8))
        declined = referral(session, S.DECLINED, at=days_ago(7))
        silent = referral(session, S.DISPATCHED, at=days_ago(8))  # Wed 25/11 → 6 working days by Thursday 03/12
        recent = referral(session, S.DISPATCHED, at=days_ago(1))
        late = referral(session, S.DISPATCHED, at=days_ago(30))
        item = session.scalars(select(DispatchItem).join(Referral).where(Referral.reference == late)).one()
        item.reminded_at, item.escalated_at = days_ago(16), days_ago(2)  # what remind_late_providers wrote
        question = questions.open_question(session, asker_email=ELS, staff_id=None, channel="telegram", text="Mag Zoë Peeters ook naar Arktos?",
                                           context={"aanmelding": held}, now=days_ago(2))
        change = CatalogueChange(service_id="naft-arktos-ahv", submitted_by=ARKTOS, submitted_at=days_ago(3), old={}, new={"capacity": 4},
                                 status=ChangeStatus.PENDING)
        session.add(change)
        mail = InboundMail(dedupe_key="x" * 64, message_id=None, source="smtp", envelope_from="iemand@elders.example", envelope_to=[],
                           raw="Subject: hallo\r\n\r\nZoë".encode(), size=20, received_at=days_ago(1), status=InboundStatus.QUARANTINED, attempts=1,
                           outcome="quarantaine", reason="De afzender is niet gekend.", processed_at=days_ago(1))
        session.add(mail)
        failed = outbox.enqueue(session, kind=MailKind.DISPATCH, to_address=ARKTOS, subject="s", body_text="b", domain=DOMAIN, now=days_ago(1))
        outbox.mark_failed(session, failed, error="550 onbekend", now=days_ago(1))
        session.flush()
        numbers = question.id, change.id, mail.id, failed.id
    not_eligible = submitted(session_factory, not_consulted())
    items = by_subject(agenda_of(session_factory))

    assert items[held].kind is ItemKind.DECIDE and items[held].action == f"{held}: goedkeuren"
    assert "Tegengehouden" in items[held].reason and "wacht op het verslag van de school" in items[held].reason
    assert "vasthouden - reden" in items[held].reason and "weigeren - reden" in items[held].reason
    assert items[not_eligible].kind is ItemKind.DECIDE and "Niet ontvankelijk" in items[not_eligible].reason
    assert items[declined].kind is ItemKind.REROUTE and "Geweigerd door de aanbieder (naft-arktos-ahv)" in items[declined].reason
    assert items[declined].action == f"{declined}: doorverwijzen naar naft-groep-intro-ahv", "the first other fitting service"
    assert items[silent].kind is ItemKind.NOT_ACCEPTED and items[silent].action == f"{silent}: herinneren"
    assert "na 6 werkdagen nog niet aanvaard" in items[silent].reason and items[silent].waiting_days == 6
    assert recent not in items, "one working day is not late"
    assert items[late].kind is ItemKind.LATE_FEEDBACK and items[late].action == f"{late}: herinneren"
    assert "na een herinnering nog altijd geen nieuws" in items[late].reason
    question_id, change_id, mail_id, failed_id = numbers
    assert items[f"Vraag #{question_id}"].action == f"Vraag #{question_id}: <je antwoord>"
    assert items[f"Vraag #{question_id}"].waiting_days == 2 and f"over {held}" in items[f"Vraag #{question_id}"].reason
    assert items[f"Aanbod #{change_id}"].action == f"Aanbod #{change_id}: goedkeuren" and "naft-arktos-ahv" in items[f"Aanbod #{change_id}"].reason
    assert items[f"Quarantaine #{mail_id}"].action == f"Quarantaine #{mail_id}: afgehandeld"
    assert "De afzender is niet gekend." in items[f"Quarantaine #{mail_id}"].reason
    assert items[f"Mail #{failed_id}"].action == f"Mail #{failed_id}: opnieuw"
    assert "Een verzending naar een aanbieder aan aanmeldingen@arktos.example" in items[f"Mail #{failed_id}"].reason
    text = render("coordinator/agenda.txt.j2", agenda=agenda_of(session_factory), describe=describe)
    assert "Zoë" not in text and "Peeters" not in text and "14/03/2011" not in text, "no pupil's identity, not even from a question"
    assert "_" not in text.replace("<je antwoord>", ""), "no internal codes such as needs_review"


def test_missing_answers_after_a_correction_say_which(session_factory: sessionmaker[Session]) -> None:
    answers = {**eligible_answers(), "desired_form": "klas"}
    del answers["location_preference"]  # only asked for an individual track
    reference = submitted(session_factory, answers)
    with session_factory.begin() as session:
        apply(session, f"{reference}: corrigeer Gewenste vorm = individueel", role=Role.COORDINATOR)
    item = by_subject(agenda_of(session_factory))[reference]
    assert item.kind is ItemKind.DECIDE and "Ontbrekende antwoorden na een correctie: 'Plaats'" in item.reason


def test_urgency_comes_first_then_age_then_subject(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        old_normal = referral(session, S.NEEDS_REVIEW, at=days_ago(7))
        new_crisis = referral(session, S.NEEDS_REVIEW, at=days_ago(1), urgency="zeer-dringend")
        urgent = referral(session, S.NEEDS_REVIEW, at=days_ago(1), urgency="dringend")
        older_normal = referral(session, S.NEEDS_REVIEW, at=days_ago(9))
        same_a = referral(session, S.NEEDS_REVIEW, at=days_ago(2))
        same_b = referral(session, S.NEEDS_REVIEW, at=days_ago(2))
    agenda = agenda_of(session_factory)
    assert [item.subject for item in agenda.items] == [new_crisis, urgent, older_normal, old_normal, same_a, same_b]
    text = render("coordinator/agenda.txt.j2", agenda=agenda, describe=describe)
    assert f"1. ‼ zeer dringend · {new_crisis} · wacht 1 werkdag (sinds 02/12/2026 10:00)" in text, text
    assert f"2. ! dringend · {urgent} ·" in text and f"3. {older_normal} · wacht 7 werkdagen (sinds 24/11/2026 10:00)" in text


def test_round_tables_today_and_this_week_and_the_next_batch_are_information(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        today, saturday, later = (referral(session, S.ACCEPTED, at=days_ago(10)) for _ in range(3))
        apply(session, f"{today}: ronde tafel 10/12/2026", role=Role.PROVIDER, provider=ARKTOS, now=days_ago(5))
        apply(session, f"{today}: ronde tafel 03/12/2026", role=Role.PROVIDER, provider=ARKTOS, now=days_ago(4))  # moved to today
        apply(session, f"{saturday}: ronde tafel 05/12/2026", role=Role.PROVIDER, provider=ARKTOS, now=days_ago(4))
        apply(session, f"{later}: ronde tafel 08/12/2026", role=Role.PROVIDER, provider=ARKTOS, now=days_ago(4))
        queued = [referral(session, S.QUEUED, at=days_ago(1)) for _ in range(2)]
    agenda = agenda_of(session_factory)
    assert [t.reference for t in agenda.round_tables_today] == [today]
    assert [t.reference for t in agenda.round_tables_week] == [saturday]
    assert agenda.empty, "information alone is no work"
    assert agenda.next_batch is not None and agenda.next_batch.referrals == len(queued)
    text = render("coordinator/agenda.txt.j2", agenda=agenda, describe=describe)
    assert "Niets wacht op je." in text and f"Ronde tafels vandaag: {today}" in text
    assert f"Ronde tafels later deze week: {saturday} (05/12/2026)" in text and later not in text
    assert "Volgende verzending: vrijdag 04/12/2026 om 09:00: 2 aanmeldingen naar aanmeldingen@groepintro.example (2)" in text, text


def test_a_settled_item_leaves_the_agenda(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        waiting = referral(session, S.NEEDS_REVIEW, at=days_ago(3))
    assert waiting in by_subject(agenda_of(session_factory))
    with session_factory.begin() as session:
        (decision,) = apply(session, f"{waiting}: goedkeuren", role=Role.COORDINATOR)
        assert decision.applied
    assert waiting not in by_subject(agenda_of(session_factory))
    with session_factory() as session:
        found = referrals.get_referral(session, waiting)
        assert found is not None and found.status is S.QUEUED


def test_a_reminder_counts_afresh(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        silent = referral(session, S.DISPATCHED, at=days_ago(9))
        item = session.scalars(select(DispatchItem).join(Referral).where(Referral.reference == silent)).one()
        item.reminded_at = days_ago(1)  # "herinneren" yesterday
    assert silent not in by_subject(agenda_of(session_factory))
    assert silent in by_subject(agenda_of(session_factory, NOW + timedelta(days=7))), "late again, counted from the reminder"


def test_every_outbox_kind_has_a_dutch_name() -> None:
    from intake.texts import message

    names = {kind: message("mail_kind", source="coordinator/agenda_reasons.txt.j2", kind=kind.value) for kind in MailKind}
    assert all(name != "Een mail" for name in names.values()), names


def test_the_command_shows_the_agenda_in_dutch_and_audits_the_view(session_factory: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    from tests.test_cli_review import Runner

    moment = datetime.now(UTC) - timedelta(days=10)
    with session_factory.begin() as session:
        waiting = referral(session, S.NEEDS_REVIEW, at=moment, urgency="zeer-dringend")
    result = Runner(database_url, tmp_path / "var")("vandaag")
    assert result.exit_code == 0, result.output
    from intake.texts import brussels_time

    assert f"1. ‼ zeer dringend · {waiting} · wacht " in result.output and f"(sinds {brussels_time(moment)})" in result.output
    assert f"   {waiting}: goedkeuren" in result.output and "1 punt wacht op je" in result.output
    with session_factory() as session:
        rows = [row for row in audit_trail(session) if row.action == AuditAction.LIST_READ]
        assert [(row.detail, row.channel, row.purpose) for row in rows] == [("agenda: 1 punten", "opdrachtregel", "beoordeling")]


def test_the_agenda_reads_a_few_statements_however_many_referrals_wait(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy import event

    def statements() -> int:
        with session_factory() as session:
            seen: list[str] = []
            engine = session.get_bind()
            listener = lambda *args: seen.append(str(args[2]))  # noqa: E731 — (conn, cursor, statement, …)
            event.listen(engine, "before_cursor_execute", listener)
            try:
                build_agenda(session, now=NOW, calendar=CALENDAR, rules=RULES, intake=shared_intake())
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            return len(seen)

    kinds = (S.NEEDS_REVIEW, S.DECLINED, S.DISPATCHED, S.QUEUED)
    with session_factory.begin() as session:
        for status in kinds:
            referral(session, status, at=days_ago(8))
    few = statements()
    with session_factory.begin() as session:
        for _ in range(5):
            for status in kinds:
                referral(session, status, at=days_ago(8))
    assert statements() == few, "no statement per referral (no N+1)"
