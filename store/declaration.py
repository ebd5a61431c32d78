"""The joint declaration's signatures: recorded, withdrawn and listed (functions flush, never commit)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.declaration import PartnerKind, Signature, partner_key, signature_order
from store.declaration_models import DeclarationSignature


class AlreadySigned(Exception):
    """The partner has an active signature already; `existing` is that one."""

    def __init__(self, existing: DeclarationSignature) -> None:
        """Keep the signature that was there first."""
        super().__init__(f"signature {existing.id} is active")
        self.existing = existing


def as_signature(row: DeclarationSignature) -> Signature:
    """The value the rest of the application reads, from a stored row."""
    return Signature(kind=row.kind, name=row.name, organization_id=row.organization_id, signed_on=row.signed_on)


def signatures(session: Session) -> list[Signature]:
    """Every recorded, not withdrawn signature: schools, CLBs, providers (the declaration's order), then by name."""
    return sorted((as_signature(row) for row in active_rows(session)), key=signature_order)


def active_rows(session: Session) -> list[DeclarationSignature]:
    """The stored rows of the active signatures, in no particular order."""
    return list(session.scalars(select(DeclarationSignature).where(DeclarationSignature.withdrawn_at.is_(None))))


def active_signature(session: Session, kind: PartnerKind, *, name: str, organization_id: str | None = None) -> DeclarationSignature | None:
    """The partner's active signature, or None (a provider is found by its id, the others by name whatever the case)."""
    key = partner_key(kind, name=name, organization_id=organization_id)
    return session.scalar(select(DeclarationSignature).where(DeclarationSignature.kind == kind, DeclarationSignature.active_key == key))


def last_withdrawn(session: Session, kind: PartnerKind, *, name: str, organization_id: str | None = None) -> DeclarationSignature | None:
    """The partner's most recently withdrawn signature, or None when it never withdrew one."""
    key = partner_key(kind, name=name, organization_id=organization_id)
    rows = session.scalars(
        select(DeclarationSignature)
        .where(DeclarationSignature.kind == kind, DeclarationSignature.withdrawn_at.is_not(None))
        .order_by(DeclarationSignature.withdrawn_at.desc(), DeclarationSignature.id.desc())
    )
    # The key of a withdrawn row is gone (NULL): compare what it would be, in Python; a partner withdraws rarely.
    return next((row for row in rows if partner_key(kind, name=row.name, organization_id=row.organization_id) == key), None)


def record_signature(
    session: Session, *, kind: PartnerKind, name: str, organization_id: str | None, signed_on: date, by: str, now: datetime,
) -> DeclarationSignature:
    """Add an active signature; AlreadySigned when the partner has one (checked first, and by the schema for a race)."""
    _write_transaction(session)
    existing = active_signature(session, kind, name=name, organization_id=organization_id)
    if existing is not None:
        raise AlreadySigned(existing)
    row = DeclarationSignature(
        kind=kind, name=name, organization_id=organization_id if kind is PartnerKind.PROVIDER else None, signed_on=signed_on,
        recorded_by=by, recorded_at=now, active_key=partner_key(kind, name=name, organization_id=organization_id),
    )
    try:
        with session.begin_nested():  # a concurrent signature undoes this row only, not the caller's transaction
            session.add(row)
    except IntegrityError:
        winner = active_signature(session, kind, name=name, organization_id=organization_id)
        if winner is None:
            raise
        raise AlreadySigned(winner) from None
    return row


def _write_transaction(session: Session) -> None:
    """On SQLite, open the transaction now with the write lock (BEGIN IMMEDIATE), unless one is open already.

    pysqlite opens no transaction before the first write, and a SAVEPOINT outside one is a transaction of its
    own that its RELEASE commits: the caller's rollback would then undo nothing. Taking the lock before the
    check also makes the check see every signature committed before it (writers queue on busy_timeout).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not getattr(connection.connection.dbapi_connection, "in_transaction", True):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def withdraw_signature(session: Session, row: DeclarationSignature, *, by: str, now: datetime) -> DeclarationSignature:
    """Mark an active signature withdrawn; the row stays, so the list of who signed and when keeps its history."""
    row.withdrawn_at, row.withdrawn_by, row.active_key = now, by, None
    session.flush()
    return row
