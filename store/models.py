"""SQLAlchemy tables of the store: staff, conversations, referrals, history, audit and counters.

JSON columns are plain `sqlalchemy.JSON` or store.encryption.EncryptedJSON (no `MutableDict`): in-place changes to a loaded dict are
NOT tracked. Always assign a new value, or go through the repository functions (`save_conversation`,
`save_answers`), which store a deep copy and flag the column as modified.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from intake.lifecycle import CompletionOutcome, Status
from intake.vocabulary import Channel, Mode
from store.encryption import EncryptedJSON

E = TypeVar("E", bound=StrEnum)

# Closed sets kept as plain strings in the tables; the repository functions check against them.
CHANNELS = frozenset(Channel)
MODES = frozenset({Mode.FULL, Mode.MINIMAL})  # a referral is full or minimal; details and advice are conversations

# Named constraints: Alembic's SQLite batch mode can only drop or alter constraints that have names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC; a naive one is ambiguous, so refuse it."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark the stored naive UTC value as UTC again."""
        return None if value is None else value.replace(tzinfo=UTC)


class EnumValue(TypeDecorator[E]):
    """A StrEnum member stored as its value in a plain VARCHAR: new members need no migration."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_class: type[E]) -> None:
        """Remember which enum to rebuild values into."""
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """Store the value; a stray string must still be a valid member."""
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """Turn the stored string back into the enum member."""
        return None if value is None else self.enum_class(value)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_email(email: str) -> str:
    """The canonical form of an email address: trimmed and lowercase."""
    return email.strip().lower()


class Staff(Base):
    """A CLB staff member allowed to refer; removal is soft so history keeps its author."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    clb: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @validates("email")
    def _normalise_email(self, key: str, email: str) -> str:
        """Keep emails lowercase whoever sets them, so lookups and uniqueness agree."""
        return normalise_email(email)

    @property
    def active(self) -> bool:
        """Whether this staff member may still use the assistant."""
        return self.removed_at is None


class Referral(Base):
    """A referral (aanmelding) from draft to completion; `answers` holds the questionnaire's."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[Status] = mapped_column(EnumValue(Status), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # Encrypted at rest (store.encryption): names, birth dates and free texts; never filtered on in SQL.
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    # none_as_null: Python None must be SQL NULL here, not the JSON literal 'null'.
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    suggestions: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    assigned_service_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[CompletionOutcome | None] = mapped_column(EnumValue(CompletionOutcome))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    # When the retention purge replaced its identifying answers (desk/retention.py); None while they are kept.
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Optimistic locking: every UPDATE checks the version it read, so two writers (a coordinator
    # and the dispatch runner, two channels on one draft) cannot silently overwrite each other;
    # the loser's flush raises sqlalchemy.orm.exc.StaleDataError.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — SQLAlchemy reads it as is

    staff: Mapped[Staff | None] = relationship()


class Conversation(Base):
    """One person's dialogue on one channel, saved after every step so it can resume anywhere."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(254))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    step: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())  # holds the answers so far: encrypted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When its staff member was told it will be removed (once per pause: a later step makes updated_at newer).
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    staff: Mapped[Staff | None] = relationship()
    referral: Mapped[Referral | None] = relationship()


class StatusChange(Base):
    """One step in a referral's life: who moved it from which status to which, and why."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(254))
    from_status: Mapped[Status | None] = mapped_column(EnumValue(Status))
    to_status: Mapped[Status] = mapped_column(EnumValue(Status))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what, when (GDPR accountability); `detail` never holds personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    # How and why it was seen (store.audit.AuditChannel, AuditPurpose); NULL in rows older than migration 0009.
    channel: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(32))


class ReferenceCounter(Base):
    """The last reference number handed out per year (MSI-{year}-{number})."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)
