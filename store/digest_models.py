"""The morning digest's ledger: one row per Brussels day the digest was sent or found nothing to send."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class CoordinatorDigest(Base):
    """The day's digest: the primary key makes it once a day, even with two services or a restart."""

    __tablename__ = "coordinator_digests"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the Brussels calendar day
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    items: Mapped[int] = mapped_column(Integer)  # how many items it listed; 0 = nothing waited, no mail
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))  # the mail; None when nothing waited
