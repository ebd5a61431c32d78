"""The report's "Onvervulde vraag" and "Signaalfunctie" tables: who got no help, and where the need grows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_

from desk.report_cells import Draft, count_column, text, word
from desk.report_demand import DemandFacts, service_label
from intake.catalogue import Catalogue
from intake.report_model import Cell, Column, ColumnKind, Period
from intake.vocabulary import ProblemArea, ReferralRoute, Region
from intake.workhours import WorkCalendar, local_day
from store.figure_queries import Key, PeriodRows, R
from store.figure_signal import compare_periods, tally_where
from store.figure_tallies import Tally

# Statuses of a submitted referral that still waits for a provider to take it.
WAITING = ("submitted", "needs_review", "queued", "dispatched")
UNDER_12 = "-12"
TOP = 10  # rows of the signaalfunctie's rankings


def waiting_cutoff(now: datetime, waiting_days: int, calendar: WorkCalendar) -> date:
    """The last submission day from which more than waiting_days working days have passed by now."""
    day, passed = local_day(now), 0
    while passed <= waiting_days:
        passed += calendar.is_working_day(day)
        day -= timedelta(days=1)
    return day


def unmet_conditions(cutoff: date) -> list[tuple[str, ColumnElement[bool]]]:
    """Each reason a referral got no help (yet), as a row key and a SQL condition."""
    return [
        ("niet_ontvankelijk", R.eligible.is_(False)),
        ("tegengehouden", R.set_aside.is_(True)),
        ("coordinator_geweigerd", R.coordinator_declined.is_(True)),
        ("door_iedereen_geweigerd", and_(R.provider_declines > 0, R.accepted_at.is_(None))),
        ("geen_aanbod", R.no_offer_in_region.is_(True)),
        ("wacht_te_lang", and_(R.status.in_(WAITING), R.accepted_at.is_(None), R.submitted_on <= cutoff)),
        ("jonger_dan_12", or_(R.age < 12, and_(R.age.is_(None), R.age_band == UNDER_12))),
    ]


def unmet_tallies(rows: PeriodRows, *, now: datetime, waiting_days: int, calendar: WorkCalendar) -> list[tuple[str, Tally]]:
    """Referrals and pupils per reason of unmet_conditions, in their order: (row key, tally)."""
    conditions = unmet_conditions(waiting_cutoff(now, waiting_days, calendar))
    return list(zip((key for key, _ in conditions), tally_where(rows, [condition for _, condition in conditions]), strict=True))


def unmet_draft(tallies: list[tuple[str, Tally]], period: Period, *, waiting_days: int) -> Draft:
    """Unmet demand by reason (`tallies`: unmet_tallies); the reasons overlap, so there is no totals row."""
    columns = (Column("reden", word("reden"), ColumnKind.LABEL), count_column("aanmeldingen"), count_column("leerlingen"))
    draft = Draft("onvervuld", "Onvervulde vraag", columns, companions=((0, 1),), chart="aanmeldingen",
                  context={"periode": period.label, "wachtdagen": waiting_days})
    for key, tally in tallies:
        draft.add(word(key), (tally.referrals, tally.pupils))
    return draft


def ranking_draft(rows: PeriodRows, key: str, column: str, period: Period) -> Draft:
    """The values with the most referrals in the period, next to the period before and the difference."""
    before = period.previous()
    found = compare_periods(rows, column, (before.start, before.end), TOP)
    label_key = "gemeente" if key == "signaal_gemeenten" else "school"
    columns = (Column(label_key, word(label_key), ColumnKind.LABEL), count_column("deze_periode"), count_column("vorige_periode"),
               Column("verschil", word("verschil")))
    # Published together, the difference and the period before give each other away: now = before + difference.
    draft = Draft(key, "Signaalfunctie", columns, across=(((1, 2), 0),), exempt=(2,), chart="deze_periode",
                  context={"periode": period.label, "vorige": before.label})
    for value, current, earlier in found:
        draft.add(str(value), (current, earlier, current - earlier))
    # This period's count is the one the municipality (school) table publishes: one number, hidden in both or neither.
    draft.facts = {(r, 0): (label_key, value, 0) for r, (value, _, _) in enumerate(found)}
    return draft


def problems_by_region_draft(found: dict[Key, int], period: Period) -> Draft:
    """Referrals per problem area and region, with a total per area (`found`: referrals_by_problem_and_region)."""
    regions = [member.value for member in Region]
    columns = (Column("probleemgebied", word("probleemgebied"), ColumnKind.LABEL),
               *(Column(region.value, region.label) for region in Region), Column("onbekend", text("unknown")), count_column("totaal"))
    width = len(regions) + 1
    draft = Draft("signaal_problemen", "Signaalfunctie", columns, across=((tuple(range(width)), width),), context={"periode": period.label})
    for area in ProblemArea:
        cells = [0] * width
        for (problem, region), referrals in found.items():
            if problem == area.value:
                cells[regions.index(str(region)) if region in regions else width - 1] += referrals
        draft.add(area.label, (*cells, sum(cells)))
    # An area's total is its count in the problem area table.
    draft.facts = {(r, width): ("probleemgebied", area.value, 0) for r, area in enumerate(ProblemArea)}
    return draft


def full_offers_draft(running: dict[str, int], catalogue: Catalogue, demand: DemandFacts, period: Period) -> Draft:
    """Per offer through the Meldpunt: free places in the catalogue, trajectories running now (`running`: in_progress_by_service),
    declines because it was full."""
    columns = (Column("aanbod", word("aanbod"), ColumnKind.LABEL), count_column("vrije_plaatsen"), count_column("lopend"),
               count_column("volzet_weigeringen"), Column("volzet", word("volzet"), ColumnKind.TEXT))
    draft = Draft("signaal_volzet", "Signaalfunctie", columns, exempt=(0,), context={"periode": period.label})
    for service in catalogue.services:
        if service.referral_route is not ReferralRoute.MELDPUNT:
            continue
        full = service.capacity == 0 or not service.accepting_referrals
        declined = sum(n for (s, accepted, reason), n in demand.answers.items() if s == service.id and not accepted and reason == "volzet")
        places: Cell = service.capacity
        draft.add(service_label(catalogue, service), (places, running.get(service.id, 0), declined, text("yes") if full else text("no")))
    return draft
