"""The Groene Zorg overview: its columns, each row checked, and the figures of each trajectory it lists (pure).

Groene Zorg takes referrals directly and sends the Meldpunt an overview at the end of the school year. Rows
come in as text cells with their row number in the file (the header is row 1); every problem of every row is
collected, so the coordinator fixes the file once. No column may identify a pupil: the overview has no names.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from intake.folding import fold
from intake.groene_zorg_cells import (
    LEVELS,
    OUTCOMES,
    Bad,
    Kind,
    choice,
    day_in_year,
    place_of,
    problem_list,
    school_year,
    whole_number,
    yes_no,
)
from intake.lifecycle import Status
from intake.retention import age_band

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000  # rows with a trajectory, the header and empty rows not counted
MAX_CELL_CHARS = 200
MAX_COLUMNS = 50
# Formatting can make a spreadsheet report thousands of empty rows; past this many, reading stops.
MAX_SCANNED_ROWS = 10 * MAX_ROWS
MIN_AGE, MAX_AGE = 6, 25
MAX_GRADE = 7
T = TypeVar("T")


class Col(StrEnum):
    """The columns of the overview, by their (folded) Dutch header."""

    SCHOOL_YEAR = "schooljaar"
    SUBMITTED = "datum aanmelding"
    POSTCODE = "postcode school"
    SCHOOL = "school"
    LEVEL = "onderwijsniveau"
    GRADE = "leerjaar"
    AGE = "leeftijd"
    PROBLEMS = "probleemgebieden"
    STARTED = "gestart"
    COMPLETED = "afgerond"
    OUTCOME = "uitkomst"


REQUIRED = (Col.SCHOOL_YEAR, Col.SUBMITTED, Col.POSTCODE, Col.LEVEL, Col.AGE, Col.STARTED)
# Words in a header that point at a person: the Meldpunt takes no names, birth dates or contacts in the overview.
IDENTIFYING_WORDS = ("naam", "geboorte", "geboren", "rijksregister", "insz", "leerlingnummer", "dossier", "initialen",
                     "adres", "straat", "telefoon", "gsm", "mail")
# ... unless the column is about the school or the farm ("naam school"), which names no pupil.
NOT_A_PERSON = ("school", "boerderij")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file: where (row 0 = the file as a whole), which column, the value, what is allowed."""

    kind: Kind
    row: int = 0
    column: str | None = None
    value: str | None = None
    allowed: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None


KEY_FIELDS = ("school_year", "submitted_on", "postcode", "school", "school_level", "school_grade", "age", "problem_areas",
              "started", "completed", "outcome")


@dataclass(frozen=True)
class Trajectory:
    """The figures of one trajectory in the overview: closed sets and one date, nothing about the pupil's identity."""

    school_year: int  # 2025 for 2025-2026
    submitted_on: date
    postcode: str  # of the school: only in the import key, the figures keep region and municipality
    region: str
    municipality: str | None  # None when the postcode spans two municipalities
    school: str | None
    school_level: str
    school_grade: str | None
    age: int
    problem_areas: tuple[str, ...]
    started: bool
    completed: bool
    outcome: str | None

    @property
    def status(self) -> Status:
        """Completed, running, or only accepted by Groene Zorg."""
        return Status.COMPLETED if self.completed else Status.IN_PROGRESS if self.started else Status.ACCEPTED

    @property
    def age_band(self) -> str | None:
        """The age band the report groups on."""
        return age_band(self.age)

    def canonical(self) -> str:
        """The row's normalised values as one text: the same trajectory written differently gives the same text.

        Only what the file says (the postcode, not the municipality a newer map may name otherwise): a changed text
        would change every import key, and a file imported before would be imported again.
        """
        values = {name: getattr(self, name) for name in KEY_FIELDS}
        return json.dumps(values, default=str, sort_keys=True, ensure_ascii=True)


@dataclass
class Overview:
    """What a file held: its trajectories (in file order), or the problems that stop the import, and ignored columns."""

    trajectories: list[Trajectory] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def import_keys(trajectories: Sequence[Trajectory]) -> list[str]:
    """sha256 of each trajectory's values and its occurrence among identical rows: two identical rows are two trajectories."""
    seen: Counter[str] = Counter()
    keys = []
    for trajectory in trajectories:
        text = trajectory.canonical()
        seen[text] += 1
        keys.append(hashlib.sha256(f"{text}#{seen[text]}".encode()).hexdigest())
    return keys


def header_name(cell: str) -> str:
    """A header as matched: folded (case, accents, spaces), underscores as spaces."""
    return fold(cell.replace("_", " "))


def identifies(header: str) -> bool:
    """Whether a (folded) header looks like it holds something that identifies a pupil."""
    return any(word in header for word in IDENTIFYING_WORDS) and not any(word in header for word in NOT_A_PERSON)


def read_header(number: int, cells: Sequence[str]) -> tuple[dict[Col, int], list[str], list[Problem]]:
    """The position of each known column, the headers ignored, and what is wrong with the header row."""
    positions: dict[Col, int] = {}
    ignored, problems = [], []
    known = {column.value: column for column in Col}
    for index, cell in enumerate(cells):
        name = header_name(cell)
        if not name:
            continue
        if identifies(name):
            problems.append(Problem(Kind.IDENTIFYING_COLUMN, row=number, column=cell.strip()))
        elif name not in known:
            ignored.append(cell.strip())
        elif known[name] in positions:
            problems.append(Problem(Kind.DOUBLE_COLUMN, row=number, column=name))
        else:
            positions[known[name]] = index
    if any(p.kind is Kind.IDENTIFYING_COLUMN for p in problems):
        return positions, ignored, [p for p in problems if p.kind is Kind.IDENTIFYING_COLUMN]  # the file is refused for that alone
    problems += [Problem(Kind.MISSING_COLUMN, row=number, column=c.value) for c in REQUIRED if c not in positions]
    return positions, ignored, problems


