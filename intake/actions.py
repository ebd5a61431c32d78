"""One line per referral: how providers report back and how the coordinator decides.

Providers write `MSI-2026-0042: aanvaard`, `…: geweigerd - geen plaats`, `…: ronde tafel 14/01/2027`,
`…: gestart`, `…: afgerond - terug naar school`. The coordinator may also write `…: goedkeuren`,
`…: vasthouden - reden`, `…: weigeren - reden`, `…: doorverwijzen naar arktos-oost`,
`…: corrigeer Postcode school = 1500` and `…: herinneren`. The same grammar serves mail, chat and the command line;
whether the change fits the referral's status is the lifecycle's call, not the parser's.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from functools import partial

from pydantic import BaseModel, ConfigDict

from intake.answers import fold
from intake.lifecycle import CompletionOutcome, Status, check_transition
from intake.permissions import Access
from intake.references import REFERENCE_PATTERN

REFERENCE_LINE = re.compile(rf"^[\s>*\-•]*({REFERENCE_PATTERN})\b\s*[:\-–—]?\s*(.*)$", re.IGNORECASE)
_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_EXAMPLE_AHEAD = timedelta(days=14)  # the example date in a refusal: two weeks from today


class Verb(StrEnum):
    """What a line asks to do with a referral."""

    ACCEPT = "aanvaard"
    DECLINE = "geweigerd"
    ROUND_TABLE = "ronde tafel"
    START = "gestart"
    COMPLETE = "afgerond"
    APPROVE = "goedkeuren"
    HOLD = "vasthouden"
    REDIRECT = "doorverwijzen"
    CORRECT = "corrigeer"
    REMIND = "herinneren"  # the coordinator has the provider reminded now


PROVIDER_VERBS = frozenset({Verb.ACCEPT, Verb.DECLINE, Verb.ROUND_TABLE, Verb.START, Verb.COMPLETE})


def access_of(verb: Verb) -> Access:
    """What a verb does to a referral: a provider's news, a correction, or the coordinator's decision."""
    if verb in PROVIDER_VERBS:
        return Access.REPORT
    return Access.CHANGE if verb is Verb.CORRECT else Access.DECIDE


class RouteRefusal(StrEnum):
    """Why a verb does not fit the referral's status; each value names its Dutch sentence (templates/decisions.txt.j2)."""

    ALREADY = "already"
    NOT_YET = "not_yet"
    NO_LONGER = "no_longer"
    TOO_LATE = "correct_too_late"


S = Status
# For each verb: from which status it may start, and the statuses it passes through (empty: note only).
_ROUTES: dict[Verb, dict[Status, tuple[Status, ...]]] = {
    Verb.ACCEPT: {S.DISPATCHED: (S.ACCEPTED,)},
    Verb.DECLINE: {S.DISPATCHED: (S.DECLINED,), S.NEEDS_REVIEW: (S.DECLINED,), S.QUEUED: (S.NEEDS_REVIEW, S.DECLINED)},
    # A round table already planned may move to another day: a note, not a transition.
    Verb.ROUND_TABLE: {S.DISPATCHED: (S.ACCEPTED, S.ROUND_TABLE_PLANNED), S.ACCEPTED: (S.ROUND_TABLE_PLANNED,), S.ROUND_TABLE_PLANNED: ()},
    Verb.START: {S.DISPATCHED: (S.ACCEPTED, S.IN_PROGRESS), S.ACCEPTED: (S.IN_PROGRESS,), S.ROUND_TABLE_PLANNED: (S.IN_PROGRESS,)},
    Verb.COMPLETE: {S.ROUND_TABLE_PLANNED: (S.COMPLETED,), S.IN_PROGRESS: (S.COMPLETED,)},
    Verb.APPROVE: {S.NEEDS_REVIEW: (S.QUEUED,)},
    Verb.HOLD: {S.QUEUED: (S.NEEDS_REVIEW,), S.NEEDS_REVIEW: ()},
    Verb.REDIRECT: {S.DECLINED: (S.NEEDS_REVIEW, S.QUEUED), S.NEEDS_REVIEW: (S.QUEUED,), S.QUEUED: ()},
    Verb.CORRECT: {S.SUBMITTED: (), S.NEEDS_REVIEW: (), S.QUEUED: (), S.DECLINED: ()},
    # A reminder is a note: the provider that has the referral is asked for news, the status stays.
    Verb.REMIND: {S.DISPATCHED: (), S.ACCEPTED: (), S.ROUND_TABLE_PLANNED: (), S.IN_PROGRESS: ()},
}
# A provider declines only what it received; filtering before dispatch is the coordinator's.
_PROVIDER_ROUTES: dict[Verb, dict[Status, tuple[Status, ...]]] = {**_ROUTES, Verb.DECLINE: {S.DISPATCHED: (S.DECLINED,)}}
# Where each verb ends, to say "already there", "not yet" or "no longer".
GOAL = {
    Verb.ACCEPT: S.ACCEPTED, Verb.DECLINE: S.DECLINED, Verb.ROUND_TABLE: S.ROUND_TABLE_PLANNED,
    Verb.START: S.IN_PROGRESS, Verb.COMPLETE: S.COMPLETED, Verb.APPROVE: S.QUEUED, Verb.HOLD: S.NEEDS_REVIEW,
    Verb.REDIRECT: S.QUEUED, Verb.CORRECT: S.QUEUED, Verb.REMIND: S.DISPATCHED,
}
_RANK = {
    S.DRAFT: 0, S.AWAITING_DETAILS: 1, S.SUBMITTED: 2, S.NEEDS_REVIEW: 3, S.QUEUED: 4, S.DISPATCHED: 5,
    S.ACCEPTED: 6, S.DECLINED: 6, S.ROUND_TABLE_PLANNED: 7, S.IN_PROGRESS: 8, S.COMPLETED: 9, S.CANCELLED: 10,
}


