"""The joint declaration's signatures in the store and the desk, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from desk import declaration as desk
from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.declaration import PartnerKind, Signature, partner_name
from store import declaration as store
from store.audit import AuditAction, audit_trail
from store.db import alembic_config, create_db_engine, upgrade_database
from store.declaration_models import DeclarationSignature

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
BY = "cli:coordinator"
K = PartnerKind
CATALOGUE = load_catalogue()


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


def test_recording_commits_nothing_the_caller_rolls_back(session: Session, session_factory: sessionmaker[Session]) -> None:
    # On SQLite a savepoint outside a transaction commits when released: the caller's rollback must still undo it all.
    store.record_signature(session, kind=K.CLB, name="CLB Leuven", organization_id=None, signed_on=date(2018, 1, 8), by=BY, now=NOW)
    with session_factory() as other:
        assert store.signatures(other) == []
    session.rollback()
    assert store.signatures(session) == []


def test_two_coordinators_at_once_get_one_signature_and_one_refusal(session: Session, session_factory: sessionmaker[Session]) -> None:
    # The other coordinator's row is not committed when this one starts; it is committed just as this one takes the
    # write lock (SQLite, where writers queue) or inserts after its check (PostgreSQL, where the unique constraint
    # catches it), by an SQLAlchemy event, no sleeping. Either way: one signature, and "al ondertekend" for the second.
    other = store.record_signature(session, kind=K.CLB, name="CLB Leuven", organization_id=None, signed_on=date(2018, 1, 8), by=BY, now=NOW)
    other_connection = session.connection()

    def commit_the_other_first(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if conn is not other_connection and statement.startswith(("BEGIN IMMEDIATE", "INSERT INTO declaration_signatures")) \
                and session.in_transaction():
            session.commit()

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", commit_the_other_first)
    try:
        with session_factory() as mine, pytest.raises(store.AlreadySigned) as refused:
            store.record_signature(mine, kind=K.CLB, name="clb leuven", organization_id=None, signed_on=date(2019, 1, 1), by=BY, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", commit_the_other_first)
    assert refused.value.existing.id == other.id and refused.value.existing.signed_on == date(2018, 1, 8)
    assert [s.signed_on for s in store.signatures(session)] == [date(2018, 1, 8)]


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


# --- the desk: what the coordinator records --------------------------------------------------------


def _sign(session: Session, kind: PartnerKind, name: str, on: date = date(2018, 3, 1), now: datetime = NOW) -> Signature:
    """Sign through the desk, committed."""
    signature = desk.sign(session, kind=kind, name=name, signed_on=on, by=BY, now=now, catalogue=CATALOGUE)
    session.commit()
    return signature


def _refusal(session: Session, kind: PartnerKind, name: str, on: date = date(2018, 3, 1), *, withdraw: bool = False) -> str:
    """The Dutch sentence the desk refuses with; the transaction is rolled back as the CLI would."""
    with pytest.raises(desk.DeclarationRefused) as refused:
        if withdraw:
            desk.withdraw(session, kind=kind, name=name, by=BY, now=LATER, catalogue=CATALOGUE)
        else:
            desk.sign(session, kind=kind, name=name, signed_on=on, by=BY, now=NOW, catalogue=CATALOGUE)
    session.rollback()
    return str(refused.value)


def _audit(session: Session) -> list[tuple[str, str | None, str]]:
    """(action, detail, actor) of every audit row."""
    return [(entry.action, entry.detail, entry.actor) for entry in audit_trail(session)]


def test_each_kind_signs_and_each_signature_is_audited(session: Session) -> None:
    assert _sign(session, K.SCHOOL_COMMUNITY, " Scholengemeenschap  Sint-Jan ") == Signature(
        kind=K.SCHOOL_COMMUNITY, name="Scholengemeenschap Sint-Jan", signed_on=date(2018, 3, 1))
    assert _sign(session, K.CLB, "Vrij CLB Halle", date(2017, 11, 1)).signed_on == date(2017, 11, 1)  # the declaration's own day
    # A provider by its catalogue id, or by its catalogue name in any case: recorded with the catalogue's name.
    assert _sign(session, K.PROVIDER, "groep-intro").name == "Groep Intro"
    assert _sign(session, K.PROVIDER, "  ARKTOS ") == Signature(kind=K.PROVIDER, name="Arktos", organization_id="arktos",
                                                              signed_on=date(2018, 3, 1))
    assert [(s.kind, s.name) for s in store.signatures(session)] == [
        (K.SCHOOL_COMMUNITY, "Scholengemeenschap Sint-Jan"), (K.CLB, "Vrij CLB Halle"), (K.PROVIDER, "Arktos"), (K.PROVIDER, "Groep Intro")]
    rows = session.scalars(select(DeclarationSignature.id).order_by(DeclarationSignature.id)).all()
    assert _audit(session) == [(str(AuditAction.DECLARATION_SIGNED), f"ondertekening:{number}", BY) for number in rows]


def test_a_second_signature_is_refused_saying_since_when_and_nothing_changes(session: Session) -> None:
    _sign(session, K.PROVIDER, "Profo", date(2019, 5, 6))
    assert _refusal(session, K.PROVIDER, "profo", date(2020, 1, 1)) == (
        '"Profo" (aanbieder) ondertekende de intentieverklaring al op 06/05/2019; er is niets veranderd.')
    _sign(session, K.CLB, "GO! CLB Leuven")
    assert "al op 01/03/2018; er is niets veranderd." in _refusal(session, K.CLB, "go! clb   leuven")
    assert [s.signed_on for s in store.signatures(session)] == [date(2018, 3, 1), date(2019, 5, 6)]
    assert len(_audit(session)) == 2


def test_withdrawn_signatures_disappear_and_withdrawing_twice_changes_nothing(session: Session) -> None:
    _sign(session, K.CLB, "Vrij CLB Halle")
    _sign(session, K.PROVIDER, "Alba")
    withdrawn = desk.withdraw(session, kind=K.CLB, name="VRIJ CLB HALLE", by=BY, now=LATER, catalogue=CATALOGUE)
    session.commit()
    assert withdrawn.name == "Vrij CLB Halle"
    assert [s.name for s in store.signatures(session)] == ["Alba"]
    assert _refusal(session, K.CLB, "Vrij CLB Halle", withdraw=True) == (
        '"Vrij CLB Halle" (CLB) trok de handtekening al in op 04/12/2026 15:00; er is niets veranderd.')
    assert _refusal(session, K.SCHOOL_COMMUNITY, "SG Sint-Jan", withdraw=True) == (
        '"SG Sint-Jan" (scholengemeenschap) heeft de intentieverklaring niet ondertekend; er is niets veranderd.')
    assert [action for action, _, _ in _audit(session)] == ["intentieverklaring-getekend"] * 2 + ["intentieverklaring-ingetrokken"]
    _sign(session, K.CLB, "Vrij CLB Halle", date(2026, 12, 4), now=LATER)  # it may sign again
    assert [s.name for s in store.signatures(session)] == ["Vrij CLB Halle", "Alba"]


def test_an_unknown_provider_is_refused_with_the_known_names(session: Session) -> None:
    refusal = _refusal(session, K.PROVIDER, "Aanbieder X")
    assert refusal.startswith('Er staat geen aanbieder "Aanbieder X" in het aanbod; geef de naam of het kenmerk van een van deze aanbieders: ')
    assert "Alba, Arktos, CIDAR, CVO Volt, Groene Zorg, Groep Intro, Jeugdhulp Don Bosco, Profo, Sporen, Wereld van Indra." in refusal
    assert store.signatures(session) == [] and _audit(session) == []


@pytest.mark.parametrize(("on", "sentence"), [
    (date(2026, 12, 4), "De datum 04/12/2026 ligt in de toekomst (vandaag is het 03/12/2026): geef de dag waarop de partner ondertekende."),
    (date(2017, 10, 31), "De datum 31/10/2017 ligt vóór 01/11/2017, de dag waarop de intentieverklaring opgesteld werd: "
                         "geef de dag waarop de partner ondertekende."),
])
def test_a_date_in_the_future_or_before_the_declaration_is_refused(session: Session, on: date, sentence: str) -> None:
    assert _refusal(session, K.CLB, "CLB Leuven", on) == sentence
    assert store.signatures(session) == []


def test_today_is_the_brussels_date(session: Session) -> None:
    # 23:30 UTC on 3 December is already 4 December in Brussels: signing "today" is allowed.
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert desk.sign(session, kind=K.CLB, name="CLB Leuven", signed_on=date(2026, 12, 4), by=BY, now=late, catalogue=CATALOGUE)


@pytest.mark.parametrize("typed", ["", "  ", "X", "\x1b[2J\x1b[H", "A" * 121])
def test_blank_escape_laden_or_overlong_names_are_refused(session: Session, typed: str) -> None:
    assert _refusal(session, K.SCHOOL_COMMUNITY, typed).startswith("Een naam telt 2 tot 120 tekens, met minstens één letter")


def test_escapes_are_cleaned_from_a_recorded_name(session: Session) -> None:
    assert _sign(session, K.CLB, "\x1b]0;titel\x07CLB \u202eHalle\x1b[0m").name == "CLB Halle"


def test_the_overview_lists_the_providers_that_did_not_sign_yet(session: Session) -> None:
    _sign(session, K.PROVIDER, "arktos")
    _sign(session, K.CLB, "Profo")  # a CLB named like a provider does not sign for the provider
    overview = desk.overview(session, catalogue=CATALOGUE)
    assert [s.name for s in overview.signed] == ["Profo", "Arktos"]
    unsigned = [o.id for o in overview.unsigned]
    assert "arktos" not in unsigned and "profo" in unsigned and len(unsigned) == len(CATALOGUE.organizations) - 1


def test_a_provider_that_left_the_catalogue_can_still_withdraw(session: Session) -> None:
    _sign(session, K.PROVIDER, "Groep Intro")
    smaller = Catalogue(organizations=tuple(o for o in CATALOGUE.organizations if o.id != "groep-intro"),
                        services=tuple(s for s in CATALOGUE.services if s.organization_id != "groep-intro"))
    assert "Groep Intro" in [s.name for s in desk.overview(session, catalogue=smaller).signed]  # still listed as signed
    assert desk.withdraw(session, kind=K.PROVIDER, name="groep-intro", by=BY, now=LATER, catalogue=smaller).name == "Groep Intro"
    session.commit()
    assert store.signatures(session) == []
    with pytest.raises(desk.DeclarationRefused) as refused:  # neither in the catalogue nor signed any more: unknown again
        desk.withdraw(session, kind=K.PROVIDER, name="Groep Intro", by=BY, now=LATER, catalogue=smaller)
    assert str(refused.value).startswith('Er staat geen aanbieder "Groep Intro" in het aanbod')
