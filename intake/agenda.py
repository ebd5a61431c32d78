"""The coordinator's agenda, pure: what waits for her, why, the one line that settles it, and in which order."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from intake.schedule import WeeklyMoment
from intake.urgency import urgency_mark, urgency_rank

# A round table's date as the decisions write it in the history ("ronde tafel op 14/01/2027").
_ROUND_TABLE_NOTE = re.compile(r"ronde tafel op (\d{2})/(\d{2})/(\d{4})")


class ItemKind(StrEnum):
    """Why an item is on the agenda; the template words each kind in Dutch."""

    DECIDE = "beslissen"  # needs_review: the coordinator approves, holds or declines
    REROUTE = "doorverwijzen"  # a provider declined it: send it to another service
    NOT_ACCEPTED = "niet-aanvaard"  # dispatched, no answer within MELDPUNT_ACCEPT_WITHIN_DAYS working days
    LATE_FEEDBACK = "terugkoppeling-laat"  # reminded once and still no news: the provider reminder's escalation
    QUESTION = "vraag"
    OFFER_CHANGE = "aanbod"
    QUARANTINE = "quarantaine"
    FAILED_MAIL = "mail-mislukt"


class AgendaRules(BaseModel):
    """The settings the agenda counts with: when a dispatch is late, and when batches run."""

    model_config = ConfigDict(frozen=True)

    accept_within_days: int = 5
    dispatch_moments: tuple[WeeklyMoment, ...] = ()


class AgendaItem(BaseModel):
    """One thing that waits for the coordinator: no pupil identity, only reference, urgency, reason and age."""

    model_config = ConfigDict(frozen=True)

    kind: ItemKind
    subject: str  # "MSI-2026-0042", "Vraag #12", "Aanbod #3", "Quarantaine #5", "Mail #9"
    urgency: str | None = None
    since: datetime
    waiting_days: int
    reason: str
    action: str | None = None

    @property
    def mark(self) -> str:
        """"‼ zeer dringend", "! dringend" or "" (intake/urgency.py)."""
        return urgency_mark(self.urgency)


class RoundTable(BaseModel):
    """A round table planned for a referral (information only)."""

    model_config = ConfigDict(frozen=True)

    reference: str
    on: date


class NextBatch(BaseModel):
    """The next batch: when it runs, how many referrals go, and to which provider addresses (how many each)."""

    model_config = ConfigDict(frozen=True)

    runs_at: datetime
    referrals: int
    recipients: tuple[tuple[str, int], ...]


class Agenda(BaseModel):
    """Everything the coordinator's day holds, as of `now`: items in order, then information."""

    model_config = ConfigDict(frozen=True)

    now: datetime
    items: tuple[AgendaItem, ...]
    round_tables_today: tuple[RoundTable, ...] = ()
    round_tables_week: tuple[RoundTable, ...] = ()
    next_batch: NextBatch | None = None

    @property
    def empty(self) -> bool:
        """Nothing waits for the coordinator (information alone does not make a digest)."""
        return not self.items


def ordered(items: list[AgendaItem]) -> tuple[AgendaItem, ...]:
    """Most urgent first, then the longest waiting (working days, then the moment), then by subject."""
    return tuple(sorted(items, key=lambda item: (urgency_rank(item.urgency), -item.waiting_days, item.since, item.subject)))


def round_table_date(note: str | None) -> date | None:
    """The date a history note plans a round table on, or None."""
    found = _ROUND_TABLE_NOTE.search(note or "")
    if found is None:
        return None
    try:
        return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None


def split_round_tables(planned: list[RoundTable], today: date) -> tuple[tuple[RoundTable, ...], tuple[RoundTable, ...]]:
    """Round tables of today, and those later this week (up to Sunday), each by date then reference."""
    sunday = today + timedelta(days=6 - today.weekday())
    ordered_tables = sorted(planned, key=lambda table: (table.on, table.reference))
    return (tuple(t for t in ordered_tables if t.on == today), tuple(t for t in ordered_tables if today < t.on <= sunday))
