"""Runs the dialogue engine on stored conversations: load, step, save after every step, submit.

Like Mailman's resumable workflow: the conversation's state is committed after each message, so a
crash, a restart or a week's pause resumes at the same question, from any channel.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue import ADVICE_PREFILL, DialogueState, Evaluation, Intake, Phase
from intake.dispatch import choose_service, route_evaluated
from intake.eligibility import Outcome
from intake.findings import weighing_reasons
from intake.lifecycle import Status
from intake.messages import Inbound, Outbound, OutKind
from intake.permissions import owns
from intake.texts import message, render
from intake.vocabulary import Channel as Channel  # the channels and the tests know it from the use cases
from intake.vocabulary import Mode, ReferrerRole
from store import audit, conversations, referrals, service_load
from store.models import Conversation, Referral, Staff

log = logging.getLogger(__name__)


class Submission(BaseModel):
    """A submitted referral: its reference, where it went, why, and the Dutch confirmation."""

    model_config = ConfigDict(frozen=True)

    reference: str
    status: Status
    evaluation: Evaluation
    text: str


class DetailsRefused(Exception):
    """A referral cannot be completed with details by this person (Dutch message)."""


class Busy(Exception):
    """The person has a referral in progress that another action would overwrite (Dutch message)."""


class Turn(BaseModel):
    """What one message produced: the messages to show and, once submitted, the referral."""

    model_config = ConfigDict(frozen=True)

    outbounds: tuple[Outbound, ...]
    reference: str | None = None
    status: Status | None = None
    outcome: Outcome | None = None  # eligibility of a submitted referral
    stale: bool = False  # a button of an earlier question or summary was pressed; nothing changed


def store_evaluated(session: Session, intake: Intake, referral: Referral, answers: dict[str, Any], *, now: datetime) -> Evaluation:
    """Save the answers with the eligibility and suggestions they give (at submission, and after a correction)."""
    load = service_load.referrals_this_school_year(session, now=now, excluding=referral.id)
    evaluation = intake.evaluate(answers, now=now, load=load)
    referrals.save_answers(session, referral, answers=answers, now=now)
    referral.eligibility = evaluation.assessment.model_dump(mode="json")
    referral.suggestions = evaluation.consult.model_dump(mode="json")
    return evaluation


def staff_prefill(staff: Staff) -> dict[str, Any]:
    """Answers we already know of a registered staff member, so they are not asked again."""
    known = {
        "referrer_role": ReferrerRole.CLB.value, "referrer_name": staff.name,
        "referrer_organisation": staff.clb, "referrer_email": staff.email,
    }
    # Staff linked through an allowed CLB domain have no name or CLB on file yet: ask them.
    return {key: value for key, value in known.items() if value}


def audit_summary(session: Session, conversation: Conversation, channel: Channel, outbounds: Sequence[Outbound], now: datetime) -> None:
    """The summary shows every answer given (the pupil's name among them): record that its author saw it."""
    if conversation.staff is None or not any(o.kind is OutKind.SUMMARY for o in outbounds):
        return
    viewer = audit.Viewer(conversation.staff.email, audit.audit_channel(channel.value), audit.AuditPurpose.INTAKE)
    audit.record_view(session, viewer, seen="samenvatting van de antwoorden", now=now, referral_ids=[conversation.referral_id])


class IntakeWorkflow:
    """Opens, continues and submits referral conversations for one channel at a time."""

    def __init__(self, intake: Intake, sessions: sessionmaker[Session]) -> None:
        self.intake = intake
        self.sessions = sessions

    def open(self, *, channel: Channel, external_id: str, staff: Staff, mode: Mode, now: datetime) -> Turn:
        """Resume the person's conversation on this channel, or start a new referral."""
        with self.sessions.begin() as session:
            conversation = conversations.get_conversation(session, channel.value, external_id)
            if conversation is not None:
                state = DialogueState.model_validate(conversation.state)
                if state.mode is not Mode.ADVICE:
                    resumed = tuple(self.intake.resume(state))
                    audit_summary(session, conversation, channel, resumed, now)
                    return Turn(outbounds=resumed)
                conversations.delete_conversation(session, channel.value, external_id)
            return self._start_referral(session, channel, external_id, staff, mode, {}, now)

    def open_from_advice(self, *, channel: Channel, external_id: str, staff: Staff, mode: Mode, now: datetime) -> Turn:
        """Start a referral with the answers of the advice just given (or resume the one in progress)."""
        with self.sessions.begin() as session:
            conversation = conversations.get_conversation(session, channel.value, external_id)
            state = DialogueState.model_validate(conversation.state) if conversation else None
            if state is None or state.mode is not Mode.ADVICE:
                return self.open(channel=channel, external_id=external_id, staff=staff, mode=mode, now=now)
            conversations.delete_conversation(session, channel.value, external_id)
            return self._start_referral(session, channel, external_id, staff, mode, state.answers, now)

    def open_advice(self, *, channel: Channel, external_id: str, staff: Staff, now: datetime) -> Turn:
        """Ask the few questions matching needs; a referral in progress is never overwritten."""
        with self.sessions.begin() as session:
            conversation = conversations.get_conversation(session, channel.value, external_id)
            if conversation is not None:
                if DialogueState.model_validate(conversation.state).mode is not Mode.ADVICE:
                    raise Busy(render("dialogue/busy.txt.j2"))
                conversations.delete_conversation(session, channel.value, external_id)
            state, outbounds = self.intake.start(mode=Mode.ADVICE, now=now, prefill=ADVICE_PREFILL)
            self._save(session, channel, external_id, staff, None, state, now)
            return Turn(outbounds=tuple(outbounds))

    def _start_referral(self, session: Session, channel: Channel, external_id: str, staff: Staff, mode: Mode, known: dict[str, Any], now: datetime) -> Turn:
        draft = referrals.create_draft(session, staff_id=staff.id, channel=channel.value, mode=mode.value, actor=staff.email, now=now)
        state, outbounds = self.intake.start(mode=mode, now=now, prefill={**known, **staff_prefill(staff)})
        self._save(session, channel, external_id, staff, draft, state, now)
        log.info("gesprek gestart: aanmelding %s, kanaal %s", draft.id, channel.value)
        return Turn(outbounds=tuple(outbounds))

    def open_details(self, *, channel: Channel, external_id: str, staff: Staff, reference: str, now: datetime) -> Turn:
        """Start completing the identifying details of one's own referral that awaits them."""
        with self.sessions.begin() as session:
            referral = referrals.get_referral(session, reference)
            if referral is None or not owns(referrer_staff_id=referral.staff_id, referrer_address=referrals.referrer_address(referral),
                                            staff_id=staff.id, address=staff.email):
                raise DetailsRefused(render("dialogue/details_unknown.txt.j2", reference=reference))
            if referral.status is not Status.AWAITING_DETAILS:
                raise DetailsRefused(render("dialogue/details_not_needed.txt.j2", reference=reference, status=referral.status.label))
            conversations.delete_conversation(session, channel.value, external_id)
            state, outbounds = self.intake.start(mode=Mode.DETAILS, now=now, prefill=referral.answers)
            self._save(session, channel, external_id, staff, referral, state, now)
            return Turn(outbounds=tuple(outbounds))

    def handle(self, *, channel: Channel, external_id: str, inbound: Inbound, now: datetime, expect: str | None = None) -> Turn:
        """Apply one message to the stored conversation and commit before answering.

        `expect` is the position a pressed button belongs to: when the conversation has moved on,
        nothing changes and the person sees where it stands now.
        """
        with self.sessions.begin() as session:
            conversation = conversations.get_conversation(session, channel.value, external_id)
            if conversation is None:
                return Turn(outbounds=(Outbound(kind=OutKind.INFO, text=render("dialogue/no_conversation.txt.j2")),), stale=expect is not None)
            state = DialogueState.model_validate(conversation.state)
            if expect is not None and expect != self.intake.position(state):
                shown = tuple(self.intake.resume(state, notice="dialogue/stale_button.txt.j2"))
                audit_summary(session, conversation, channel, shown, now)
                return Turn(outbounds=shown, stale=True)
            state, outbounds = self.intake.step(state, inbound, now=now)
            if state.phase is Phase.DONE:
                return self._submit(session, conversation, state, outbounds, now)
            if state.phase is Phase.CANCELLED:
                self._cancel(session, conversation, now)
                return Turn(outbounds=tuple(outbounds), status=Status.CANCELLED)
            self._save(session, channel, external_id, conversation.staff, conversation.referral, state, now)
            audit_summary(session, conversation, channel, outbounds, now)
            return Turn(outbounds=tuple(outbounds))

    def has_conversation(self, *, channel: Channel, external_id: str) -> bool:
        """Whether this person is in the middle of a referral or an advice."""
        with self.sessions.begin() as session:
            return conversations.get_conversation(session, channel.value, external_id) is not None

    def _save(self, session: Session, channel: Channel, external_id: str, staff: Staff | None, referral: Referral | None, state: DialogueState,
              now: datetime) -> None:
        step = state.current or state.phase.value
        conversations.save_conversation(
            session, channel=channel.value, external_id=external_id, staff_id=staff.id if staff else None,
            referral_id=referral.id if referral else None, step=step, state=state.model_dump(mode="json"), now=now,
        )

    def _cancel(self, session: Session, conversation: Conversation, now: datetime) -> None:
        # Cancelling the details of a minimal referral only stops this conversation: the referral waits on.
        referral = conversation.referral
        if referral is not None and referral.status is Status.DRAFT:
            actor = conversation.staff.email if conversation.staff else "systeem"
            referrals.change_status(session, referral, Status.CANCELLED, actor=actor, now=now, note="geannuleerd in het gesprek")
        conversations.delete_conversation(session, conversation.channel, conversation.external_id)

    def _submit(self, session: Session, conversation: Conversation, state: DialogueState, outbounds: list[Outbound], now: datetime) -> Turn:
        referral = conversation.referral
        assert referral is not None, "every conversation is opened with its referral"
        actor = conversation.staff.email if conversation.staff else "systeem"
        submitted = self.submit_answers(session, referral, state.answers, mode=state.mode, actor=actor, now=now)
        conversations.delete_conversation(session, conversation.channel, conversation.external_id)
        done = Outbound(kind=OutKind.DONE, text=submitted.text)
        return Turn(outbounds=(*[o for o in outbounds if o.kind is not OutKind.DONE], done), reference=submitted.reference, status=submitted.status,
                    outcome=submitted.evaluation.assessment.outcome)

    def submit_answers(self, session: Session, referral: Referral, answers: dict[str, Any], *, mode: Mode, actor: str, now: datetime) -> "Submission":
        """Store complete answers with eligibility and suggestions, and route the referral; any channel."""
        evaluation = store_evaluated(session, self.intake, referral, answers, now=now)
        reference = referrals.assign_reference(session, referral, now=now)
        unplaced: str | None = None
        if mode is Mode.MINIMAL:
            referrals.change_status(session, referral, Status.AWAITING_DETAILS, actor=actor, now=now, note="minimale modus")
        else:
            unplaced = self._route(session, referral, evaluation, actor, now)
        log.info("aanmelding %s ingediend met status %s", reference, referral.status.value)
        text = render("dialogue/submitted.txt.j2", reference=reference, status=referral.status, evaluation=evaluation, mode=mode.value,
                      unplaced=unplaced)
        return Submission(reference=reference, status=referral.status, evaluation=evaluation, text=text)

    def _route(self, session: Session, referral: Referral, evaluation: Evaluation, actor: str, now: datetime) -> str | None:
        """Submitted, then queued when eligible and a service can take it now, else to the coordinator with the reasons.

        Returns why an eligible referral cannot go out (for the referrer), or None.
        """
        referrals.change_status(session, referral, Status.SUBMITTED, actor=actor, now=now)
        outcome = evaluation.assessment.outcome
        choice = choose_service(assigned=referral.assigned_service_id, answers=referral.answers or {},
                                suggestions=referral.suggestions, catalogue=self.intake.catalogue)
        routing = route_evaluated(outcome, choice)
        if routing.status is Status.QUEUED:
            note: str | None = "ontvankelijk"
        elif outcome is Outcome.ELIGIBLE:
            note = routing.unplaced
        else:
            # The reasons, not the rules' codes: the coordinator reads this note in the history and the review list.
            reasons = weighing_reasons(evaluation.assessment.findings)
            note = message("review_note", outcome=outcome.label, flagged=outcome is Outcome.FLAGGED, reasons=reasons)
        referrals.change_status(session, referral, routing.status, actor="systeem", now=now, note=note)
        return routing.unplaced
