"""The report's table of referrals that were not eligible, per reason: the first rule that blocked each one."""

from __future__ import annotations

from desk.report_cells import Draft, count_column, word
from intake.report_model import Column, ColumnKind, Period, Row
from intake.texts import message
from store.figure_queries import PeriodRows, R
from store.figure_tallies import Tally, tally_by

TEXTS = "report/eligibility_labels.txt.j2"
# The rules that can make a referral not eligible (intake/eligibility.py, severity BLOCK), in the order they run.
BLOCKING_RULES = ("fase-te-vroeg", "school-niet-betrokken", "buiten-vlaams-brabant", "rechtstreekse-aanmelding", "jonger-dan-leerplicht")
UNMET_KEY, UNMET_ROW = "onvervuld", 0  # the unmet-demand table publishes the same total as its first row


def ineligible_draft(rows: PeriodRows, period: Period) -> Draft:
    """Not eligible, per blocking rule; the totals are the unmet table's "niet ontvankelijk" row, one number in both tables."""
    found = {key[1]: tally for key, tally in tally_by(rows, R.eligible, R.ineligible_reason).items() if key[0] is False}
    columns = (Column("reden", word("reden"), ColumnKind.LABEL), count_column("aanmeldingen"), count_column("leerlingen"))
    draft = Draft("niet_ontvankelijk", "Onvervulde vraag", columns, additive=(0,), companions=((0, 1),), chart="aanmeldingen",
                  context={"periode": period.label})
    for rule in BLOCKING_RULES:
        tally = found.get(rule)
        draft.add(message("rule", source=TEXTS, code=rule), (tally.referrals, tally.pupils) if tally else (0, 0))
    rest = [tally for reason, tally in found.items() if reason not in BLOCKING_RULES]
    draft.add(message("unknown", source=TEXTS), (sum(t.referrals for t in rest), sum(t.pupils for t in rest)))
    total = tally_by(rows, R.eligible).get((False,), Tally(0, 0))  # from the folded rows: pupils counted once across reasons
    draft.total = Row(word("totaal"), (total.referrals, total.pupils))
    height = len(draft.rows)
    draft.facts = {(height, 0): (UNMET_KEY, UNMET_ROW, 0), (height, 1): (UNMET_KEY, UNMET_ROW, 1)}
    return draft
