"""The figures report (`meldpunt rapport`): every table of a period as plain data, suppressed for the public, audited.

The counting is SQL GROUP BY (store.figure_queries); this module and its desk/report_*.py parts only turn the
aggregates into Dutch tables and apply the small-cell rule (intake.suppression) for the public audience.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from desk.report_cells import Draft, publish, text
from desk.report_demand import DemandFacts, declines_draft, demand_draft
from desk.report_dimensions import dimension_drafts, region_links
from desk.report_eligibility import ineligible_draft
from desk.report_flow import lead_times_draft, trajectories_draft
from desk.report_signal import full_offers_draft, problems_by_region_draft, ranking_draft, unmet_draft
from desk.report_survey import survey_draft
from intake.catalogue import Catalogue
from intake.report_model import Audience, Period, Report
from intake.workhours import WorkCalendar
from store.audit import AuditAction, record_audit
from store.figure_queries import PeriodRows, period_rows


def build_report(session: Session, *, period: Period, audience: Audience, min_cell: int, now: datetime, catalogue: Catalogue,
                 waiting_days: int, actor: str, calendar: WorkCalendar | None = None) -> Report:
    """Every table of the period for the audience; writes (and commits) one audit row naming the period and the audience only.

    `calendar` gives the closure days the lead times and the waiting term skip (default: weekends and public holidays).
    """
    calendar = calendar or WorkCalendar()
    with period_rows(session, period.start, period.end, internal=audience is Audience.INTERNAL) as rows:
        drafts = _drafts(rows, period=period, audience=audience, min_cell=min_cell, now=now, catalogue=catalogue,
                         waiting_days=waiting_days, calendar=calendar)
        links = region_links(rows) if audience is Audience.PUBLIC else []
    tables = tuple(publish(drafts, audience, min_cell, links))
    notes = [text("note_sources"), text("note_pupils")]
    notes.append(text("note_internal") if audience is Audience.INTERNAL else text("note_suppression", min_cel=min_cell))
    record_audit(session, actor=actor, action=AuditAction.REPORT, now=now,
                 detail=f"{period.start:%d/%m/%Y}-{period.end:%d/%m/%Y} {audience.value}")
    session.commit()
    return Report(title=text("report_title", periode=period.label), period=period, audience=audience, generated_at=now,
                  min_cell=min_cell, tables=tables, notes=tuple(notes))


def _drafts(rows: PeriodRows, *, period: Period, audience: Audience, min_cell: int, now: datetime, catalogue: Catalogue,
            waiting_days: int, calendar: WorkCalendar) -> list[Draft]:
    """The tables in the report's order, sections "Vraag", "Regio en school", "Trajecten", "Onvervulde vraag", "Signaalfunctie"."""
    session, label = rows.session, period.label
    demand = DemandFacts.fetch(rows)
    drafts = [demand_draft(demand, catalogue, label), declines_draft(demand, catalogue, label)]
    drafts += dimension_drafts(rows, audience, label, demand.total)
    drafts += [trajectories_draft(demand.trajectories, label),
               lead_times_draft(rows, audience=audience, min_cell=min_cell, calendar=calendar, period_label=label)]
    drafts += [unmet_draft(rows, period, now=now, waiting_days=waiting_days, calendar=calendar), ineligible_draft(rows, period)]
    drafts.append(ranking_draft(rows, "signaal_gemeenten", "municipality", period))
    if audience is Audience.INTERNAL:
        drafts.append(ranking_draft(rows, "signaal_scholen", "school", period))
    drafts += [problems_by_region_draft(rows, period), full_offers_draft(session, catalogue, demand, period)]
    survey = survey_draft(session, period)
    return drafts if survey is None else [*drafts, survey]
