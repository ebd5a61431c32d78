"""The report's table of the yearly under-12 survey: answers, questions about under-12s and needs, per region."""

from __future__ import annotations

from sqlalchemy.orm import Session

from desk.report_cells import Draft
from intake.report_model import Column, ColumnKind, Period, Row
from intake.retention import school_year_of
from intake.survey import SurveyNeed
from intake.texts import message
from intake.vocabulary import Region
from store.survey import SurveyResults, survey_results

TEXTS = "report/survey_labels.txt.j2"


def survey_draft(session: Session, period: Period) -> Draft | None:
    """The survey about the school year the period ends in, per region, or None when there was no survey that year."""
    results = survey_results(session, school_year_of(period.end))
    return None if results is None or results.answered == 0 else _draft(results)


def _draft(results: SurveyResults) -> Draft:
    """Regions as rows, the total below; every column adds up, and a hidden number of answers hides its questions too."""
    needs = list(SurveyNeed)
    columns = (
        Column("regio", message("heading_region", source=TEXTS), ColumnKind.LABEL),
        Column("antwoorden", message("heading_answers", source=TEXTS)),
        Column("vragen", message("heading_questions", source=TEXTS)),
        *(Column(f"nood_{need.value}", need.label) for need in needs),
    )
    draft = Draft(key="bevraging", section=message("section", source=TEXTS), columns=columns, chart="vragen",
                  additive=tuple(range(len(columns) - 1)), companions=((0, 1),), exempt=(1,),
                  context={"schooljaar": f"{results.school_year}-{results.school_year + 1}", "uitgenodigd": results.invited})
    totals = [0] * (len(columns) - 1)
    for region in Region:
        found = results.regions.get(region.value)
        cells = [found.answered, found.questions_sum, *(found.needs.get(need.value, 0) for need in needs)] if found else [0] * len(totals)
        totals = [a + b for a, b in zip(totals, cells, strict=True)]
        draft.add(region.label, cells)
    draft.total = Row(message("total", source=TEXTS), tuple(totals))
    return draft
