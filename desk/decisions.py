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
from typing import Any

from sqlalchemy.orm import Session

from desk.remind import remind_now, reminder_target
from desk.workflow import store_evaluated
from intake.actions import PROVIDER_VERBS, Action, RouteRefusal, Verb, access_of, route
from intake.answers import Invalid, fold, parse_answer
from intake.catalogue import Catalogue, Service
from intake.dialogue import Intake
from intake.lifecycle import CompletionOutcome, InvalidTransition, Status
from intake.permissions import ActorKind, Holding, Refusal, may, owns
from intake.questionnaire import Question, QuestionType
from intake.scrub import redact_note
from intake.texts import compose_mail, message
from intake.vocabulary import Mode, ReferralRoute
from intake.workhours import WorkCalendar
from store import dispatches, outbox, referrals
from store.audit import AuditAction, record_audit
from store.dispatch_models import DispatchItem
from store.mail_models import MailKind
from store.models import Referral

log = logging.getLogger(__name__)

_TEXTS = "decisions.txt.j2"

S = Status
# Who writes the lines: a provider about referrals it received, or the Meldpunt's coordinator (intake/permissions.py decides).
Role = ActorKind


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
    domain: str = ""
    calendar: WorkCalendar = WorkCalendar()


@dataclass(frozen=True)
class _Plan:
    """What an understood, allowed line will do to its referral."""

    steps: tuple[Status, ...]
    note: str | None = None
    outcome: CompletionOutcome | None = None
    service: Service | None = None
    question: Question | None = None
    value: Any = None
    remind: DispatchItem | None = None  # herinneren: the dispatch whose provider is reminded


class _Refused(Exception):
    """A line that changes nothing; the message is the Dutch reason."""


def apply_actions(
    session: Session, actions: Sequence[Action], *, role: Role, actor: str, intake: Intake, domain: str,
    now: datetime, provider_address: str | None = None, calendar: WorkCalendar | None = None,
) -> list[Decision]:
    """Apply each line in order (a refused line changes nothing) and mail each referrer once.

    `calendar` counts the working days a coordinator's reminder (`herinneren`) names; the default knows no closure days.
    """
    if role is Role.PROVIDER and not provider_address:
        raise ValueError("a provider's actions need the provider's address")
    call = _Call(role=role, actor=actor, intake=intake, now=now, provider_address=(provider_address or "").strip().lower() or None,
                 domain=domain, calendar=calendar or WorkCalendar())
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
        # A correction is news to the referrer only when it stops the referral (a new address, a missing answer);
        # a reminder to the provider is the coordinator's business.
        if recipient and action.verb is not Verb.REMIND and (action.verb is not Verb.CORRECT or referral.status is not before):
            notices[recipient].append(_notice(referral, note, call))
    for recipient, items in notices.items():
        _mail_referrer(session, recipient, items, domain=domain, now=now)
    return decisions


# --- deciding ---------------------------------------------------------------------------------


def _unknown(reference: str, call: _Call) -> str:
    """Unknown, in words that do not tell a provider whether the reference exists."""
    return _refusal(Refusal.NOT_YOURS if call.role is Role.PROVIDER else Refusal.UNKNOWN, reference)


def _refusal(refusal: Refusal, reference: str, verb: Verb | None = None) -> str:
    """The Dutch sentence of a refusal; a verb reserved for the coordinator also says what a provider may write."""
    if refusal is Refusal.COORDINATOR_ONLY and verb is not None:
        allowed = ", ".join(v.value for v in Verb if v in PROVIDER_VERBS)
        return message(refusal.value, source=_TEXTS, reference=reference, verb=verb.value, allowed=allowed)
    return message(refusal.value, source=_TEXTS, reference=reference)


def _check_access(session: Session, referral: Referral, action: Action, call: _Call) -> None:
    """Refuse a line its writer may not write (intake/permissions.py): a provider only about what it has now."""
    holding = Holding.NEVER
    if call.role is Role.PROVIDER and action.verb in PROVIDER_VERBS:
        assert call.provider_address is not None
        holding = dispatches.holding(session, referral.id, call.provider_address)
    owner = call.role is Role.STAFF and owns(referrer_staff_id=None, referrer_address=referrals.referrer_address(referral), staff_id=None,
                                             address=call.actor)
    verdict = may(call.role, access_of(action.verb), owner=owner, holding=holding)
    if verdict.refusal is not None:
        raise _Refused(_refusal(verdict.refusal, action.reference, action.verb))


