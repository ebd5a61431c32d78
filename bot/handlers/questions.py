"""Questions to the coordinator from chat: the prompt, storing and passing one on, and reminders."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from bot.chat import Answer, ChatEvent, DeskConfig, Reply, Scope, chat_text
from bot.keyboards import Press
from intake.dialogue import ADVICE_QUESTIONS, DialogueState
from intake.findings import weighing_reasons
from intake.permissions import owns
from intake.references import REFERENCE, find_reference
from intake.texts import compose_mail
from intake.vocabulary import Mode
from store import audit, conversations, outbox, questions, referrals
from store.mail_models import MailKind, Question
from store.models import Staff
from store.views import answer_rows

log = logging.getLogger(__name__)

MAX_QUESTION_LENGTH = 4000  # a question to the coordinator; with its header it still fits one Telegram message


@cache
def _prompt_start() -> str:
    """How the prompt for a question begins, with or without a reference: a reply to it is a question."""
    return chat_text("ask_prompt").partition(":")[0]


def is_reply_to_prompt(event: ChatEvent) -> bool:
    """Whether a typed text answers the bot's prompt for a question."""
    return bool(event.reply_to_bot_text and event.reply_to_bot_text.startswith(_prompt_start()) and (event.text or "").strip())


def prompt(reference: str | None = None) -> Answer:
    """Ask for the question as a reply to this message (Telegram opens the reply at once)."""
    return Answer([Reply(chat_text("ask_prompt", reference=reference), force_reply=True)])


def command(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/vraag: the question itself when it follows the command, else the prompt for it."""
    if event.argument.strip():
        return ask(scope, event, staff, event.argument.strip(), reference=None)
    return prompt()


def replied(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """A reply to the prompt: the question, about the referral the prompt named, if any."""
    return ask(scope, event, staff, (event.text or "").strip(), reference=find_reference(event.reply_to_bot_text or ""))


def pressed(scope: Scope, event: ChatEvent, staff: Staff, press: Press) -> Answer:
    """"Vraag aan de coördinator" under a submitted referral: the prompt, naming it."""
    if len(press.args) == 1 and REFERENCE.fullmatch(press.args[0]):
        return prompt(press.args[0])
    return Answer(toast=chat_text("stale"), clear_pressed=True)


def ask(scope: Scope, event: ChatEvent, staff: Staff, text: str, *, reference: str | None) -> Answer:
    """Store the question, pass it to the coordinator's chat (or mail), and tell the asker."""
    now, config, session = scope.clock(), scope.config, scope.session
    kept = cut(text, MAX_QUESTION_LENGTH)
    context = _context(scope, event, staff, reference)
    question = questions.open_question(
        session, asker_email=staff.email, staff_id=staff.id, channel="telegram", text=kept,
        context=context, now=now, asker_chat_id=event.chat_id,
    )
    replies = [Reply(chat_text("question_sent", number=question.id, coordinator=config.coordinator_chat_id is not None))]
    if kept != text:  # said, never cut silently: the person knows what the coordinator did not get
        replies.append(Reply(chat_text("question_cut", limit=MAX_QUESTION_LENGTH, tail=" ".join(kept.split()[-6:]), left=len(text) - len(kept))))
    if config.coordinator_chat_id is not None:
        replies.append(to_coordinator(config, question, staff))
        audit.record_questions_view(session, coordinator_viewer(config), [question], now=now)
    elif config.coordinator_email:
        mail = compose_mail("mail/escalation.txt.j2", question=question, sender=staff.email, subject=None)
        row = outbox.enqueue_mail(session, mail, kind=MailKind.ESCALATION, to=config.coordinator_email, domain=config.mail_domain, now=now)
        question.escalation_message_id = row.message_id
        viewer = audit.Viewer(config.coordinator_email, audit.AuditChannel.EMAIL, audit.AuditPurpose.QUESTION)
        audit.record_questions_view(session, viewer, [question], now=now)
    log.info("vraag %s doorgestuurd naar de coördinator", question.id)
    return Answer(replies)


def _context(scope: Scope, event: ChatEvent, staff: Staff, reference: str | None) -> dict[str, Any] | None:
    """What the coordinator needs to answer, without anything that identifies the pupil."""
    session = scope.session
    if reference is not None:
        referral = referrals.get_referral(session, reference)
        if referral is None or not owns(referrer_staff_id=referral.staff_id, referrer_address=(referral.answers or {}).get("referrer_email"),
                                        staff_id=staff.id, address=staff.email):
            return None
        reasons = " ".join(weighing_reasons((referral.eligibility or {}).get("findings", [])))
        return {"aanmelding": reference, "status": referral.status.label, "aandachtspunten": reasons or "geen"}
    conversation = conversations.get_conversation(session, scope.channel.value, scope.external_id(event))
    if conversation is None:
        return None
    state = DialogueState.model_validate(conversation.state)
    if state.mode is not Mode.ADVICE:
        return None
    advice = {key: state.answers[key] for key in ADVICE_QUESTIONS if key in state.answers}
    # Stored as the coordinator reads it: the questions' labels and the chosen answers' labels, not keys and codes.
    return {label: value for _, label, value in answer_rows(scope.workflow.intake.questionnaire, advice)} or None


def to_coordinator(config: DeskConfig, question: Question, staff: Staff | None, *, reminder: bool = False) -> Reply:
    """The question as the coordinator's chat shows it, first or as a reminder."""
    text = chat_text(
        "question_to_coordinator", number=question.id, asker=(staff.name or staff.email) if staff else question.asker_email,
        clb=staff.clb if staff else None, text=question.text, context=question.context, reminder=reminder,
    )
    return Reply(text, chat_id=config.coordinator_chat_id)


def coordinator_viewer(config: DeskConfig, user_id: int | None = None) -> audit.Viewer:
    """The coordinator reading questions in Telegram: the one who typed a command, else whoever reads their chat."""
    actor = f"coördinator (telegram {user_id})" if user_id is not None else f"coördinator (telegram-chat {config.coordinator_chat_id})"
    return audit.Viewer(actor, audit.AuditChannel.TELEGRAM, audit.AuditPurpose.QUESTION)


def reminders(session: Session, config: DeskConfig, *, now: datetime) -> list[Reply]:
    """Questions unanswered for the configured working hours, sent again to the coordinator's chat."""
    due = questions.due_for_reminder(session, now=now, after_hours=config.reminder_hours, calendar=config.calendar)
    audit.record_questions_view(session, coordinator_viewer(config), due, now=now)
    return [to_coordinator(config, q, session.get(Staff, q.asker_staff_id) if q.asker_staff_id else None, reminder=True) for q in due]


def cut(text: str, limit: int) -> str:
    """The text up to limit characters, cut after a whole word when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if not text[limit].isspace() and len(head.split()) > 1:
        head = head.rsplit(maxsplit=1)[0]  # the last word was cut through: leave it out whole
    return head.rstrip()
