"""SQLAlchemy tables of the coordinator's immediate alerts: one row per event, and where the scan of events stands.

An alert holds a reference, an urgency and a service id, never a pupil's name or any answer: what the
coordinator reads is rendered from it when it is delivered (desk/alerts.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, EnumValue, UTCDateTime


class AlertKind(StrEnum):
    """What cannot wait until tomorrow; stored, so the values never change."""

    DECISION = "beslissing"  # a "zeer dringend" referral entered needs_review
    PROVIDER_DECLINED = "weigering"  # a provider declined a "dringend" or "zeer dringend" referral
    MAIL_FAILED = "mail-mislukt"  # a batch's mail to a provider failed for good


class ScanSource(StrEnum):
    """The durable tables the alert scan reads, each with its own high-water mark."""

    STATUS_CHANGES = "status_changes"
    OUTBOX = "outbox"


class CoordinatorAlert(Base):
    """One event the coordinator is alerted to: the unique (kind, event_key) makes it once per event."""

    __tablename__ = "coordinator_alerts"
    __table_args__ = (UniqueConstraint("kind", "event_key"), Index(None, "delivered_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(EnumValue(AlertKind))
    # The StatusChange id (a, b) or "<outbox id>@<moment it failed>" (c): a mail queued again and failing again is a new event.
    event_key: Mapped[str] = mapped_column(String(64))
    # Plain ids, no foreign keys: an alert never keeps a referral or a mail from being erased.
    referral_id: Mapped[int | None] = mapped_column(Integer)
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(16))
    service_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(16))  # "chat" or "mail", once delivered


class AlertScan(Base):
    """How far the alert scan read one source: ids up to last_id were looked at (set to the newest at upgrade)."""

    __tablename__ = "coordinator_alert_scans"

    source: Mapped[ScanSource] = mapped_column(EnumValue(ScanSource), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
