"""The report's main tables: demand per intervention and provider, and the providers' declines by reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from desk.report_cells import DECLINE_REASONS, Draft, count_column, reason_label, text, word
from intake.catalogue import Catalogue, Service
from intake.report_model import Cell, Column, ColumnKind, Row
from intake.vocabulary import ReferralRoute
from store.figure_models import SOURCE_GROENE_ZORG, SOURCE_MELDPUNT
from store.figure_queries import PeriodRows
from store.figure_tallies import ServiceFlow, Tally, demand_groups, dispatch_outcomes, pupils_by_service, tally_total

SECTION = "Vraag"
DEMAND_COLUMNS = ("voorkeur", "suggestie", "verzonden", "aanvaard", "geweigerd", "ronde_tafel", "gestart", "afgerond", "leerlingen", "aanmeldingen")
_NO_FLOW = ServiceFlow(0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class DemandFacts:
    """Everything the demand table counts, from four GROUP BY queries; summed here per group, never per row."""

    preferred: dict[tuple[object, ...], int]
    suggested: dict[tuple[object, ...], int]
    flow: dict[tuple[str, str | None], ServiceFlow]
    dispatched: dict[str, int]
    answers: dict[tuple[str, bool, str | None], int]
    total: Tally
    # (source, outcome) → [trajectories started, completed]: the "Trajecten" table, from the same pass.
    trajectories: dict[tuple[str, str | None], list[int]]

    @property
    def pupils(self) -> int:
        """Distinct pupils of the whole period."""
        return self.total.pupils

    @classmethod
    def fetch(cls, rows: PeriodRows, outcomes: Mapping[tuple[str, bool | None, str | None], int] | None = None) -> DemandFacts:
        """Run the queries for the period and add their groups up per service; `outcomes`: dispatch_outcomes(rows), if counted already."""
        preferred: Counter[tuple[object, ...]] = Counter()
        suggested: Counter[tuple[object, ...]] = Counter()
        flows: dict[tuple[str, str | None], list[int]] = {}
        trajectories: dict[tuple[str, str | None], list[int]] = {}
        for group in demand_groups(rows):
            ran = trajectories.setdefault((group.source, group.outcome), [0, 0])
            ran[0], ran[1] = ran[0] + group.started, ran[1] + group.completed
            preferred[(group.source, group.preferred)] += group.referrals
            suggested[(group.source, group.suggested)] += group.referrals
            sums = flows.setdefault((group.source, group.service), [0] * 5)
            for i, number in enumerate((group.referrals, group.accepted, group.round_table, group.started, group.completed)):
                sums[i] += number
        pupils = pupils_by_service(rows)
        flow = {key: ServiceFlow(s[0], pupils.get(key, 0), *s[1:]) for key, s in flows.items()}
        dispatched: Counter[str] = Counter()
        answers: dict[tuple[str, bool, str | None], int] = {}
        for (service, accepted, reason), number in (dispatch_outcomes(rows) if outcomes is None else outcomes).items():
            dispatched[service] += number
            if accepted is not None:
                answers[(service, accepted, reason)] = number
        return cls(preferred=dict(preferred), suggested=dict(suggested), flow=flow, dispatched=dict(dispatched), answers=answers,
                   total=tally_total(rows), trajectories=trajectories)

    def answered(self, service_id: str, accepted: bool) -> int:
        """How many dispatches to a service were accepted (or declined)."""
        return sum(n for (service, yes, _), n in self.answers.items() if service == service_id and yes is accepted)


def service_label(catalogue: Catalogue, service: Service, *, direct: bool = False) -> str:
    """ "Name (provider)", and for Groene Zorg's own overview ", rechtstreeks via Groene Zorg"."""
    organization = catalogue.organization(service.organization_id)
    provider = organization.name if organization else service.name
    return text("service_direct" if direct else "service", naam=service.name, aanbieder=provider)


