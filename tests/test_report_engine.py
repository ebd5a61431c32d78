"""The figures report on a fixed data set whose figures were counted by hand (SQLite and PostgreSQL).

Twenty referrals of school year 2025-2026 (fifteen through the Meldpunt, five Groene Zorg took directly), four of
the year before and one draft. The expected numbers below are written out, not recomputed: the comments say
which rows make each one (m1…m15, g1…g5, q1…q4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.report import build_report
from desk.report_demand import DemandFacts
from intake.brussels import BRUSSELS
from intake.catalogue import Catalogue
from intake.report_model import Audience, Period, Report, Suppressed, Table
from intake.retention import age_band
from intake.suppression import Line, derivable
from intake.workhours import WorkCalendar
from store.audit import AuditAction
from store.dispatch_models import DispatchBatch, DispatchItem
from store.figure_models import DispatchAnswer, FigureProblemArea, ReferralFigures
from store.figure_queries import direct_rows, period_rows
from store.figure_tallies import Tally
from store.models import AuditEntry, Referral

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=BRUSSELS)  # a Monday
YEAR = Period.school_year(2025)
A, B, G = "naft-alfa", "naft-beta", "groene-zorg"


def catalogue() -> Catalogue:
    """Two providers through the Meldpunt (Beta has no free places) and Groene Zorg, which takes pupils directly."""
    common = {"kind": "naft", "referral_route": "meldpunt", "last_reviewed": date(2025, 9, 1), "source": "test"}
    return Catalogue.model_validate({
        "organizations": [{"id": "alfa", "name": "Alfa vzw"}, {"id": "beta", "name": "Beta vzw"}, {"id": "gz", "name": "Groene Zorg vzw"}],
        "services": [
            {**common, "id": A, "organization_id": "alfa", "name": "NAFT Alfa"},
            {**common, "id": B, "organization_id": "beta", "name": "NAFT Beta", "capacity": 0},
            {**common, "id": G, "organization_id": "gz", "name": "Zorgboerderij", "kind": "zorgboerderij", "referral_route": "rechtstreeks"},
        ],
    })


def at(day: str, clock: str = "10:00") -> datetime:
    """A Brussels moment."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=BRUSSELS)


