"""SQLAlchemy tables of the figures: one row per referral (or imported trajectory) with only what the report counts."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime

from sqlalchemy import Connection, Date, ForeignKey, Index, Insert, Integer, String, UniqueConstraint, delete, event, exists, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from store.db import upsert_into
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
        # The period's rows by submission day (migration 0019): with the pupil number, so the report finds the pupils with
        # more than one row in the period from the index alone.
        Index("ix_referral_figures_submitted_on_pupil_number", "submitted_on", "pupil_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    # For imported rows: a digest of the row and its occurrence in the file, so importing twice changes nothing.
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash (HMAC-SHA256, secret from settings) of the pupil's identifying answers: counts distinct pupils
    # without storing a new identifier in clear; emptied when the referral is pseudonymised or erased.
    pupil_key: Mapped[str | None] = mapped_column(String(64))
    # The pupil key's small number (FigurePupil, migration 0019): NULL exactly when pupil_key is; set whenever the ORM writes
    # the row (_number_the_pupil). The report groups and counts these integers instead of the 64-character keys.
    # A foreign key, so that a number cannot go while a row (even one committed during the release) still has it.
    pupil_number: Mapped[int | None] = mapped_column(ForeignKey("figure_pupils.number"), index=True, active_history=True)  # old value: _release
    submitted_on: Mapped[date | None] = mapped_column(Date)  # Brussels date; None while a draft
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


class FigurePupil(Base):
    """A small number per pupil key in use (handed out when a figures row first has the key): the report counts numbers.

    A key stays only while a figures row has it: it goes with the last row that loses it (pseudonymised, erased, deleted).
    """

    __tablename__ = "figure_pupils"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_key: Mapped[str] = mapped_column(String(64), unique=True)


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


@event.listens_for(ReferralFigures, "before_insert")
@event.listens_for(ReferralFigures, "before_update")
def _number_the_pupil(mapper: Mapper[ReferralFigures], connection: Connection, row: ReferralFigures) -> None:
    """Before the ORM writes a figures row whose pupil key is new or changed: its number, handed out on the key's first use."""
    state = inspect(row)
    if state.pending or state.attrs.pupil_key.history.has_changes():
        row.pupil_number = None if row.pupil_key is None else _number_of(connection, row.pupil_key)


def _number_of(connection: Connection, key: str) -> int:
    """The key's number in FigurePupil, handed out on its first use; one statement, so two writers of one pupil get one number.

    ON CONFLICT DO UPDATE (not DO NOTHING) locks the key's row until this transaction ends: a release running meanwhile
    waits for it, then finds the row this writer added (the foreign key) and keeps the key.
    """
    return int(connection.execute(_upsert_key(connection.dialect.name, key)).scalar_one())


def _upsert_key(dialect: str, key: str) -> Insert:
    """INSERT … ON CONFLICT (pupil_key) DO UPDATE … RETURNING number, in the dialect's spelling."""
    upsert = upsert_into(dialect, FigurePupil).values(pupil_key=key)
    return upsert.on_conflict_do_update(index_elements=["pupil_key"], set_={"pupil_key": upsert.excluded.pupil_key}).returning(FigurePupil.number)


@event.listens_for(ReferralFigures, "after_update")
def _release_a_changed_number(mapper: Mapper[ReferralFigures], connection: Connection, row: ReferralFigures) -> None:
    """After a figures row's pupil number changed (its key did, or went): the old number goes when no row has it any more."""
    _release(connection, [number for number in inspect(row).attrs.pupil_number.history.deleted if number != row.pupil_number])


@event.listens_for(ReferralFigures, "after_delete")
def _release_a_deleted_number(mapper: Mapper[ReferralFigures], connection: Connection, row: ReferralFigures) -> None:
    """After a figures row was deleted: its number goes when no other row has it."""
    _release(connection, [row.pupil_number, *inspect(row).attrs.pupil_number.history.deleted])


def _release(connection: Connection, numbers: list[int | None]) -> None:
    """Delete these pupil numbers (and their keys) unless a figures row still has them: a key is kept no longer than its rows.

    A row written by another transaction while this one deletes is not in this statement's view: the foreign key refuses
    the delete then, and the savepoint keeps this transaction going with the key kept.
    """
    for number in {number for number in numbers if number is not None}:
        in_use = exists().where(ReferralFigures.pupil_number == number)
        with suppress(IntegrityError), connection.begin_nested():  # refused: still in use, so kept
            connection.execute(delete(FigurePupil).where(FigurePupil.number == number, ~in_use))
