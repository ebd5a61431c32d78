"""Plain, JSON-ready views of stored referrals for listings and exports."""

from __future__ import annotations

from typing import Any

from intake.answers import display_value
from intake.eligibility import Outcome
from intake.facts import ReferralFacts
from intake.folding import fold
from intake.lifecycle import Status
from intake.questionnaire import Questionnaire
from intake.retention import REGION_KEY
from intake.urgency import urgency_label, urgency_of
from intake.vocabulary import Channel, Mode, Region
from store.models import Referral

# How a person reads the channel and mode (intake.vocabulary) of a referral; the codes
# stay in JSON, for scripts.
CHANNEL_LABELS: dict[str, str] = {Channel.TERMINAL: "terminal", Channel.TELEGRAM: "Telegram", Channel.EMAIL: "e-mail"}
MODE_LABELS: dict[str, str] = {Mode.FULL: "volledig", Mode.MINIMAL: "minimaal (zonder naam en geboortedatum)"}


def referral_row(referral: Referral, *, full: bool = False) -> dict[str, Any]:
    """A referral as a dict; without `full` it holds nothing that identifies the pupil."""
    facts = ReferralFacts.from_answers(referral.answers or {})
    # A pseudonymised referral has no postcodes left, only the region they gave (intake.retention).
    region = facts.region or (Region.parse((referral.answers or {})[REGION_KEY]) if (referral.answers or {}).get(REGION_KEY) else None)
    eligibility = referral.eligibility or {}
    suggestions = (referral.suggestions or {}).get("suggestions", [])
    row: dict[str, Any] = {
        "reference": referral.reference,
        "status": referral.status.value,
        "status_label": referral.status.label,
        "mode": referral.mode,
        "mode_label": _label(MODE_LABELS, referral.mode),
        "channel": referral.channel,
        "channel_label": _label(CHANNEL_LABELS, referral.channel),
        "created_at": referral.created_at.isoformat(),
        "submitted_at": referral.submitted_at.isoformat() if referral.submitted_at else None,
        "region": region.value if region else None,
        "region_label": region.label if region else None,
        "school_level": facts.school_level.value if facts.school_level else None,
        "eligibility": eligibility.get("outcome"),
        "eligibility_label": Outcome.parse(eligibility["outcome"]).label if eligibility.get("outcome") else None,
        "findings": [f["reason"] for f in eligibility.get("findings", [])],
        "suggestions": [{"service_id": s["service_id"], "name": s["service_name"], "certain": s["certain"]} for s in suggestions],
        "outcome": referral.outcome.value if referral.outcome else None,
        "urgency": urgency_of(referral.answers),
        "urgency_label": urgency_label(urgency_of(referral.answers)),
    }
    if full:
        row["answers"] = dict(referral.answers or {})
        row["advice"] = (referral.suggestions or {}).get("advice")
    return row


def answer_rows(questionnaire: Questionnaire, answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, label, readable value) for every answered question, in questionnaire order."""
    return [
        (q.section, q.label, display_value(q, answers[q.id]))
        for q in questionnaire.questions if q.id in answers
    ]


def _label(labels: dict[str, str], code: str) -> str:
    """The Dutch word for a stored code; an unknown code as it is, rather than nothing."""
    return labels.get(code, code)


def status_named(words: str) -> Status:
    """The status a person names by its Dutch label or its code, without regard to case or accents (ValueError)."""
    wanted = fold(words).replace("_", " ")
    for status in Status:
        if wanted in (fold(status.label), status.value.replace("_", " ")):
            return status
    raise ValueError(words)
