"""Decisions on referrals in the store (SQLite and PostgreSQL): lifecycle table, ownership, history, referrer mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from desk.decisions import Decision, Role, apply_actions
from desk.workflow import IntakeWorkflow, staff_prefill
from intake.actions import parse_actions
from intake.lifecycle import CompletionOutcome, Status
from intake.messages import Inbound
from intake.vocabulary import Mode
from intake.workhours import local_day
from store import referrals
from store import staff as staff_repo
from store.dispatch_models import DispatchBatch, DispatchItem
from store.mail_models import OutboxMessage
from store.models import Referral, Staff
from tests.mail_harness import DOMAIN, NOW, shared_intake
from tests.test_workflow import FULL

S = Status
ELS = "els.janssens@vrijclbhalle.be"
JAN = "jan.peeters@clb-leuven.be"
ARKTOS = "aanmeldingen@arktos.example"  # dispatch address of naft-arktos-ahv and naft-arktos-oost
INTRO = "aanmeldingen@groepintro.example"  # dispatch address of naft-groep-intro-ahv
COORDINATOR_ACTOR = "coordinator@provincie-vlaamsbrabant.example"
# From QUEUED to each status, the way the lifecycle goes there.
_WAY: dict[Status, tuple[Status, ...]] = {
    S.QUEUED: (), S.NEEDS_REVIEW: (S.NEEDS_REVIEW,), S.CANCELLED: (S.CANCELLED,),
    S.DISPATCHED: (S.DISPATCHED,), S.DECLINED: (S.DISPATCHED, S.DECLINED),
    S.ACCEPTED: (S.DISPATCHED, S.ACCEPTED), S.ROUND_TABLE_PLANNED: (S.DISPATCHED, S.ACCEPTED, S.ROUND_TABLE_PLANNED),
    S.IN_PROGRESS: (S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS),
    S.COMPLETED: (S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED),
}


# --- helpers (also used by the mail and command-line tests) ----------------------------------------


@lru_cache(maxsize=1)
def eligible_answers() -> dict[str, Any]:
    """A full, eligible set of answers (a pupil Zoë Peeters in Halle), from the pure dialogue engine."""
    intake = shared_intake()
    prefill = staff_prefill(Staff(email=ELS, name="Els Janssens", clb="Vrij CLB Halle"))
    state, _ = intake.start(mode=Mode.FULL, now=NOW, prefill=prefill)
    for line in FULL[:-1]:  # up to the summary; "bevestig" would only end the conversation
        state, _ = intake.step(state, Inbound.from_text(line), now=NOW)
    assert state.answers["school_postcode"] == "1500"
    return dict(state.answers)


def add_staff(session: Session, email: str = ELS, name: str = "Els Janssens") -> Staff:
    """Register a CLB staff member."""
    return staff_repo.add_staff(session, email=email, name=name, clb="Vrij CLB", now=NOW)


def make_referral(
    session: Session, status: Status, *, staff: Staff | None, provider: str = ARKTOS, service_id: str = "naft-arktos-ahv",
    answers: dict[str, Any] | None = None, now: datetime = NOW,
) -> Referral:
    """A referral submitted through the real workflow (so queued), then moved on to status.

    Dispatching adds a batch and an item with the provider's address, as the dispatch run does.
    """
    referral = referrals.create_draft(session, staff_id=staff.id if staff else None, channel="email", mode="full", actor=ELS, now=now)
    IntakeWorkflow(shared_intake(), sessionmaker()).submit_answers(
        session, referral, answers or eligible_answers(), mode=Mode.FULL, actor=ELS, now=now,
    )
    assert referral.status is S.QUEUED
    for step in _WAY[status]:
        if step is S.DISPATCHED:
            dispatch(session, referral, provider=provider, service_id=service_id, now=now)
            continue
        outcome = CompletionOutcome.BACK_TO_SCHOOL if step is S.COMPLETED else None
        referrals.change_status(session, referral, step, actor="test", now=now, outcome=outcome)
    return referral


def dispatch(session: Session, referral: Referral, *, provider: str, service_id: str, now: datetime) -> None:
    """Move a queued referral to dispatched and record which provider got it."""
    batch = DispatchBatch(slot_key=f"test {referral.id} {service_id}", started_at=now, actor="systeem", referrals=1, mails=1)
    session.add(batch)
    session.flush()
    session.add(DispatchItem(batch_id=batch.id, referral_id=referral.id, service_id=service_id, provider_address=provider.lower(), dispatched_at=now))
    referrals.change_status(session, referral, S.DISPATCHED, actor="systeem", now=now)


def apply(session: Session, text: str, *, role: Role, provider: str | None = None, now: datetime = NOW) -> list[Decision]:
    """Parse lines and apply them; every line must parse."""
    actions, problems = parse_actions(text, today=local_day(now))
    assert not problems, problems
    actor = provider if role is Role.PROVIDER else COORDINATOR_ACTOR
    return apply_actions(session, actions, role=role, actor=actor or "", intake=shared_intake(), domain=DOMAIN, now=now, provider_address=provider)


def notices(session: Session) -> list[OutboxMessage]:
    """The mails queued for referrers, oldest first."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "terugkoppeling").order_by(OutboxMessage.id)))


