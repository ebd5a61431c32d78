"""The figures report (`meldpunt rapport`): every table of a period as plain data, suppressed for the public, audited.

The counting is SQL GROUP BY (store.figure_queries); this module and its desk/report_*.py parts only turn the
aggregates into Dutch tables and apply the small-cell rule (intake.suppression) for the public audience.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from desk.report_cells import Draft, publish, text
from desk.report_demand import DemandFacts, declines_draft, demand_draft
from desk.report_dimensions import dimension_drafts, region_links
from desk.report_eligibility import ineligible_draft
from desk.report_flow import lead_times_draft, trajectories_draft
from desk.report_lanes import SideCounts, count_side, side_lane
from desk.report_signal import full_offers_draft, problems_by_region_draft, ranking_draft, unmet_draft
from desk.report_survey import survey_draft
from intake.catalogue import Catalogue
from intake.report_model import Audience, Period, Report
from intake.workhours import WorkCalendar
from store.audit import AuditAction, record_audit
from store.figure_queries import PeriodRows, period_rows
from store.figure_signal import in_progress_by_service
from store.figure_tallies import tally_total


def build_report(session: Session, *, period: Period, audience: Audience, min_cell: int, now: datetime, catalogue: Catalogue,
                 waiting_days: int, actor: str, calendar: WorkCalendar | None = None, parallel: bool = True) -> Report:
    """Every table of the period for the audience; writes (and commits) one audit row naming the period and the audience only.

    `calendar` gives the closure days the lead times and the waiting term skip (default: weekends and public holidays).
    The counting runs in two lanes, each on its own connection reading the same snapshot (desk.report_lanes);
    `parallel=False` counts in one, as where one snapshot cannot be shared (store.snapshot): the same report.
    """
    calendar = calendar or WorkCalendar()
    count = partial(count_side, now=now, waiting_days=waiting_days, calendar=calendar)
    with (side_lane(session, period, count, parallel=parallel) as lanes,
          period_rows(session, period.start, period.end, internal=audience is Audience.INTERNAL, columns=lanes.columns) as rows):
        drafts = _drafts(rows, lanes.side, period=period, audience=audience, min_cell=min_cell, catalogue=catalogue, waiting_days=waiting_days)
        links = region_links(rows) if audience is Audience.PUBLIC else []
    # The reading ends before the audit row is written: on SQLite a transaction that read before a commit elsewhere may
    # not write any more (SQLITE_BUSY_SNAPSHOT); a new one waits for the write lock instead.
    session.commit()
    tables = tuple(publish(drafts, audience, min_cell, links))
    notes = [text("note_sources"), text("note_pupils")]
    notes.append(text("note_internal") if audience is Audience.INTERNAL else text("note_suppression", min_cel=min_cell))
    record_audit(session, actor=actor, action=AuditAction.REPORT, now=now,
                 detail=f"{period.start:%d/%m/%Y}-{period.end:%d/%m/%Y} {audience.value}")
    session.commit()
    return Report(title=text("report_title", periode=period.label), period=period, audience=audience, generated_at=now,
                  min_cell=min_cell, tables=tables, notes=tuple(notes))


def _drafts(rows: PeriodRows, side: Callable[[PeriodRows], SideCounts], *, period: Period, audience: Audience, min_cell: int,
            catalogue: Catalogue, waiting_days: int) -> list[Draft]:
    """The tables in the report's order, sections "Vraag", "Regio en school", "Trajecten", "Onvervulde vraag", "Signaalfunctie".

    This lane's own tables first (its folds CUBE and FLOW), while `side` counts the rest on the other; then those that need it.
    """
    session, label = rows.session, period.label
    total, running = tally_total(rows), in_progress_by_service(session)
    eligibility = ineligible_draft(rows, period)
    rankings = [ranking_draft(rows, "signaal_gemeenten", "municipality", period)]
    if audience is Audience.INTERNAL:
        rankings.append(ranking_draft(rows, "signaal_scholen", "school", period))
    dimensions = dimension_drafts(rows, audience, label, total, lambda: side(rows).problems)
    counts = side(rows)
    demand = DemandFacts.fetch(rows, counts.dispatch)
    drafts = [demand_draft(demand, catalogue, label), declines_draft(demand, catalogue, label), *dimensions,
              trajectories_draft(demand.trajectories, label),
              lead_times_draft(counts.lead_times, audience=audience, min_cell=min_cell, period_label=label),
              unmet_draft(counts.unmet, period, waiting_days=waiting_days), eligibility, *rankings,
              problems_by_region_draft(counts.problems_by_region, period), full_offers_draft(running, catalogue, demand, period)]
    survey = survey_draft(session, period)
    return drafts if survey is None else [*drafts, survey]
