"""What the public website reads from the database: when each offer last changed, and the public figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk.report import build_report
from intake.brussels import BRUSSELS
from intake.catalogue import Catalogue
from intake.report_model import Audience, Period, Report
from intake.retention import school_year_of
from intake.workhours import WorkCalendar
from store.dispatch_models import CatalogueChange, ChangeStatus

# Who the audit log names for the website's figures: no person, the builder.
WEBSITE_ACTOR = "website"


def approved_dates(session: Session) -> dict[str, date]:
    """Per service, the Brussels date of its most recently approved change (the offer's "last update" on the site)."""
    query = (select(CatalogueChange.service_id, func.max(CatalogueChange.decided_at))
             .where(CatalogueChange.status == ChangeStatus.APPROVED).group_by(CatalogueChange.service_id))
    return {service_id: _brussels_day(decided) for service_id, decided in session.execute(query) if decided is not None}


def _brussels_day(moment: datetime) -> date:
    """The Brussels date of a stored moment (SQLite gives it back without a zone: it is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(BRUSSELS).date()


def current_period(now: datetime) -> Period:
    """The school year the Brussels date of `now` lies in: the period the website's figures cover."""
    return Period.school_year(school_year_of(now.astimezone(BRUSSELS).date()))


def public_figures(session: Session, *, catalogue: Catalogue, now: datetime, min_cell: int, waiting_days: int,
                   calendar: WorkCalendar | None = None) -> Report:
    """The public report of the current school year (small cells suppressed); build_report commits its one audit row."""
    return build_report(session, period=current_period(now), audience=Audience.PUBLIC, min_cell=min_cell, now=now, catalogue=catalogue,
                        waiting_days=waiting_days, actor=WEBSITE_ACTOR, calendar=calendar)
