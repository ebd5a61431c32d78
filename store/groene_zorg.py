"""The Groene Zorg overview into the figures: one ReferralFigures row per new trajectory, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from intake.brussels import brussels_midnight
from intake.figures import normalise_name
from intake.groene_zorg import Trajectory, import_keys
from store.audit import AuditAction, AuditChannel, record_audit
from store.figure_models import SOURCE_GROENE_ZORG, FigureProblemArea, ReferralFigures

# Far below any database's limit on bound parameters (SQLite's is 32766, PostgreSQL's 65535).
_KEYS_PER_QUERY = 500


@dataclass(frozen=True)
class ImportResult:
    """How many trajectories of the file were new, and how many were there already (from an earlier import)."""

    added: int
    existing: int


def ids_of(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """The figures row id of each of these import keys the figures hold."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        query = select(ReferralFigures.import_key, ReferralFigures.id).where(ReferralFigures.import_key.in_(keys[start:start + _KEYS_PER_QUERY]))
        found.update((key, figures_id) for key, figures_id in session.execute(query) if key is not None)
    return found


def figures_values(trajectory: Trajectory, *, key: str, service_id: str, now: datetime) -> dict[str, Any]:
    """The figures of one imported trajectory: no referral, no pupil key (each trajectory counts as one pupil)."""
    moment = brussels_midnight(trajectory.submitted_on)  # the overview has one date: the referral's
    return {
        "referral_id": None, "source": SOURCE_GROENE_ZORG, "import_key": key, "pupil_key": None,
        "submitted_on": trajectory.submitted_on, "school_year": trajectory.school_year, "status": trajectory.status.value,
        # The school as the Meldpunt's own rows spell it, so both sources group together.
        "eligible": True, "region": trajectory.region, "municipality": trajectory.municipality, "school": normalise_name(trajectory.school),
        "age": trajectory.age, "age_band": trajectory.age_band, "school_level": trajectory.school_level,
        "school_grade": trajectory.school_grade, "service": service_id,
        "started_at": moment if trajectory.started else None, "completed_at": moment if trajectory.completed else None,
        "outcome": trajectory.outcome, "set_aside": False, "coordinator_declined": False, "provider_declines": 0,
        "no_offer_in_region": False, "updated_at": now,
    }


def import_trajectories(session: Session, trajectories: Sequence[Trajectory], *, service_id: str, actor: str,
                        now: datetime) -> ImportResult:
    """Add the trajectories the figures do not hold yet, with their problem areas, and audit the import (no data in it)."""
    keys = import_keys(trajectories)
    there = ids_of(session, keys)
    new = [(key, trajectory) for key, trajectory in zip(keys, trajectories, strict=True) if key not in there]
    if new:
        # executemany, not an ORM object (or an INSERT … RETURNING) per row: 10,000 trajectories in about a second.
        session.execute(insert(ReferralFigures), [figures_values(t, key=key, service_id=service_id, now=now) for key, t in new])
        ids = ids_of(session, [key for key, _ in new])
        areas = [{"figures_id": ids[key], "problem_area": area} for key, trajectory in new for area in trajectory.problem_areas]
        if areas:
            session.execute(insert(FigureProblemArea), areas)
    result = ImportResult(added=len(new), existing=len(trajectories) - len(new))
    record_audit(session, actor=actor, action=AuditAction.IMPORTED, now=now, channel=AuditChannel.CLI,
                 detail=f"{SOURCE_GROENE_ZORG}: {result.added} nieuw, {result.existing} al ingelezen")
    return result