@dataclass
class Row:
    """One referral of the data set: its figures row, problem areas and the providers it went to with their answers."""

    pupil: str | None
    submitted: str | None
    municipality: str | None = None
    school: str | None = None
    clb: str | None = None
    age: int | None = None
    level: str | None = "secundair"
    source: str = "meldpunt"
    problems: tuple[str, ...] = ()
    # (service, dispatched at, accepted?, decline reason): one dispatch item each, answered when accepted is not None.
    dispatches: tuple[tuple[str, datetime, bool | None, str | None], ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


REGION = {"Vilvoorde": "ahv", "Halle": "ahv", "Leuven": "oost"}
VIL = {"municipality": "Vilvoorde", "school": "Atheneum Vilvoorde", "clb": "CLB Noord"}
HAL = {"municipality": "Halle", "school": "Sint-Jozef Halle", "clb": "CLB Zuid"}
LEU = {"municipality": "Leuven", "school": "College Leuven", "clb": "CLB Oost"}
TRAJECTORY = {"status": "in_progress", "preferred_service": A, "suggested_service": A, "service": A}

ROWS: dict[str, Row] = {
    "m1": Row("p1", "2025-10-06", **VIL, age=14, problems=("spijbelen", "gedrag"), dispatches=((A, at("2025-10-08", "09:00"), True, None),),
              fields={**TRAJECTORY, "status": "completed", "accepted_at": at("2025-10-13"), "round_table_at": at("2025-10-20"),
                      "started_at": at("2025-10-22"), "completed_at": at("2026-03-02"), "outcome": "terug-naar-school"}),
    # Dispatched 23:30 UTC on Tuesday: Wednesday 01:30 in Brussels, so two working days after Monday, not one.
    "m2": Row("p2", "2025-10-06", **VIL, age=14, problems=("spijbelen",),
              dispatches=((A, datetime(2025, 10, 7, 23, 30, tzinfo=UTC), True, None),),
              fields={**TRAJECTORY, "status": "completed", "accepted_at": at("2025-10-14"), "round_table_at": at("2025-10-20"),
                      "started_at": at("2025-10-23"), "completed_at": at("2026-04-01"), "outcome": "ander-onderwijs"}),
    "m3": Row("p3", "2025-10-06", **VIL, age=15, problems=("schoolmoeheid",), dispatches=((A, at("2025-10-08", "09:00"), True, None),),
              fields={**TRAJECTORY, "accepted_at": at("2025-10-13"), "round_table_at": at("2025-10-20"), "started_at": at("2025-10-22")}),
    "m4": Row("p4", "2025-10-06", **HAL, age=16, problems=("gedrag",), dispatches=((A, at("2025-10-08", "09:00"), True, None),),
              fields={**TRAJECTORY, "accepted_at": at("2025-10-15"), "round_table_at": at("2025-10-27"), "started_at": at("2025-10-29")}),
    "m5": Row("p5", "2025-10-06", **HAL, age=13, problems=("spijbelen",), dispatches=((A, at("2025-10-08", "09:00"), True, None),),
              fields={**TRAJECTORY, "status": "accepted", "preferred_service": B, "accepted_at": at("2025-10-10")}),
    # The same pupil as m1, again: one pupil, two referrals. Dispatched, no answer yet: waiting since March.
    "m6": Row("p1", "2026-03-09", **VIL, age=14, problems=("spijbelen",), dispatches=((A, at("2026-03-11", "09:00"), None, None),),
              fields={**TRAJECTORY, "status": "dispatched"}),
    # Submitted Monday 10 November 2025; Tuesday 11 November is a public holiday: one working day to Wednesday.
    "m7": Row("p7", "2025-11-10", **LEU, age=15, problems=("thuissituatie",),
              dispatches=((B, at("2025-11-12", "09:00"), False, "volzet"), (A, at("2025-11-19", "09:00"), False, "buiten-regio")),
              fields={"status": "declined", "preferred_service": B, "suggested_service": B, "service": A, "provider_declines": 2}),
    "m8": Row("p8", "2025-11-10", **LEU, age=16, problems=("gedrag", "thuissituatie"),
              dispatches=((B, at("2025-11-12", "09:00"), False, "volzet"), (A, at("2025-11-19", "09:00"), True, None)),
              fields={"status": "accepted", "preferred_service": B, "suggested_service": B, "service": A, "provider_declines": 1,
                      "accepted_at": at("2025-11-20")}),
    "m9": Row("p9", "2025-11-10", **LEU, age=17, problems=("perspectief",), dispatches=((B, at("2025-11-12", "09:00"), False, "leerling-of-gezin"),),
              fields={"status": "declined", "preferred_service": B, "suggested_service": B, "service": B, "provider_declines": 1}),
    "m10": Row("p10", "2025-12-01", "Leuven", "Basisschool De Linde", "CLB Oost", age=10, level="basis", problems=("gedrag",),
               fields={"status": "declined", "eligible": False, "coordinator_declined": True, "referrer_role": "ouder"}),
    "m11": Row(None, "2026-06-10", **VIL, level="basis", problems=("socio-emotioneel",),
               fields={"status": "needs_review", "eligible": False, "set_aside": True, "age_band": "-12"}),
    "m12": Row("p12", "2025-12-01", **HAL, age=14, problems=("spijbelen", "middelen"),
               fields={"status": "needs_review", "set_aside": True, "no_offer_in_region": True, "preferred_service": G}),
    "m13": Row("p13", "2026-05-04", **VIL, age=15, problems=("schoolmoeheid",), fields={"status": "queued", "suggested_service": A}),
    "m14": Row("p14", "2025-09-15", **VIL, age=12, problems=("spijbelen",), fields={"status": "cancelled", "preferred_service": A}),
    "m15": Row(None, "2026-06-12", level=None, fields={"status": "submitted"}),
    # Groene Zorg's own overview: accepted and started two weeks after submission (ten working days).
    **{f"g{i}": Row(key, "2025-10-06", **({**HAL, "clb": None} if i <= 3 else {**LEU, "clb": None}), age=15, source="groene-zorg",
                    problems=("schoolmoeheid",) if i <= 3 else ("perspectief",),
                    fields={"status": "completed" if i <= 2 else "in_progress", "service": G, "accepted_at": at("2025-10-20"),
                            "started_at": at("2025-10-20"), "completed_at": at("2026-02-02") if i <= 2 else None,
                            "outcome": {1: "overdracht", 2: "terug-naar-school"}.get(i)})
       for i, key in ((1, "pg1"), (2, "pg2"), (3, "pg3"), (4, "pg4"), (5, "p7"))},
    # School year 2024-2025, for the signaalfunctie's comparison.
    "q1": Row("q1", "2025-03-03", **VIL, age=15, fields={"status": "completed"}),
    **{f"q{i}": Row(f"q{i}", "2025-03-03", **LEU, age=15, fields={"status": "completed"}) for i in (2, 3, 4)},
    "draft": Row("d1", None, **VIL, age=14, fields={"status": "draft"}),
}


def insert_data_set(session: Session) -> None:
    """Write ROWS as figures rows (with a referral and dispatch items where there are dispatches)."""
    batch = DispatchBatch(slot_key="test", started_at=NOW, actor="test", referrals=0, mails=0)
    session.add(batch)
    for number, (name, row) in enumerate(ROWS.items(), start=1):
        referral = None
        if row.source == "meldpunt":
            referral = Referral(reference=f"MSI-2025-{number:04d}", status="draft", mode="full", channel="email", answers={},
                                created_at=NOW, updated_at=NOW, version=1)
            session.add(referral)
            session.flush()
        figures = ReferralFigures(
            referral_id=referral.id if referral else None, source=row.source, import_key=None if referral else name, pupil_key=row.pupil,
            submitted_on=date.fromisoformat(row.submitted) if row.submitted else None, school_year=None, region=REGION.get(row.municipality or ""),
            municipality=row.municipality, school=row.school, clb=row.clb, age=row.age, age_band=age_band(row.age), school_level=row.level,
            school_grade="3", education_form="a-stroom", urgency="normaal", referrer_role="clb", eligible=True, updated_at=NOW,
            dispatched_at=row.dispatches[0][1] if row.dispatches else None,
        )
        for key, value in row.fields.items():
            setattr(figures, key, value)
        session.add(figures)
        session.flush()
        session.add_all(FigureProblemArea(figures_id=figures.id, problem_area=area) for area in row.problems)
        for service, sent, accepted, reason in row.dispatches:
            assert referral is not None
            item = DispatchItem(batch_id=batch.id, referral_id=referral.id, service_id=service, provider_address="a@b.example", dispatched_at=sent)
            session.add(item)
            session.flush()
            if accepted is not None:
                session.add(DispatchAnswer(dispatch_item_id=item.id, service_id=service, accepted=accepted, decline_reason=reason, answered_at=sent))
    session.commit()


def report(session: Session, audience: Audience, min_cell: int = 5) -> Report:
    """The school year's report of the data set."""
    return build_report(session, period=YEAR, audience=audience, min_cell=min_cell, now=NOW, catalogue=catalogue(),
                        waiting_days=10, actor="coordinator@meldpunt.example", calendar=WorkCalendar())


def table(made: Report, key: str) -> Table:
    """One table by its key."""
    return next(t for t in made.tables if t.key == key)


def cells(made: Report, key: str) -> dict[str, tuple[Any, ...]]:
    """A table as {row label: cells}, the totals row under "Totaal"."""
    found = table(made, key)
    rows = {row.label: row.cells for row in found.rows}
    if found.total is not None:
        rows[found.total.label] = found.total.cells
    return rows


def test_the_internal_report_counts_what_was_counted_by_hand(session: Session) -> None:
    insert_data_set(session)
    made = report(session, Audience.INTERNAL)
    assert made.period.label == "schooljaar 2025-2026"
    assert not [c for t in made.tables for row in (*t.rows, *([t.total] if t.total else [])) for c in row.cells if isinstance(c, Suppressed)]
    # voorkeur, eerste suggestie, verzonden, aanvaard, geweigerd, ronde tafel, gestart, afgerond, leerlingen, aanmeldingen
    assert cells(made, "vraag_aanbod") == {
        "NAFT Alfa (Alfa vzw)": (6, 7, 8, 6, 1, 4, 4, 2, 7, 8),  # went to Alfa last: m1-m8; m7 and m8 redirected to it
        "NAFT Beta (Beta vzw)": (4, 3, 3, 0, 3, 0, 0, 0, 1, 1),
        "Zorgboerderij (Groene Zorg vzw)": (1, 0, 0, 0, 0, 0, 0, 0, 0, 0),  # m12 preferred it
        "Zorgboerderij (Groene Zorg vzw), rechtstreeks via Groene Zorg": (None, None, None, 5, None, 0, 5, 2, 5, 5),
        "Nog bij geen aanbod": (None, None, None, None, None, None, None, None, 6, 6),  # m10-m15
        "Totaal": (11, 10, 11, 11, 4, 4, 9, 4, 18, 20),  # 18 pupils: p1 twice, p7 in both sources, m11 and m15 without key
    }
    assert cells(made, "weigeringen") == {
        "NAFT Alfa (Alfa vzw)": (0, 1, 0, 0, 0, 0, 1),
        "NAFT Beta (Beta vzw)": (2, 0, 0, 1, 0, 0, 3),
        "Totaal": (2, 1, 0, 1, 0, 0, 4),
    }
    assert cells(made, "regio") == {"Asse-Halle-Vilvoorde": (13, 12), "Vlaams-Brabant Oost": (6, 5), "Niet gekend": (1, 1), "Totaal": (20, 18)}
    assert list(cells(made, "gemeente").items()) == [("Vilvoorde", (7, 6)), ("Halle", (6, 6)), ("Leuven", (6, 5)), ("Niet gekend", (1, 1)),
                                                      ("Totaal", (20, 18))]
    assert cells(made, "school") == {"Atheneum Vilvoorde": (7, 6), "Sint-Jozef Halle": (6, 6), "College Leuven": (5, 4),
                                     "Basisschool De Linde": (1, 1), "Niet gekend": (1, 1), "Totaal": (20, 18)}
    assert cells(made, "clb") == {"CLB Noord": (7, 6), "CLB Oost": (4, 4), "CLB Zuid": (3, 3), "Niet gekend": (6, 6), "Totaal": (20, 18)}
    assert cells(made, "leeftijd") == {"10 jaar": (1, 1), "12 jaar": (1, 1), "13 jaar": (1, 1), "14 jaar": (4, 3), "15 jaar": (8, 7),
                                       "16 jaar": (2, 2), "17 jaar": (1, 1), "Niet gekend": (2, 2), "Totaal": (20, 18)}
    assert cells(made, "niveau") == {"Secundair onderwijs": (17, 15), "Basisonderwijs": (2, 2), "Niet gekend": (1, 1), "Totaal": (20, 18)}
    assert cells(made, "probleemgebied")["Spijbelen of schoolverzuim"] == (6, 5)
    assert cells(made, "probleemgebied")["Weinig of geen perspectief op school"] == (3, 3)
    assert cells(made, "probleemgebied")["Totaal"] == (20, 18)


def test_trajectories_lead_times_and_unmet_demand(session: Session) -> None:
    insert_data_set(session)
    made = report(session, Audience.INTERNAL)
    assert cells(made, "trajecten") == {
        "Gestart": (4, 5, 9), "Afgerond": (2, 2, 4), "Terug naar school": (1, 1, 2), "Andere vorm van onderwijs": (1, 0, 1),
        "Warme overdracht naar een andere dienst": (0, 1, 1), "Afgerond, uitkomst niet gekend": (0, 0, 0),
    }
    # Working days; m7-m9 skip 11 November, m2's dispatch counts on its Brussels day.
    assert cells(made, "doorlooptijden") == {
        "Ingediend → verzonden": (9, 2, 2),  # 1,1,1,2,2,2,2,2,2
        "Verzonden → aanvaard": (6, 3, 6),  # 2,3,3,4,5,6
        "Aanvaard → ronde tafel": (4, 5, 8),  # 4,5,5,8
        "Ronde tafel → gestart": (4, 2, 3),  # 2,2,2,3
        "Ingediend → gestart (hele weg)": (9, 10, 17),  # 10 ×5 (Groene Zorg),12,12,13,17
    }
    assert cells(made, "onvervuld") == {
        "Niet ontvankelijk": (2, 2), "Tegengehouden door de coördinator": (2, 2), "Geweigerd door de coördinator": (1, 1),
        "Door elke aanbieder geweigerd, nergens aanvaard": (2, 2), "Geen passend aanbod in de regio": (1, 1),
        "Wacht langer dan de termijn": (3, 3),  # m6, m12, m13; m11 and m15 are too recent, m9 is declined
        "Vraag voor een leerling jonger dan 12 jaar": (2, 2),  # m10 (10 years), m11 (band only)
    }


def test_the_signaalfunctie(session: Session) -> None:
    insert_data_set(session)
    made = report(session, Audience.INTERNAL)
    assert list(cells(made, "signaal_gemeenten").items()) == [("Vilvoorde", (7, 1, 6)), ("Halle", (6, 0, 6)), ("Leuven", (6, 3, 3))]
    assert list(cells(made, "signaal_scholen").items()) == [("Atheneum Vilvoorde", (7, 1, 6)), ("Sint-Jozef Halle", (6, 0, 6)),
                                                            ("College Leuven", (5, 3, 2)), ("Basisschool De Linde", (1, 0, 1))]
    problems = cells(made, "signaal_problemen")
    assert problems["Spijbelen of schoolverzuim"] == (6, 0, 0, 6)
    assert problems["Gedragsproblemen op school"] == (2, 2, 0, 4)
    assert problems["Weinig of geen perspectief op school"] == (0, 3, 0, 3)
    assert cells(made, "signaal_volzet") == {"NAFT Alfa (Alfa vzw)": (None, 4, 0, "nee"), "NAFT Beta (Beta vzw)": (0, 0, 2, "ja")}


def test_the_public_report_hides_small_cells_and_has_no_school_or_clb(session: Session) -> None:
    insert_data_set(session)
    made = report(session, Audience.PUBLIC)
    keys = {t.key for t in made.tables}
    assert not keys & {"school", "clb", "leeftijd", "signaal_scholen"}
    assert "leeftijdsgroep" in keys
    hidden = Suppressed(5)
    # Niet gekend (1) is hidden; Oost (6), the smallest other region, with it, or 1 = 20 - 13 - 6.
    assert cells(made, "regio") == {"Asse-Halle-Vilvoorde": (13, 12), "Vlaams-Brabant Oost": (hidden, hidden), "Niet gekend": (hidden, hidden),
                                    "Totaal": (20, 18)}
    regions = cells(made, "regio")
    assert (str(regions["Niet gekend"][0]), str(regions["Vlaams-Brabant Oost"][0])) == ("<5", "x"), "Oost's 6 is hidden, but it is no \"<5\""
    assert cells(made, "leeftijdsgroep")["14 tot 15 jaar"] == (12, 10)
    # Fewer than five trajectories: no median or percentile, and the count itself hidden.
    assert cells(made, "doorlooptijden")["Aanvaard → ronde tafel"] == (hidden, hidden, hidden)
    assert cells(made, "doorlooptijden")["Ingediend → gestart (hele weg)"] == (9, 10, 17)
    assert not any(str(note).startswith("Intern") for note in made.notes)


def test_no_hidden_cell_of_the_public_report_can_be_recomputed(session: Session) -> None:
    insert_data_set(session)
    made = report(session, Audience.PUBLIC)
    suppressed = 0
    for found in made.tables:
        grid = [*found.rows, *([found.total] if found.total else [])]
        hidden = {(r, c) for r, row in enumerate(grid) for c, cell in enumerate(row.cells) if isinstance(cell, Suppressed)}
        suppressed += len(hidden)
        assert derivable(published_sums(found), hidden) == frozenset(), found.key
        # And no published count of people is below five (0 is shown: nobody is in it); differences and free places are no such count.
        people = [c for c, column in enumerate(found.columns[1:]) if column.kind == "aantal" and column.key not in {"verschil", "vrije_plaatsen"}]
        assert not [row.cells[c] for row in grid for c in people if isinstance(row.cells[c], int) and 0 < row.cells[c] < 5], found.key
    assert suppressed > 20


def test_no_hidden_cell_can_be_recomputed_by_combining_tables(session: Session) -> None:
    # A reader also knows that tables share numbers: the same totals everywhere, a municipality's count in the
    # signaalfunctie, an area's total in both area tables, and the municipalities of a region adding up to it.
    insert_data_set(session)
    made = report(session, Audience.PUBLIC)
    tables = {t.key: t for t in made.tables}
    number: dict[tuple[str, int, int], tuple[int, int]] = {}

    def at(key: str, r: int, c: int) -> tuple[int, int]:
        return number.setdefault((key, r, c), (len(number), 0))

    lines = [Line(tuple(at(key, *p) for p in line.parts), at(key, *line.total)) for key, t in tables.items() for line in published_sums(t)]

    def same(a: tuple[str, int, int], b: tuple[str, int, int]) -> None:
        lines.append(Line((at(*a),), at(*b)))

    dimensions = [k for k, t in tables.items() if t.section == "Regio en school"]
    for key in dimensions:
        same((key, len(tables[key].rows), 0), ("regio", len(tables["regio"].rows), 0))
        same((key, len(tables[key].rows), 1), ("regio", len(tables["regio"].rows), 1))
    same(("vraag_aanbod", len(tables["vraag_aanbod"].rows), 9), ("regio", len(tables["regio"].rows), 0))
    municipalities = [row.label for row in tables["gemeente"].rows]
    for r, row in enumerate(tables["signaal_gemeenten"].rows):
        same(("signaal_gemeenten", r, 0), ("gemeente", municipalities.index(row.label), 0))
    for r, _ in enumerate(tables["signaal_problemen"].rows):
        same(("signaal_problemen", r, 3), ("probleemgebied", r, 0))
    index = municipalities.index
    lines.append(Line((at("gemeente", index("Vilvoorde"), 0), at("gemeente", index("Halle"), 0)), at("regio", 0, 0)))
    lines.append(Line((at("gemeente", index("Leuven"), 0),), at("regio", 1, 0)))
    lines.append(Line((at("gemeente", index("Niet gekend"), 0),), at("regio", 2, 0)))
    hidden = {at(key, r, c) for key, t in tables.items() for r, row in enumerate([*t.rows, *([t.total] if t.total else [])])
              for c, cell in enumerate(row.cells) if isinstance(cell, Suppressed)}
    assert derivable(lines, hidden) == frozenset()
    # Oost is hidden in the region table, so Leuven (all of Oost) is hidden too, here and in the signaalfunctie.
    assert cells(made, "gemeente")["Leuven"][0] == Suppressed(5)
    assert cells(made, "signaal_gemeenten")["Leuven"][0] == Suppressed(5)
    # Leuven is all of Oost: one number, so hiding it protects the region too; AHV's municipalities stay shown.
    assert cells(made, "gemeente")["Vilvoorde"] == (7, 6) and cells(made, "gemeente")["Halle"] == (6, 6)


def published_sums(found: Table) -> list[Line]:
    """Every sum a reader of the table can check: each count column adding up to the totals row, and every row's parts to its total."""
    grid = [*found.rows, *([found.total] if found.total else [])]
    counts = [c for c, column in enumerate(found.columns[1:]) if column.kind == "aantal"]
    lines = []
    if found.total is not None:  # columns whose rows add up (where the numbers do, a reader assumes they must)
        lines += [Line(tuple((r, c) for r in range(len(grid) - 1)), (len(grid) - 1, c)) for c in counts]
    last = counts[-1] if counts else None
    if last is not None and found.columns[-1].key == "totaal":
        lines += [Line(tuple((r, c) for c in counts[:-1]), (r, last)) for r in range(len(grid))]
    if found.key == "trajecten":  # the outcomes add up to "Afgerond"
        lines += [Line(((2, c), (3, c), (4, c), (5, c)), (1, c)) for c in counts]
    if found.key.startswith("signaal_") and found.key != "signaal_problemen" and found.key != "signaal_volzet":
        lines += [Line(((r, 1), (r, 2)), (r, 0)) for r in range(len(grid))]
    return lines


def test_every_run_writes_one_audit_row_without_figures(session: Session) -> None:
    insert_data_set(session)
    report(session, Audience.PUBLIC)
    report(session, Audience.INTERNAL)
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.REPORT.value).order_by(AuditEntry.id)).all()
    assert [(row.actor, row.detail) for row in rows] == [("coordinator@meldpunt.example", "01/09/2025-31/08/2026 publiek"),
                                                         ("coordinator@meldpunt.example", "01/09/2025-31/08/2026 intern")]


