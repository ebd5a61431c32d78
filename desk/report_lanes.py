"""The report's second lane: the counts a second connection makes on its own copy of the period while the first counts the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session

from desk.report_flow import lead_time_counts
from desk.report_signal import unmet_tallies
from intake.report_model import Period
from intake.workhours import WorkCalendar
from store.figure_queries import COPIED, Key, PeriodRows, period_rows
from store.figure_tallies import Tally, dispatch_outcomes, referrals_by_problem_and_region, tally_by_problem
from store.snapshot import second_reader

# The figures columns count_side reads, and of those the ones the first lane's tables never read: a lane copies only its own.
SIDE_COLUMNS = ("id", "referral_id", "submitted_on", "status", "eligible", "region", "age", "age_band", "set_aside", "coordinator_declined",
                "provider_declines", "no_offer_in_region", "dispatched_at", "accepted_at", "round_table_at", "started_at", "completed_at")
SIDE_ONLY = ("referral_id", "submitted_on", "status", "set_aside", "coordinator_declined", "provider_declines", "no_offer_in_region",
             "dispatched_at")


@dataclass(frozen=True)
class SideCounts:
    """What the second lane counts: none of it needs the other lane's folds (CUBE, FLOW), so each lane copies and folds half."""

    dispatch: dict[tuple[str, bool | None, str | None], int]  # dispatch_outcomes
    lead_times: list[dict[int, int]]  # lead_time_counts
    unmet: list[tuple[str, Tally]]  # unmet_tallies
    problems: dict[Key, Tally]  # tally_by_problem
    problems_by_region: dict[Key, int]  # referrals_by_problem_and_region


def count_side(rows: PeriodRows, *, now: datetime, waiting_days: int, calendar: WorkCalendar) -> SideCounts:
    """Every count of SideCounts over the period's rows."""
    return SideCounts(dispatch_outcomes(rows), lead_time_counts(rows, calendar),
                      unmet_tallies(rows, now=now, waiting_days=waiting_days, calendar=calendar), tally_by_problem(rows),
                      referrals_by_problem_and_region(rows))


@dataclass(frozen=True)
class Lanes:
    """How a report counts: `side` gives SideCounts (waiting for the second lane, or counting on the rows it is given), and
    `columns` names what the first lane's copy needs (None: every column, when it counts the side's part too)."""

    side: Callable[[PeriodRows], SideCounts]
    columns: tuple[str, ...] | None


@contextmanager
def side_lane(session: Session, period: Period, count: Callable[[PeriodRows], SideCounts], *, parallel: bool = True) -> Iterator[Lanes]:
    """Start `count` on a second session in a thread, reading what `session` reads (store.snapshot); where no second reader
    can be had (or not `parallel`), count on the first lane's rows when first asked, once.

    Enter before the first lane copies its rows, so both copies run at once. An error in the thread is raised where the result
    is asked for; on leaving, the thread is waited for and the second session closed.
    """
    with second_reader(session) if parallel else nullcontext() as second, ThreadPoolExecutor(1, "rapport") as pool:
        if second is None:
            yield Lanes(cache(count), None)
            return
        future = pool.submit(_count_in, second, period, count)
        yield Lanes(lambda _rows: future.result(), tuple(name for name in COPIED if name not in SIDE_ONLY))


def _count_in(session: Session, period: Period, count: Callable[[PeriodRows], SideCounts]) -> SideCounts:
    """The second lane: its own copy of the period, of the columns it counts."""
    with period_rows(session, period.start, period.end, internal=False, columns=SIDE_COLUMNS) as rows:
        return count(rows)