@pytest.fixture
def session_with_staff(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session with Els registered; the test commits or not as it likes."""
    session = session_factory()
    add_staff(session)
    session.flush()
    yield session
    session.close()


# --- the lifecycle table ----------------------------------------------------------------------------

P, C = Role.PROVIDER, Role.COORDINATOR
# role, status before, what is written, applied, status after, statuses added to the history, in the message
TABLE: list[tuple[Role, Status, str, bool, Status, tuple[Status, ...], str]] = [
    (P, S.DISPATCHED, "aanvaard", True, S.ACCEPTED, (S.ACCEPTED,), "staat nu op 'Aanvaard door de aanbieder'"),
    (P, S.DISPATCHED, "geweigerd - geen plaats", True, S.DECLINED, (S.DECLINED,), "staat nu op 'Geweigerd'"),
    (P, S.DISPATCHED, "ronde tafel 14/01/2027", True, S.ROUND_TABLE_PLANNED, (S.ACCEPTED, S.ROUND_TABLE_PLANNED), "Ronde tafel gepland"),
    (P, S.DISPATCHED, "gestart", True, S.IN_PROGRESS, (S.ACCEPTED, S.IN_PROGRESS), "Traject loopt"),
    (P, S.ACCEPTED, "ronde tafel 07/01/2027", True, S.ROUND_TABLE_PLANNED, (S.ROUND_TABLE_PLANNED,), "Ronde tafel gepland"),
    (P, S.ACCEPTED, "gestart", True, S.IN_PROGRESS, (S.IN_PROGRESS,), "Traject loopt"),
    (P, S.ROUND_TABLE_PLANNED, "gestart", True, S.IN_PROGRESS, (S.IN_PROGRESS,), "Traject loopt"),
    (P, S.ROUND_TABLE_PLANNED, "ronde tafel 21/01/2027", True, S.ROUND_TABLE_PLANNED, (S.ROUND_TABLE_PLANNED,), "genoteerd"),
    (P, S.ROUND_TABLE_PLANNED, "afgerond - terug naar school", True, S.COMPLETED, (S.COMPLETED,), "staat nu op 'Afgerond'"),
    (P, S.IN_PROGRESS, "afgerond - overdracht", True, S.COMPLETED, (S.COMPLETED,), "staat nu op 'Afgerond'"),
    (P, S.COMPLETED, "gestart", False, S.COMPLETED, (), "staat op 'Afgerond'; 'gestart' kan dan niet meer."),
    (P, S.DISPATCHED, "afgerond - terug naar school", False, S.DISPATCHED, (), "'afgerond' kan nog niet."),
    (P, S.ACCEPTED, "aanvaard", False, S.ACCEPTED, (), "staat al op 'Aanvaard door de aanbieder'"),
    (P, S.ACCEPTED, "geweigerd - toch geen plaats", False, S.ACCEPTED, (), "'geweigerd' kan dan niet meer."),
    (P, S.DISPATCHED, "goedkeuren", False, S.DISPATCHED, (), "kan enkel de coördinator"),
    (P, S.CANCELLED, "aanvaard", False, S.CANCELLED, (), "niet naar jullie verzonden"),
    (C, S.NEEDS_REVIEW, "goedkeuren", True, S.QUEUED, (S.QUEUED,), "staat nu op 'Klaar voor verzending'"),
    (C, S.QUEUED, "goedkeuren", False, S.QUEUED, (), "staat al op 'Klaar voor verzending'"),
    (C, S.QUEUED, "vasthouden - eerst het CLB bellen", True, S.NEEDS_REVIEW, (S.NEEDS_REVIEW,), "Wacht op de coördinator"),
    (C, S.NEEDS_REVIEW, "vasthouden - nog geen antwoord", True, S.NEEDS_REVIEW, (S.NEEDS_REVIEW,), "genoteerd"),
    (C, S.QUEUED, "weigeren - buiten de doelgroep", True, S.DECLINED, (S.NEEDS_REVIEW, S.DECLINED), "staat nu op 'Geweigerd'"),
    (C, S.NEEDS_REVIEW, "weigeren - buiten de doelgroep", True, S.DECLINED, (S.DECLINED,), "staat nu op 'Geweigerd'"),
    (C, S.DECLINED, "doorverwijzen naar naft-groep-intro-ahv", True, S.QUEUED, (S.NEEDS_REVIEW, S.QUEUED), "doorverwezen naar NAFT-traject Groep Intro"),
    (C, S.NEEDS_REVIEW, "doorverwijzen naar Wereld van Indra", True, S.QUEUED, (S.QUEUED,), "doorverwezen naar Wereld van Indra"),
    (C, S.QUEUED, "doorverwijzen naar arktos-oost", True, S.QUEUED, (S.QUEUED,), "doorverwezen naar NAFT-traject Arktos (Vlaams-Brabant Oost)"),
    (C, S.QUEUED, "doorverwijzen naar nergens-bekend", False, S.QUEUED, (), "geen aanbod 'nergens-bekend'"),
    (C, S.QUEUED, "doorverwijzen naar arktos", False, S.QUEUED, (), "naft-arktos-ahv, naft-arktos-oost"),
    (C, S.QUEUED, "doorverwijzen naar Groene Zorg", False, S.QUEUED, (), "rechtstreeks"),
    (C, S.DECLINED, "doorverwijzen naar naft-arktos-ahv", False, S.DECLINED, (), "al eens naar NAFT-traject Arktos (Asse-Halle-Vilvoorde)"),
    (C, S.DISPATCHED, "doorverwijzen naar naft-groep-intro-ahv", False, S.DISPATCHED, (), "'doorverwijzen' kan dan niet meer."),
    (C, S.DISPATCHED, "goedkeuren", False, S.DISPATCHED, (), "'goedkeuren' kan dan niet meer."),
    (C, S.DISPATCHED, "gestart", True, S.IN_PROGRESS, (S.ACCEPTED, S.IN_PROGRESS), "Traject loopt"),
    (C, S.CANCELLED, "vasthouden - x", False, S.CANCELLED, (), "kan dan niet meer"),
]


def test_every_line_follows_the_lifecycle_with_its_conveniences(session_with_staff: Session) -> None:
    session = session_with_staff
    staff = session.scalars(select(Staff)).one()
    for role, before, rest, applied, after, added, said in TABLE:
        referral = make_referral(session, before, staff=staff)
        history_before = len(referrals.status_history(session, referral))
        provider = ARKTOS if role is Role.PROVIDER else None
        (decision,) = apply(session, f"{referral.reference}: {rest}", role=role, provider=provider, now=NOW + timedelta(hours=1))
        case = f"{role.value} {before.value} '{rest}': {decision.message}"
        assert decision.applied is applied, case
        assert said in decision.message, case
        assert decision.reference == referral.reference and decision.line == f"{referral.reference}: {rest}"
        session.refresh(referral)
        assert referral.status is after, case
        history = referrals.status_history(session, referral)[history_before:]
        assert tuple(change.to_status for change in history) == added, case


def test_history_rows_carry_actor_time_note_and_outcome(session_with_staff: Session) -> None:
    session = session_with_staff
    staff = session.scalars(select(Staff)).one()
    referral = make_referral(session, S.DISPATCHED, staff=staff)
    later = NOW + timedelta(days=2)
    apply(session, f"{referral.reference}: ronde tafel 14/01/2027", role=Role.PROVIDER, provider=ARKTOS.upper(), now=later)
    apply(session, f"{referral.reference}: afgerond - ander onderwijs", role=Role.PROVIDER, provider=ARKTOS.upper(), now=later)
    accepted, planned, completed = referrals.status_history(session, referral)[-3:]
    assert (accepted.from_status, accepted.to_status, accepted.note) == (S.DISPATCHED, S.ACCEPTED, None)
    assert (planned.to_status, planned.note) == (S.ROUND_TABLE_PLANNED, "ronde tafel op 14/01/2027")
    assert completed.note == "ander onderwijs" and referral.outcome is CompletionOutcome.OTHER_EDUCATION
    assert {c.actor for c in (accepted, planned, completed)} == {ARKTOS.upper()}
    assert {c.at for c in (accepted, planned, completed)} == {later}


def test_a_provider_acts_only_on_referrals_it_has(session_with_staff: Session) -> None:
    session = session_with_staff
    staff = session.scalars(select(Staff)).one()
    theirs = make_referral(session, S.DISPATCHED, staff=staff, provider=INTRO, service_id="naft-groep-intro-ahv")
    text = f"{theirs.reference}: aanvaard\nMSI-2026-9999: aanvaard"
    foreign, unknown = apply(session, text, role=Role.PROVIDER, provider=ARKTOS)
    assert not foreign.applied and not unknown.applied
    # The same words for a referral of someone else and one that does not exist: nothing to learn.
    assert foreign.message.replace(theirs.reference, "X") == unknown.message.replace("MSI-2026-9999", "X")
    assert "niet naar jullie verzonden" in foreign.message
    assert theirs.status is S.DISPATCHED and notices(session) == []
    (own,) = apply(session, f"{theirs.reference}: aanvaard", role=Role.PROVIDER, provider=INTRO)
    assert own.applied


def test_after_a_redirect_the_first_provider_no_longer_decides(session_with_staff: Session) -> None:
    session = session_with_staff
    staff = session.scalars(select(Staff)).one()
    referral = make_referral(session, S.DECLINED, staff=staff)
    (redirect,) = apply(session, f"{referral.reference}: doorverwijzen naar naft-groep-intro-ahv", role=Role.COORDINATOR)
    assert redirect.applied and referral.assigned_service_id == "naft-groep-intro-ahv"
    dispatch(session, referral, provider=INTRO, service_id="naft-groep-intro-ahv", now=NOW + timedelta(days=2))
    (late,) = apply(session, f"{referral.reference}: aanvaard", role=Role.PROVIDER, provider=ARKTOS, now=NOW + timedelta(days=3))
    assert not late.applied and "niet meer bij jullie" in late.message, "the provider that had it is told it moved on"
    (right,) = apply(session, f"{referral.reference}: aanvaard", role=Role.PROVIDER, provider=INTRO, now=NOW + timedelta(days=3))
    assert right.applied and referral.status is S.ACCEPTED


def test_unknown_reference_for_the_coordinator(session_with_staff: Session) -> None:
    (decision,) = apply(session_with_staff, "MSI-2026-9999: goedkeuren", role=Role.COORDINATOR)
    assert not decision.applied and decision.message == "MSI-2026-9999: onbekende referentie."


def test_a_correction_re_evaluates_and_keeps_the_value_out_of_the_history(session_with_staff: Session) -> None:
    session = session_with_staff
    staff = session.scalars(select(Staff)).one()
    referral = make_referral(session, S.QUEUED, staff=staff)
    assert referral.eligibility["outcome"] == "eligible"
    (decision,) = apply(session, f"{referral.reference}: corrigeer Postcode school = 1000", role=Role.COORDINATOR)
    assert decision.applied and "'Postcode school' is gecorrigeerd" in decision.message
    assert referral.answers["school_postcode"] == "1000" and referral.status is S.QUEUED
    assert referral.eligibility["outcome"] != "eligible", "Brussels is outside the Meldpunt's area"
    last = referrals.status_history(session, referral)[-1]
    assert (last.from_status, last.to_status) == (S.QUEUED, S.QUEUED)
    assert "Postcode school" in last.note and "1000" not in last.note
    assert notices(session) == [], "a correction is not news for the referrer"

    (wrong,) = apply(session, f"{referral.reference}: corrigeer school_postcode = 15", role=Role.COORDINATOR)
    assert not wrong.applied and "4 cijfers" in wrong.message and referral.answers["school_postcode"] == "1000"
    (nothing,) = apply(session, f"{referral.reference}: corrigeer Lievelingskleur = blauw", role=Role.COORDINATOR)
    assert not nothing.applied and "geen vraag 'Lievelingskleur'" in nothing.message
    sent = make_referral(session, S.DISPATCHED, staff=staff)
    (late,) = apply(session, f"{sent.reference}: corrigeer Postcode school = 1000", role=Role.COORDINATOR)
    assert not late.applied and "vóór de verzending" in late.message and sent.answers["school_postcode"] == "1500"


def test_each_referrer_gets_one_mail_listing_their_changes(session_with_staff: Session) -> None:
    session = session_with_staff
    els = session.scalars(select(Staff)).one()
    jan = add_staff(session, JAN, "Jan Peeters")
    first, second = (make_referral(session, S.DISPATCHED, staff=els) for _ in range(2))
    jans = make_referral(session, S.DISPATCHED, staff=jan)
    unregistered = make_referral(session, S.DISPATCHED, staff=None, answers={**eligible_answers(), "referrer_email": "iemand@clb-diest.be"})
    untouched = make_referral(session, S.COMPLETED, staff=els)
    text = "\n".join([
        f"{first.reference}: aanvaard", f"{second.reference}: geweigerd - Zoë heeft al begeleiding",
        f"{jans.reference}: gestart", f"{unregistered.reference}: aanvaard", f"{untouched.reference}: gestart",
    ])
    decisions = apply(session, text, role=Role.PROVIDER, provider=ARKTOS)
    assert [d.applied for d in decisions] == [True, True, True, True, False]
    mails = {m.to_address: m for m in notices(session)}
    assert sorted(mails) == sorted([ELS, JAN, "iemand@clb-diest.be"])
    to_els = mails[ELS].body_text
    assert first.reference in to_els and "Aanvaard door de aanbieder" in to_els
    assert second.reference in to_els and "Geweigerd (de aanbieder: [naam] heeft al begeleiding)" in to_els
    assert untouched.reference not in to_els and jans.reference not in to_els
    assert "Zoë" not in to_els and "Peeters" not in to_els and "Zoë" not in mails[ELS].body_html
    assert mails[ELS].referral_id is None and mails[JAN].referral_id == jans.id
    assert referrals.status_history(session, second)[-1].note == "[naam] heeft al begeleiding", "no pupil names in the history"


def test_a_concurrent_change_leaves_nothing_half_done(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        staff = add_staff(session)
        reference = make_referral(session, S.DISPATCHED, staff=staff).reference
    with session_factory() as mine:
        referral = referrals.get_referral(mine, reference)  # read before the other one writes
        assert referral is not None and referral.status is S.DISPATCHED
        with session_factory.begin() as theirs:
            other = referrals.get_referral(theirs, reference)
            referrals.change_status(theirs, other, S.CANCELLED, actor="iemand anders", now=NOW)
        with pytest.raises(StaleDataError):
            apply(mine, f"{reference}: gestart", role=Role.PROVIDER, provider=ARKTOS)
        mine.rollback()
    with session_factory() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is S.CANCELLED
        assert [c.to_status for c in referrals.status_history(session, referral)][-2:] == [S.DISPATCHED, S.CANCELLED]
        assert notices(session) == []


def test_a_provider_role_needs_its_address(session_with_staff: Session) -> None:
    with pytest.raises(ValueError):
        apply_actions(session_with_staff, [], role=Role.PROVIDER, actor="x", intake=shared_intake(), domain=DOMAIN, now=NOW)

