"""Benchmark: the school-year figures report over one million referrals, next to a hand-written SQL GROUP BY of its main table.

Run by hand: `.venv/bin/python bench/report.py [--rows 1000000] [--database both|sqlite|postgresql|URL] [--runs 3]`.
First (not timed) --rows figures rows are generated over five school years (2020-2021 … 2024-2025) with
realistic distributions: seasonal submission days, 60/38 % over the two regions and Zipf-like over 60
municipalities and 400 schools, ages around 15, one to three problem areas, the real catalogue's services, a
funnel of eligible → dispatched → accepted → round table → started → completed with provider declines and
redirects, 3 % imported Groene Zorg trajectories, 5 % rows without a pupil key and pupils referred more than once.
Ids follow the submission days, as when the Meldpunt writes them. They are written with Core executemany in chunks:
figures rows, problem areas, and for dispatched referrals a bare referrals row (the dispatch items' foreign key
needs one), dispatch items and answers.
Then, timed (the median of --runs after one warm-up): the demand per intervention table (desk.report: its SQL, its
Dutch rows, suppression) against the same figures read by hand-written SQL GROUP BY statements in the same run,
and the whole school-year report (every table, public audience), also counted in one lane (`parallel=False`; the
report counts in two, desk.report_lanes). PostgreSQL is a throwaway server started like the
test suite's (tests/conftest.py); SQLite a fresh file in a temp folder. Targets (issue 15): report ≤ 2 s, main
table ≤ 1.5× the hand-written SQL.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("MELDPUNT_ENCRYPTION_KEY", "dGVzdC1rZXktZm9yLXRoZS1tZWxkcHVudC1zdWl0ZSE=")
os.environ.setdefault("MELDPUNT_RAPPORT_SLEUTEL", "bench-rapport-sleutel")  # seals the school names (store.figure_secret)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from desk.report import build_report  # noqa: E402
from desk.report_cells import publish  # noqa: E402
from desk.report_demand import DemandFacts, demand_draft  # noqa: E402
from intake.catalogue import Catalogue  # noqa: E402
from intake.catalogue_loader import load_catalogue  # noqa: E402
from intake.figures import DeclineReason  # noqa: E402
from intake.lifecycle import CompletionOutcome  # noqa: E402
from intake.report_model import Audience, Period  # noqa: E402
from intake.retention import age_band  # noqa: E402
from intake.vocabulary import EducationForm, ProblemArea, ReferralRoute, Urgency  # noqa: E402
from store.db import create_db_engine, make_session_factory, upgrade_database  # noqa: E402
from store.dispatch_models import DispatchBatch, DispatchItem  # noqa: E402
from store.figure_models import DispatchAnswer, FigureProblemArea, FigurePupil, ReferralFigures  # noqa: E402
from store.figure_queries import direct_rows  # noqa: E402
from store.models import Referral  # noqa: E402

FIRST_YEAR, YEARS = 2020, 5
REPORT_YEAR = FIRST_YEAR + YEARS - 1  # the last generated school year, with the one before it for the comparison
CHUNK = 50_000
REASONS = tuple(reason.value for reason in DeclineReason)
NOW = datetime(2025, 9, 15, 8, 0, tzinfo=UTC)
URGENCIES = tuple(u.value for u in Urgency)


class Generator:
    """Random figures with the shapes the Meldpunt sees; seeded, so every run writes the same data."""

    def __init__(self, catalogue: Catalogue, rows: int) -> None:
        """Pools of places, schools and services, and the size of the pupil population."""
        self.random = random.Random(15)
        self.municipalities = [(f"Gemeente {i:02d}", "ahv" if i < 36 else "oost") for i in range(60)]
        self.schools = [(f"School {i:03d}", self.random.randrange(60)) for i in range(400)]
        self.services = [s.id for s in catalogue.services if s.referral_route is ReferralRoute.MELDPUNT]
        self.pupils = int(rows * 0.85)
        self.forms = [f.value for f in EducationForm]
        self.areas = [a.value for a in ProblemArea]
        self.days = [d for d in self._school_days()]

    def _school_days(self) -> Iterator[date]:
        """Weekdays of the five school years, September to June weighted double (July and August are quiet)."""
        day = date(FIRST_YEAR, 9, 1)
        while day < date(FIRST_YEAR + YEARS, 9, 1):
            if day.weekday() < 5:
                yield day
                if day.month not in (7, 8):
                    yield day
            day += timedelta(days=1)

    def zipf(self, size: int) -> int:
        """An index skewed to the front: a few municipalities and schools send most referrals."""
        return min(int(self.random.paretovariate(1.2)) - 1, size - 1)

    def submission_days(self, rows: int) -> list[date]:
        """The rows' submission days in order: the Meldpunt writes a figures row when a referral comes in, so ids follow time."""
        return sorted(self.random.choice(self.days) for _ in range(rows))

    def row(self, figures_id: int, submitted: date) -> dict[str, Any]:
        """One figures row, with its milestones drawn along the funnel."""
        r = self.random
        school, municipality_index = self.schools[self.zipf(len(self.schools))]
        municipality, region = self.municipalities[municipality_index if r.random() < 0.7 else self.zipf(60)]
        age = max(8, min(20, int(r.gauss(15, 1.8))))
        source = "groene-zorg" if r.random() < 0.03 else "meldpunt"
        pupil = None if r.random() < 0.05 else r.randrange(self.pupils)  # its number in figure_pupils (written with its first row)
        row: dict[str, Any] = {
            "id": figures_id, "referral_id": None, "source": source, "import_key": f"bench-{figures_id}" if source != "meldpunt" else None,
            "pupil_key": None if pupil is None else f"{pupil:064x}",
            "pupil_number": None if pupil is None else pupil + 1, "submitted_on": submitted,
            "school_year": submitted.year if submitted.month >= 9 else submitted.year - 1, "status": "submitted",
            "eligible": r.random() < 0.92, "region": region if r.random() > 0.02 else None, "municipality": municipality, "school": school,
            "clb": f"CLB {municipality_index % 12:02d}", "age": age, "age_band": age_band(age),
            "school_level": "secundair" if age >= 12 or r.random() < 0.3 else "basis", "school_grade": str(max(1, min(7, age - 11))),
            "education_form": r.choice(self.forms), "urgency": r.choices(URGENCIES, (70, 25, 5))[0],
            "referrer_role": r.choices(("clb", "ouder", "voorziening"), (85, 10, 5))[0], "desired_form": "individueel",
            "preferred_service": r.choice(self.services) if r.random() < 0.6 else None,
            "suggested_service": r.choice(self.services) if r.random() < 0.8 else None, "service": None,
            "set_aside": r.random() < 0.06, "coordinator_declined": False, "provider_declines": 0, "no_offer_in_region": r.random() < 0.04,
            "dispatched_at": None, "accepted_at": None, "round_table_at": None, "started_at": None, "completed_at": None, "outcome": None,
            "updated_at": NOW,
        }
        self._funnel(row, datetime(submitted.year, submitted.month, submitted.day, 9, tzinfo=UTC))
        return row

    def _funnel(self, row: dict[str, Any], moment: datetime) -> None:
        """How far the referral got, one milestone after another a few days apart."""
        r = self.random
        if not row["eligible"]:
            row["status"], row["coordinator_declined"] = "declined", r.random() < 0.7
            return
        if row["source"] == "groene-zorg":
            row.update(service="groene-zorg", status="in_progress", accepted_at=moment, started_at=moment + timedelta(days=r.randint(3, 20)))
            return
        if r.random() > 0.85:
            row["status"] = r.choice(("needs_review", "queued", "cancelled"))
            return
        row["service"] = row["preferred_service"] or row["suggested_service"] or r.choice(self.services)
        row["dispatched_at"] = moment = moment + timedelta(days=r.randint(1, 9), hours=r.randint(0, 14))
        row["provider_declines"] = 1 if r.random() < 0.25 else 0
        if r.random() > 0.75:
            row["status"] = r.choice(("dispatched", "declined"))
            return
        steps = (("accepted_at", "accepted"), ("round_table_at", "round_table_planned"), ("started_at", "in_progress"), ("completed_at", "completed"))
        for (column, status), chance in zip(steps, (1.0, 0.8, 0.9, 0.7), strict=True):
            if r.random() > chance:
                return
            moment += timedelta(days=r.randint(1, 15), hours=r.randint(0, 8))
            row[column], row["status"] = moment, status
        row["outcome"] = r.choices([o.value for o in CompletionOutcome], (50, 30, 20))[0]


