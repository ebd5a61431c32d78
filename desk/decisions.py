"""Applies one-line actions to referrals: providers report back, the coordinator filters and decides.

Every change follows the lifecycle (intake/lifecycle.py) and is a StatusChange with actor and time;
the referrer gets one mail per call listing their referrals' changes. The whole path of a line
(e.g. dispatched → accepted → round table) is checked before anything is written, so a refused line
changes nothing. A concurrent change makes the flush raise StaleDataError: the caller rolls back the
session (nothing of the call remains) and decides again. Flushes, never commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from desk import dispatch
from desk.workflow import store_evaluated
from intake.actions import PROVIDER_VERBS, Action, Verb
from intake.answers import Invalid, fold, parse_answer
from intake.catalogue import Catalogue, Service
from intake.dialogue import Intake, Mode
from intake.eligibility import Outcome
from intake.lifecycle import CompletionOutcome, InvalidTransition, Status, check_transition
from intake.questionnaire import Question, QuestionType
from intake.scrub import scrub_names
from intake.texts import brussels_time, compose_mail, message
from intake.vocabulary import ReferralRoute
from store import outbox, referrals
from store.audit import AuditAction, record_audit
from store.dispatch_models import DispatchItem
from store.models import Referral, StatusChange

log = logging.getLogger(__name__)

NOTICE_KIND = "terugkoppeling"
_TEXTS = "decisions.txt.j2"

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
}
# A provider declines only what it received; filtering before dispatch is the coordinator's.
_PROVIDER_ROUTES: dict[Verb, dict[Status, tuple[Status, ...]]] = {**_ROUTES, Verb.DECLINE: {S.DISPATCHED: (S.DECLINED,)}}
# Where each verb ends, to say "already there", "not yet" or "no longer".
_GOAL = {
    Verb.ACCEPT: S.ACCEPTED, Verb.DECLINE: S.DECLINED, Verb.ROUND_TABLE: S.ROUND_TABLE_PLANNED,
    Verb.START: S.IN_PROGRESS, Verb.COMPLETE: S.COMPLETED, Verb.APPROVE: S.QUEUED, Verb.HOLD: S.NEEDS_REVIEW,
    Verb.REDIRECT: S.QUEUED, Verb.CORRECT: S.QUEUED,
}
_RANK = {
    S.DRAFT: 0, S.AWAITING_DETAILS: 1, S.SUBMITTED: 2, S.NEEDS_REVIEW: 3, S.QUEUED: 4, S.DISPATCHED: 5,
    S.ACCEPTED: 6, S.DECLINED: 6, S.ROUND_TABLE_PLANNED: 7, S.IN_PROGRESS: 8, S.COMPLETED: 9, S.CANCELLED: 10,
}
_NAME_ANSWERS = ("pupil_first_name", "pupil_last_name")


class Role(StrEnum):
    """Who writes the lines: a provider about referrals it received, or the Meldpunt's coordinator."""

    PROVIDER = "aanbieder"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Decision:
    """What became of one line: applied or not, and the Dutch sentence saying what happened or why not."""

    reference: str
    line: str  # the line as written
    applied: bool
    message: str


@dataclass(frozen=True)
class _Call:
    """What every line of one call shares."""

    role: Role
    actor: str
    intake: Intake
    now: datetime
    provider_address: str | None


@dataclass(frozen=True)
class _Plan:
    """What an understood, allowed line will do to its referral."""

    steps: tuple[Status, ...]
    note: str | None = None
    outcome: CompletionOutcome | None = None
    service: Service | None = None
    question: Question | None = None
    value: Any = None


class _Refused(Exception):
    """A line that changes nothing; the message is the Dutch reason."""


def apply_actions(
    session: Session, actions: Sequence[Action], *, role: Role, actor: str, intake: Intake, domain: str,
    now: datetime, provider_address: str | None = None,
) -> list[Decision]:
    """Apply each line in order (a refused line changes nothing) and mail each referrer once."""
    if role is Role.PROVIDER and not provider_address:
        raise ValueError("a provider's actions need the provider's address")
    call = _Call(role=role, actor=actor, intake=intake, now=now, provider_address=(provider_address or "").strip().lower() or None)
    decisions: list[Decision] = []
    notices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for action in actions:
        referral = referrals.get_referral(session, action.reference)
        try:
            if referral is None:
                raise _Refused(_unknown(action.reference, call))
            plan = _plan(session, referral, action, call)
            before = referral.status
            text, note = _execute(session, referral, plan, call)
        except _Refused as refused:
            decisions.append(Decision(action.reference, action.line, applied=False, message=str(refused)))
            continue
        decisions.append(Decision(action.reference, action.line, applied=True, message=text))
        recipient = referrals.referrer_address(referral)
        # A correction is news to the referrer only when it stops the referral (a new address, a missing answer).
        if recipient and (action.verb is not Verb.CORRECT or referral.status is not before):
            notices[recipient].append(_notice(referral, note, call))
    for recipient, items in notices.items():
        _mail_referrer(session, recipient, items, domain=domain, now=now)
    return decisions


