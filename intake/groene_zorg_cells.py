"""The cells of the Groene Zorg overview read one by one: numbers, dates, postcodes and closed sets (pure).

Each reader takes a cell's text (without surrounding blanks) and returns its value or raises Bad with what
is wrong; intake.groene_zorg adds the row and column. No regular expressions: the file comes from outside.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from intake.folding import fold
from intake.lifecycle import CompletionOutcome
from intake.places import MAP_FROM, place
from intake.retention import SCHOOL_YEAR_START_MONTH
from intake.vocabulary import ProblemArea, SchoolLevel

YES, NO = frozenset({"ja", "j"}), frozenset({"nee", "neen", "n"})
# The short words of the overview for the outcomes, next to their codes and labels.
OUTCOME_WORDS = {
    "terug naar school": CompletionOutcome.BACK_TO_SCHOOL,
    "ander onderwijs": CompletionOutcome.OTHER_EDUCATION,
    "warme overdracht": CompletionOutcome.HAND_OVER,
}


class Kind(StrEnum):
    """What is wrong: each has its Dutch sentence in templates/cli/import_messages.txt.j2."""

    EMPTY = "leeg"
    NOT_A_NUMBER = "geen-getal"
    OUT_OF_RANGE = "buiten-bereik"
    BAD_DATE = "geen-datum"
    OUTSIDE_YEAR = "buiten-schooljaar"
    BAD_SCHOOL_YEAR = "geen-schooljaar"
    BAD_POSTCODE = "geen-postcode"
    UNKNOWN_POSTCODE = "onbekende-postcode"
    OUTSIDE_AREA = "buiten-gebied"
    UNKNOWN_CHOICE = "onbekende-keuze"
    COMPLETED_NOT_STARTED = "afgerond-niet-gestart"
    OUTCOME_NOT_COMPLETED = "uitkomst-niet-afgerond"
    CELL_TOO_LONG = "cel-te-lang"
    MISSING_COLUMN = "kolom-ontbreekt"
    DOUBLE_COLUMN = "kolom-dubbel"
    IDENTIFYING_COLUMN = "kolom-identificeert"
    TOO_MANY_COLUMNS = "te-veel-kolommen"
    TOO_MANY_ROWS = "te-veel-rijen"
    NO_ROWS = "geen-rijen"


class Bad(Exception):
    """A cell that cannot be read; the column and row are added by the caller."""

    def __init__(self, kind: Kind, **details: object) -> None:
        super().__init__(kind)
        self.kind, self.details = kind, details


def school_year(text: str) -> int:
    """2025 for "2025-2026" (also "2025/2026", with blanks)."""
    first, _, second = text.replace("/", "-").partition("-")
    first, second = first.strip(), second.strip()
    if not (first.isascii() and first.isdigit() and second.isascii() and second.isdigit() and len(first) == 4):
        raise Bad(Kind.BAD_SCHOOL_YEAR)
    if int(second) != int(first) + 1:
        raise Bad(Kind.BAD_SCHOOL_YEAR)
    return int(first)


def day_in_year(text: str, year: int | None) -> date:
    """A date written dd/mm/jjjj, inside the school year of the row (1 September to 31 August)."""
    try:
        day = datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise Bad(Kind.BAD_DATE) from None
    if year is not None and not date(year, SCHOOL_YEAR_START_MONTH, 1) <= day < date(year + 1, SCHOOL_YEAR_START_MONTH, 1):
        raise Bad(Kind.OUTSIDE_YEAR, low=year, high=year + 1)
    return day


def place_of(text: str, on: date | None) -> tuple[str, str | None]:
    """The region and municipality of a school's postcode in Vlaams-Brabant."""
    if not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise Bad(Kind.BAD_POSTCODE)
    found = place(int(text), on=on or MAP_FROM)  # a bad date is reported already; the map still answers
    if not found.known:
        raise Bad(Kind.UNKNOWN_POSTCODE)
    if found.region is None:
        raise Bad(Kind.OUTSIDE_AREA)
    return found.region.value, found.municipalities[0] if len(found.municipalities) == 1 else None


def whole_number(text: str, low: int, high: int) -> int:
    """A whole number from low to high."""
    if not (text.isascii() and text.isdigit()):
        raise Bad(Kind.NOT_A_NUMBER)
    if not low <= int(text) <= high:
        raise Bad(Kind.OUT_OF_RANGE, low=low, high=high)
    return int(text)


def yes_no(text: str) -> bool:
    """True for "ja", False for "nee"."""
    word = fold(text)
    if word in YES or word in NO:
        return word in YES
    raise Bad(Kind.UNKNOWN_CHOICE, allowed=("ja", "nee"))


def _words(text: str) -> str:
    """A choice as matched: folded, hyphens as spaces (codes and labels alike)."""
    return " ".join(fold(text).replace("-", " ").split())


def _choices(members: Iterable[tuple[str, str]], extra: dict[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(what people may write → value, the labels to show) of a closed set: its codes, labels and extra words."""
    pairs = list(members)
    accepted: dict[str, str] = {_words(word): value for word, value in extra.items()}
    for value, label in pairs:
        accepted[_words(value)] = accepted[_words(label)] = value
    return accepted, tuple(label for _, label in pairs)


LEVELS = _choices(((m.value, m.label) for m in SchoolLevel), {})
OUTCOMES = _choices(((m.value, m.label) for m in CompletionOutcome), {w: m.value for w, m in OUTCOME_WORDS.items()})
_PROBLEMS = _choices(((m.value, m.label) for m in ProblemArea), {})


def choice(text: str, choices: tuple[dict[str, str], tuple[str, ...]]) -> str:
    """The value of a closed set that text names by its code or its Dutch label."""
    accepted, labels = choices
    try:
        return accepted[_words(text)]
    except KeyError:
        raise Bad(Kind.UNKNOWN_CHOICE, allowed=labels) from None


def problem_list(text: str) -> tuple[str, ...]:
    """Problem areas separated by commas; a label with a comma in it ("Schoolmoeheid, weinig motivatie") is one."""
    parts = [part.strip() for part in text.split(",")]
    accepted, labels = _PROBLEMS
    found: list[str] = []
    index = 0
    while index < len(parts):
        joined = ", ".join(parts[index:index + 2])
        if index + 1 < len(parts) and _words(joined) in accepted:
            found.append(accepted[_words(joined)])
            index += 2
        elif not parts[index]:
            index += 1  # "a, , b" or a trailing comma
        elif _words(parts[index]) in accepted:
            found.append(accepted[_words(parts[index])])
            index += 1
        else:
            raise Bad(Kind.UNKNOWN_CHOICE, allowed=labels, value=parts[index])
    return tuple(sorted(set(found)))
