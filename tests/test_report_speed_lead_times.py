"""Lead times count working days between the Brussels days of two milestones, also late in the evening and around summer time.

store.figure_lead_times finds a UTC moment's Brussels day differently per database (PostgreSQL with its time zone data,
SQLite by cutting the stored text to its day or, from 22:00, to its hour). This checks the counted lead times against the
same count done here with zoneinfo, on seeded moments around the clock and the summer-time changes (SQLite and PostgreSQL).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from desk.report_flow import STEPS, lead_time_counts, working_days
from intake.workhours import WorkCalendar, is_working_day, local_day
from store.figure_lead_times import milestone_span
from store.figure_models import ReferralFigures
from store.figure_queries import period_rows

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
START, END = date(2025, 9, 1), date(2026, 8, 31)
# Days around the summer-time changes (26/10/2025 and 29/03/2026) and around New Year, a holiday.
AROUND = (date(2025, 10, 24), date(2025, 10, 25), date(2025, 10, 26), date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29),
          date(2025, 12, 31), date(2026, 1, 2))
LATER = ("dispatched_at", "accepted_at", "round_table_at", "started_at")


def moment(chance: random.Random) -> datetime:
    """A UTC moment on one of the days around a change, often in the hours that are the next day in Brussels."""
    hour = chance.choice((0, 1, 9, 21, 22, 22, 23, 23))
    return datetime.combine(chance.choice(AROUND), datetime.min.time(), UTC) + timedelta(hours=hour, minutes=chance.randrange(60))


def write_rows(session: Session, count: int) -> list[dict[str, date | None]]:
    """Seeded rows with milestones in order (some missing); returns each row's milestones as Brussels days."""
    chance, written = random.Random(17), []
    for number in range(count):
        submitted = chance.choice(AROUND) - timedelta(days=chance.randrange(3))
        moments = sorted(moment(chance) for _ in LATER)
        present = chance.randint(0, len(LATER))  # how far the referral got
        values = {name: (at if i < present else None) for i, (name, at) in enumerate(zip(LATER, moments, strict=True))}
        session.add(ReferralFigures(source="meldpunt", import_key=f"l{number}", submitted_on=submitted, status="submitted",
                                    updated_at=NOW, **values))
        written.append({"submitted_on": submitted, **{name: local_day(at) if at else None for name, at in values.items()}})
    session.commit()
    return written


def expected(written: list[dict[str, date | None]]) -> list[dict[int, int]]:
    """Per step: working days from the first milestone's Brussels day to the second's (0 when negative) → how many."""
    counts: list[Counter[int]] = [Counter() for _ in STEPS]
    for row in written:
        for found, (_, first, second) in zip(counts, STEPS, strict=True):
            a, b = row[first], row[second]
            if a is None or b is None:
                continue
            days = sum(is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1)) if b > a else 0
            found[days] += 1
    return [dict(found) for found in counts]


def counted(session: Session) -> tuple[list[dict[int, int]], int]:
    """Every step's lead times over the period's rows, as the report counts them (lead_time_counts), and the most working
    days a step can take (the span of its day table)."""
    with period_rows(session, START, END) as rows:
        span = milestone_span(rows)
        assert span is not None
        worked = working_days(*(day if isinstance(day, date) else date.fromisoformat(str(day)) for day in span), WorkCalendar())
        return lead_time_counts(rows, WorkCalendar()), max(worked.values()) - min(worked.values())


def test_lead_times_count_the_brussels_days_of_late_and_summer_time_moments(session: Session) -> None:
    """Every step's lead times equal a count over the milestones' Brussels days, on both databases."""
    written = write_rows(session, 300)
    found, _ = counted(session)
    assert found == expected(written)
    # The data set did reach the hours that are the next day in Brussels and some steps of more than zero days.
    assert any(row["dispatched_at"] and row["dispatched_at"] != row["submitted_on"] for row in written)
    assert any(number for step in found for days, number in step.items() if days > 0)


def test_lead_times_over_decades_count_the_same(session: Session) -> None:
    """A milestone thirty years on makes the day table too long for SQLite's one integer key per row: counted alike."""
    written = write_rows(session, 60)
    steps = {name: datetime(2025, 10, 24, 9, 0, tzinfo=UTC) + timedelta(days=i) for i, name in enumerate(LATER)}
    steps["started_at"] = datetime(2056, 3, 3, 9, 0, tzinfo=UTC)
    session.add(ReferralFigures(source="meldpunt", import_key="far", submitted_on=date(2025, 10, 23), status="submitted", updated_at=NOW, **steps))
    session.commit()
    written.append({"submitted_on": date(2025, 10, 23), **{name: local_day(at) for name, at in steps.items()}})
    found, most = counted(session)
    if session.get_bind().dialect.name == "sqlite":  # the case this test is for: too many working days for one integer key per row
        assert (most + 2) ** len(STEPS) >= 2 ** 63
    assert found == expected(written)