STORED_CODES = re.compile(r"^(ahv|oost|secundair|basis|a-stroom|normaal|clb|ouder|spijbelen|gedrag|volzet|buiten-regio|leerling-of-gezin|"
                          r"terug-naar-school|overdracht|in_progress|meldpunt|groene-zorg|naft-alfa|naft-beta|-12|12-13|14-15)$")


def test_every_label_and_header_is_dutch_words_not_a_stored_code(session: Session) -> None:
    insert_data_set(session)
    for audience in Audience:
        made = report(session, audience)
        words = [made.title, *made.notes]
        for found in made.tables:
            words += [found.title, found.definition, *(c.label for c in found.columns), *(row.label for row in found.rows)]
            words += [cell for row in found.rows for cell in row.cells if isinstance(cell, str)]
            assert found.section in {"Vraag", "Regio en school", "Trajecten", "Onvervulde vraag", "Signaalfunctie"}
            assert "schooljaar 2025-2026" in found.definition or found.key == "signaal_volzet"
        assert [w for w in words if STORED_CODES.match(w.strip())] == []
        assert all(w.strip() and "{" not in w for w in words)
    assert cells(report(session, Audience.INTERNAL), "leerjaar") == {"3e leerjaar": (20, 18), "Totaal": (20, 18)}


def test_the_demand_table_read_in_place_counts_the_same_as_from_the_copied_rows(session: Session) -> None:
    insert_data_set(session)
    with period_rows(session, YEAR.start, YEAR.end) as rows:
        copied = DemandFacts.fetch(rows)
    in_place = DemandFacts.fetch(direct_rows(session, YEAR.start, YEAR.end))
    assert in_place == copied
    assert in_place.total == Tally(20, 18)  # 18 pupils: p1 twice, p7 in both sources, m11 and m15 without key
    direct = [ran for (source, _), ran in in_place.trajectories.items() if source == "groene-zorg"]
    assert [sum(ran[0] for ran in direct), sum(ran[1] for ran in direct)] == [5, 2]  # g1-g5 started, two of them completed
