"""Everything the mail processor sends: automatic replies (with their daily cap), mails to the coordinator, reminders.

MailProcessor (mail/processor.py) decides what a stored mail is; this base class queues what it answers,
and the periodic jobs that mail on their own (details requests, reminders of open questions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import IntakeWorkflow
from intake.brussels import BRUSSELS
from intake.clock import Clock
from intake.lifecycle import Status
from intake.texts import compose_mail
from intake.vocabulary import Channel, Mode
from intake.workhours import WorkCalendar, local_day
from mail.body import body_text
from mail.form import render_form
from mail.intent import REPLY_PREFIX
from mail.outcomes import MailOutcome
from store import audit, outbox, questions, referrals
from store.mail_models import InboundMail, MailKind, Question

log = logging.getLogger(__name__)


class ProcessorConfig(BaseModel):
    """Who we are and whom we trust."""

    model_config = ConfigDict(frozen=True)

    address: str
    domain: str
    coordinator_email: str | None = None
    allowed_domains: tuple[str, ...] = ()
    trusted_authserv_id: str | None = None
    auto_reply_limit: int = 10
    # Replies to a registered staff member's own forms skip auto_reply_limit (a busy day is confirmed in
    # full); a responder that keeps echoing our form back still stops here.
    staff_form_reply_limit: int = 50
    # Working hours after which an unanswered question is mailed to the coordinator again;
    # None when the coordinator's Telegram chat gets the reminders instead.
    reminder_hours: float | None = None
    calendar: WorkCalendar = WorkCalendar()  # counts those working hours: closure days are none


@dataclass
class Mail:
    """One stored mail, parsed, with what every handler needs."""

    row: InboundMail
    message: EmailMessage
    sender: str
    subject: str

    @cached_property
    def text(self) -> str:
        """The readable new text (HTML converted, quoted history removed), worked out once per mail."""
        return body_text(self.message).strip()

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this mail answers (In-Reply-To, then References)."""
        ids = str(self.message.get("In-Reply-To", "") or "").split()
        return ids + str(self.message.get("References", "") or "").split()


