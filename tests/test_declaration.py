"""The joint declaration's signatures in the store and the desk, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.declaration import PartnerKind, Signature, partner_name
from store import declaration as store
from store.db import alembic_config, create_db_engine, upgrade_database
from store.declaration_models import DeclarationSignature

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
BY = "cli:coordinator"
K = PartnerKind


def _record(session: Session, kind: PartnerKind, name: str, organization_id: str | None = None, on: date = date(2018, 2, 1)) -> DeclarationSignature:
    """A recorded signature, committed."""
    row = store.record_signature(session, kind=kind, name=name, organization_id=organization_id, signed_on=on, by=BY, now=NOW)
    session.commit()
    return row


# --- the store ---------------------------------------------------------------------------------


def test_signatures_lists_the_active_ones_schools_then_clbs_then_providers_by_name(session: Session) -> None:
    _record(session, K.PROVIDER, "Profo", "profo", date(2019, 5, 6))
    _record(session, K.CLB, "vrij CLB Halle")
    _record(session, K.SCHOOL_COMMUNITY, "Scholengemeenschap Sint-Jan")
    _record(session, K.PROVIDER, "Arktos", "arktos")
    _record(session, K.CLB, "GO! CLB Leuven")
    assert store.signatures(session) == [
        Signature(kind=K.SCHOOL_COMMUNITY, name="Scholengemeenschap Sint-Jan", signed_on=date(2018, 2, 1)),
        Signature(kind=K.CLB, name="GO! CLB Leuven", signed_on=date(2018, 2, 1)),
        Signature(kind=K.CLB, name="vrij CLB Halle", signed_on=date(2018, 2, 1)),
        Signature(kind=K.PROVIDER, name="Arktos", organization_id="arktos", signed_on=date(2018, 2, 1)),
        Signature(kind=K.PROVIDER, name="Profo", organization_id="profo", signed_on=date(2019, 5, 6)),
    ]


def test_a_partner_signs_once_until_it_withdraws(session: Session) -> None:
    first = _record(session, K.CLB, "Vrij CLB Halle")
    with pytest.raises(store.AlreadySigned) as refused:
        store.record_signature(session, kind=K.CLB, name="vrij  clb HALLE", organization_id=None, signed_on=date(2020, 1, 1), by=BY, now=NOW)
    assert refused.value.existing.id == first.id
    store.withdraw_signature(session, first, by=BY, now=LATER)
    session.commit()
    assert store.signatures(session) == []
    assert store.last_withdrawn(session, K.CLB, name="VRIJ CLB HALLE") is not None
    again = _record(session, K.CLB, "Vrij CLB Halle", on=date(2026, 12, 4))
    assert [s.signed_on for s in store.signatures(session)] == [date(2026, 12, 4)] and again.id != first.id


def test_providers_are_one_partner_per_catalogue_id_whatever_their_recorded_name(session: Session) -> None:
    _record(session, K.PROVIDER, "Arktos", "arktos")
    with pytest.raises(store.AlreadySigned):
        store.record_signature(session, kind=K.PROVIDER, name="Arktos vzw", organization_id="arktos", signed_on=date(2020, 1, 1), by=BY, now=NOW)
    session.rollback()
    _record(session, K.CLB, "Arktos")  # another kind: another partner
    assert len(store.signatures(session)) == 2


def test_the_schema_refuses_a_second_active_signature(session: Session) -> None:
    # Two coordinators at once: the check in code could miss the other's row, the unique constraint cannot.
    _record(session, K.SCHOOL_COMMUNITY, "SG Sint-Jan")
    session.add(DeclarationSignature(kind=K.SCHOOL_COMMUNITY, name="sg sint-jan", signed_on=date(2019, 1, 1), recorded_by=BY,
                                     recorded_at=NOW, active_key="sg sint-jan"))
    with pytest.raises(IntegrityError):
        session.commit()


# --- the migration -----------------------------------------------------------------------------


def test_migration_0018_upgrades_and_downgrades(empty_database_url: str) -> None:
    upgrade_database(empty_database_url, revision="0017")
    engine = create_db_engine(empty_database_url)
    try:
        assert "declaration_signatures" not in inspect(engine).get_table_names()
        upgrade_database(empty_database_url, revision="0018")
        inspector = inspect(engine)
        assert {c["name"] for c in inspector.get_columns("declaration_signatures")} == {
            "id", "kind", "name", "organization_id", "signed_on", "recorded_by", "recorded_at", "withdrawn_at", "withdrawn_by", "active_key"}
        assert [u["column_names"] for u in inspector.get_unique_constraints("declaration_signatures")] == [["kind", "active_key"]]
        command.downgrade(alembic_config(empty_database_url), "0017")
        assert "declaration_signatures" not in inspect(engine).get_table_names()
        upgrade_database(empty_database_url)
        assert "declaration_signatures" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "name"), [
    ("  Vrij CLB   Halle ", "Vrij CLB Halle"),
    ("\x1b]0;gehackt\x07CLB Leuven", "CLB Leuven"),  # a terminal escape would retitle the coordinator's terminal
    ("CLB \u202eneveuL", "CLB neveuL"),  # a bidi override would reverse how the name reads
    ("SG\tSint-Jan\n", "SG Sint-Jan"),
    ("A" * 120, "A" * 120),
    ("A" * 121, None),  # refused, not cut
    ("X", None),
    ("   ", None),
    ("\x1b[31m\x1b[0m", None),
    ("12", None),  # no letter
])
def test_partner_names_are_cleaned_or_refused(typed: str, name: str | None) -> None:
    assert partner_name(typed) == name
