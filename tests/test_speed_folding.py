"""The report's folded temporary tables count referrals and distinct pupils exactly as a plain COUNT(DISTINCT) does.

store.figure_queries folds the period's rows whose pupil has no other row into one count per combination of values
(CUBE, PROBLEMS) and numbers only the pupils with several rows. This checks every folded count against a GROUP BY
with COUNT(DISTINCT pupil_key) written here, on a seeded random data set with repeated pupils, rows without a key,
unknown values and rows just outside the period (SQLite and PostgreSQL).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from store.figure_models import FigureProblemArea, ReferralFigures
from store.figure_queries import CUBED, R, in_period, period_rows
from store.figure_tallies import Tally, tally_by, tally_by_problem

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
START, END = date(2025, 9, 1), date(2026, 8, 31)
VALUES: dict[str, tuple[Any, ...]] = {
    "region": ("ahv", "oost", None), "municipality": ("Halle", "Vilvoorde", "Leuven", None), "age_band": ("-12", "12-14", "15-17", None),
    "school_level": ("basis", "secundair", None), "school_grade": ("1", "2", "10", None), "education_form": ("a-stroom", "bso", None),
    "urgency": ("normaal", "dringend", None), "referrer_role": ("clb", "ouder", None), "eligible": (True, False, None),
    "ineligible_reason": ("fase-te-vroeg", "onbekend-regel", None),
}
AREAS = ("spijbelen", "gedrag", "thuissituatie", "middelen")


def write_rows(session: Session, count: int) -> None:
    """Seeded figures rows: 60 pupils for `count` rows (so many repeat), one in eight without a key, a few outside the period."""
    chance = random.Random(16)
    for number in range(count):
        day = START + timedelta(days=chance.randrange(-20, 385))  # some before, some after the period
        key = None if chance.random() < 0.125 else f"{chance.randrange(60):064x}"
        row = ReferralFigures(source="meldpunt", import_key=f"t{number}", pupil_key=key, submitted_on=day, status="submitted",
                              updated_at=NOW, **{name: chance.choice(options) for name, options in VALUES.items()})
        session.add(row)
        session.flush()
        session.add_all(FigureProblemArea(figures_id=row.id, problem_area=area) for area in chance.sample(AREAS, chance.randint(0, 3)))
    session.commit()


def plain(session: Session, *names: str) -> dict[tuple[object, ...], Tally]:
    """Referrals and distinct pupils per value, straight from the figures table: a row without a key is a pupil of its own."""
    columns = [getattr(ReferralFigures, name) for name in names]
    alone = func.sum(case((ReferralFigures.pupil_key.is_(None), 1), else_=0))
    query = (select(*columns, func.count(), func.count(func.distinct(ReferralFigures.pupil_key)) + alone)
             .where(in_period(START, END)).group_by(*columns))
    return {tuple(row[:-2]): Tally(int(row[-2]), int(row[-1])) for row in session.execute(query)}


def plain_by_problem(session: Session) -> dict[tuple[object, ...], Tally]:
    """Referrals and distinct pupils per problem area, straight from the figures tables."""
    f, area = ReferralFigures, FigureProblemArea.problem_area
    alone = func.sum(case((f.pupil_key.is_(None), 1), else_=0))
    query = (select(area, func.count(), func.count(func.distinct(f.pupil_key)) + alone)
             .join(FigureProblemArea, FigureProblemArea.figures_id == f.id).where(in_period(START, END)).group_by(area))
    return {(row[0],): Tally(int(row[1]), int(row[2])) for row in session.execute(query)}


def test_every_folded_count_equals_a_plain_count_distinct(session: Session) -> None:
    """Each column alone, region with municipality, eligible with reason, and problem areas: same referrals, same pupils."""
    write_rows(session, 400)
    groupings = [(name,) for name in CUBED] + [("region", "municipality"), ("eligible", "ineligible_reason")]
    with period_rows(session, START, END, internal=False) as rows:
        for names in groupings:
            found = tally_by(rows, *(R[name] for name in names))
            assert found == plain(session, *names), names
        assert tally_by_problem(rows) == plain_by_problem(session)
        # Many pupils repeat in this data set: the pupils differ from the referrals, so the distinct count was exercised.
        everyone = tally_by(rows, R.region)
        assert sum(t.pupils for t in everyone.values()) < sum(t.referrals for t in everyone.values())


def test_the_internal_columns_outside_the_fold_count_the_same(session: Session) -> None:
    """Age (only the internal report groups on it) is counted from the copied rows, with the same pupils as a plain count."""
    write_rows(session, 200)
    with session.begin_nested():
        for row in session.scalars(select(ReferralFigures)):
            row.age = row.id % 7 + 10
    session.commit()
    with period_rows(session, START, END, internal=True) as rows:
        assert tally_by(rows, R.age) == plain(session, "age")