def route(
    verb: Verb, current: Status, *, by_provider: bool, dispatched: bool = False, outcome: CompletionOutcome | None = None,
) -> tuple[Status, ...] | RouteRefusal:
    """The statuses a verb passes through from `current` (each checked against the lifecycle), or why it does not fit.

    `dispatched`: the referral went to a provider once; a provider's refusal is no longer corrected.
    Raises InvalidTransition (or ValueError) when this table and the lifecycle disagree.
    """
    routes = (_PROVIDER_ROUTES if by_provider else _ROUTES)[verb]
    if current not in routes or (verb is Verb.CORRECT and current is S.DECLINED and dispatched):
        if verb is Verb.CORRECT:
            return RouteRefusal.TOO_LATE
        if current is GOAL[verb]:
            return RouteRefusal.ALREADY
        return RouteRefusal.NOT_YET if _RANK[current] < _RANK[GOAL[verb]] else RouteRefusal.NO_LONGER
    previous = current
    for step in routes[current]:
        check_transition(previous, step, outcome=outcome if step is S.COMPLETED else None)
        previous = step
    return routes[current]

# Folded words a person may write for each verb, longest first where one starts another.
_SYNONYMS: tuple[tuple[str, Verb], ...] = (
    ("ronde tafel", Verb.ROUND_TABLE), ("rondetafel", Verb.ROUND_TABLE),
    ("aanvaard", Verb.ACCEPT), ("aanvaarden", Verb.ACCEPT), ("akkoord", Verb.ACCEPT),
    ("geweigerd", Verb.DECLINE), ("weigeren", Verb.DECLINE), ("weiger", Verb.DECLINE),
    ("gestart", Verb.START), ("start", Verb.START),
    ("afgerond", Verb.COMPLETE), ("afgesloten", Verb.COMPLETE),
    ("goedkeuren", Verb.APPROVE), ("goedgekeurd", Verb.APPROVE), ("keur goed", Verb.APPROVE),
    ("vasthouden", Verb.HOLD), ("houd vast", Verb.HOLD), ("tegenhouden", Verb.HOLD),
    ("doorverwijzen", Verb.REDIRECT), ("doorverwezen", Verb.REDIRECT),
    ("corrigeer", Verb.CORRECT), ("corrigeren", Verb.CORRECT), ("wijzig", Verb.CORRECT),
    ("herinneren", Verb.REMIND), ("herinnering", Verb.REMIND), ("herinner", Verb.REMIND),
)
_OUTCOME_WORDS: tuple[tuple[str, CompletionOutcome], ...] = (
    ("overdracht", CompletionOutcome.HAND_OVER),
    ("ander onderwijs", CompletionOutcome.OTHER_EDUCATION), ("andere vorm", CompletionOutcome.OTHER_EDUCATION),
    ("school", CompletionOutcome.BACK_TO_SCHOOL),
)
VERBS_HELP = "aanvaard, geweigerd - reden, ronde tafel DD/MM/JJJJ, gestart, afgerond - terug naar school / ander onderwijs / overdracht"


