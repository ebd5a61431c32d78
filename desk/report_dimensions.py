"""The report's "Regio en school" tables: referrals and pupils per region, municipality, school, CLB, age, level, …"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column as SqlColumn

from desk.report_cells import Draft, band_label, count_column, labelled_rows, text, word
from intake.report_model import Audience, Column, ColumnKind, Row
from intake.retention import AGE_BANDS
from intake.vocabulary import EducationForm, Labelled, ProblemArea, ReferrerRole, Region, SchoolLevel, Urgency
from store.figure_queries import Key, PeriodRows, R
from store.figure_tallies import Tally, tally_by

SECTION = "Regio en school"
_REGIONS = frozenset(member.value for member in Region)
# (table key, figures column, closed set or None for free values, only in the internal report)
_CLOSED: tuple[tuple[str, SqlColumn[Any], type[Labelled]], ...] = (
    ("regio", R.region, Region),
    ("niveau", R.school_level, SchoolLevel),
    ("onderwijsvorm", R.education_form, EducationForm),
    ("urgentie", R.urgency, Urgency),
    ("aanmelder", R.referrer_role, ReferrerRole),
)


def dimension_drafts(rows: PeriodRows, audience: Audience, period_label: str, total: Tally,
                     problems: Callable[[], dict[Key, Tally]]) -> list[Draft]:
    """Every table of the section, in the report's order; per school and per CLB only for INTERNAL; total: the whole period's.

    `problems` gives tally_by_problem's counts, asked for last: desk.report counts them in its other lane meanwhile.
    """
    context = {"periode": period_label}

    def closed(key: str) -> Draft:
        column, enum = next((c, e) for k, c, e in _CLOSED if k == key)
        found = labelled_rows(enum, _pairs(tally_by(rows, column)), 2)
        return _draft(key, found, total, context, [member.value for member in enum] + [None])

    def free(key: str, column: SqlColumn[Any], label: Callable[[object], str], ordered: bool = False) -> Draft:
        found, keys = _free_rows(tally_by(rows, column), label, ordered)
        return _draft(key, found, total, context, keys)

    drafts = [closed("regio"), free("gemeente", R.municipality, str)]
    if audience is Audience.INTERNAL:
        drafts += [free("school", R.school, str), free("clb", R.clb, str),
                   free("leeftijd", R.age, lambda age: text("age", jaren=age), ordered=True)]
    else:
        found = tally_by(rows, R.age_band)
        bands = [name for _, name in sorted(AGE_BANDS)]
        band_rows = [Row(band_label(band), _cells(found.get((band,)))) for band in bands]
        band_rows += _unknown_row({key: tally for key, tally in found.items() if key[0] not in bands})
        drafts.append(_draft("leeftijdsgroep", band_rows, total, context))
    drafts += [closed("niveau"), free("leerjaar", R.school_grade, lambda grade: text("grade", jaar=grade), ordered=True),
               closed("onderwijsvorm")]
    after = [closed("urgentie"), closed("aanmelder")]
    problem_draft = _draft("probleemgebied", labelled_rows(ProblemArea, _pairs(problems()), 2), total, context,
                           [member.value for member in ProblemArea] + [None])
    problem_draft.additive = ()  # a referral with two areas counts in both: the rows do not add up to the total
    return [*drafts, problem_draft, *after]


def _pairs(found: dict[Key, Tally]) -> dict[Key, tuple[int, int]]:
    """Tallies as (referrals, pupils) cells."""
    return {key: (tally.referrals, tally.pupils) for key, tally in found.items()}


def _cells(tally: Tally | None) -> tuple[int, int]:
    """A row's two cells (0 and 0 when nothing was counted)."""
    return (tally.referrals, tally.pupils) if tally else (0, 0)


def _free_rows(found: dict[Key, Tally], label: Callable[[object], str], ordered: bool) -> tuple[list[Row], list[object]]:
    """One row per value found (most referrals first, or in the values' order), unknowns last; and the rows' values."""
    known = [(key[0], tally) for key, tally in found.items() if key[0] is not None]
    if ordered:
        known.sort(key=lambda item: _order(item[0]))
    else:
        known.sort(key=lambda item: (-item[1].referrals, str(item[0])))
    rows = [Row(label(value), _cells(tally)) for value, tally in known]
    return rows + _unknown_row({key: tally for key, tally in found.items() if key[0] is None}), [value for value, _ in known] + [None]


def _order(value: object) -> tuple[int, str]:
    """Numbers in numeric order ("2" before "10"), other values after them."""
    text_value = str(value)
    return (int(text_value), "") if text_value.isdigit() else (10**6, text_value)


def _unknown_row(rest: dict[Key, Tally]) -> list[Row]:
    """The "Niet gekend" row, when there is anything unknown."""
    if not rest:
        return []
    return [Row(text("unknown"), (sum(t.referrals for t in rest.values()), sum(t.pupils for t in rest.values())))]


def _draft(key: str, rows: list[Row], total: Tally, context: dict[str, str], values: Sequence[object] = ()) -> Draft:
    """A table with a label column, referrals and pupils, and the totals row; referrals add up, pupils do not.

    The totals row is the same number in every table, and a row is named by its value (see Draft.facts), so a
    municipality's count is one number here and in the signaalfunctie.
    """
    columns = (Column(key, word(key), ColumnKind.LABEL), count_column("aanmeldingen"), count_column("leerlingen"))
    draft = Draft(key, SECTION, columns, rows=rows, total=Row(text("total"), (total.referrals, total.pupils)),
                  additive=(0,), companions=((0, 1),), chart="aanmeldingen", context=context)
    draft.facts = {(len(rows), c): total_fact(c) for c in (0, 1)}
    draft.facts.update({(r, c): (key, value, c) for r, value in enumerate(values[:len(rows)]) for c in (0, 1)})
    return draft


def total_fact(column: int) -> tuple[str, int]:
    """The shared name of the period's referrals (column 0) or pupils (1), published in many tables."""
    return ("totaal", column)


def region_links(rows: PeriodRows) -> list[tuple[tuple[object, ...], object]]:
    """The sums between the region and municipality tables: a region's municipalities add up to the region's referrals.

    Only for a region whose municipalities lie in no other region (a municipality's rows all name one region).
    """
    pairs = tally_by(rows, R.region, R.municipality)
    regions_of: dict[object, set[object]] = {}
    for region, municipality in pairs:
        regions_of.setdefault(municipality, set()).add(region)
    links: list[tuple[tuple[object, ...], object]] = []
    for region in {region for region, _ in pairs}:
        members = [m for (r, m) in pairs if r == region]
        if all(regions_of[m] == {region} for m in members):
            links.append((tuple(("gemeente", m, 0) for m in members), ("regio", region if region in _REGIONS else None, 0)))
    return links
