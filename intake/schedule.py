"""When dispatch batches run: weekly moments in Brussels time, moved past holidays and closure days.

A slot is named by its nominal moment ("2026-12-02 09:00", a Wednesday); a Belgian public holiday
or a closure day moves it to the same time on the next working day, but it keeps its name. The
store keeps one batch per name (unique), so a slot never runs twice, and a service that was down
catches up only the newest slot it missed: that batch sends everything waiting anyway.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict

from intake.brussels import BRUSSELS
from intake.workhours import is_working_day

DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
WEEKDAYS = {"ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6}
_MOMENT = re.compile(r"^\s*(ma|di|wo|do|vr|za|zo)[a-z]*\s+(\d{1,2})[:.hu](\d{2})\s*$", re.IGNORECASE)
# How far back a restarted service looks for a slot it missed.
CATCH_UP = timedelta(days=7)


class WeeklyMoment(BaseModel):
    """A weekday and a time of day in Brussels, e.g. Wednesday 09:00."""

    model_config = ConfigDict(frozen=True)

    weekday: int
    at: time

    @classmethod
    def parse(cls, text: str) -> WeeklyMoment:
        """Read "wo 09:00" or "vrijdag 9u30"; ValueError with a Dutch reason otherwise."""
        found = _MOMENT.match(text)
        if found is None or int(found[2]) > 23 or int(found[3]) > 59:
            raise ValueError(f"'{text.strip()}' is geen verzendmoment; schrijf bijvoorbeeld 'wo 09:00' of 'vr 09:00'.")
        return cls(weekday=WEEKDAYS[found[1].lower()], at=time(int(found[2]), int(found[3])))

    def label(self) -> str:
        """The moment as a person reads it: "wo 09:00"."""
        day = next(name for name, number in WEEKDAYS.items() if number == self.weekday)
        return f"{day} {self.at:%H:%M}"


class Slot(BaseModel):
    """One batch: its name (the nominal moment) and when it really runs (after holidays)."""

    model_config = ConfigDict(frozen=True)

    key: str
    nominal: datetime
    runs_at: datetime


def parse_moments(text: str) -> tuple[WeeklyMoment, ...]:
    """Comma-separated moments, e.g. "wo 09:00, vr 09:00"."""
    moments = tuple(WeeklyMoment.parse(part) for part in text.split(",") if part.strip())
    if not moments:
        raise ValueError("Geef minstens één verzendmoment, bijvoorbeeld 'wo 09:00, vr 09:00'.")
    return moments


def next_working_day(day: date, closures: frozenset[date] = frozenset()) -> date:
    """The day itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, closures):
        day += timedelta(days=1)
    return day


def slot_for(day: date, moment: WeeklyMoment, closures: frozenset[date] = frozenset()) -> Slot:
    """The slot whose nominal day is `day` (which falls on the moment's weekday)."""
    nominal = datetime.combine(day, moment.at, BRUSSELS)
    runs_on = next_working_day(day, closures)
    return Slot(key=f"{day.isoformat()} {moment.at:%H:%M}", nominal=nominal, runs_at=datetime.combine(runs_on, moment.at, BRUSSELS))


def slots_between(start: datetime, end: datetime, moments: tuple[WeeklyMoment, ...], closures: frozenset[date] = frozenset()) -> list[Slot]:
    """Every slot that runs in [start, end), in order of running."""
    found: list[Slot] = []
    # A holiday can push a slot up to a couple of weeks (Christmas closure): look back that far.
    day = start.astimezone(BRUSSELS).date() - timedelta(days=21)
    last = end.astimezone(BRUSSELS).date()
    while day <= last:
        for moment in moments:
            if day.weekday() == moment.weekday:
                slot = slot_for(day, moment, closures)
                if start <= slot.runs_at < end:
                    found.append(slot)
        day += timedelta(days=1)
    return sorted(found, key=lambda slot: (slot.runs_at, slot.key))


def due_slot(now: datetime, moments: tuple[WeeklyMoment, ...], closures: frozenset[date] = frozenset()) -> Slot | None:
    """The newest slot that should have run by now (within the catch-up window), or None."""
    past = slots_between(now - CATCH_UP, now + timedelta(microseconds=1), moments, closures)
    return past[-1] if past else None


def next_slot(now: datetime, moments: tuple[WeeklyMoment, ...], closures: frozenset[date] = frozenset()) -> Slot:
    """The first slot that runs after now."""
    ahead = slots_between(now + timedelta(microseconds=1), now + timedelta(days=60), moments, closures)
    return ahead[0]


def describe(moment: datetime) -> str:
    """A moment as a Flemish reader expects it, in Brussels time: "woensdag 02/12/2026 om 09:00"."""
    local = moment.astimezone(BRUSSELS)
    return f"{DAY_NAMES[local.weekday()]} {local:%d/%m/%Y} om {local:%H:%M}"