def read_overview(rows: Iterable[tuple[int, Sequence[str]]]) -> Overview:
    """Check every row of a file (number, cells) and make its trajectories; any problem means none are taken."""
    overview = Overview()
    lines = _non_empty(rows, overview.problems)
    first = next(lines, None)
    if first is None:
        overview.problems += [] if overview.problems else [Problem(Kind.NO_ROWS)]
        return overview
    positions, overview.ignored_columns, header_problems = read_header(*first)
    overview.problems += header_problems
    if header_problems:
        return overview  # the rows cannot be read, or may not be: reading them adds nothing
    for count, (number, cells) in enumerate(lines, start=1):
        if count > MAX_ROWS:
            overview.problems.append(Problem(Kind.TOO_MANY_ROWS, row=number, high=MAX_ROWS))
            break
        found = read_row(number, {column: _cell(cells, index) for column, index in positions.items()})
        if isinstance(found, Trajectory):
            overview.trajectories.append(found)
        else:
            overview.problems += found
    if not overview.trajectories and not overview.problems:
        overview.problems.append(Problem(Kind.NO_ROWS))
    return overview


def _non_empty(rows: Iterable[tuple[int, Sequence[str]]], problems: list[Problem]) -> Iterator[tuple[int, Sequence[str]]]:
    """The rows with any text and no cell too long (those are problems); stops after MAX_SCANNED_ROWS rows."""
    header: Sequence[str] = ()
    for number, cells in rows:
        if number > MAX_SCANNED_ROWS:
            problems.append(Problem(Kind.TOO_MANY_ROWS, row=number, high=MAX_ROWS))
            return
        if len(cells) > MAX_COLUMNS and any(cell.strip() for cell in cells[MAX_COLUMNS:]):
            problems.append(Problem(Kind.TOO_MANY_COLUMNS, row=number, high=MAX_COLUMNS))
            return
        long = [index for index, cell in enumerate(cells) if len(cell) > MAX_CELL_CHARS]
        for index in long:  # named by its header, or by its place when the header itself is too long
            name = header[index].strip() if index < len(header) and header[index].strip() else f"{index + 1}"
            problems.append(Problem(Kind.CELL_TOO_LONG, row=number, column=name, high=MAX_CELL_CHARS))
        if long and not header:
            return  # without a header no row can be read
        if not long and any(cell.strip() for cell in cells):
            header = header or cells
            yield number, cells


def _cell(cells: Sequence[str], index: int) -> str:
    """A cell's text without surrounding blanks; empty past the end of a short row."""
    return cells[index].strip() if index < len(cells) else ""


class _RowReader:
    """Reads the cells of one row, noting every problem instead of stopping at the first."""

    def __init__(self, number: int, cells: dict[Col, str]) -> None:
        self.number, self.cells = number, cells
        self.problems: list[Problem] = []

    def take(self, column: Col, parse: Callable[[str], T]) -> T | None:
        """The parsed cell; None when empty (a problem when required) or wrong (a problem)."""
        text = self.cells.get(column, "")
        try:
            if not text:
                if column in REQUIRED:
                    raise Bad(Kind.EMPTY)
                return None
            return parse(text)
        except Bad as bad:
            details: dict[str, Any] = {"value": text or None, **bad.details}
            self.problems.append(Problem(bad.kind, row=self.number, column=column.value, **details))
            return None

    def add(self, kind: Kind, column: Col) -> None:
        """A problem between cells, shown at column."""
        self.problems.append(Problem(kind, row=self.number, column=column.value, value=self.cells.get(column) or None))


def read_row(number: int, cells: dict[Col, str]) -> Trajectory | list[Problem]:
    """One row's trajectory, or everything wrong with it."""
    row = _RowReader(number, cells)
    year = row.take(Col.SCHOOL_YEAR, school_year)
    submitted = row.take(Col.SUBMITTED, lambda text: day_in_year(text, year))
    where = row.take(Col.POSTCODE, lambda text: place_of(text, submitted))
    level = row.take(Col.LEVEL, lambda text: choice(text, LEVELS))
    grade = row.take(Col.GRADE, lambda text: whole_number(text, 1, MAX_GRADE))
    age = row.take(Col.AGE, lambda text: whole_number(text, MIN_AGE, MAX_AGE))
    problem_areas = row.take(Col.PROBLEMS, problem_list) or ()
    started = row.take(Col.STARTED, yes_no)
    completed = row.take(Col.COMPLETED, yes_no) or False
    outcome = row.take(Col.OUTCOME, lambda text: choice(text, OUTCOMES))
    if completed and started is False:
        row.add(Kind.COMPLETED_NOT_STARTED, Col.COMPLETED)
    if outcome is not None and not completed:
        row.add(Kind.OUTCOME_NOT_COMPLETED, Col.OUTCOME)
    if row.problems or year is None or submitted is None or where is None or level is None or age is None or started is None:
        return row.problems
    return Trajectory(
        school_year=year, submitted_on=submitted, postcode=cells[Col.POSTCODE], region=where[0], municipality=where[1],
        school=" ".join(cells.get(Col.SCHOOL, "").split()) or None, school_level=level,
        school_grade=None if grade is None else str(grade), age=age, problem_areas=problem_areas,
        started=started, completed=completed, outcome=outcome,
    )
