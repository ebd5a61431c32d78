"""SQLAlchemy tables of dispatch: batches, which referral went to which provider, catalogue changes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.mail_models import ADDRESS_LENGTH
from store.models import Base, EnumValue, UTCDateTime


class ChangeStatus(StrEnum):
    """Where a provider's proposed catalogue change is: pending → approved | rejected."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DispatchBatch(Base):
    """One batch: a scheduled slot (named by its nominal moment, so it runs once) or a manual run."""

    __tablename__ = "dispatch_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "2026-12-02 09:00" for the Wednesday slot, "handmatig 2026-12-02T10:15:00" for `dispatch --now`.
    slot_key: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    referrals: Mapped[int] = mapped_column(Integer)
    mails: Mapped[int] = mapped_column(Integer)


class DispatchItem(Base):
    """One referral sent to one provider in one batch; the provider's reminders hang on it too."""

    __tablename__ = "dispatch_items"
    # A referral goes to a service once; a redirect after a refusal goes to another one.
    __table_args__ = (UniqueConstraint("referral_id", "service_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("dispatch_batches.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    provider_address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CatalogueChange(Base):
    """A provider's proposed change to one service; applied over the catalogue file once approved."""

    __tablename__ = "catalogue_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    submitted_by: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    old: Mapped[dict[str, Any]] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ChangeStatus] = mapped_column(EnumValue(ChangeStatus), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