class Action(BaseModel):
    """One understood line: which referral, what to do, and its details."""

    model_config = ConfigDict(frozen=True)

    reference: str
    verb: Verb
    line: str
    note: str | None = None
    on: date | None = None
    outcome: CompletionOutcome | None = None
    target: str | None = None
    value: str | None = None


class LineProblem(BaseModel):
    """A line naming a referral that could not be understood, with the Dutch reason."""

    model_config = ConfigDict(frozen=True)

    line: str
    reason: str


def parse_actions(text: str, *, today: date) -> tuple[list[Action], list[LineProblem]]:
    """Every line that starts with a reference, understood or explained; other lines are ignored.

    `today` (Brussels) is the first day a round table may be planned on; every channel that acts passes it.
    """
    actions: list[Action] = []
    problems: list[LineProblem] = []
    for raw in text.splitlines():
        found = REFERENCE_LINE.match(raw)
        if found is None:
            continue
        line = " ".join(raw.split())[:300]
        result = parse_line(found[1].upper(), found[2].strip(), today=today)
        if isinstance(result, str):
            problems.append(LineProblem(line=line, reason=result))
        else:
            actions.append(result.model_copy(update={"line": line}))
    return actions, problems


def parse_line(reference: str, rest: str, *, today: date) -> Action | str:
    """The action of one line after its reference, or the Dutch reason it is not understood."""
    rest = " ".join(rest.split())
    verb, after = _verb(fold(rest), rest)
    if verb is None:
        return f"Niet begrepen: '{rest[:60]}'. Schrijf één van: {VERBS_HELP}." if rest else f"Er staat niets na {reference}. Schrijf één van: {VERBS_HELP}."
    note = _note(after)
    action = partial(Action, reference=reference, verb=verb, line="")
    if verb is Verb.ROUND_TABLE:
        on = _round_table_date(after, reference, today=today)
        return on if isinstance(on, str) else action(on=on)
    if verb is Verb.COMPLETE:
        outcome = next((o for word, o in _OUTCOME_WORDS if word in fold(after)), None)
        if outcome is None:
            return "Schrijf na 'afgerond' hoe het traject eindigde: terug naar school, ander onderwijs of overdracht."
        return action(outcome=outcome, note=note)
    if verb in (Verb.DECLINE, Verb.HOLD) and not note:
        return f"Geef na '{verb.value}' een reden, bijvoorbeeld '{reference}: {verb.value} - geen plaats'."
    if verb is Verb.REDIRECT:
        target = re.sub(r"^(naar|to)\s+", "", after.strip(" :-–"), flags=re.IGNORECASE).strip()
        return action(target=target) if target else "Schrijf naar welk aanbod, bijvoorbeeld 'doorverwijzen naar arktos-oost'."
    if verb is Verb.CORRECT:
        question, sep, value = after.strip(" :-–").partition("=")
        if not sep or not question.strip() or not value.strip():
            return "Schrijf 'corrigeer <vraag> = <nieuw antwoord>', bijvoorbeeld 'corrigeer Postcode school = 1500'."
        return action(target=question.strip(), value=value.strip())
    return action(note=note)


def _verb(folded: str, rest: str) -> tuple[Verb | None, str]:
    """The verb the text starts with and the original text after it."""
    for word, verb in _SYNONYMS:
        if folded == word or folded.startswith(word + " ") or (folded.startswith(word) and not folded[len(word)].isalnum()):
            return verb, rest[len(word):]
    return None, rest


def _note(after: str) -> str | None:
    """The free text after the verb ("- geen plaats"), trimmed of its separator; punctuation alone is no note."""
    note = after.strip().lstrip("-–—:;,.!? \t").strip()
    # "gestart." leaves its full stop: a note without a letter or digit says nothing.
    return note[:500] if any(character.isalnum() for character in note) else None


def _round_table_date(after: str, reference: str, *, today: date) -> date | str:
    """A round table's date (dd/mm/jjjj, today or later), or the Dutch reason asking for it."""
    ask = f"schrijf de datum van de ronde tafel als DD/MM/JJJJ, vandaag of later, bijvoorbeeld '{reference}: ronde tafel {today + _EXAMPLE_AHEAD:%d/%m/%Y}'"
    found = _DATE.search(after)
    if found is None:
        return f"{ask[0].upper()}{ask[1:]}."
    try:
        on = date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return f"'{found[0]}' is geen geldige datum; {ask}."
    if on < today:
        return f"'{found[0]}' ligt in het verleden; {ask}."
    return on
