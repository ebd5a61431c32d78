"""The folded counts keep an empty value and an unknown one apart, on both databases.

On SQLite store.figure_queries counts the folds (CUBE, FLOW, PROBLEMS) into keyed tables, where a key cannot be NULL:
an unknown value is keyed by a stand-in there. This checks that an empty text, "0" and an unknown value stay three rows,
each with the referrals and distinct pupils a plain COUNT(DISTINCT) gives (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from desk.report_demand import DemandFacts
from store.figure_models import FigureProblemArea, ReferralFigures
from store.figure_queries import R, in_period, period_rows
from store.figure_tallies import Tally, tally_by, tally_by_problem

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
START, END = date(2025, 9, 1), date(2026, 8, 31)
ODD = ("", "0", None)  # empty, a zero, unknown


def write_rows(session: Session) -> None:
    """Rows over every combination of the odd values, pupils repeating across them."""
    number = 0
    for region in ODD:
        for municipality in ODD:
            for service in ODD:
                number += 1
                row = ReferralFigures(source="meldpunt", import_key=f"k{number}", pupil_key=f"{number % 4:064x}" if number % 5 else None,
                                      submitted_on=date(2026, 1, 5), status="submitted", updated_at=NOW, region=region,
                                      municipality=municipality, school_grade=service, service=service)
                session.add(row)
                session.flush()
                session.add(FigureProblemArea(figures_id=row.id, problem_area="spijbelen" if number % 2 else "gedrag"))
    session.commit()


def plain(session: Session, name: str) -> dict[tuple[object, ...], Tally]:
    """Referrals and distinct pupils per value of one figures column, straight from the figures table."""
    column, f = getattr(ReferralFigures, name), ReferralFigures
    alone = func.sum(case((f.pupil_key.is_(None), 1), else_=0))
    query = select(column, func.count(), func.count(func.distinct(f.pupil_key)) + alone).where(in_period(START, END)).group_by(column)
    return {(row[0],): Tally(int(row[1]), int(row[2])) for row in session.execute(query)}


def test_empty_zero_and_unknown_values_are_counted_apart(session: Session) -> None:
    """Region, municipality and year: three rows each, as a plain count; the demand table's services likewise."""
    write_rows(session)
    with period_rows(session, START, END) as rows:
        for name in ("region", "municipality", "school_grade"):
            found = tally_by(rows, R[name])
            assert found == plain(session, name) and len(found) == 3, name
        assert sum(t.referrals for t in tally_by_problem(rows).values()) == 27
        flows = DemandFacts.fetch(rows).flow
    by_service = plain(session, "service")
    assert {service: (flow.referrals, flow.pupils) for (_, service), flow in flows.items()} == {
        key[0]: (tally.referrals, tally.pupils) for key, tally in by_service.items()}
