"""The table of the joint declaration of intent: one row per signature a partner gave, withdrawn ones kept."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.declaration import PartnerKind
from store.models import Base, EnumValue, UTCDateTime


class DeclarationSignature(Base):
    """A partner's signature; (kind, active_key) is unique, so each partner has at most one active signature."""

    __tablename__ = "declaration_signatures"
    __table_args__ = (UniqueConstraint("kind", "active_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[PartnerKind] = mapped_column(EnumValue(PartnerKind))
    name: Mapped[str] = mapped_column(String(120))  # as typed, or a provider's name in the catalogue when it signed
    organization_id: Mapped[str | None] = mapped_column(String(64))  # a provider's catalogue id; None for the others
    signed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(254))
    # intake.declaration.partner_key while active, NULL once withdrawn: both databases let NULLs repeat in a unique
    # constraint, so a partner may sign again after withdrawing, yet never twice at once (no partial index needed).
    active_key: Mapped[str | None] = mapped_column(String(120))