def _plan(session: Session, referral: Referral, action: Action, call: _Call) -> _Plan:
    """What the line will do, after every check; raises _Refused with the reason."""
    reference = action.reference
    _check_access(session, referral, action, call)
    steps = _path(session, referral, action, call)
    if S.QUEUED in steps:
        _refuse_incomplete(referral, reference, intake=call.intake)
    note = redact_note(action.note, referral.answers or {})
    if action.verb is Verb.ROUND_TABLE and action.on is not None:
        note = message("note_round_table", source=_TEXTS, on=action.on.strftime("%d/%m/%Y"))
    if action.verb is Verb.REDIRECT:
        service = _service(session, referral, action, call.intake.catalogue)
        return _Plan(steps=steps, note=message("note_redirect", source=_TEXTS, name=service.name), service=service)
    if action.verb is Verb.CORRECT:
        question, value = _correction(action, call)
        return _Plan(steps=steps, question=question, value=value)
    if action.verb is Verb.REMIND:
        item = reminder_target(session, referral)
        if item is None:
            raise _Refused(message("remind_nobody", source=_TEXTS, reference=reference))
        return _Plan(steps=steps, note=message("note_reminded", source=_TEXTS), remind=item)
    if not steps and not note:
        note = redact_note(action.line, referral.answers or {})  # a round table moved without a date: the line says what happened
    return _Plan(steps=steps, note=note, outcome=action.outcome)


def _path(session: Session, referral: Referral, action: Action, call: _Call) -> tuple[Status, ...]:
    """The statuses the line passes through from here (intake/actions.py), or _Refused with the reason."""
    current, reference = referral.status, action.reference
    # A provider's refusal is final for corrections: only a referral never dispatched is corrected.
    dispatched = action.verb is Verb.CORRECT and dispatches.current_provider(session, referral.id) is not None
    try:
        steps = route(action.verb, current, by_provider=call.role is Role.PROVIDER, dispatched=dispatched, outcome=action.outcome)
    except (InvalidTransition, ValueError) as wrong:  # the table and the lifecycle disagree: refuse
        raise _Refused(f"{reference}: {wrong}") from None
    if isinstance(steps, RouteRefusal):
        verb = {} if steps in (RouteRefusal.ALREADY, RouteRefusal.TOO_LATE) else {"verb": action.verb.value}
        raise _Refused(message(steps.value, source=_TEXTS, reference=reference, status=current.label, **verb))
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
    # A referral goes to a service once (unique in dispatch_items): sending it there again would fail.
    if service.id in dispatches.services_sent(session, referral.id):
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


# --- applying -----------------------------------------------------------------------------------


def _execute(session: Session, referral: Referral, plan: _Plan, call: _Call) -> tuple[str, str | None]:
    """Write the planned change (every check is done); what happened, and the note the referrer reads."""
    reference = referral.reference or ""
    if plan.question is not None:
        return _apply_correction(session, referral, plan.question, plan.value, call)
    if plan.service is not None:
        referral.assigned_service_id = plan.service.id
    if plan.remind is not None:
        address = remind_now(session, referral, plan.remind, calendar=call.calendar, domain=call.domain, now=call.now)
        referrals.add_note(session, referral, note=plan.note or "", actor=call.actor, now=call.now)
        return message("reminded", source=_TEXTS, reference=reference, provider=address, status=referral.status.label), plan.note
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
    """Store the corrected answer and judge the referral again, as at submission (desk/workflow.py)."""
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
    outbox.enqueue_mail(session, composed, kind=MailKind.DECISION_NOTICE, to=recipient, domain=domain, now=now,
                        referral_id=items[0]["referral_id"] if len(items) == 1 else None)
    log.info("terugkoppeling aan de aanmelder in de wachtrij: %d wijziging(en)", len(items))
