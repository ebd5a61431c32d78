"""The retention purge on a fake clock (SQLite and PostgreSQL): a referral's life through every purge date.

What a DPO would check: at each date exactly what the retention table says is gone and nothing more;
the warning mail goes once, a week before; a dry run changes nothing; what the figures count is the
same before and after pseudonymisation; and at the end no trace of the pupil is left in any table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.retention import Retention
from desk.workflow import IntakeWorkflow
from intake.brussels import BRUSSELS
from intake.lifecycle import Status
from intake.messages import Inbound
from intake.questionnaire import load_questionnaire
from intake.retention import AGE_BAND_KEY, REGION_KEY, PurgeKind, RetentionPeriods, figure_fields
from intake.vocabulary import Channel, Mode
from store import inbound, outbox, questions, referrals
from store.mail_models import InboundMail, MailKind, OutboxMessage, OutboxStatus, Question
from store.models import Base, Conversation, Referral, StatusChange
from store.views import referral_row
from tests.mail_harness import DOMAIN, shared_intake
from tests.test_decisions import add_staff, make_referral

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # school year 2026-2027
# One school year after the one it closed in: from 1 September 2028, midnight in Brussels.
PSEUDONYMISE_AT = datetime(2028, 9, 1, 0, 0, tzinfo=BRUSSELS)
PUPIL = ("Zoë", "Peeters", "2011-03-14", "an.peeters@school.example", "Sint-Jozefscollege")
RAW = (
    "From: els.janssens@vrijclbhalle.be\r\nTo: meldpunt@meldpunt.example\r\nSubject: formulier\r\n"
    "Message-ID: <form-1@vrijclbhalle.be>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Voornaam leerling: Zoë\r\nAchternaam leerling: Peeters\r\n"
).encode()


def purge(sessions: sessionmaker[Session], at: datetime, *, dry_run: bool = False) -> Any:
    """One purge run at the moment at, with the default retention table."""
    return Retention(sessions, periods=RetentionPeriods(), questionnaire=load_questionnaire(), domain=DOMAIN,
                     clock=lambda: at).run(dry_run=dry_run)


def live(sessions: sessionmaker[Session], t0: datetime = T0) -> str:
    """Day 0: a handled form mail, a completed referral and its sent mails, an answered question, a paused chat; its reference."""
    with sessions.begin() as session:
        els = add_staff(session)
        mail, _ = inbound.accept(session, RAW, source="smtp", envelope_from=els.email, envelope_to=["meldpunt@meldpunt.example"], now=t0)
        inbound.finish(session, mail, outcome="formulier", now=t0)
        referral = make_referral(session, Status.COMPLETED, staff=els, now=t0)
        outbox.enqueue(session, kind=MailKind.DISPATCH, to_address="aanmeldingen@arktos.example", subject=f"Aanmelding {referral.reference}",
                       body_text="Zoë Peeters, 14/03/2011", domain=DOMAIN, now=t0, referral_id=referral.id,
                       attachments=[{"filename": "aanmeldingen.csv", "content_type": "text/csv", "text": "Zoë;Peeters"}])
        for message in session.scalars(select(OutboxMessage)):
            outbox.mark_sent(session, message, now=t0)
        question = questions.open_question(session, asker_email=els.email, staff_id=els.id, channel="email",
                                           text="Wat raden jullie aan voor Zoë Peeters?", context=None, now=t0)
        questions.answer_question(session, question, answer="NAFT, bel ons gerust.", by="coordinator@meldpunt.example", now=t0)
        staff, reference = els, referral.reference
    workflow = IntakeWorkflow(shared_intake(), sessions)
    workflow.open(channel=Channel.TERMINAL, external_id="els", staff=staff, mode=Mode.FULL, now=t0)
    for line in ("02 123 45 67", "Zoë", "Peeters"):
        workflow.handle(channel=Channel.TERMINAL, external_id="els", inbound=Inbound.from_text(line), now=t0)
    assert reference is not None
    return reference


def held(session: Session) -> dict[str, int]:
    """What is still held, read from the content itself (not from the purge's own marks)."""
    sent = [m for m in session.scalars(select(OutboxMessage)) if m.status is OutboxStatus.SENT]
    return {
        "ontvangen mails met inhoud": sum(1 for m in session.scalars(select(InboundMail)) if m.raw),
        "verstuurde mails met inhoud": sum(1 for m in sent if m.body_text or m.subject or m.attachments),
        "gesprekken": len(session.scalars(select(Conversation)).all()),
        "concepten": sum(1 for r in session.scalars(select(Referral)) if r.status is Status.DRAFT),
        "vragen": len(session.scalars(select(Question)).all()),
        "aanmeldingen met namen": sum(1 for r in session.scalars(select(Referral)) if "pupil_last_name" in (r.answers or {})),
    }


def expect(sessions: sessionmaker[Session], **gone: bool) -> None:
    """Everything is held except what gone names."""
    full = {"ontvangen mails met inhoud": 1, "verstuurde mails met inhoud": 0, "gesprekken": 1, "concepten": 1, "vragen": 1,
            "aanmeldingen met namen": 1}
    with sessions() as session:
        now_held = held(session)
        full["verstuurde mails met inhoud"] = session.query(OutboxMessage).filter(OutboxMessage.status == OutboxStatus.SENT).count()
    wanted = {key: 0 if gone.get(key.split()[0], False) else value for key, value in full.items()}
    assert now_held == wanted


def warnings(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """The warning mails queued so far."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.RETENTION_WARNING)))


def test_a_referral_s_life_through_every_purge_date_leaves_exactly_what_the_table_says(session_factory: sessionmaker[Session]) -> None:
    live(session_factory)
    expect(session_factory)
    held_in = {trace.split(".")[0] for trace in traces_of_the_pupil(session_factory)}
    assert held_in >= {"inbound_mail", "outbox", "questions", "conversations", "referrals"}, "the search finds the pupil"
    assert purge(session_factory, T0 + timedelta(days=22)).total == 0 and not warnings(session_factory)
    expect(session_factory)

    # A week before the paused chat goes, Els gets one mail that says when and how to go on; without the pupil's name.
    report = purge(session_factory, T0 + timedelta(days=23, hours=1))
    assert report.total == 0 and report.warned == 1
    (warning,) = warnings(session_factory)
    assert warning.to_address == "els.janssens@vrijclbhalle.be" and "meldpunt chat --as els.janssens@vrijclbhalle.be" in warning.body_text
    assert "18/12/2026" in warning.body_text and not any(part in warning.body_text for part in PUPIL)
    assert purge(session_factory, T0 + timedelta(days=24)).warned == 0, "once"
    assert purge(session_factory, T0 + timedelta(days=29, hours=23)).total == 0
    expect(session_factory)

    report = purge(session_factory, T0 + timedelta(days=30, hours=1))
    assert report.counts[PurgeKind.INBOUND] == 1 and report.counts[PurgeKind.CONVERSATION] == 1 and report.counts[PurgeKind.DRAFT] == 1
    expect(session_factory, ontvangen=True, verstuurde=True, gesprekken=True, concepten=True)
    with session_factory() as session:
        (mail,) = session.scalars(select(InboundMail))
        assert mail.envelope_from is None and mail.dedupe_key and mail.status.value == "done", "the handling record stays"
        assert [r.status for r in session.scalars(select(Referral).order_by(Referral.id))] == [Status.COMPLETED, Status.CANCELLED]

    assert purge(session_factory, T0 + timedelta(days=364)).total == 0
    assert purge(session_factory, T0 + timedelta(days=365, hours=1)).counts[PurgeKind.QUESTION] == 1
    expect(session_factory, ontvangen=True, verstuurde=True, gesprekken=True, concepten=True, vragen=True)

    assert purge(session_factory, PSEUDONYMISE_AT - timedelta(minutes=1)).total == 0
    expect(session_factory, ontvangen=True, verstuurde=True, gesprekken=True, concepten=True, vragen=True)
    assert purge(session_factory, PSEUDONYMISE_AT).counts[PurgeKind.REFERRAL] == 1
    expect(session_factory, ontvangen=True, verstuurde=True, gesprekken=True, concepten=True, vragen=True, aanmeldingen=True)
    assert purge(session_factory, PSEUDONYMISE_AT + timedelta(days=400)).total == 0, "nothing twice"
    assert traces_of_the_pupil(session_factory) == []


def traces_of_the_pupil(sessions: sessionmaker[Session]) -> list[str]:
    """Every table and column where a part of the pupil's identity is still stored."""
    found = []
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    found += [f"{table.name}.{column}" for part in PUPIL if part in text]
    return found


def test_pseudonymising_keeps_the_reference_dates_and_every_figure(session_factory: sessionmaker[Session]) -> None:
    reference = live(session_factory)
    with session_factory() as session:
        before = _figures(session, reference)
        assert before["answers"][REGION_KEY] == "ahv" and before["answers"][AGE_BAND_KEY] == "14-15"
        listed_before = referral_row(_referral(session, reference))
    purge(session_factory, PSEUDONYMISE_AT)
    with session_factory() as session:
        after = _figures(session, reference)
        referral = _referral(session, reference)
        assert referral.pseudonymised_at == PSEUDONYMISE_AT
        kept = set(referral.answers)
        listed_after = referral_row(referral)
    assert (listed_after["region_label"], listed_after["school_level"]) == (listed_before["region_label"], listed_before["school_level"]) != (None, None)
    assert after == before
    assert kept.isdisjoint({"pupil_first_name", "pupil_last_name", "pupil_birth_date", "referrer_name", "referrer_email", "referrer_phone",
                            "help_request", "school_name", "school_postcode", "pupil_home_postcode", "school_contact_email"})
    assert {"school_level", "problem_areas", "care_phase", REGION_KEY, AGE_BAND_KEY} <= kept


def _referral(session: Session, reference: str) -> Referral:
    """The referral of reference, which the test made."""
    referral = referrals.get_referral(session, reference)
    assert referral is not None
    return referral


def _figures(session: Session, reference: str) -> dict[str, Any]:
    """What the figures for government count of one referral."""
    referral = referrals.get_referral(session, reference)
    assert referral is not None and referral.submitted_at is not None
    history = session.scalars(select(StatusChange).where(StatusChange.referral_id == referral.id).order_by(StatusChange.id))
    return {
        "reference": referral.reference, "created": referral.created_at, "submitted": referral.submitted_at,
        "status": referral.status, "outcome": referral.outcome, "service": referral.assigned_service_id,
        "eligibility": (referral.eligibility or {}).get("outcome"),
        "suggested": [s["service_id"] for s in (referral.suggestions or {}).get("suggestions", [])],
        "history": [(c.at, c.from_status, c.to_status) for c in history],
        "answers": figure_fields(referral.answers, on=referral.submitted_at.astimezone(BRUSSELS).date()),
    }


def test_a_dry_run_changes_nothing_and_shows_what_the_run_then_does(session_factory: sessionmaker[Session]) -> None:
    live(session_factory)
    purge(session_factory, T0 + timedelta(days=23, hours=1))  # the warning, so everything is due at once below
    with session_factory() as session:
        before = held(session), len(session.scalars(select(StatusChange)).all()), len(warnings(session_factory))
    proof = purge(session_factory, PSEUDONYMISE_AT, dry_run=True)
    with session_factory() as session:
        assert (held(session), len(session.scalars(select(StatusChange)).all()), len(warnings(session_factory))) == before
    done = purge(session_factory, PSEUDONYMISE_AT)
    assert proof.dry_run and not done.dry_run
    assert (proof.counts, proof.references) == (done.counts, done.references)
    assert proof.counts[PurgeKind.REFERRAL] == 1 and proof.counts[PurgeKind.QUESTION] == 1


def test_a_staff_member_who_goes_on_after_the_warning_keeps_the_draft_and_is_warned_again_next_pause(
    session_factory: sessionmaker[Session],
) -> None:
    live(session_factory)
    purge(session_factory, T0 + timedelta(days=23, hours=1))
    resumed = T0 + timedelta(days=25)
    with session_factory() as session:
        els = session.scalars(select(Conversation)).one().staff
        assert els is not None
    IntakeWorkflow(shared_intake(), session_factory).handle(channel=Channel.TERMINAL, external_id="els", inbound=Inbound.from_text("14/03/2011"), now=resumed)
    assert purge(session_factory, T0 + timedelta(days=31)).counts[PurgeKind.CONVERSATION] == 0
    assert purge(session_factory, resumed + timedelta(days=23, hours=1)).warned == 1
    assert len(warnings(session_factory)) == 2
    assert purge(session_factory, resumed + timedelta(days=30, hours=1)).counts[PurgeKind.CONVERSATION] == 1


def test_the_purge_writes_one_audit_row_of_counts_without_personal_data(session_factory: sessionmaker[Session]) -> None:
    from store.audit import AuditAction, audit_trail

    live(session_factory)
    purge(session_factory, T0 + timedelta(days=23, hours=1))
    purge(session_factory, PSEUDONYMISE_AT, dry_run=True)
    purge(session_factory, PSEUDONYMISE_AT)
    with session_factory() as session:
        rows = [r for r in audit_trail(session) if r.action == AuditAction.PURGED]
    assert [(r.referral_id is None, r.actor) for r in rows] == [(True, "bewaartermijn"), (False, "bewaartermijn"), (True, "bewaartermijn")]
    assert rows[-1].detail is not None and "aanmelding=1" in rows[-1].detail and "vraag=1" in rows[-1].detail
    assert not any(part in (r.detail or "") for r in rows for part in PUPIL)


def test_declined_and_cancelled_referrals_close_too_but_a_running_trajectory_keeps_its_names(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        els = add_staff(session)
        made = {status: make_referral(session, status, staff=els, now=T0).reference for status in (
            Status.DECLINED, Status.CANCELLED, Status.IN_PROGRESS, Status.DISPATCHED)}
    report = purge(session_factory, PSEUDONYMISE_AT + timedelta(days=1000))
    assert report.references[PurgeKind.REFERRAL] == sorted([made[Status.DECLINED], made[Status.CANCELLED]])


def test_audit_rows_go_only_once_older_than_their_period(session_factory: sessionmaker[Session]) -> None:
    from store.audit import AuditAction, audit_trail, record_audit

    old, recent = datetime(2020, 1, 1, tzinfo=UTC), T0 - timedelta(days=1000)  # the database itself refuses younger deletes
    with session_factory.begin() as session:
        for moment in (old, recent):
            record_audit(session, actor="cli:coordinator", action=AuditAction.LIST_READ, now=moment, detail="3 aanmeldingen")
    assert purge(session_factory, T0).counts[PurgeKind.AUDIT] == 1
    with session_factory() as session:
        assert [row.at for row in audit_trail(session) if row.action == AuditAction.LIST_READ] == [recent]
