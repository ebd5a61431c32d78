"""The channel-agnostic dialogue engine: a pure `step(state, inbound, now)` over the questionnaire.

Every channel (terminal, Telegram, e-mail) turns what a person sent into an `Inbound`, calls
`Intake.step`, saves the returned state and shows the returned `Outbound`s. No I/O happens here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from intake.answers import BLANK, Invalid, display_value, fold, parse_answer
from intake.catalogue import Catalogue, Service
from intake.consult import ConsultResult, consult
from intake.eligibility import Assessment, Context, Severity, assess
from intake.facts import ReferralFacts

# The engine's messages; importers of intake.dialogue still find them here (explicit re-exports).
from intake.messages import ANYWHERE, CONFIRM_WORDS, Command, Inbound, Outbound, OutKind, Seen
from intake.progress import added_by_previous
from intake.questionnaire import Choice, Question, Questionnaire
from intake.texts import render
from intake.vocabulary import Mode, ReferralRoute

# Advice asks only what matching needs; a referral started from it keeps these answers.
ADVICE_QUESTIONS = ("school_postcode", "school_level", "problem_areas", "desired_form")
ADVICE_PREFILL = {"pupil_enrolled": True}  # school_postcode is asked only of enrolled pupils


class Phase(StrEnum):
    """Where the conversation is."""

    ASKING = "asking"
    SUMMARY = "summary"
    DONE = "done"
    CANCELLED = "cancelled"


class DialogueState(BaseModel):
    """Everything needed to resume a conversation; saved after every step."""

    model_config = ConfigDict(frozen=True)

    mode: Mode
    phase: Phase = Phase.ASKING
    answers: dict[str, Any] = {}
    skipped: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    current: str | None = None
    # The question opened with `wijzig N`: `terug` from it goes back to where the person was, erasing nothing.
    editing: str | None = None
    # Counts the moves of the conversation (an answer, terug, wijzig…): a window that saw an older
    # turn is behind, even when the same question is asked again.
    turn: int = 0
    started_at: datetime
    updated_at: datetime


class Evaluation(BaseModel):
    """Eligibility and suggestions for a set of answers."""

    model_config = ConfigDict(frozen=True)

    assessment: Assessment
    consult: ConsultResult


class Intake:
    """The questionnaire and catalogue behind every channel, with the pure step function."""

    def __init__(self, questionnaire: Questionnaire, catalogue: Catalogue) -> None:
        choices = tuple(Choice(value=s.id, label=_service_label(catalogue, s)) for s in catalogue.services)
        self.questionnaire = questionnaire.with_catalogue_choices(choices)
        self.catalogue = catalogue
        self._direct = {s.id: s.name for s in catalogue.services if s.referral_route is ReferralRoute.DIRECT}

    # --- public API -------------------------------------------------------------------------
    def start(self, *, mode: Mode, now: datetime, prefill: dict[str, Any] | None = None) -> tuple[DialogueState, list[Outbound]]:
        """A new conversation; prefilled answers (the staff member's own details) are not asked."""
        state = DialogueState(mode=mode, answers=dict(prefill or {}), started_at=now, updated_at=now)
        return self._advance(state, now, [])

    def resume(self, state: DialogueState, *, notice: str = "dialogue/resumed.txt.j2") -> list[Outbound]:
        """Show again where the conversation stands, after a pause, a restart or a stale button."""
        shown = Outbound(kind=OutKind.INFO, text=render(notice))
        return [shown, *self._show(state)]

    def step(self, state: DialogueState, inbound: Inbound, *, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        """Apply one inbound message and return the new state and what to say."""
        if state.phase in (Phase.DONE, Phase.CANCELLED):
            return state, [Outbound(kind=OutKind.INFO, text=render("dialogue/finished.txt.j2"))]
        if self._behind(state, inbound):
            return state, self._moved_on(state, inbound)
        after, outbounds = self._dispatch(state, inbound, now)
        if _moved(state, after):
            after = after.model_copy(update={"turn": state.turn + 1})
            outbounds = [o.model_copy(update={"turn": after.turn}) if o.token is not None else o for o in outbounds]
        return after, outbounds

    def _dispatch(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        handler = _HANDLERS.get(inbound.command) if inbound.command else None
        if handler is not None:
            return handler(self, state, inbound, now)
        if state.phase is Phase.SUMMARY:
            if fold(inbound.text).rstrip(".!") in CONFIRM_WORDS:
                return self._confirm(state, inbound, now)
            return state, [Outbound(kind=OutKind.INFO, text=render("dialogue/summary_hint.txt.j2"))]
        return self._answer(state, inbound.text, now)

    def _behind(self, state: DialogueState, inbound: Inbound) -> bool:
        """Whether the message answers what its window showed, which is no longer what is asked."""
        if inbound.seen is None or inbound.command in ANYWHERE:
            return False
        return inbound.seen != Seen(position=self.position(state) or "", turn=state.turn)

    def _moved_on(self, state: DialogueState, inbound: Inbound) -> list[Outbound]:
        """Nothing changes: say that another window moved on, and show what is asked now."""
        was_summary = inbound.seen is not None and inbound.seen.position not in self.questionnaire.ids()
        text = render("dialogue/moved_on.txt.j2", was_summary=was_summary, now_summary=state.phase is Phase.SUMMARY)
        return [Outbound(kind=OutKind.INFO, text=text), *self._show(state)]

    def evaluate(self, answers: dict[str, Any], *, now: datetime, load: Mapping[str, int] | None = None) -> Evaluation:
        """Eligibility and consult for these answers, as shown in the summary and stored; `load` (referrals
        per service this school year, from the store) shares out equally fitting providers."""
        facts = ReferralFacts.from_answers(answers)
        assessment = self._assess(facts, now)
        return Evaluation(assessment=assessment, consult=consult(facts, self.catalogue, today=now.date(), load=load))

    def _assess(self, facts: ReferralFacts, now: datetime) -> Assessment:
        return assess(facts, Context(today=now.date(), direct_route_services=self._direct))

    def missing(self, answers: dict[str, Any], *, mode: Mode) -> list[Question]:
        """Required questions of this mode that apply to these answers and are not answered."""
        return [
            q for q in self.questionnaire.questions
            if q.required and in_mode(q, mode) and q.applies(answers) and q.id not in answers
        ]

    def position(self, state: DialogueState) -> str | None:
        """A short token for where the conversation stands: the question asked, or this summary."""
        if state.phase is Phase.ASKING:
            return state.current
        if state.phase is Phase.SUMMARY:
            answers = json.dumps(state.answers, sort_keys=True, default=str) + repr(state.skipped)
            return "s" + hashlib.sha256(answers.encode()).hexdigest()[:8]
        return None

    def applicable(self, state: DialogueState) -> list[Question]:
        """The questions this conversation asks, given its mode and the answers so far."""
        return [q for q in self.questionnaire.questions if in_mode(q, state.mode) and q.applies(state.answers)]

    # --- steps ------------------------------------------------------------------------------
    def _answer(self, state: DialogueState, text: str, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        question = self.questionnaire.get(state.current) if state.current else None
        if question is None:
            return self._advance(state, now, [])
        value = parse_answer(question, text, today=now.date())
        if isinstance(value, Invalid):
            if value.reason == BLANK:  # nothing (or only invisible characters) came: no "cannot use that"
                invalid = render("dialogue/blank.txt.j2", optional=not question.required)
            else:
                invalid = render("dialogue/invalid.txt.j2", reason=value.reason)
            return state, [Outbound(kind=OutKind.INVALID, text=invalid, question_id=question.id), self._ask(state, question)]
        before = self._assess(ReferralFacts.from_answers(state.answers), now)
        answers = {**state.answers, question.id: value}
        state = self._record(state, question.id, answers=answers, skipped=False, now=now)
        return self._advance(state, now, self._early_warnings(before, answers, now))

    def _skip(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        question = self.questionnaire.get(state.current) if state.current else None
        if question is None or question.required:
            text = render("dialogue/cannot_skip.txt.j2")
            return state, [Outbound(kind=OutKind.INFO, text=text), *self._show(state)]
        answers = {k: v for k, v in state.answers.items() if k != question.id}
        return self._advance(self._record(state, question.id, answers=answers, skipped=True, now=now), now, [])

    def _back(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        if state.editing is not None:
            return self._advance(state, now, [])  # the summary (or the open question) as it was
        if not state.history:
            text = render("dialogue/first_question.txt.j2")
            return state, [Outbound(kind=OutKind.INFO, text=text), *self._show(state)]
        previous = state.history[-1]
        state = state.model_copy(update={
            "history": state.history[:-1], "current": previous, "phase": Phase.ASKING,
            "answers": {k: v for k, v in state.answers.items() if k != previous},
            "skipped": tuple(s for s in state.skipped if s != previous), "updated_at": now,
        })
        return state, self._show(state)

    def _edit(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        shown = self._summary_questions(state)
        number = (inbound.argument or "").strip().rstrip(".")
        if not number.isdigit() or not 1 <= int(number) <= len(shown):
            text = render("dialogue/edit_hint.txt.j2", count=len(shown))
            return state, [Outbound(kind=OutKind.INFO, text=text), *self._show(state)]
        question = shown[int(number) - 1]
        state = state.model_copy(update={"current": question.id, "phase": Phase.ASKING, "editing": question.id, "updated_at": now})
        return state, [self._ask(state, question)]

    def _confirm(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        if state.mode is Mode.ADVICE:
            return state, self._show(state)  # advice submits nothing
        if state.phase is not Phase.SUMMARY:
            return state, [Outbound(kind=OutKind.INFO, text=render("dialogue/not_yet.txt.j2")), *self._show(state)]
        state = state.model_copy(update={"phase": Phase.DONE, "current": None, "updated_at": now})
        return state, [Outbound(kind=OutKind.DONE, text=render("dialogue/confirmed.txt.j2"))]

    def _cancel(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        # The answers go: a cancelled referral keeps no data about the pupil.
        state = state.model_copy(update={"phase": Phase.CANCELLED, "current": None, "answers": {}, "updated_at": now})
        return state, [Outbound(kind=OutKind.CANCELLED, text=render("dialogue/cancelled.txt.j2", mode=state.mode.value))]

    def _help(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        question = self.questionnaire.get(state.current) if state.current else None
        text = render("dialogue/help.txt.j2", question=question, phase=state.phase.value)
        return state, [Outbound(kind=OutKind.HELP, text=text), *self._show(state)]

    def _pause(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        return state, [Outbound(kind=OutKind.PAUSED, text=render("dialogue/paused.txt.j2"))]

    def _to_summary(self, state: DialogueState, inbound: Inbound, now: datetime) -> tuple[DialogueState, list[Outbound]]:
        if self._next_question(state) is not None and state.phase is Phase.ASKING:
            return state, [Outbound(kind=OutKind.INFO, text=render("dialogue/not_yet.txt.j2")), *self._show(state)]
        return self._advance(state, now, [])

    # --- helpers ----------------------------------------------------------------------------
    def _record(self, state: DialogueState, question_id: str, *, answers: dict[str, Any], skipped: bool, now: datetime) -> DialogueState:
        """Store an answer or a skip, and forget answers to questions that no longer apply."""
        history = tuple(h for h in state.history if h != question_id) + (question_id,)
        skips = tuple(s for s in state.skipped if s != question_id) + ((question_id,) if skipped else ())
        state = state.model_copy(update={"answers": answers, "skipped": skips, "history": history, "updated_at": now})
        # Only conditions decide: answers outside this mode (a minimal referral's initials) stay.
        keep = {q.id for q in self.questionnaire.questions if q.applies(answers)}
        return state.model_copy(update={
            "answers": {k: v for k, v in answers.items() if k in keep or k not in self.questionnaire.ids()},
            "history": tuple(h for h in history if h in keep),
            "skipped": tuple(s for s in skips if s in keep),
        })

    def _advance(self, state: DialogueState, now: datetime, before: list[Outbound]) -> tuple[DialogueState, list[Outbound]]:
        question = self._next_question(state)
        if question is None:
            state = state.model_copy(update={"phase": Phase.SUMMARY, "current": None, "editing": None, "updated_at": now})
        else:
            state = state.model_copy(update={"phase": Phase.ASKING, "current": question.id, "editing": None, "updated_at": now})
        return state, [*before, *self._show(state, now=now)]

    def _next_question(self, state: DialogueState) -> Question | None:
        for question in self.applicable(state):
            if question.id not in state.answers and question.id not in state.skipped:
                return question
        return None

    def _show(self, state: DialogueState, *, now: datetime | None = None) -> list[Outbound]:
        if state.phase is Phase.SUMMARY:
            return [self._summary(state, now or state.updated_at)]
        if state.current is None:
            return []
        return [self._ask(state, self.questionnaire.get(state.current))]

    def _ask(self, state: DialogueState, question: Question) -> Outbound:
        questions = self.applicable(state)
        number = next((i for i, q in enumerate(questions, 1) if q.id == question.id), len(questions))
        previous = state.answers.get(question.id)
        # Only a question asked for the first time says what the previous answer added (not one being corrected).
        added = 0 if previous is not None else added_by_previous(
            self.questionnaire.questions, state.answers, state.history, asks=lambda q: in_mode(q, state.mode))
        text = render(
            "dialogue/question.txt.j2", question=question, number=number, total=len(questions), added=added,
            previous=display_value(question, previous) if previous is not None else None,
        )
        return Outbound(
            kind=OutKind.QUESTION, text=text, question_id=question.id, choices=question.choices,
            multi=question.type == "multi_choice", optional=not question.required, token=question.id, turn=state.turn,
            question_type=question.type.value,
        )

    def _summary_questions(self, state: DialogueState) -> list[Question]:
        return [q for q in self.applicable(state) if q.id in state.answers or q.id in state.skipped]

    def _summary(self, state: DialogueState, now: datetime) -> Outbound:
        rows = [
            (q, display_value(q, state.answers[q.id]) if q.id in state.answers else None)
            for q in self._summary_questions(state)
        ]
        evaluation = self.evaluate(state.answers, now=now)
        if state.mode is Mode.ADVICE:
            text = render("dialogue/advice.txt.j2", rows=rows, consult=evaluation.consult)
            return Outbound(kind=OutKind.ADVICE, text=text, token=self.position(state), turn=state.turn)
        text = render(
            "dialogue/summary.txt.j2", rows=rows, assessment=evaluation.assessment,
            consult=evaluation.consult, mode=state.mode.value, referrer_role=state.answers.get("referrer_role"),
        )
        return Outbound(kind=OutKind.SUMMARY, text=text, choices=_numbered(len(rows)), token=self.position(state), turn=state.turn)

    def _early_warnings(self, before: Assessment, answers: dict[str, Any], now: datetime) -> list[Outbound]:
        """Say at once when an answer makes the referral blocked or flagged, not only at the end."""
        after = self._assess(ReferralFacts.from_answers(answers), now)
        known = {f.rule for f in before.findings}
        fresh = [f for f in after.findings if f.rule not in known and f.severity is not Severity.NOTE]
        return [Outbound(kind=OutKind.INFO, text=render("dialogue/warning.txt.j2", finding=f)) for f in fresh]



def in_mode(question: Question, mode: Mode) -> bool:
    """Whether a mode asks this question: minimal leaves the pupil's identity out, details asks only that."""
    if mode is Mode.FULL:
        return not question.minimal_only
    if mode is Mode.MINIMAL:
        return not question.identifying
    if mode is Mode.ADVICE:
        return question.id in ADVICE_QUESTIONS
    return question.identifying


def _moved(before: DialogueState, after: DialogueState) -> bool:
    """Whether a step changed the conversation (not merely its clock): then its turn counts on."""
    fixed = {"updated_at", "turn"}
    return before.model_dump(exclude=fixed) != after.model_dump(exclude=fixed)


def _numbered(count: int) -> tuple[Choice, ...]:
    """The summary's rows as choices "1"…"N", so a channel can offer a button to correct each."""
    return tuple(Choice(value=str(n), label=str(n)) for n in range(1, count + 1))


def _service_label(catalogue: Catalogue, service: Service) -> str:
    """How an intervention is offered as a choice: its name and, when not in it, its organisation."""
    organization = catalogue.organization(service.organization_id)
    if organization is None or organization.name in service.name:
        return service.name
    return f"{service.name} ({organization.name})"


_HANDLERS = {
    Command.BACK: Intake._back, Command.SKIP: Intake._skip, Command.CANCEL: Intake._cancel,
    Command.HELP: Intake._help, Command.CONFIRM: Intake._confirm, Command.EDIT: Intake._edit,
    Command.SUMMARY: Intake._to_summary, Command.PAUSE: Intake._pause,
}
