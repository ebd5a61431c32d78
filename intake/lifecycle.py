"""The referral lifecycle: statuses, the allowed transitions between them, and completion outcomes.

```mermaid
stateDiagram-v2
    [*] --> draft
    draft --> awaiting_details: minimale modus
    draft --> submitted
    awaiting_details --> submitted: identificerende gegevens aangevuld
    submitted --> needs_review: gemarkeerd of niet ontvankelijk
    submitted --> queued: ontvankelijk
    needs_review --> queued: coördinator keurt goed
    needs_review --> declined: coördinator weigert
    queued --> needs_review: coördinator houdt tegen
    queued --> dispatched: verzending woensdag/vrijdag
    dispatched --> accepted
    dispatched --> declined
    declined --> needs_review: doorverwijzen
    accepted --> round_table_planned
    accepted --> in_progress: klastraject, geen ronde tafel
    round_table_planned --> in_progress
    round_table_planned --> completed: terug naar school na ronde tafel
    in_progress --> completed
    completed --> [*]
    draft --> cancelled
    awaiting_details --> cancelled
    submitted --> cancelled
    needs_review --> cancelled
    queued --> cancelled
    dispatched --> cancelled
    accepted --> cancelled
    round_table_planned --> cancelled
    in_progress --> cancelled
    cancelled --> [*]
```
"""

from __future__ import annotations

from intake.vocabulary import Labelled


class Status(Labelled):
    """Where a referral is in its life."""

    DRAFT = ("draft", "Concept")
    AWAITING_DETAILS = ("awaiting_details", "Wacht op identificerende gegevens")
    SUBMITTED = ("submitted", "Ingediend")
    NEEDS_REVIEW = ("needs_review", "Wacht op de coördinator")
    QUEUED = ("queued", "Klaar voor verzending")
    DISPATCHED = ("dispatched", "Verzonden naar de aanbieder")
    ACCEPTED = ("accepted", "Aanvaard door de aanbieder")
    DECLINED = ("declined", "Geweigerd")
    ROUND_TABLE_PLANNED = ("round_table_planned", "Ronde tafel gepland")
    IN_PROGRESS = ("in_progress", "Traject loopt")
    COMPLETED = ("completed", "Afgerond")
    CANCELLED = ("cancelled", "Geannuleerd")


class CompletionOutcome(Labelled):
    """How a trajectory ended (result of the closing round table)."""

    BACK_TO_SCHOOL = ("terug-naar-school", "Terug naar school")
    OTHER_EDUCATION = ("ander-onderwijs", "Andere vorm van onderwijs")
    HAND_OVER = ("overdracht", "Warme overdracht naar een andere dienst")


_ACTIVE = {
    Status.DRAFT, Status.AWAITING_DETAILS, Status.SUBMITTED, Status.NEEDS_REVIEW, Status.QUEUED,
    Status.DISPATCHED, Status.ACCEPTED, Status.ROUND_TABLE_PLANNED, Status.IN_PROGRESS,
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.AWAITING_DETAILS, Status.SUBMITTED}),
    Status.AWAITING_DETAILS: frozenset({Status.SUBMITTED}),
    Status.SUBMITTED: frozenset({Status.NEEDS_REVIEW, Status.QUEUED}),
    Status.NEEDS_REVIEW: frozenset({Status.QUEUED, Status.DECLINED}),
    Status.QUEUED: frozenset({Status.NEEDS_REVIEW, Status.DISPATCHED}),
    Status.DISPATCHED: frozenset({Status.ACCEPTED, Status.DECLINED}),
    Status.DECLINED: frozenset({Status.NEEDS_REVIEW}),
    Status.ACCEPTED: frozenset({Status.ROUND_TABLE_PLANNED, Status.IN_PROGRESS}),
    Status.ROUND_TABLE_PLANNED: frozenset({Status.IN_PROGRESS, Status.COMPLETED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# Any referral that is still alive may be cancelled (by its referrer or the coordinator).
TRANSITIONS = {s: t | {Status.CANCELLED} if s in _ACTIVE else t for s, t in TRANSITIONS.items()}


class InvalidTransition(ValueError):
    """A status change the lifecycle does not allow."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(
            f"Een aanmelding met status '{current.label}' kan niet naar '{target.label}'."
        )
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    """Whether the lifecycle allows going from current to target."""
    return target in TRANSITIONS[current]


def check_transition(
    current: Status, target: Status, *, outcome: CompletionOutcome | None = None
) -> None:
    """Raise InvalidTransition unless current → target is allowed (completion needs an outcome)."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    if target is Status.COMPLETED and outcome is None:
        raise ValueError("Een afgerond traject heeft een uitkomst nodig.")