def waiting_for_coordinator(session: Session) -> list[Referral]:
    """Referrals waiting for a decision, the longest waiting first: held or flagged ones, and ones a provider refused.

    A provider's refusal may go to another provider; the coordinator's own refusal is the decision itself.
    """
    # Where the referral came from when it was last declined (notes keep the status: from = to).
    declined_from = (
        select(StatusChange.from_status)
        .where(StatusChange.referral_id == Referral.id, StatusChange.to_status == S.DECLINED, StatusChange.from_status != S.DECLINED)
        .order_by(StatusChange.id.desc()).limit(1).correlate(Referral).scalar_subquery()
    )
    by_provider = and_(Referral.status == S.DECLINED, declined_from == S.DISPATCHED)
    query = select(Referral).where(or_(Referral.status == S.NEEDS_REVIEW, by_provider)).order_by(Referral.updated_at, Referral.id)
    return list(session.scalars(query))


def review_row(session: Session, referral: Referral) -> dict[str, Any]:
    """What the coordinator needs to decide: status, eligibility reasons, the last note; no pupil data."""
    eligibility = referral.eligibility or {}
    query = (
        select(StatusChange).where(StatusChange.referral_id == referral.id, StatusChange.note.is_not(None))
        .order_by(StatusChange.at.desc(), StatusChange.id.desc()).limit(1)
    )
    last = session.scalar(query)
    return {
        "reference": referral.reference, "status": referral.status.label, "service": referral.assigned_service_id,
        "outcome": Outcome.parse(eligibility["outcome"]).label if eligibility.get("outcome") else None,
        "findings": [f["reason"] for f in eligibility.get("findings", []) if f.get("severity") != "note"],
        "note": last.note if last else None, "note_by": last.actor if last else None,
        "note_at": brussels_time(last.at) if last else None,
    }


def current_provider(session: Session, referral_id: int) -> str | None:
    """The provider address the referral was last dispatched to, or None when it never was."""
    item = dispatch.current_dispatch(session, referral_id)
    return item.provider_address if item is not None else None


def dispatched_to(session: Session, reference: str, provider_address: str) -> bool:
    """Whether this referral is (last) with this provider: only then may the provider act on it."""
    referral = referrals.get_referral(session, reference)
    return referral is not None and _is_with(session, referral, provider_address)


def _is_with(session: Session, referral: Referral, provider_address: str) -> bool:
    """Whether the referral's latest dispatch went to this address."""
    address = current_provider(session, referral.id)
    # A redirect sends the referral on: the provider that had it before no longer decides about it.
    return address is not None and address.lower() == provider_address.strip().lower()


# --- deciding ---------------------------------------------------------------------------------


def _unknown(reference: str, call: _Call) -> str:
    """Unknown, in words that do not tell a provider whether the reference exists."""
    return message("not_yours" if call.role is Role.PROVIDER else "unknown", source=_TEXTS, reference=reference)


def _plan(session: Session, referral: Referral, action: Action, call: _Call) -> _Plan:
    """What the line will do, after every check; raises _Refused with the reason."""
    reference = action.reference
    if call.role is Role.PROVIDER:
        if action.verb not in PROVIDER_VERBS:
            allowed = ", ".join(v.value for v in Verb if v in PROVIDER_VERBS)
            raise _Refused(message("coordinator_only", source=_TEXTS, reference=reference, verb=action.verb.value, allowed=allowed))
        assert call.provider_address is not None
        holding = dispatch.holding(session, referral.id, call.provider_address)
        if holding is dispatch.Holding.FORMER:  # it knows the referral: say it went on, not where
            raise _Refused(message("no_longer_yours", source=_TEXTS, reference=reference))
        if holding is not dispatch.Holding.CURRENT:
            raise _Refused(_unknown(reference, call))
    steps = _path(session, referral, action, call)
    if S.QUEUED in steps:
        _refuse_incomplete(referral, reference, intake=call.intake)
    note = _redact(action.note, referral)
    if action.verb is Verb.ROUND_TABLE and action.on is not None:
        note = message("note_round_table", source=_TEXTS, on=action.on.strftime("%d/%m/%Y"))
    if action.verb is Verb.REDIRECT:
        service = _service(session, referral, action, call.intake.catalogue)
        return _Plan(steps=steps, note=message("note_redirect", source=_TEXTS, name=service.name), service=service)
    if action.verb is Verb.CORRECT:
        question, value = _correction(action, call)
        return _Plan(steps=steps, question=question, value=value)
    if not steps and not note:
        note = _redact(action.line, referral)  # a round table moved without a date: the line says what happened
    return _Plan(steps=steps, note=note, outcome=action.outcome)


