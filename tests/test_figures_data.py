"""The figures rows a referral leaves (SQLite and PostgreSQL): through the real workflow, batches, provider lines and purges.

What the report (issue 15) counts must be exactly what happened: milestones, refusals with their category, holds,
the pupil counted once. And what a copied database or a purge leaves must not lead back to the pupil.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from desk.decisions import Role
from desk.dispatch import run_batch
from desk.retention import Retention
from desk.workflow import IntakeWorkflow
from intake.figures import pupil_key
from intake.lifecycle import Status
from intake.questionnaire import load_questionnaire
from intake.retention import RetentionPeriods
from intake.vocabulary import Mode
from store import figures, referrals
from store.figure_models import DispatchAnswer, FigureProblemArea, ReferralFigures
from store.figure_secret import configured_secret
from store.models import Referral, Staff
from tests.mail_harness import DOMAIN, NOW, shared_intake
from tests.test_decisions import ARKTOS, ELS, INTRO, add_staff, apply, eligible_answers
from tests.test_privacy_rights import rights

S = Status
DAY = timedelta(days=1)
# Answers that name or describe the pupil or a person: none may be in a figures row, whatever the column.
IDENTIFYING = ("pupil_first_name", "pupil_last_name", "pupil_birth_date", "pupil_home_postcode", "referrer_name", "referrer_email",
               "referrer_phone", "help_request", "school_contact_name", "school_contact_email")


def submit(session: Session, answers: dict[str, Any] | None = None, *, now: datetime = NOW) -> Referral:
    """A referral of Els through the real workflow: a draft, then submitted (queued when eligible)."""
    els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
    draft = referrals.create_draft(session, staff_id=els.id, channel="email", mode="full", actor=ELS, now=now)
    IntakeWorkflow(shared_intake(), sessionmaker()).submit_answers(session, draft, answers or eligible_answers(), mode=Mode.FULL,
                                                                  actor=ELS, now=now)
    return draft


def batch(session: Session, now: datetime) -> None:
    """The dispatch batch at now, as the Wednesday and Friday slots run it."""
    run_batch(session, shared_intake(), slot_key=f"test {now.isoformat()}", actor="planning", domain=DOMAIN, coordinator_email=None, now=now)


def row_of(session: Session, referral: Referral) -> dict[str, Any]:
    """The referral's figures row as column values (without its id), and its problem areas."""
    row = figures.figures_of(session, referral.id)
    assert row is not None
    values = {column.name: getattr(row, column.name) for column in ReferralFigures.__table__.columns if column.name != "id"}
    areas = session.scalars(select(FigureProblemArea.problem_area).where(FigureProblemArea.figures_id == row.id))
    return {**values, "problem_areas": sorted(areas)}


