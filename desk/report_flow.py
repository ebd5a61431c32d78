"""The report's "Trajecten" tables: trajectories that ran with their outcome, and lead times in working days."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from desk.report_cells import Draft, count_column, word
from intake.brussels import BRUSSELS
from intake.lifecycle import CompletionOutcome
from intake.report_model import Audience, Cell, Column, ColumnKind, Suppressed
from intake.workhours import WorkCalendar
from store.figure_lead_times import fill_days, lead_times, milestone_span
from store.figure_models import SOURCE_GROENE_ZORG, SOURCE_MELDPUNT
from store.figure_queries import Key, PeriodRows

SECTION = "Trajecten"
# (row key, from milestone, to milestone): the steps a referral takes, and the whole way.
STEPS = (
    ("ingediend_verzonden", "submitted_on", "dispatched_at"),
    ("verzonden_aanvaard", "dispatched_at", "accepted_at"),
    ("aanvaard_ronde_tafel", "accepted_at", "round_table_at"),
    ("ronde_tafel_gestart", "round_table_at", "started_at"),
    ("ingediend_gestart", "submitted_on", "started_at"),
)


def trajectories_draft(found: dict[tuple[str, str | None], list[int]], period_label: str) -> Draft:
    """Started, completed and each outcome, per source (via the Meldpunt, directly via Groene Zorg) and together.

    found: (source, outcome) → [started, completed] (DemandFacts.trajectories).
    """
    sources = (SOURCE_MELDPUNT, SOURCE_GROENE_ZORG)
    columns = (Column("traject", word("traject"), ColumnKind.LABEL), count_column("meldpunt"), count_column("groene_zorg"),
               count_column("totaal"))
    outcomes = [member.value for member in CompletionOutcome]
    draft = Draft("trajecten", SECTION, columns, across=(((0, 1), 2),), down=(((2, 3, 4, 5), 1),),
                  chart="totaal", context={"periode": period_label})

    def row(label: str, pick: Iterable[tuple[int, int, bool]]) -> None:
        picked = list(pick)
        cells = [sum(n for source_index, n, keep in picked if keep and source_index == i) for i in range(len(sources))]
        draft.add(label, (*cells, sum(cells)))

    entries = [(sources.index(source) if source in sources else 0, source, outcome, numbers) for (source, outcome), numbers in found.items()]
    row(word("gestart"), ((i, numbers[0], True) for i, _, _, numbers in entries))
    row(word("afgerond"), ((i, numbers[1], True) for i, _, _, numbers in entries))
    for member in CompletionOutcome:
        row(member.label, ((i, numbers[1], outcome == member.value) for i, _, outcome, numbers in entries))
    row(word("uitkomst_onbekend"), ((i, numbers[1], outcome not in outcomes) for i, _, outcome, numbers in entries))
    return draft


def lead_time_counts(rows: PeriodRows, calendar: WorkCalendar) -> list[dict[int, int]]:
    """Per step of STEPS: working days taken → how many trajectories took that long."""
    span = milestone_span(rows)
    if span is None:
        return [{} for _ in STEPS]
    worked = working_days(_as_date(span[0]), _as_date(span[1]), calendar)
    days = fill_days(rows, worked, {key: local_date(key) for key in worked})
    return lead_times(rows, [(first, second) for _, first, second in STEPS], days)


def lead_times_draft(found: list[dict[int, int]], *, audience: Audience, min_cell: int, period_label: str) -> Draft:
    """Per step: how many trajectories took it, the median and 90th percentile in working days (hidden below min_cell for the public).

    `found`: lead_time_counts.
    """
    columns = (Column("stap", word("stap"), ColumnKind.LABEL), count_column("trajecten"),
               Column("mediaan", word("mediaan"), ColumnKind.DAYS), Column("p90", word("p90"), ColumnKind.DAYS))
    draft = Draft("doorlooptijden", SECTION, columns, chart="mediaan", context={"periode": period_label})
    for (key, _, _), weighted in zip(STEPS, found, strict=True):
        number = sum(weighted.values())
        median: Cell = percentile(weighted, 0.5)
        p90: Cell = percentile(weighted, 0.9)
        if audience is Audience.PUBLIC and 0 < number < min_cell:
            median = p90 = Suppressed(min_cell, primary=False)  # days, not a small count: "x", the count beside it says "<5"
        draft.add(word(key), (number, median, p90))
    return draft


def local_date(parts: Key) -> date:
    """The Brussels date of a (UTC date, late hour) pair (see figure_queries.DAYS)."""
    day, hour = parts
    if isinstance(day, str):  # SQLite may hand back the ISO text of date()
        day = date.fromisoformat(day)
    assert isinstance(day, date)
    if not hour:
        return day
    return datetime.combine(day, time(int(str(hour))), UTC).astimezone(BRUSSELS).date()


def _as_date(day: object) -> date:
    """A day as SQL handed it back (SQLite may give the ISO text)."""
    return date.fromisoformat(day) if isinstance(day, str) else day  # type: ignore[return-value]


def working_days(first: date, last: date, calendar: WorkCalendar) -> dict[tuple[date, int], int]:
    """(UTC day, late hour or 0) → working days from `first` up to that moment's Brussels day, for every day first…last.

    The difference of two is the working days between two moments (figure_queries.lead_times subtracts them in SQL).
    """
    cumulative, running, day = {}, 0, first
    while day <= last + timedelta(days=1):  # a late hour of the last day can be the next day in Brussels
        running += calendar.is_working_day(day) if day > first else 0
        cumulative[day] = running
        day += timedelta(days=1)
    return {(day, hour): cumulative[local_date((day, hour))] for day in cumulative if day <= last for hour in (0, 22, 23)}


def percentile(weighted: dict[int, int], share: float) -> int | None:
    """Nearest rank: the smallest value with at least `share` of the observations at or below it; None when there are none."""
    total = sum(weighted.values())
    if total == 0:
        return None
    rank, seen = math.ceil(share * total), 0
    for value in sorted(weighted):
        seen += weighted[value]
        if seen >= rank:
            return value
    return max(weighted)