def _path(session: Session, referral: Referral, action: Action, call: _Call) -> tuple[Status, ...]:
    """The statuses the line passes through from here, each step checked against the lifecycle."""
    routes = (_PROVIDER_ROUTES if call.role is Role.PROVIDER else _ROUTES)[action.verb]
    current, goal, reference = referral.status, _GOAL[action.verb], action.reference
    if current not in routes or (action.verb is Verb.CORRECT and current is S.DECLINED and current_provider(session, referral.id)):
        if action.verb is Verb.CORRECT:
            raise _Refused(message("correct_too_late", source=_TEXTS, reference=reference, status=current.label))
        if current is goal:
            raise _Refused(message("already", source=_TEXTS, reference=reference, status=current.label))
        name = "not_yet" if _RANK[current] < _RANK[goal] else "no_longer"
        raise _Refused(message(name, source=_TEXTS, reference=reference, status=current.label, verb=action.verb.value))
    steps, previous = routes[current], current
    for step in steps:
        try:
            check_transition(previous, step, outcome=action.outcome if step is S.COMPLETED else None)
        except (InvalidTransition, ValueError) as wrong:  # the table and the lifecycle disagree: refuse
            raise _Refused(f"{reference}: {wrong}") from None
        previous = step
    return steps


def missing_answers(intake: Intake, referral: Referral) -> list[Question]:
    """Required questions the referral's answers make necessary (the questionnaire's conditions) but lack."""
    return intake.missing(referral.answers or {}, mode=Mode(referral.mode))


def _labels(questions: list[Question]) -> str:
    """The questions' labels as a person reads them: 'School akkoord', 'Plaats'."""
    return ", ".join(f"'{q.label}'" for q in questions)


def _refuse_incomplete(referral: Referral, reference: str, *, intake: Intake) -> None:
    """A referral lacking a required answer never goes to the queue: a provider would get it incomplete."""
    missing = missing_answers(intake, referral)
    if missing:
        raise _Refused(message("incomplete", source=_TEXTS, reference=reference, missing=_labels(missing), first=missing[0].label))


def _service(session: Session, referral: Referral, action: Action, catalogue: Catalogue) -> Service:
    """The service a redirect names (id, name or an unambiguous part of either), fit for the Meldpunt."""
    reference, target = action.reference, action.target or ""
    service = find_service(catalogue, target)
    if isinstance(service, list):
        if not service:
            raise _Refused(message("service_unknown", source=_TEXTS, reference=reference, target=target))
        ids = ", ".join(s.id for s in service)
        raise _Refused(message("service_ambiguous", source=_TEXTS, reference=reference, target=target, ids=ids))
    if service.referral_route is not ReferralRoute.MELDPUNT:
        raise _Refused(message("service_direct", source=_TEXTS, reference=reference, name=service.name))
    sent = session.scalars(select(DispatchItem.service_id).where(DispatchItem.referral_id == referral.id))
    # A referral goes to a service once (unique in dispatch_items): sending it there again would fail.
    if service.id in set(sent):
        raise _Refused(message("service_already", source=_TEXTS, reference=reference, name=service.name))
    return service


def find_service(catalogue: Catalogue, target: str) -> Service | list[Service]:
    """The service meant by an id or a name (folded), else the candidates an unambiguous part fits."""
    wanted = fold(target)
    exact = [s for s in catalogue.services if wanted in (fold(s.id), fold(s.name))]
    if exact:
        return exact[0]
    partial = [s for s in catalogue.services if wanted and (wanted in fold(s.id) or wanted in fold(s.name))]
    return partial[0] if len(partial) == 1 else partial


def _correction(action: Action, call: _Call) -> tuple[Question, Any]:
    """The question a correction names (id or label) and the parsed new value."""
    wanted = fold(action.target or "")
    questions = call.intake.questionnaire.questions
    question = next((q for q in questions if wanted in (fold(q.id), fold(q.label))), None)
    if question is None:
        raise _Refused(message("question_unknown", source=_TEXTS, reference=action.reference, question=action.target))
    value = parse_answer(question, action.value or "", today=call.now.date())
    if isinstance(value, Invalid):
        raise _Refused(message("value_invalid", source=_TEXTS, reference=action.reference, label=question.label, reason=value.reason))
    return question, value


def _redact(note: str | None, referral: Referral) -> str | None:
    """The note without the pupil's names: it is stored in the history and mailed to the referrer."""
    if not note:
        return None
    return scrub_names(note, (str((referral.answers or {}).get(key) or "") for key in _NAME_ANSWERS))


