"""Working days and hours of the Meldpunt (Brussels time, weekdays, no Belgian public holidays, no closure days)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from intake.brussels import BRUSSELS

if TYPE_CHECKING:
    import holidays

OFFICE_START = time(9, 0)
OFFICE_END = time(17, 0)


@cache
def _belgian_holidays(year: int) -> holidays.HolidayBase:
    """Belgium's public holidays of one year (the holidays library keeps the rules; loaded on first use, not by every command)."""
    import holidays

    return holidays.country_holidays("BE", years=year)


def is_working_day(day: date, closures: frozenset[date] = frozenset()) -> bool:
    """A weekday that is neither a Belgian public holiday nor a configured closure day."""
    return day.weekday() < 5 and day not in _belgian_holidays(day.year) and day not in closures


def working_hours_between(start: datetime, end: datetime, closures: frozenset[date] = frozenset()) -> float:
    """Office hours (09:00–17:00 Brussels on working days) that passed between two moments."""
    start, end = start.astimezone(BRUSSELS), end.astimezone(BRUSSELS)
    total, day = 0.0, start.date()
    while day <= end.date():
        if is_working_day(day, closures):
            opens = datetime.combine(day, OFFICE_START, BRUSSELS)
            closes = datetime.combine(day, OFFICE_END, BRUSSELS)
            overlap = min(closes, end) - max(opens, start)
            total += max(overlap.total_seconds(), 0) / 3600
        day += timedelta(days=1)
    return total


def working_days_between(start: datetime, end: datetime, closures: frozenset[date] = frozenset()) -> int:
    """Working days after start's day up to and including end's day (Brussels): Wednesday to the next Wednesday is 5."""
    day, last, count = start.astimezone(BRUSSELS).date(), end.astimezone(BRUSSELS).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day, closures)
    return count


def local_day(moment: datetime) -> date:
    """The calendar day in Brussels of a moment (just after midnight there it is still yesterday in UTC)."""
    return moment.astimezone(BRUSSELS).date()


class WorkCalendar(BaseModel):
    """The Meldpunt's working time with its closure days (MELDPUNT_CLOSURE_DAYS): one value every reminder counts with.

    Built once from the settings (meldpunt/app.py) and handed to the mail questions, the Telegram
    questions and the provider reminders, so no reminder can count a closure day as a working one.
    """

    model_config = ConfigDict(frozen=True)

    closures: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        """A weekday that is no Belgian public holiday and no closure day."""
        return is_working_day(day, self.closures)

    def hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours that passed between two moments."""
        return working_hours_between(start, end, self.closures)

    def days_between(self, start: datetime, end: datetime) -> int:
        """Working days after start's day up to and including end's day."""
        return working_days_between(start, end, self.closures)