def test_a_trajectory_through_the_real_workflow_gives_exactly_its_row(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        reference = referral.reference
        batch(session, NOW + 2 * DAY)
        for days, line in [(3, "aanvaard"), (7, "ronde tafel 14/12/2026"), (15, "gestart"), (40, "afgerond - terug naar school")]:
            (decision,) = apply(session, f"{reference}: {line}", role=Role.PROVIDER, provider=ARKTOS, now=NOW + days * DAY)
            assert decision.applied, decision.message
    with session_factory() as session:
        referral = session.scalars(select(Referral).where(Referral.reference == reference)).one()
        assert row_of(session, referral) == {
            "referral_id": referral.id, "source": "meldpunt", "import_key": None,
            "pupil_key": pupil_key(eligible_answers(), configured_secret()), "pupil_number": 1, "submitted_on": date(2026, 11, 18), "school_year": 2026,
            "status": "completed", "eligible": True, "ineligible_reason": None, "region": "ahv", "municipality": "Halle", "school": "Sint-Jozefscollege",
            "clb": "Vrij CLB Halle", "age": 15, "age_band": "14-15", "school_level": "secundair", "school_grade": "2",
            "education_form": "a-stroom", "urgency": "normaal", "referrer_role": "clb", "desired_form": "individueel",
            "preferred_service": None, "suggested_service": "naft-arktos-ahv", "service": "naft-arktos-ahv", "set_aside": False,
            "coordinator_declined": False, "provider_declines": 0, "no_offer_in_region": False,
            "dispatched_at": NOW + 2 * DAY, "accepted_at": NOW + 3 * DAY, "round_table_at": NOW + 7 * DAY,
            "started_at": NOW + 15 * DAY, "completed_at": NOW + 40 * DAY, "outcome": "terug-naar-school",
            "updated_at": NOW + 40 * DAY, "problem_areas": ["gedrag", "spijbelen"],
        }
        (answer,) = session.scalars(select(DispatchAnswer))
        assert (answer.service_id, answer.accepted, answer.decline_reason, answer.answered_at) == ("naft-arktos-ahv", True, None, NOW + 3 * DAY)


def test_a_refusal_is_counted_with_its_reason_and_the_redirect_goes_on(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        batch(session, NOW + 2 * DAY)
        (refused,) = apply(session, f"{referral.reference}: geweigerd - we zitten volzet tot januari", role=Role.PROVIDER, provider=ARKTOS,
                           now=NOW + 3 * DAY)
        assert refused.applied
        apply(session, f"{referral.reference}: doorverwijzen naar naft-groep-intro-ahv", role=Role.COORDINATOR, now=NOW + 4 * DAY)
        batch(session, NOW + 6 * DAY)
        apply(session, f"{referral.reference}: aanvaard", role=Role.PROVIDER, provider=INTRO, now=NOW + 7 * DAY)
        answers = [(a.service_id, a.accepted, a.decline_reason, a.answered_at) for a in session.scalars(select(DispatchAnswer).order_by(DispatchAnswer.id))]
        assert answers == [("naft-arktos-ahv", False, "volzet", NOW + 3 * DAY), ("naft-groep-intro-ahv", True, None, NOW + 7 * DAY)]
        row = row_of(session, referral)
    assert (row["provider_declines"], row["service"], row["status"]) == (1, "naft-groep-intro-ahv", "accepted")
    assert (row["dispatched_at"], row["accepted_at"]) == (NOW + 2 * DAY, NOW + 7 * DAY), "the first dispatch, the accepting answer"
    assert (row["set_aside"], row["coordinator_declined"]) == (False, False), "a redirect after a refusal is no hold"


def test_a_hold_and_the_coordinator_s_refusal_are_counted(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        apply(session, f"{referral.reference}: vasthouden - eerst het CLB bellen", role=Role.COORDINATOR, now=NOW + DAY)
        apply(session, f"{referral.reference}: weigeren - buiten de doelgroep", role=Role.COORDINATOR, now=NOW + 2 * DAY)
        row = row_of(session, referral)
        assert session.scalars(select(DispatchAnswer)).all() == [], "no provider answered anything"
    assert (row["set_aside"], row["coordinator_declined"], row["provider_declines"], row["status"]) == (True, True, 0, "declined")
    assert row["dispatched_at"] is None and row["service"] is None


def test_no_certain_offer_in_the_region_is_counted(session_factory: sessionmaker[Session]) -> None:
    # A primary school pupil asking for a time-out: nothing the consult is sure of, so it waits for the coordinator.
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session, {**eligible_answers(), "school_level": "basis", "desired_form": "time-out", "school_year": "vijfde leerjaar"})
        row = row_of(session, referral)
    assert referral.status is S.NEEDS_REVIEW
    assert (row["no_offer_in_region"], row["region"], row["school_level"], row["school_grade"]) == (True, "ahv", "basis", "5")


def test_the_same_pupil_twice_is_one_key_another_pupil_another(session_factory: sessionmaker[Session]) -> None:
    other = {**eligible_answers(), "pupil_first_name": "Lotte", "pupil_last_name": "Maes", "pupil_birth_date": "2010-05-02"}
    with session_factory.begin() as session:
        add_staff(session)
        first = row_of(session, submit(session))
        # Later in the year, the same pupil written another way: case, accents and hyphens do not make another pupil.
        again = row_of(session, submit(session, {**eligible_answers(), "pupil_first_name": "ZOE", "pupil_last_name": " peeters "},
                                       now=NOW + 30 * DAY))
        lotte = row_of(session, submit(session, other))
    assert first["pupil_key"] == again["pupil_key"] != lotte["pupil_key"]
    assert first["pupil_number"] == again["pupil_number"] != lotte["pupil_number"]
    assert all(len(row["pupil_key"]) == 64 for row in (first, again, lotte))


def test_no_name_birth_date_or_free_text_in_any_column_and_no_school_readable_without_the_secret(session_factory: sessionmaker[Session]) -> None:
    answers = eligible_answers()
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        batch(session, NOW + 2 * DAY)
        apply(session, f"{referral.reference}: geweigerd - Zoë wil niet komen", role=Role.PROVIDER, provider=ARKTOS, now=NOW + 3 * DAY)
    with session_factory() as session:
        stored = [str(value) for value in row_of(session, referral).values() if value is not None]
        stored += [str(value) for answer in session.scalars(select(DispatchAnswer)) for value in vars(answer).values()]
    for key in IDENTIFYING:
        assert not any(str(answers[key]) in value for value in stored), key
    with session_factory() as session:  # read as a copied file is read: plain SQL, no types of ours, no secret
        raw = " ".join(str(v) for table in ("referral_figures", "referral_figure_problems", "dispatch_answers")
                       for row in session.execute(text(f"SELECT * FROM {table}")) for v in row)
    assert "Sint-Jozefscollege" not in raw and "Peeters" not in raw and "Zo" + "ë" not in raw


def test_pseudonymising_keeps_the_counts_and_drops_the_key(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        batch(session, NOW + 2 * DAY)
        apply(session, f"{referral.reference}: afgerond - terug naar school", role=Role.PROVIDER, provider=ARKTOS, now=NOW + 3 * DAY)
        before = row_of(session, referral)
        Retention(session_factory, periods=RetentionPeriods(), questionnaire=load_questionnaire(), domain=DOMAIN,
                  clock=lambda: NOW).pseudonymise(session, referral, now=NOW + 700 * DAY, actor="bewaartermijn")
    with session_factory() as session:
        after = row_of(session, session.get_one(Referral, referral.id))
    gone = {"pupil_key", "pupil_number", "school", "municipality", "age", "updated_at"}
    assert {k: v for k, v in after.items() if k not in gone} == {k: v for k, v in before.items() if k not in gone}
    assert before["pupil_key"] and before["school"] and before["municipality"] and before["age"] == 15
    assert (after["pupil_key"], after["pupil_number"], after["school"], after["municipality"], after["age"]) == (None, None, None, None, None)
    assert (after["clb"], after["school_grade"], after["region"], after["age_band"]) == ("Vrij CLB Halle", "2", "ahv", "14-15")


def test_an_erased_pupil_leaves_counts_that_lead_nowhere(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral = submit(session)
        reference = referral.reference or ""
    rights(session_factory).erase(reference, reason="vraag van de ouders", actor="cli:coordinator")
    with session_factory.begin() as session:
        referral = session.get_one(Referral, referral.id)
        row = row_of(session, referral)
        # A status change after the erasure updates the same row: the referral is never counted twice.
        referrals.change_status(session, referral, S.CANCELLED, actor="test", now=NOW + DAY)
        assert session.query(ReferralFigures).count() == 1
        later = row_of(session, referral)
    for name in ("pupil_key", "pupil_number", "school", "clb", "municipality", "age", "school_grade"):
        assert row[name] is None and later[name] is None, name
    assert (row["region"], row["age_band"], row["status"], row["problem_areas"]) == ("ahv", "14-15", "queued", ["gedrag", "spijbelen"])
    assert later["status"] == "cancelled"


def test_a_referral_that_is_not_eligible_keeps_why_as_the_first_blocking_rule(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        too_early = submit(session, {**eligible_answers(), "care_phase": "verhoogde-zorg"})
        row = row_of(session, too_early)
        eligible = row_of(session, submit(session))
    assert (row["eligible"], row["ineligible_reason"]) == (False, "fase-te-vroeg")
    assert (eligible["eligible"], eligible["ineligible_reason"]) == (True, None)