def generate(url: str, rows: int, catalogue: Catalogue) -> None:
    """Write the data set in chunks (not timed)."""
    engine = create_db_engine(url)
    generator = Generator(catalogue, rows)
    days = generator.submission_days(rows)
    started = time.perf_counter()
    with Session(engine) as session:
        session.add(DispatchBatch(id=1, slot_key="bench", started_at=NOW, actor="bench", referrals=0, mails=0))
        session.commit()
        blob = Referral.__table__.c.answers.type.process_bind_param({}, engine.dialect)
        item_id, numbered = 0, set[int]()
        for first in range(1, rows + 1, CHUNK):
            figures = [generator.row(i, days[i - 1]) for i in range(first, min(first + CHUNK, rows + 1))]
            referrals, items, answers = [], [], []
            for row in figures:
                if row["dispatched_at"] is None:
                    continue
                row["referral_id"] = row["id"]
                referrals.append({"id": row["id"], "status": "draft", "mode": "full", "channel": "email", "answers": blob, "created_at": NOW,
                                  "updated_at": NOW, "version": 1})
                item_id = _dispatches(generator, row, item_id, items, answers)
            problems = [{"figures_id": row["id"], "problem_area": area} for row in figures
                        for area in generator.random.sample(generator.areas, generator.random.choice((1, 1, 2, 2, 3)))]
            if referrals:
                session.execute(text("INSERT INTO referrals (id, status, mode, channel, answers, created_at, updated_at, version) "
                                     "VALUES (:id, :status, :mode, :channel, :answers, :created_at, :updated_at, :version)"),
                                [{**r, "created_at": NOW.replace(tzinfo=None), "updated_at": NOW.replace(tzinfo=None)} for r in referrals])
            connection = session.connection()  # Core executemany: one statement per table and chunk
            # Membership in `numbered` itself: `numbered | {None}` copied the whole set per row, and the run slowed to an hour.
            pupils = {n: row["pupil_key"] for row in figures if (n := row["pupil_number"]) is not None and n not in numbered}
            if pupils:  # first the numbers the chunk uses for the first time: the figures rows refer to them
                connection.execute(insert(FigurePupil.__table__), [{"number": n, "pupil_key": k} for n, k in pupils.items()])
                numbered.update(pupils)
            connection.execute(insert(ReferralFigures.__table__), figures)
            connection.execute(insert(FigureProblemArea.__table__), problems)
            if items:
                connection.execute(insert(DispatchItem.__table__), items)
                connection.execute(insert(DispatchAnswer.__table__), answers)
            session.commit()
            print(f"  {min(first + CHUNK - 1, rows)}/{rows} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def _dispatches(generator: Generator, row: dict[str, Any], item_id: int, items: list[dict[str, Any]], answers: list[dict[str, Any]]) -> int:
    """The dispatch items of a dispatched row (a declined first one, then the service it went to) and the providers' answers."""
    r = generator.random
    targets = []
    if row["provider_declines"]:
        others = [s for s in generator.services if s != row["service"]]
        targets.append((r.choice(others), False))
    targets.append((row["service"], True if row["accepted_at"] else (False if row["status"] == "declined" else None)))
    for service, accepted in targets:
        item_id += 1
        items.append({"id": item_id, "batch_id": 1, "referral_id": row["id"], "service_id": service, "provider_address": "a@b.example",
                      "dispatched_at": row["dispatched_at"]})
        if accepted is not None:
            answers.append({"dispatch_item_id": item_id, "service_id": service, "accepted": accepted,
                            "decline_reason": None if accepted else r.choices(REASONS, (40, 15, 25, 15, 5))[0], "answered_at": row["dispatched_at"]})
    return item_id


# The same figures as the demand table, written by hand: one GROUP BY per kind of count.
HAND_WRITTEN = (
    "SELECT source, preferred_service, suggested_service, service, count(*), count(accepted_at), count(round_table_at), count(started_at), "
    "count(completed_at) FROM referral_figures WHERE submitted_on BETWEEN :start AND :end "
    "GROUP BY source, preferred_service, suggested_service, service",
    "SELECT source, service, count(DISTINCT pupil_key) + sum(CASE WHEN pupil_key IS NULL THEN 1 ELSE 0 END) FROM referral_figures "
    "WHERE submitted_on BETWEEN :start AND :end GROUP BY source, service",
    "SELECT d.service_id, a.accepted, a.decline_reason, count(*) FROM dispatch_items d LEFT JOIN dispatch_answers a ON a.dispatch_item_id = d.id "
    "WHERE d.referral_id IN (SELECT referral_id FROM referral_figures WHERE submitted_on BETWEEN :start AND :end) "
    "GROUP BY d.service_id, a.accepted, a.decline_reason",
    "SELECT count(*), count(DISTINCT pupil_key) + sum(CASE WHEN pupil_key IS NULL THEN 1 ELSE 0 END) FROM referral_figures "
    "WHERE submitted_on BETWEEN :start AND :end",
)


def hand_written(session: Session, period: Period) -> list[list[Any]]:
    """Run the hand-written statements and fetch every row."""
    return [list(session.execute(text(statement), {"start": period.start, "end": period.end})) for statement in HAND_WRITTEN]


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """One warm-up call, then the median wall time of runs calls."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, catalogue: Catalogue, runs: int) -> dict[str, float]:
    """Time the main table, the hand-written SQL and the whole report on one database."""
    engine = create_db_engine(url)
    period = Period.school_year(REPORT_YEAR)
    with make_session_factory(engine)() as session:
        def main_table() -> object:
            # The demand table alone reads the figures in place, as a caller wanting only it would (the whole report copies them).
            rows = direct_rows(session, period.start, period.end)
            return publish([demand_draft(DemandFacts.fetch(rows), catalogue, period.label)], Audience.PUBLIC, 5)

        def whole(parallel: bool = True) -> object:
            return build_report(session, period=period, audience=Audience.PUBLIC, min_cell=5, now=NOW, catalogue=catalogue,
                                waiting_days=10, actor="bench", parallel=parallel)

        found = {"main": median_seconds(main_table, runs), "hand": median_seconds(lambda: hand_written(session, period), runs),
                 "report": median_seconds(whole, runs), "one_lane": median_seconds(lambda: whole(parallel=False), runs)}
        total = next(row for row in build_report(session, period=period, audience=Audience.INTERNAL, min_cell=5, now=NOW,
                                                 catalogue=catalogue, waiting_days=10, actor="bench").tables if row.key == "vraag_aanbod").total
        found["referrals"] = float(total.cells[-1]) if total and isinstance(total.cells[-1], int) else -1.0
    engine.dispose()
    return found


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL server (started the way tests/conftest.py does) with one empty database."""
    from tests.conftest import POSTGRES_USER, _postgres_bin_dir, _run, _start_postgres

    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found")
    base = Path(tempfile.mkdtemp(prefix="meldpunt-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user=POSTGRES_USER, group=POSTGRES_USER)
    try:
        server = _start_postgres(bin_dir, base)
        try:
            with server.admin_connection() as admin:
                admin.execute('CREATE DATABASE "bench"')
            yield server.url("bench")
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """The URL of an empty database of this kind ("sqlite", "postgresql" or a URL)."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="meldpunt-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        yield kind


def main() -> None:
    """Generate, measure and print, per database."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="both", help="'both', 'sqlite', 'postgresql' (a throwaway server) or an empty database URL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-generate", action="store_true", help="measure a database (a URL) that an earlier run filled")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    catalogue = load_catalogue()
    results = []
    for kind in (("sqlite", "postgresql") if args.database == "both" else (args.database,)):
        with database(kind) as url:
            if not args.no_generate:
                upgrade_database(url)
                print(f"{kind}: generating {args.rows} referrals over {YEARS} school years (not timed) …", flush=True)
                generate(url, args.rows, catalogue)
            print(f"{kind}: measuring (median of {args.runs}) …", flush=True)
            results.append((kind, measure(url, catalogue, args.runs)))
    print(f"\n{args.rows} referrals over {YEARS} school years; report of schooljaar {REPORT_YEAR}-{REPORT_YEAR + 1}")
    main_ok = report_ok = True
    for kind, found in results:
        ratio = found["main"] / found["hand"]
        main_ok = main_ok and found["main"] <= 2.0 and ratio <= 1.5
        report_ok = report_ok and found["report"] <= 2.0
        print(f"{kind:<11} referrals in the year {found['referrals']:9.0f}   main table {found['main']:6.3f} s   hand-written SQL {found['hand']:6.3f} s"
              f"   ratio x{ratio:4.2f}   whole report {found['report']:6.3f} s (in one lane {found['one_lane']:6.3f} s,"
              f" x{found['report'] / found['one_lane']:4.2f})")
    print(f"main table ≤ 2 s and ≤ 1.5× hand-written: {'ok' if main_ok else 'NIET gehaald'}; "
          f"whole report ≤ 2 s: {'ok' if report_ok else 'NIET gehaald'}")

if __name__ == "__main__":
    main()
