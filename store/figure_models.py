"""SQLAlchemy tables of the figures: one row per referral (or imported trajectory) with only what the report counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.figure_secret import SealedName
from store.models import Base, UTCDateTime

SOURCE_MELDPUNT = "meldpunt"  # a referral made through the Meldpunt
SOURCE_GROENE_ZORG = "groene-zorg"  # a trajectory Groene Zorg took directly and reported in its overview


class ReferralFigures(Base):
    """What the figures count of one referral: closed sets and milestones, never a name, date of birth or free text.

    Kept up to date by store.figures whenever the referral's answers or status change; survives pseudonymisation
    (its fields are those intake.retention.figure_fields keeps). Imported Groene Zorg rows have no referral.
    """

    __tablename__ = "referral_figures"
    # For the report (store.figure_queries, migration 0014): the signaalfunctie counts the period before per value,
    # and the running trajectories per service.
    __table_args__ = (
        Index("ix_referral_figures_municipality_submitted_on", "municipality", "submitted_on"),
        Index("ix_referral_figures_school_submitted_on", "school", "submitted_on"),
        Index("ix_referral_figures_status_service", "status", "service"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    # For imported rows: a digest of the row and its occurrence in the file, so importing twice changes nothing.
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash (HMAC-SHA256, secret from settings) of the pupil's identifying answers: counts distinct pupils
    # without storing a new identifier in clear; emptied when the referral is pseudonymised or erased.
    pupil_key: Mapped[str | None] = mapped_column(String(64))
    submitted_on: Mapped[date | None] = mapped_column(Date, index=True)  # Brussels date; None while a draft
    school_year: Mapped[int | None] = mapped_column(Integer, index=True)  # 2025 for 2025-2026
    status: Mapped[str] = mapped_column(String(32))
    eligible: Mapped[bool | None] = mapped_column()
    ineligible_reason: Mapped[str | None] = mapped_column(String(32))  # the first blocking rule's code (intake.eligibility)
    region: Mapped[str | None] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(100))  # of the school (of the last school when none)
    # Normalised school name, sealed (store.figure_secret: same name, same stored text, so SQL groups on it);
    # only --intern shows it.
    school: Mapped[str | None] = mapped_column(SealedName())
    clb: Mapped[str | None] = mapped_column(String(200))
    age: Mapped[int | None] = mapped_column(Integer)  # whole years at submission
    age_band: Mapped[str | None] = mapped_column(String(8))
    school_level: Mapped[str | None] = mapped_column(String(32))
    school_grade: Mapped[str | None] = mapped_column(String(16))  # the pupil's year ("1", "2", … "7"), normalised
    education_form: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(32))
    referrer_role: Mapped[str | None] = mapped_column(String(32))
    desired_form: Mapped[str | None] = mapped_column(String(32))
    preferred_service: Mapped[str | None] = mapped_column(String(64))
    suggested_service: Mapped[str | None] = mapped_column(String(64))  # the consult's first suggestion
    service: Mapped[str | None] = mapped_column(String(64))  # the service that has (or had) it last
    set_aside: Mapped[bool] = mapped_column(default=False)  # the coordinator held it at some point
    coordinator_declined: Mapped[bool] = mapped_column(default=False)
    provider_declines: Mapped[int] = mapped_column(Integer, default=0)
    no_offer_in_region: Mapped[bool] = mapped_column(default=False)  # the consult found nothing fitting in the region
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first dispatch
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    round_table_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FigureProblemArea(Base):
    """One problem area of a figures row (a referral names several): a row each, so SQL can group on it."""

    __tablename__ = "referral_figure_problems"
    __table_args__ = (UniqueConstraint("figures_id", "problem_area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    figures_id: Mapped[int] = mapped_column(ForeignKey("referral_figures.id", ondelete="CASCADE"), index=True)
    problem_area: Mapped[str] = mapped_column(String(32), index=True)


class DispatchAnswer(Base):
    """A provider's answer to one dispatch (accepted or declined, with the reason's category): demand per provider."""

    __tablename__ = "dispatch_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispatch_item_id: Mapped[int] = mapped_column(ForeignKey("dispatch_items.id"), unique=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    accepted: Mapped[bool] = mapped_column()
    decline_reason: Mapped[str | None] = mapped_column(String(32))  # intake.figures.DeclineReason value
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
