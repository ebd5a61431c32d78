"""The store on real databases: each test runs on a SQLite file and on the PostgreSQL server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from intake.lifecycle import CompletionOutcome, InvalidTransition, Status
from store.audit import audit_trail, record_audit
from store.conversations import delete_conversation, get_conversation, save_conversation
from store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    create_db_engine,
    database_revision,
    head_revision,
    upgrade_database,
)
from store.encryption import decrypt
from store.models import Base, Referral
from store.referrals import (
    assign_reference,
    change_status,
    create_draft,
    get_referral,
    get_referral_by_id,
    list_referrals,
    save_answers,
    status_history,
)
from store.staff import StaffExists, add_staff, get_active_staff, list_staff, remove_staff

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
ACTOR = "an.peeters@clb-brussel.be"


def _load(session: Session, referral_id: int) -> Referral:
    """The referral with this id, as this session sees it."""
    referral = session.get(Referral, referral_id)
    assert referral is not None
    return referral


def _draft(session: Session, *, now: datetime = NOW, staff_id: int | None = None) -> Referral:
    """A committed draft referral made through the terminal."""
    referral = create_draft(
        session, staff_id=staff_id, channel="terminal", mode="full", actor=ACTOR, now=now
    )
    session.commit()
    return referral


# --- migrations and engine -------------------------------------------------------------------


def test_migrations_from_empty_to_head_match_the_models(empty_database_url: str) -> None:
    """An empty database migrates to head, and the migrated schema is exactly the models'."""
    assert database_revision(empty_database_url) is None
    upgrade_database(empty_database_url)
    newest = sorted(p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))[-1]
    assert database_revision(empty_database_url) == head_revision() == newest
    engine = create_db_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_downgrade_to_empty_and_up_again(empty_database_url: str) -> None:
    """The first revision's downgrade removes every table; upgrading again works."""
    upgrade_database(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = create_db_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(empty_database_url)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_engine_makes_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    """A SQLite engine creates the file's folder and sets WAL, FULL sync, foreign keys, timeout."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'store.sqlite3'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        # synchronous 2 is FULL
        assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                           "busy_timeout": 5000}
        assert (tmp_path / "a" / "b" / "store.sqlite3").exists()
    finally:
        engine.dispose()


# --- staff -----------------------------------------------------------------------------------


def test_staff_add_list_remove_and_reactivate(session: Session) -> None:
    """Emails are stored lowercase; duplicates refused; removal is soft; re-adding reactivates."""
    an = add_staff(session, email="  An.Peeters@CLB-Brussel.be ", name="An", clb="CLB Brussel",
                   now=NOW)
    add_staff(session, email="bert@clb-leuven.be", name="Bert", clb="CLB Leuven", now=NOW)
    session.commit()
    assert an.email == "an.peeters@clb-brussel.be"
    with pytest.raises(StaffExists):
        add_staff(session, email="AN.PEETERS@clb-brussel.be", name="An", clb="X", now=NOW)
    assert get_active_staff(session, "An.Peeters@clb-brussel.be") is an
    assert [s.email for s in list_staff(session)] == [an.email, "bert@clb-leuven.be"]

    later = NOW + timedelta(days=30)
    assert remove_staff(session, "an.peeters@CLB-brussel.be", now=later) is True
    assert remove_staff(session, "an.peeters@clb-brussel.be", now=later) is False
    session.commit()
    assert get_active_staff(session, an.email) is None
    assert [s.email for s in list_staff(session)] == ["bert@clb-leuven.be"]
    assert len(list_staff(session, include_removed=True)) == 2

    back = add_staff(session, email=an.email, name="An Peeters", clb="CLB Halle", now=later)
    session.commit()
    assert (back.id, back.name, back.clb) == (an.id, "An Peeters", "CLB Halle")
    assert back.active
    assert back.created_at == NOW


def test_removing_unknown_staff_is_false(session: Session) -> None:
    """Removing an address nobody has is not an error."""
    assert remove_staff(session, "niemand@example.test", now=NOW) is False


# --- conversations ---------------------------------------------------------------------------


def test_conversation_save_load_update_delete(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A conversation is inserted once, then updated in place; another session sees each save."""
    staff = add_staff(session, email="an@clb.be", name="An", clb="CLB", now=NOW)
    referral = _draft(session, staff_id=staff.id)
    first = save_conversation(
        session, channel="telegram", external_id="4242", staff_id=staff.id,
        referral_id=referral.id, step="leerling_naam", state={"vraag": "leerling_naam"}, now=NOW,
    )
    session.commit()
    later = NOW + timedelta(minutes=5)
    with session_factory() as other:
        loaded = get_conversation(other, "telegram", "4242")
        assert loaded is not None and loaded.state == {"vraag": "leerling_naam"}
        assert loaded.referral_id == referral.id and loaded.created_at == NOW
        loaded.state["antwoorden"] = {"naam": "Zoë"}  # in place: only a save may persist it
        save_conversation(
            other, channel="telegram", external_id="4242", staff_id=staff.id,
            referral_id=referral.id, step="school", state=loaded.state, now=later,
        )
        other.commit()
    with session_factory() as third:
        updated = get_conversation(third, "telegram", "4242")
        assert updated is not None and updated.id == first.id
        assert (updated.step, updated.created_at, updated.updated_at) == ("school", NOW, later)
        assert updated.state == {"vraag": "leerling_naam", "antwoorden": {"naam": "Zoë"}}
        assert get_conversation(third, "email", "4242") is None
        assert delete_conversation(third, "telegram", "4242") is True
        assert delete_conversation(third, "telegram", "4242") is False
        third.commit()
        assert get_conversation(third, "telegram", "4242") is None
        assert get_referral_by_id(third, referral.id) is not None


def test_conversation_rejects_unknown_channel(session: Session) -> None:
    """Channels are a closed set."""
    with pytest.raises(ValueError):
        save_conversation(session, channel="fax", external_id="1", staff_id=None,
                          referral_id=None, step="start", state={}, now=NOW)


# --- references ------------------------------------------------------------------------------


def test_references_are_sequential_per_year_and_idempotent(session: Session) -> None:
    """Leaving draft numbers referrals MSI-year-0001, 0002…; a new year starts at 0001 again."""
    first, second = _draft(session), _draft(session)
    change_status(session, first, Status.SUBMITTED, actor=ACTOR, now=NOW)
    change_status(session, second, Status.AWAITING_DETAILS, actor=ACTOR, now=NOW)
    session.commit()
    assert (first.reference, second.reference) == ("MSI-2026-0001", "MSI-2026-0002")
    assert assign_reference(session, first, now=NOW + timedelta(days=400)) == "MSI-2026-0001"

    new_year = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    third = _draft(session, now=new_year)
    assert assign_reference(session, third, now=new_year) == "MSI-2027-0001"
    session.commit()
    assert get_referral(session, " msi-2027-0001 ") is third


def test_cancelled_draft_gets_no_reference(session: Session) -> None:
    """Only referrals that leave draft for real use up a number."""
    draft = _draft(session)
    change_status(session, draft, Status.CANCELLED, actor=ACTOR, now=NOW)
    session.commit()
    assert draft.reference is None


def test_reference_numbers_are_gap_free_after_a_rollback(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A number taken in a transaction that rolls back is handed out again."""
    first, second = _draft(session), _draft(session)
    with session_factory() as failing:
        taken = assign_reference(failing, _load(failing, first.id), now=NOW)
        assert taken == "MSI-2026-0001"
        failing.rollback()
    assert assign_reference(session, second, now=NOW) == "MSI-2026-0001"
    session.commit()
    assert assign_reference(session, first, now=NOW) == "MSI-2026-0002"


def _race_for_references(
    session_factory: sessionmaker[Session], referral_ids: list[int], *, roll_back: int
) -> dict[int, str]:
    """Each referral gets its reference in its own thread and session, all starting at once.

    Each writer holds its number a moment before committing, so the others must queue behind it;
    the writer at index roll_back rolls back instead. Returns the committed references.
    """
    barrier = threading.Barrier(len(referral_ids))
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(index: int, referral_id: int) -> None:
        """Take a number, hold it, then commit (or roll back)."""
        try:
            with session_factory() as own:
                barrier.wait(timeout=10)
                reference = assign_reference(own, _load(own, referral_id), now=NOW)
                time.sleep(0.05)
                if index == roll_back:
                    own.rollback()
                    return
                own.commit()
                results[referral_id] = reference
        except BaseException as error:  # re-raised in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(referral_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("seeded", [False, True], ids=["new-year", "counter-exists"])
def test_concurrent_reference_assignment_is_unique_and_consecutive(
    session: Session, session_factory: sessionmaker[Session], seeded: bool
) -> None:
    """Writers racing in their own sessions and threads get distinct, consecutive numbers.

    Raced twice: while the year's counter row does not exist yet (racing inserts) and after it does
    (racing updates). One writer rolls back; its number must go to someone else, leaving no gap.
    """
    first = 1
    if seeded:
        assign_reference(session, _draft(session), now=NOW)
        session.commit()
        first = 2
    ids = [_draft(session).id for _ in range(8)]
    results = _race_for_references(session_factory, ids, roll_back=3)
    expected = [f"MSI-2026-{n:04d}" for n in range(first, first + len(ids) - 1)]
    assert sorted(results.values()) == expected
    session.expire_all()
    stored = {r.id: r.reference for r in list_referrals(session)}
    assert {rid: stored[rid] for rid in results} == results


# --- lifecycle -------------------------------------------------------------------------------


def test_status_history_tells_the_story(session: Session) -> None:
    """A referral's whole life, each step with its actor and note, ending with an outcome."""
    referral = _draft(session)
    steps = [
        (Status.SUBMITTED, ACTOR, None),
        (Status.NEEDS_REVIEW, "systeem", "Leeftijd buiten de doelgroep"),
        (Status.QUEUED, "coördinator", "Goedgekeurd na overleg"),
        (Status.DISPATCHED, "systeem", None),
        (Status.ACCEPTED, "coördinator", None),
        (Status.IN_PROGRESS, "coördinator", None),
    ]
    for minutes, (target, actor, note) in enumerate(steps, start=1):
        change_status(session, referral, target, actor=actor, now=NOW + timedelta(minutes=minutes),
                      note=note)
    done_at = NOW + timedelta(days=60)
    change_status(session, referral, Status.COMPLETED, actor="coördinator", now=done_at,
                  outcome=CompletionOutcome.BACK_TO_SCHOOL)
    session.commit()
    session.expire_all()

    history = status_history(session, referral)
    story = [(c.from_status, c.to_status, c.actor, c.note) for c in history]
    assert story[0] == (None, Status.DRAFT, ACTOR, None)
    assert story[2] == (Status.SUBMITTED, Status.NEEDS_REVIEW, "systeem", steps[1][2])
    assert [s[1] for s in story[1:]] == [s[0] for s in steps] + [Status.COMPLETED]
    assert referral.status is Status.COMPLETED
    assert referral.outcome is CompletionOutcome.BACK_TO_SCHOOL
    assert (referral.submitted_at, referral.updated_at) == (NOW + timedelta(minutes=1), done_at)


def test_invalid_transition_raises_and_changes_nothing(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A transition the lifecycle forbids raises InvalidTransition and leaves no trace."""
    referral = _draft(session)
    with pytest.raises(InvalidTransition):
        change_status(session, referral, Status.DISPATCHED, actor=ACTOR, now=NOW)
    session.commit()
    with session_factory() as other:
        fresh = other.get(Referral, referral.id)
        assert fresh is not None and fresh.status is Status.DRAFT and fresh.reference is None
        assert len(status_history(other, fresh)) == 1
        assert [a.action for a in audit_trail(other, referral_id=referral.id)] == ["aangemaakt"]


def test_completion_requires_an_outcome_and_only_completion_has_one(session: Session) -> None:
    """Completing without an outcome, or giving one to another status, is refused."""
    referral = _draft(session)
    for target in (Status.SUBMITTED, Status.QUEUED, Status.DISPATCHED, Status.ACCEPTED,
                   Status.IN_PROGRESS):
        change_status(session, referral, target, actor="coördinator", now=NOW)
    with pytest.raises(ValueError):
        change_status(session, referral, Status.COMPLETED, actor="coördinator", now=NOW)
    with pytest.raises(ValueError):
        change_status(session, referral, Status.CANCELLED, actor="coördinator", now=NOW,
                      outcome=CompletionOutcome.HAND_OVER)
    assert referral.status is Status.IN_PROGRESS and referral.outcome is None
    change_status(session, referral, Status.COMPLETED, actor="coördinator", now=NOW,
                  outcome=CompletionOutcome.HAND_OVER)
    with pytest.raises(InvalidTransition):
        change_status(session, referral, Status.CANCELLED, actor="coördinator", now=NOW)


def test_concurrent_status_changes_cannot_overwrite_each_other(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Two writers start from the same draft: the second one's change is refused, not lost."""
    referral = _draft(session)
    with session_factory() as first, session_factory() as second:
        mine, theirs = _load(first, referral.id), _load(second, referral.id)
        change_status(first, mine, Status.SUBMITTED, actor=ACTOR, now=NOW)
        first.commit()
        with pytest.raises(StaleDataError):
            change_status(second, theirs, Status.CANCELLED, actor="coördinator", now=NOW)
        second.rollback()
    session.expire_all()
    assert _load(session, referral.id).status is Status.SUBMITTED


def test_list_referrals_newest_first_with_filters(session: Session) -> None:
    """Listing is newest first, and filters by status and by staff member."""
    an = add_staff(session, email="an@clb.be", name="An", clb="CLB", now=NOW)
    old = _draft(session, now=NOW, staff_id=an.id)
    mid = _draft(session, now=NOW + timedelta(hours=1))
    new = _draft(session, now=NOW + timedelta(hours=2), staff_id=an.id)
    change_status(session, mid, Status.SUBMITTED, actor=ACTOR, now=NOW + timedelta(hours=3))
    session.commit()
    assert list_referrals(session) == [new, mid, old]
    assert list_referrals(session, status=Status.DRAFT) == [new, old]
    assert list_referrals(session, staff_id=an.id) == [new, old]
    assert list_referrals(session, status=Status.SUBMITTED, staff_id=an.id) == []


# --- audit, time, JSON -----------------------------------------------------------------------


def test_audit_rows_are_written(session: Session) -> None:
    """Creation, status changes and explicit reads all leave an audit row."""
    referral = _draft(session)
    change_status(session, referral, Status.SUBMITTED, actor=ACTOR, now=NOW + timedelta(minutes=1))
    record_audit(session, actor="coördinator", action="gelezen", now=NOW + timedelta(minutes=2),
                 referral_id=referral.id)
    record_audit(session, actor="systeem", action="verzonden", now=NOW + timedelta(minutes=3))
    session.commit()
    rows = [(a.actor, a.action, a.referral_id, a.detail) for a in audit_trail(session)]
    assert rows == [
        (ACTOR, "aangemaakt", referral.id, None),
        (ACTOR, "status", referral.id, "draft -> submitted"),
        ("coördinator", "gelezen", referral.id, None),
        ("systeem", "verzonden", None, None),
    ]
    assert len(audit_trail(session, referral_id=referral.id)) == 3


def test_datetimes_come_back_timezone_aware_utc(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A Brussels time is stored as the same instant and read back as aware UTC."""
    local = datetime(2026, 7, 1, 14, 0, tzinfo=BRUSSELS)  # summer time: 12:00 UTC
    staff = add_staff(session, email="an@clb.be", name="An", clb="CLB", now=local)
    session.commit()
    with session_factory() as other:
        loaded = get_active_staff(other, "an@clb.be")
        assert loaded is not None and loaded.id == staff.id
        assert loaded.created_at.tzinfo is UTC
        assert loaded.created_at == datetime(2026, 7, 1, 12, 0, tzinfo=UTC) == local


def test_naive_datetimes_are_refused(session: Session) -> None:
    """A naive datetime is ambiguous, so writing one fails instead of guessing."""
    with pytest.raises(StatementError, match="naive datetime"):
        add_staff(session, email="an@clb.be", name="An", clb="CLB", now=datetime(2026, 3, 2, 9, 30))


def test_json_answers_round_trip_with_dutch_text(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Answers keep non-ASCII text, nesting and types; absent JSON values are SQL NULL."""
    answers = {
        "leerling_voornaam": "Zoë",
        "opmerking": "één leerling, café-uitbater, coördinator",
        "probleemgebieden": ["spijbelen", "gedrag"],
        "leeftijd": 15,
        "akkoord": True,
        "school": {"naam": "Sint-Jozefscollege", "postcode": 1500},
    }
    referral = _draft(session)
    save_answers(session, referral, answers, now=NOW)
    session.commit()
    answers["leeftijd"] = 99  # the stored copy must not follow the caller's dict
    with session_factory() as other:
        loaded = other.get(Referral, referral.id)
        assert loaded is not None
        assert loaded.answers["leeftijd"] == 15 and loaded.answers["leerling_voornaam"] == "Zoë"
        assert loaded.answers["school"] == {"naam": "Sint-Jozefscollege", "postcode": 1500}
        raw = other.execute(
            text("SELECT CAST(answers AS TEXT), eligibility IS NULL FROM referrals WHERE id = :id"),
            {"id": referral.id},
        ).one()
        assert "Zoë" not in raw[0]  # encrypted at rest (store.encryption) ...
        plain = decrypt(raw[0].encode("ascii")).decode("utf-8")
        assert "Zoë" in plain and "één" in plain  # ... over readable JSON, not \u escapes
        assert raw[1] is True or raw[1] == 1


def test_database_errors_do_not_list_the_statement_parameters(database_url: str) -> None:
    """A failing statement's message (which ends up in logs) leaves out the values it was given."""
    from sqlalchemy.exc import IntegrityError

    from store.models import Staff

    engine = create_db_engine(database_url)
    now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
        insert = Staff.__table__.insert()
        row = {"email": "zoe.peeters@school.example", "name": "Zoë Peeters", "clb": "CLB", "created_at": now}
        connection.execute(insert, [row, row])
    assert "SQL parameters hidden" in str(failed.value) and "Zoë Peeters" not in str(failed.value)
