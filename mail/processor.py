"""Processes stored mail one by one: each ends as exactly one of handled (maybe answered) or quarantined.

Order of the checks follows the risk: bounces and automatic mail never get a reply (RFC 3834), a
forged or unreadable sender is quarantined, then the coordinator's answers and decisions, then
providers' feedback and offer changes, then staff mail (form, consult question, form request, or the
form with a word why when the mail says nothing readable), and last, polite replies to unknown senders.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from desk import agenda_lines, decisions
from desk.workflow import IntakeWorkflow, staff_prefill
from intake.actions import Action, LineProblem, parse_actions
from intake.agenda_lines import has_agenda_line
from intake.answers import fold
from intake.clock import Clock
from intake.consult import consult
from intake.freetext import read_question
from intake.lifecycle import Status
from intake.permissions import Holding, may_refer, owns
from intake.references import find_reference
from intake.vocabulary import Channel, Mode
from intake.workhours import local_day
from mail import survey_mail
from mail.authentication import authentication_verdict, sender_address
from mail.body import all_text
from mail.form import FormResult, parse_form, render_form
from mail.intent import asks_for_form, asks_question
from mail.limits import check_limits
from mail.offer_mail import handle_offer_mail, is_provider_address, looks_like_offer_update
from mail.outcomes import MailOutcome
from mail.replies import Mail, MailSender, ProcessorConfig
from mail.safety import automatic_reason, bounce
from store import audit, dispatches, inbound, outbox, questions, referrals
from store import staff as staff_repo
from store.mail_models import InboundMail, InboundStatus, MailKind, Question
from store.models import Referral, Staff
from store.staff import get_active_staff

log = logging.getLogger(__name__)
# Failures of the database itself, not of a mail: a lock held too long, a full disk, a lost connection.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# A mail may act (decide, correct, answer, report back, change the offer) only as a reply to a mail we
# sent to its sender: our random Message-ID in its In-Reply-To/References is the token. These are the
# mails whose replies may act, per role of the recipient: the token's purpose.
COORDINATOR_THREADS = frozenset({
    MailKind.ESCALATION, MailKind.ALARM, MailKind.ALERT, MailKind.OFFER_CHANGE, MailKind.REPLY, MailKind.WATCHDOG, MailKind.DIGEST,
})
PROVIDER_THREADS = frozenset({MailKind.DISPATCH, MailKind.PROVIDER_REMINDER, MailKind.REPLY, MailKind.OFFER_DECISION})


class Quarantined(Exception):
    """This mail is set aside for the coordinator; the message is the Dutch reason."""


class MailProcessor(MailSender):
    """Turns stored mails into referrals, replies, questions and quarantine entries."""

    def __init__(self, sessions: sessionmaker[Session], workflow: IntakeWorkflow, config: ProcessorConfig, *, clock: Clock) -> None:
        super().__init__(sessions, workflow, config, clock=clock)
        # Names this processor's claims, so recovery and a second instance can tell them apart.
        self.claimant = uuid.uuid4().hex

    # --- running -----------------------------------------------------------------------------
    def recover(self) -> int:
        """After a crash: put mails that were being processed back in the queue."""
        with self.sessions.begin() as session:
            return inbound.recover_interrupted(session, now=self.clock())

    def process_all(self) -> int:
        """Process every waiting mail; the number processed."""
        count = 0
        while self.process_next():
            count += 1
        return count

    def process_next(self) -> bool:
        """Claim and process the oldest waiting mail; False when there is none."""
        with self.sessions.begin() as session:
            claimed = inbound.claim_next(session, now=self.clock(), by=self.claimant)
            mail_id = claimed.id if claimed else None
        if mail_id is None:
            return False
        try:
            with self.sessions.begin() as session:
                row = inbound.hold(session, mail_id, by=self.claimant)
                if row is not None:  # None: another instance's recovery took it back; it is processed once, by a new claim
                    self._process(session, row)
        except DATABASE_ERRORS:
            # The database failed (locked, full, gone), not the mail: the attempt does not count
            # against the mail, and serve's supervisor logs this and backs off.
            with contextlib.suppress(*DATABASE_ERRORS):
                with self.sessions.begin() as session:
                    inbound.release(session, mail_id, by=self.claimant)
            raise
        except Exception:
            log.exception("verwerking van mail %s mislukte", mail_id)  # our fault: details, no content
            self._retry_or_quarantine(mail_id)
        return True

    def _retry_or_quarantine(self, mail_id: int) -> None:
        with self.sessions.begin() as session:
            row = session.get_one(InboundMail, mail_id)
            if row.attempts >= inbound.MAX_ATTEMPTS:
                inbound.quarantine(session, row, reason="De verwerking mislukte herhaaldelijk; de coördinator bekijkt deze mail.", now=self.clock())
            else:
                row.status = InboundStatus.RECEIVED

    # --- one mail ------------------------------------------------------------------------------
    def _process(self, session: Session, row: InboundMail) -> None:
        now = self.clock()
        try:
            outcome, reason = self._decide(session, row, now)
        except RecursionError:
            # Python's email parser recurses per nesting level: such a mail is hostile, not our fault.
            inbound.quarantine(session, row, reason="De mail is te diep genest om veilig te lezen.", now=now)
            log.info("mail %s in quarantaine (te diep genest)", row.id)
            return
        except Quarantined as quarantined:
            inbound.quarantine(session, row, reason=str(quarantined), now=now)
            log.info("mail %s in quarantaine", row.id)
            return
        inbound.finish(session, row, outcome=outcome, reason=reason, now=now)
        log.info("mail %s verwerkt: %s", row.id, outcome)

    def _decide(self, session: Session, row: InboundMail, now: datetime) -> tuple[MailOutcome, str | None]:
        # Limits on the raw bytes before the stdlib parser sees them: it is slow or memory-hungry on hostile mail.
        over_limit = check_limits(row.raw)
        if over_limit is not None:
            raise Quarantined(over_limit)
        message = message_from_bytes(row.raw, policy=default)
        reason = automatic_reason(
            message, envelope_from=row.envelope_from, our_domain=self.config.domain, our_address=self.config.address,
            is_our_message_id=lambda mid: outbox.is_our_message_id(session, mid),
            trusted_senders=frozenset({self.config.coordinator_email.lower()} if self.config.coordinator_email else ()),
        )
        if reason is not None:
            # Only automatic mail can be a bounce; scanning ordinary mail twice cost half the time.
            found = bounce(message)
            if found is None:
                return MailOutcome.AUTOMATIC, reason
            if found.original_message_id:
                outbox.record_bounce(session, found.original_message_id, detail=", ".join(found.failed_addresses)[:200], now=now)
            return MailOutcome.BOUNCE, reason
        sender = sender_address(message)
        if sender is None:
            raise Quarantined("Geen afzender of meerdere afzenders: deze mail kan niet veilig beantwoord worden.")
        self._check_authentication(session, message, row, now)
        mail = Mail(row=row, message=message, sender=sender, subject=str(message.get("Subject", "") or ""))
        if self.config.coordinator_email and sender == self.config.coordinator_email.lower():
            return self._coordinator_answer(session, mail, now)
        if is_provider_address(self.workflow.intake.catalogue, sender):
            return self._provider_mail(session, mail, now)
        staff = get_active_staff(session, sender)
        if staff is not None and (survey := survey_mail.handle(session, mail, staff, now, self._reply)) is not None:
            return survey
        # A removed staff member loses every path, also the one her CLB's domain would open.
        if not may_refer(registered=staff is not None, removed=staff is None and staff_repo.was_removed(session, sender), address=sender,
                         allowed_domains=self.config.allowed_domains):
            return self._unknown_sender(session, mail, now)
        return self._staff_mail(session, mail, staff, now)

    def _check_authentication(self, session: Session, message: EmailMessage, row: InboundMail, now: datetime) -> None:
        """When our mail server vouches for senders, a mail it did not vouch for is quarantined."""
        if not self.config.trusted_authserv_id:
            return
        verdict = authentication_verdict(message, trusted_authserv_id=self.config.trusted_authserv_id, trusted_client=row.trusted_client)
        if not verdict.passed:
            self._tell_coordinator(session, "mail/quarantine_alarm.txt.j2", now, mail_id=row.id, reason=verdict.reason)
            raise Quarantined(verdict.reason)

    # --- staff mail ------------------------------------------------------------------------------
    def _staff_mail(self, session: Session, mail: Mail, staff: Staff | None, now: datetime) -> tuple[MailOutcome, str | None]:
        referral = self._own_referral(session, mail, staff)
        mode = Mode.DETAILS if referral is not None and referral.status is Status.AWAITING_DETAILS else Mode.FULL
        questionnaire = self.workflow.intake.questionnaire
        form = parse_form(mail.text, questionnaire, mode=mode, today=now.date())
        if form.labels_found == 0:
            form = parse_form(all_text(mail.message), questionnaire, mode=mode, today=now.date())
        if form.labels_found >= 2 or (referral is not None and form.labels_found >= 1):
            return self._form(session, mail, staff, referral, mode, form, now)
        # A question is never lost for a request for the form beside it: the consult's reply carries the form.
        if asks_question(mail.subject, mail.text):
            return self._question(session, mail, staff, now)
        known = staff_prefill(staff) if staff is not None else {}
        form_text = render_form(questionnaire, answers=known)
        if asks_for_form(mail.subject, mail.text):
            return MailOutcome.FORM_SENT, self._reply(session, mail, "mail/form_request.txt.j2", now, form=form_text)
        # No form, no question (empty, a scan, a signature, only our quoted mail): the form and a word why,
        # and the coordinator is not asked to read it.
        reply = self._reply(session, mail, "mail/form_request.txt.j2", now, form=form_text, unreadable=True)
        return MailOutcome.UNREADABLE_FORM_SENT, reply

    def _own_referral(self, session: Session, mail: Mail, staff: Staff | None) -> Referral | None:
        """The referral named in the subject, if it is this sender's own."""
        found = find_reference(mail.subject)
        referral = referrals.get_referral(session, found) if found else None
        if referral is None:
            return None
        own = owns(referrer_staff_id=referral.staff_id, referrer_address=(referral.answers or {}).get("referrer_email"),
                   staff_id=staff.id if staff is not None else None, address=mail.sender)
        return referral if own else None

    def _form(self, session: Session, mail: Mail, staff: Staff | None, referral: Referral | None, mode: Mode, form: FormResult,
              now: datetime) -> tuple[MailOutcome, str | None]:
        if referral is not None and referral.status not in (Status.DRAFT, Status.AWAITING_DETAILS):
            reply = self._reply(session, mail, "mail/already_submitted.txt.j2", now, reference=referral.reference, status=referral.status.label)
            return MailOutcome.ALREADY_SUBMITTED, reply
        if referral is None:
            referral = referrals.create_draft(session, staff_id=staff.id if staff else None, channel=Channel.EMAIL, mode=Mode.FULL, actor=mail.sender, now=now)
        known: dict[str, Any] = staff_prefill(staff) if staff is not None and mode is Mode.FULL else {}
        answers = {**known, **referral.answers, **form.answers}
        invalid = [p for p in form.problems if p.received.strip()]
        missing = [q for q in self.workflow.intake.missing(answers, mode=mode) if q.id not in {p.question_id for p in invalid}]
        if not invalid and not missing:
            done = self.workflow.submit_answers(session, referral, answers, mode=mode, actor=mail.sender, now=now)
            reply = self._reply(
                session, mail, "mail/confirmation.txt.j2", now, reference=done.reference, text=done.text, referral_id=referral.id,
                staff_form=staff is not None,
            )
            return MailOutcome.SUBMITTED, reply
        referrals.save_answers(session, referral, answers, now=now)
        reference = referrals.assign_reference(session, referral, now=now)
        blank = render_form(self.workflow.intake.questionnaire, answers=answers, mode=mode, reference=reference)
        reply = self._reply(
            session, mail, "mail/form_problems.txt.j2", now, reference=reference, invalid=invalid, missing=missing, form=blank,
            referral_id=referral.id, staff_form=staff is not None,
        )
        if reply is None:  # queued: the form it quotes holds every answer given
            viewer = audit.Viewer(mail.sender, audit.AuditChannel.EMAIL, audit.AuditPurpose.INTAKE)
            audit.record_view(session, viewer, seen="antwoorden (formulier)", now=now, referral_ids=[referral.id])
        return MailOutcome.FORM_INCOMPLETE, reply

    def _question(self, session: Session, mail: Mail, staff: Staff | None, now: datetime) -> tuple[MailOutcome, str | None]:
        """A free question: suggestions where it says enough, and always to the coordinator."""
        read = read_question(mail.text[:5000], today=now.date())
        result = consult(read.facts, self.workflow.intake.catalogue, today=now.date()) if read.enough_for_consult else None
        context = {"plaats": read.place, "leeftijd": read.age, "niveau": read.facts.school_level, "problemen": sorted(read.facts.problem_areas)}
        question = self._escalate(session, mail, staff_id=staff.id if staff else None, context=context, now=now)
        blank = render_form(self.workflow.intake.questionnaire)
        reply = self._reply(session, mail, "mail/consult.txt.j2", now, consult=result, read=read, form=blank, number=question.id)
        return MailOutcome.QUESTION_FORWARDED, reply

    # --- other senders ---------------------------------------------------------------------------
    def _coordinator_answer(self, session: Session, mail: Mail, now: datetime) -> tuple[MailOutcome, str | None]:
        question = questions.by_escalation(session, mail.thread_ids)
        answer = mail.text
        lines = agenda_lines.read_lines(answer, today=local_day(now))
        if (question is None or not answer) and lines.empty:
            raise Quarantined("Mail van de coördinator die niet als antwoord bij een open vraag hoort.")
        if not outbox.answers_mail_to(session, mail.thread_ids, mail.sender, kinds=COORDINATOR_THREADS):
            return self._reply_needed(session, mail, lines.actions, now, coordinator=True)
        # A reply to a question's mail is its answer, unless it names agenda items ("Vraag #12: …", "Mail #9: opnieuw").
        if question is not None and answer and not has_agenda_line(answer):
            return self.relay_answer(session, question, answer=answer, by=mail.sender, now=now), None
        call = agenda_lines.LineCall(actor=mail.sender, intake=self.workflow.intake, domain=self.config.domain, now=now,
                                     relay_by_mail=self._relay, calendar=self.config.calendar)
        settled = agenda_lines.settle(session, lines, call)
        reply = self._reply(session, mail, "mail/decisions_reply.txt.j2", now, decisions=settled.decisions, problems=settled.problems,
                            coordinator=True)
        return MailOutcome.COORDINATOR_DECISIONS, reply

    def _relay(self, session: Session, question: Question, answer: str, by: str, now: datetime, /) -> object:
        """relay_answer in the shape desk.ports.RelayByMail asks."""
        return self.relay_answer(session, question, answer=answer, by=by, now=now)

    # --- providers -------------------------------------------------------------------------------
    def _provider_mail(self, session: Session, mail: Mail, now: datetime) -> tuple[MailOutcome, str | None]:
        """A provider reports back line by line, sends an offer change, or asks something."""
        actions, problems = parse_actions(mail.text, today=local_day(now))
        authorised = outbox.answers_mail_to(session, mail.thread_ids, mail.sender, kinds=PROVIDER_THREADS)
        if actions or problems:
            if not authorised:
                return self._reply_needed(session, mail, actions, now, coordinator=False)
            return self._provider_feedback(session, mail, actions, problems, now)
        if "aanbod" in fold(mail.subject) or looks_like_offer_update(mail.text):
            outcome, template, context = handle_offer_mail(
                session, sender=mail.sender, subject=mail.subject, text=mail.text, catalogue=self.workflow.intake.catalogue,
                domain=self.config.domain, coordinator_email=self.config.coordinator_email, now=now, may_propose=authorised,
            )
            if outcome is MailOutcome.OFFER_REPLY_NEEDED:
                self._tell_coordinator(session, "mail/action_refused.txt.j2", now, sender=mail.sender, references=[])
            return outcome, self._reply(session, mail, template, now, **context)
        self._escalate(session, mail, staff_id=None, context=None, now=now)
        return MailOutcome.PROVIDER_QUESTION, self._reply(session, mail, "mail/provider_question.txt.j2", now)

    def _provider_feedback(
        self, session: Session, mail: Mail, actions: list[Action], problems: list[LineProblem], now: datetime,
    ) -> tuple[MailOutcome, str | None]:
        """Apply a provider's lines; lines about referrals it does not have also go to the coordinator."""
        # Worked out before applying: ownership does not change by applying, and the reply must not tell.
        # A provider that had a referral before a redirect is no forger: it is told, the coordinator not.
        foreign = sorted({a.reference for a in actions if dispatches.holding_of(session, a.reference, mail.sender) is Holding.NEVER})
        results = decisions.apply_actions(
            session, actions, role=decisions.Role.PROVIDER, actor=mail.sender, intake=self.workflow.intake,
            domain=self.config.domain, now=now, provider_address=mail.sender,
        )
        if foreign:
            self._tell_coordinator(session, "mail/provider_foreign.txt.j2", now, sender=mail.sender, references=foreign)
        reply = self._reply(session, mail, "mail/decisions_reply.txt.j2", now, decisions=results, problems=problems, coordinator=False)
        return MailOutcome.PROVIDER_FEEDBACK, reply

    def _reply_needed(self, session: Session, mail: Mail, actions: list[Action], now: datetime, *, coordinator: bool) -> tuple[MailOutcome, str | None]:
        """Refuse lines that do not answer a mail of ours: ask for a reply, and tell the coordinator.

        The reply names only the references, never the lines: a forger's lines must not come back
        to the real person ready to be sent on with one click.
        """
        references = sorted({a.reference for a in actions})[:20]
        reply = self._reply(session, mail, "mail/reply_needed.txt.j2", now, references=references, coordinator=coordinator)
        if not coordinator:  # the coordinator's own reply already reaches the coordinator's mailbox
            self._tell_coordinator(session, "mail/action_refused.txt.j2", now, sender=mail.sender, references=references)
        log.info("mail %s: opdrachten niet uitgevoerd, geen antwoord op een mail van ons", mail.row.id)
        return MailOutcome.REPLY_NEEDED, reply

    def _unknown_sender(self, session: Session, mail: Mail, now: datetime) -> tuple[MailOutcome, str | None]:
        """Referrals go through the CLB: one polite reply, and the coordinator sees the mail (a parent?)."""
        self._escalate(session, mail, staff_id=None, context=None, now=now)
        return MailOutcome.UNKNOWN_SENDER, self._reply(session, mail, "mail/unknown_sender.txt.j2", now)
