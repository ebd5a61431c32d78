"""The coordinator's week view, the pure part: one line per referral, their order and the one-line action of each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from intake.actions import Verb
from intake.urgency import urgency_mark, urgency_rank

# The word the coordinator replaces by her reason in a hold line: the line grammar of issue 16 shows it so.
REASON_PLACEHOLDER = "reden"


class HeldKind(StrEnum):
    """Why a referral waits for the coordinator; templates/coordinator/week.txt.j2 says each in Dutch."""

    FLAGGED = "flagged"  # gemarkeerd bij het indienen
    NOT_ELIGIBLE = "not_eligible"  # niet ontvankelijk bij het indienen
    UNPLACED = "unplaced"  # ontvankelijk, maar geen aanbod dat ze nu kan ontvangen
    HELD = "held"  # vastgehouden (door de coördinator, of na een correctie)
    SET_ASIDE = "set_aside"  # apart gezet door een verzending
    DECLINED = "declined"  # geweigerd door een aanbieder, wacht op doorverwijzing
    OTHER = "other"


def hold_line(reference: str) -> str:
    """The line that keeps a referral out of the batch: "MSI-2026-0042: vasthouden - reden"."""
    return f"{reference}: {Verb.HOLD.value} - {REASON_PLACEHOLDER}"


def release_line(reference: str) -> str:
    """The line that lets a held referral go with the next batch: "MSI-2026-0042: goedkeuren"."""
    return f"{reference}: {Verb.APPROVE.value}"


@dataclass(frozen=True)
class WeekLine:
    """One referral in the week view: never the pupil, only what the coordinator decides on."""

    referral_id: int
    reference: str
    urgency: str | None
    age_days: int
    action: str | None = None
    kind: HeldKind | None = None
    reason: str | None = None

    @property
    def rank(self) -> int:
        """0 zeer dringend, 1 dringend, 2 other."""
        return urgency_rank(self.urgency)

    @property
    def mark(self) -> str:
        """"‼ zeer dringend", "! dringend" or "" (intake/urgency.py)."""
        return urgency_mark(self.urgency)


def ordered(lines: list[WeekLine]) -> list[WeekLine]:
    """Zeer dringend first, then dringend, then the rest; within each the oldest (most working days) first."""
    return sorted(lines, key=lambda line: (line.rank, -line.age_days, line.reference))


@dataclass(frozen=True)
class ProviderGroup:
    """The referrals one provider address receives in a batch."""

    organisation: str
    address: str
    lines: list[WeekLine]


def ordered_groups(groups: list[ProviderGroup]) -> list[ProviderGroup]:
    """The group holding the most urgent referral first, then by organisation; each group's lines in order."""
    sorted_groups = [ProviderGroup(g.organisation, g.address, ordered(g.lines)) for g in groups]
    return sorted(sorted_groups, key=lambda g: (min((line.rank for line in g.lines), default=2), g.organisation.lower(), g.address))