class MailSender:
    """Queues the processor's mails; the processor (a subclass) decides which."""

    def __init__(self, sessions: sessionmaker[Session], workflow: IntakeWorkflow, config: ProcessorConfig, *, clock: Clock) -> None:
        self.sessions = sessions
        self.workflow = workflow
        self.config = config
        self.clock = clock

    def relay_answer(self, session: Session, question: Question, *, answer: str, by: str, now: datetime) -> MailOutcome:
        """Store the coordinator's answer and mail it to whoever asked; also used by the CLI."""
        questions.answer_question(session, question, answer=answer, by=by, now=now)
        composed = compose_mail("mail/answer_relay.txt.j2", question=question, answer=answer, form=render_form(self.workflow.intake.questionnaire))
        outbox.enqueue_mail(session, composed, kind=MailKind.REPLY, to=question.asker_email, domain=self.config.domain, now=now)
        return MailOutcome.ANSWER_RELAYED

    def _escalate(self, session: Session, mail: Mail, *, staff_id: int | None, context: dict[str, Any] | None, now: datetime) -> Question:
        """Store the mail as an open question and send it to the coordinator, who can answer by replying."""
        question = questions.open_question(session, asker_email=mail.sender, staff_id=staff_id, channel=Channel.EMAIL, text=mail.text[:5000], context=context,
                                           now=now)
        question.escalation_message_id = self._tell_coordinator(session, "mail/escalation.txt.j2", now, question=question, sender=mail.sender,
                                                                subject=mail.subject)
        self._audit_for_coordinator(session, [question], now)
        return question

    def _audit_for_coordinator(self, session: Session, shown: list[Question], now: datetime) -> None:
        """The coordinator gets these questions' texts by mail: recorded as read by them."""
        if self.config.coordinator_email and shown:
            viewer = audit.Viewer(self.config.coordinator_email, audit.AuditChannel.EMAIL, audit.AuditPurpose.QUESTION)
            audit.record_questions_view(session, viewer, shown, now=now)

    def _reply(
        self, session: Session, mail: Mail, template: str, now: datetime, *, referral_id: int | None = None,
        staff_form: bool = False, **context: Any,
    ) -> str | None:
        """Queue an automatic reply, unless this address had its share today (loop safety; the coordinator has no cap).

        `staff_form`: a reply to a registered staff member's own form, counted apart (see _over_limit).
        """
        if self._over_limit(session, mail, now, staff_form=staff_form):
            return "Geen antwoord: het maximum aantal automatische antwoorden voor vandaag is bereikt."
        reply = compose_mail(template, subject_of_mail=REPLY_PREFIX.sub("", mail.subject), today=local_day(now), **context)
        in_reply_to, references = outbox.reply_thread(
            mail.row.message_id, references=mail.message.get("References"), in_reply_to=mail.message.get("In-Reply-To"),
        )
        outbox.enqueue_mail(session, reply, kind=MailKind.REPLY, to=mail.sender, domain=self.config.domain, now=now,
                            in_reply_to=in_reply_to, referral_id=referral_id, references=references)
        if not staff_form:  # counted by its outbox row instead (store.outbox.referral_replies_today)
            outbox.log_auto_reply(session, mail.sender, now=now)
        return None

    def _over_limit(self, session: Session, mail: Mail, now: datetime, *, staff_form: bool) -> bool:
        """Whether today's replies to this sender reached their cap: the daily one, or the ceiling for staff forms."""
        if mail.sender == (self.config.coordinator_email or "").lower():
            return False
        if staff_form:
            return outbox.referral_replies_today(session, mail.sender, now=now) >= self.config.staff_form_reply_limit
        return outbox.auto_replies_today(session, mail.sender, now=now) >= self.config.auto_reply_limit

    def _tell_coordinator(self, session: Session, template: str, now: datetime, **context: Any) -> str | None:
        """Queue a mail to the coordinator; its Message-ID lets a reply find its way back."""
        if not self.config.coordinator_email:
            return None
        row = outbox.enqueue_mail(session, compose_mail(template, **context), kind=MailKind.ESCALATION, to=self.config.coordinator_email,
                                  domain=self.config.domain, now=now)
        return row.message_id

    def request_missing_details(self) -> int:
        """Mail a prefilled form to the referrer of each referral awaiting details that did not get one yet."""
        now, sent = self.clock(), 0
        with self.sessions.begin() as session:
            for referral in referrals.list_referrals(session, status=Status.AWAITING_DETAILS):
                if referral.staff is None or outbox.has_kind_for_referral(session, referral.id, kind=MailKind.DETAILS):
                    continue
                form = render_form(self.workflow.intake.questionnaire, answers=referral.answers, mode=Mode.DETAILS, reference=referral.reference)
                composed = compose_mail("mail/details_request.txt.j2", reference=referral.reference, form=form)
                outbox.enqueue_mail(session, composed, kind=MailKind.DETAILS, to=referral.staff.email, domain=self.config.domain, now=now,
                                    referral_id=referral.id)
                sent += 1
        return sent

    def remind_open_questions(self) -> int:
        """Mail the coordinator again about questions left unanswered too long; a reply still finds them."""
        if self.config.reminder_hours is None or not self.config.coordinator_email:
            return 0
        now = self.clock()
        with self.sessions.begin() as session:
            due = questions.due_for_reminder(session, now=now, after_hours=self.config.reminder_hours, calendar=self.config.calendar)
            for question in due:
                asked_at = question.created_at.astimezone(BRUSSELS).strftime("%d/%m/%Y om %H:%M")
                composed = compose_mail("mail/escalation_reminder.txt.j2", question=question, asked_at=asked_at)
                original = question.escalation_message_id
                # Threaded under the first mail: a reply's References names it, so by_escalation finds it.
                outbox.enqueue_mail(session, composed, kind=MailKind.ESCALATION, to=self.config.coordinator_email, domain=self.config.domain,
                                    now=now, in_reply_to=original, references=original)
            self._audit_for_coordinator(session, due, now)
            return len(due)
