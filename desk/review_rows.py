"""The coordinator's view of a waiting referral: what she needs to decide, no pupil data.

Apart from desk/decisions.py so that listing what waits (`meldpunt review list`, `/nakijken`) loads no catalogue,
mail or decision code: a read command answers at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.eligibility import Outcome
from intake.findings import weighing_reasons
from intake.texts import brussels_time
from intake.urgency import urgency_label, urgency_mark, urgency_of
from store import referrals
from store.models import Referral


def review_row(session: Session, referral: Referral) -> dict[str, Any]:
    """What the coordinator needs to decide: urgency, status, eligibility reasons, the last note; no pupil data."""
    eligibility = referral.eligibility or {}
    last = referrals.last_note(session, referral)
    urgency = urgency_of(referral.answers)
    return {
        "reference": referral.reference, "status": referral.status.label, "service": referral.assigned_service_id,
        "urgency": urgency_label(urgency), "urgency_mark": urgency_mark(urgency),
        "outcome": Outcome.parse(eligibility["outcome"]).label if eligibility.get("outcome") else None,
        "findings": weighing_reasons(eligibility.get("findings", [])),
        "note": last.note if last else None, "note_by": last.actor if last else None,
        "note_at": brussels_time(last.at) if last else None,
    }
