"""How urgent a referral is, from its `urgency` answer: one order and one mark for every list and mail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.vocabulary import Urgency

# Lower comes first; anything else (normal, unanswered, pseudonymised away) comes after the urgent ones.
_RANKS = {Urgency.CRISIS.value: 0, Urgency.HIGH.value: 1}
_VALUES = frozenset(u.value for u in Urgency)
_MARKS = {Urgency.CRISIS.value: "‼ zeer dringend", Urgency.HIGH.value: "! dringend"}


def urgency_of(answers: Mapping[str, Any] | None) -> str | None:
    """The referral's urgency answer ("zeer-dringend", "dringend", "normaal"), None when not answered or not a level."""
    value = (answers or {}).get("urgency")
    return value if isinstance(value, str) and value in _VALUES else None


def urgency_rank(value: object) -> int:
    """0 for zeer dringend, 1 for dringend, 2 for anything else: sort on it, the rest of the order kept (stable)."""
    return _RANKS.get(value, 2) if isinstance(value, str) else 2


def urgency_mark(value: object) -> str:
    """The mark a person sees next to an urgent referral ("‼ zeer dringend", "! dringend"), else ""."""
    return _MARKS.get(value, "") if isinstance(value, str) else ""


def urgency_label(value: object) -> str | None:
    """The level's Dutch label ("Zeer dringend (de leerling is nu niet meer op school)"), None when not answered or unknown."""
    return Urgency.parse(value).label if isinstance(value, str) and value in _VALUES else None


def urgency_short(value: object) -> str | None:
    """The urgency in a word or two ("Zeer dringend", "Dringend", "Normaal"), None when not answered or unknown."""
    label = urgency_label(value)
    # The label explains the level in brackets; a list column has room for its first words only.
    return label.split(" (")[0] if label else None