# --- applying -----------------------------------------------------------------------------------


def _execute(session: Session, referral: Referral, plan: _Plan, call: _Call) -> tuple[str, str | None]:
    """Write the planned change (every check is done); what happened, and the note the referrer reads."""
    reference = referral.reference or ""
    if plan.question is not None:
        return _apply_correction(session, referral, plan.question, plan.value, call)
    if plan.service is not None:
        referral.assigned_service_id = plan.service.id
    for index, step in enumerate(plan.steps):
        last = index == len(plan.steps) - 1
        # Only the last step carries the note: the steps before it are the conveniences' way there.
        referrals.change_status(
            session, referral, step, actor=call.actor, now=call.now, note=plan.note if last else None,
            outcome=plan.outcome if step is S.COMPLETED else None,
        )
    if not plan.steps:
        referrals.add_note(session, referral, note=plan.note or "", actor=call.actor, now=call.now)
    status = referral.status.label
    if plan.service is not None:
        return message("redirected", source=_TEXTS, reference=reference, status=status, name=plan.service.name), plan.note
    return message("changed" if plan.steps else "noted", source=_TEXTS, reference=reference, status=status), plan.note


def _apply_correction(session: Session, referral: Referral, question: Question, value: Any, call: _Call) -> tuple[str, str | None]:
    """Store the corrected answer and judge the referral again, as at submission (store/workflow.py)."""
    previous = (referral.answers or {}).get(question.id)
    evaluation = store_evaluated(session, call.intake, referral, {**(referral.answers or {}), question.id: value}, now=call.now)
    outcome = evaluation.assessment.outcome.label
    # The note names the question, never the value: the history is read more widely than the answers.
    note = message("note_corrected", source=_TEXTS, label=question.label, outcome=outcome)
    referrals.add_note(session, referral, note=note, actor=call.actor, now=call.now)
    record_audit(session, actor=call.actor, action=AuditAction.CHANGED, now=call.now, referral_id=referral.id, detail=f"antwoord {question.id}")
    missing = missing_answers(call.intake, referral)
    if missing:
        return _hold_incomplete(session, referral, question=question, missing=missing, outcome=outcome, call=call)
    if question.type is QuestionType.EMAIL and value != previous and referral.status is S.QUEUED:
        # A batch mails the pupil's identity to whoever this address names: a new one is confirmed
        # ("goedkeuren") before any batch uses it, so one mistaken or forged line cannot leak it.
        held = message("note_address_held", source=_TEXTS, label=question.label)
        referrals.change_status(session, referral, S.NEEDS_REVIEW, actor=call.actor, now=call.now, note=held)
        session.flush()
        return message("corrected_held", source=_TEXTS, reference=referral.reference, label=question.label), held
    session.flush()
    return message("corrected", source=_TEXTS, reference=referral.reference, label=question.label, outcome=outcome), None


def _hold_incomplete(
    session: Session, referral: Referral, *, question: Question, missing: list[Question], outcome: str, call: _Call,
) -> tuple[str, str]:
    """The correction made a question required that has no answer: the referral waits for the coordinator."""
    note = message("note_incomplete", source=_TEXTS, missing=_labels(missing))
    if referral.status in (S.QUEUED, S.SUBMITTED):
        referrals.change_status(session, referral, S.NEEDS_REVIEW, actor=call.actor, now=call.now, note=note)
    else:
        referrals.add_note(session, referral, note=note, actor=call.actor, now=call.now)
    session.flush()
    text = message("corrected_incomplete", source=_TEXTS, reference=referral.reference, label=question.label, outcome=outcome,
                   missing=_labels(missing), first=missing[0].label)
    return text, note


def _notice(referral: Referral, note: str | None, call: _Call) -> dict[str, Any]:
    """One line of the referrer's mail: reference, new status, who said what (no pupil data)."""
    return {
        "referral_id": referral.id, "reference": referral.reference, "status": referral.status.label,
        "note": note, "by": call.role.value,
    }


def _mail_referrer(session: Session, recipient: str, items: list[dict[str, Any]], *, domain: str, now: datetime) -> None:
    """Queue one mail to a referrer listing the changes to their referrals."""
    composed = compose_mail("mail/decision_notice.txt.j2", items=items)
    outbox.enqueue(
        session, kind=NOTICE_KIND, to_address=recipient, subject=composed.subject, body_text=composed.text,
        body_html=composed.html, domain=domain, now=now, referral_id=items[0]["referral_id"] if len(items) == 1 else None,
    )
    log.info("terugkoppeling aan de aanmelder in de wachtrij: %d wijziging(en)", len(items))