def demand_draft(facts: DemandFacts, catalogue: Catalogue, period_label: str) -> Draft:
    """Demand per intervention and provider, Groene Zorg's own overview as rows of their own."""
    columns = (Column("aanbod", word("aanbod"), ColumnKind.LABEL), *(count_column(key) for key in DEMAND_COLUMNS))
    draft = Draft("vraag_aanbod", SECTION, columns, additive=(0, 1, 2, 3, 4, 5, 6, 7, 9), companions=((9, 8),),
                  chart="aanmeldingen", context={"periode": period_label})
    known = {service.id for service in catalogue.services}
    for service in catalogue.services:
        draft.add(service_label(catalogue, service), _meldpunt_cells(facts, (service.id,)))
    direct = {s.id for s in catalogue.services if s.referral_route is ReferralRoute.DIRECT}
    direct |= {str(service) for source, service in facts.flow if source == SOURCE_GROENE_ZORG and service in known}
    for service in catalogue.services:
        if service.id in direct:
            draft.add(service_label(catalogue, service, direct=True), _direct_cells(facts, service.id))
    others = {str(s) for _, s in [*facts.preferred, *facts.suggested, *facts.flow, *((None, s) for s in facts.dispatched)]
              if s is not None and s not in known}
    if others:
        draft.add(text("service_other"), _meldpunt_cells(facts, tuple(sorted(others)), other_sources=True))
    unplaced = [flow for (_, service), flow in facts.flow.items() if service is None]
    draft.add(text("service_none"), (None, None, None, None, None, None, None, None,
                                     sum(f.pupils for f in unplaced), sum(f.referrals for f in unplaced)))
    draft.total = Row(text("total"), _column_sums(draft.rows, facts.pupils))
    # Its totals are the period's referrals and pupils, as in every "Regio en school" table.
    draft.facts = {(len(draft.rows), DEMAND_COLUMNS.index("aanmeldingen")): ("totaal", 0), (len(draft.rows), DEMAND_COLUMNS.index("leerlingen")): ("totaal", 1)}
    return draft


def _meldpunt_cells(facts: DemandFacts, services: tuple[str, ...], *, other_sources: bool = False) -> tuple[Cell, ...]:
    """A service's counts through the Meldpunt (for "other" services: every source together)."""
    def picked(source: object) -> bool:
        return other_sources or source == SOURCE_MELDPUNT

    flows = [flow for (source, s), flow in facts.flow.items() if s in services and picked(source)]
    return (
        sum(n for (source, s), n in facts.preferred.items() if s in services and picked(source)),
        sum(n for (source, s), n in facts.suggested.items() if s in services and picked(source)),
        sum(facts.dispatched.get(s, 0) for s in services),
        sum(facts.answered(s, True) for s in services),
        sum(facts.answered(s, False) for s in services),
        sum(f.round_table for f in flows), sum(f.started for f in flows), sum(f.completed for f in flows),
        sum(f.pupils for f in flows), sum(f.referrals for f in flows),
    )


def _direct_cells(facts: DemandFacts, service: str) -> tuple[Cell, ...]:
    """Trajectories Groene Zorg took directly: no preference, suggestion or dispatch through the Meldpunt."""
    flow = facts.flow.get((SOURCE_GROENE_ZORG, service), _NO_FLOW)
    return (None, None, None, flow.accepted, None, flow.round_table, flow.started, flow.completed, flow.pupils, flow.referrals)


def _column_sums(rows: Sequence[Row], pupils: int) -> tuple[Cell, ...]:
    """The totals row: each count column summed, pupils counted once over all rows."""
    sums: list[Cell] = [sum(v for v in column if isinstance(v, int)) for column in zip(*(row.cells for row in rows), strict=True)]
    sums[DEMAND_COLUMNS.index("leerlingen")] = pupils
    return tuple(sums)


def declines_draft(facts: DemandFacts, catalogue: Catalogue, period_label: str) -> Draft:
    """Declines per provider and reason, with a total per provider and per reason."""
    reasons = (*DECLINE_REASONS, None)
    columns = (Column("aanbod", word("aanbod"), ColumnKind.LABEL),
               *(Column(reason or "onbekend", reason_label(reason)) for reason in reasons), count_column("totaal"))
    width = len(reasons)
    draft = Draft("weigeringen", SECTION, columns, additive=tuple(range(width + 1)), across=((tuple(range(width)), width),),
                  context={"periode": period_label})
    declined: dict[str, list[int]] = {}
    for (service_id, accepted, reason), number in facts.answers.items():
        if not accepted:
            slot = reasons.index(reason) if reason in DECLINE_REASONS else width - 1
            declined.setdefault(service_id, [0] * width)[slot] += number
    for service in catalogue.services:
        if service.referral_route is ReferralRoute.MELDPUNT or service.id in declined:
            counts = declined.pop(service.id, [0] * width)
            draft.add(service_label(catalogue, service), (*counts, sum(counts)))
    if declined:
        rest = [sum(values[i] for values in declined.values()) for i in range(width)]
        draft.add(text("service_other"), (*rest, sum(rest)))
    draft.total = Row(text("total"), tuple(sum(_count(row.cells[i]) for row in draft.rows) for i in range(width + 1)))
    return draft


def _count(cell: Cell) -> int:
    """A count cell's number (0 for anything else)."""
    return cell if isinstance(cell, int) else 0
