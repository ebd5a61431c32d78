"""The coordinator's chat: open questions and answers, the review queue, the next batch, decisions line by line."""

from __future__ import annotations

import re

from sqlalchemy.orm.exc import StaleDataError

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import agenda
from bot.handlers.questions import coordinator_viewer
from desk import dispatch
from desk.decisions import Role, apply_actions, review_row
from intake.actions import parse_actions
from intake.references import REFERENCE_PATTERN
from intake.schedule import describe, next_slot
from intake.workhours import local_day
from store import audit, questions, telegram
from store.referrals import waiting_for_coordinator

_QUESTION_NUMBER = re.compile(r"[Vv]raag #(\d+)")
# A line for the coordinator starts with a reference and a separator; the reference alone is chatter.
_ACTION_LINE = re.compile(rf"^\s*{REFERENCE_PATTERN}\s*[:\-–]", re.IGNORECASE | re.MULTILINE)


def handle(scope: Scope, event: ChatEvent) -> Answer:
    """Commands, a reply to a question, or decision lines; anything else in their chat is not ours."""
    if event.command == "nakijken":
        return Answer([Reply(_review_queue(scope))])
    if event.command == "vandaag":
        return Answer([Reply(agenda.today(scope, event.user_id))])
    if event.command == "verzending":
        return Answer([Reply(_next_batch(scope))])
    if event.command == "beslis":
        return Answer([Reply(_decide(scope, event.argument, event.user_id))])
    if event.command == "vragen":
        shown = questions.open_questions(scope.session)
        audit.record_questions_view(scope.session, coordinator_viewer(scope.config, event.user_id), shown, now=scope.clock())
        return Answer([Reply(chat_text("open_questions", items=shown))])
    if event.command == "antwoord":
        number, _, text = event.argument.strip().partition(" ")
        if not number.lstrip("#").isdigit() or not text.strip():
            return Answer([Reply(chat_text("answer_usage"))])
        return Answer(_answer(scope, int(number.lstrip("#")), text.strip(), event.user_id))
    if event.text and event.reply_to_bot_text:
        found = _QUESTION_NUMBER.search(event.reply_to_bot_text)
        if found:
            return Answer(_answer(scope, int(found[1]), event.text.strip(), event.user_id))
    if event.text and _ACTION_LINE.search(event.text):
        return Answer([Reply(_decide(scope, event.text, event.user_id))])
    if event.command is not None or event.button is not None:
        return Answer([Reply(chat_text("coordinator_help"))])
    return Answer()  # the coordinator's own chatter in their chat is none of our business


def _review_queue(scope: Scope) -> str:
    """Referrals waiting for the coordinator, with their reasons; never the pupil's identity."""
    rows = [review_row(scope.session, referral) for referral in waiting_for_coordinator(scope.session)]
    return chat_text("review_queue", rows=rows)


def _next_batch(scope: Scope) -> str:
    """What the next batch will send to whom (a dry run: nothing changes)."""
    slot = next_slot(scope.clock(), scope.config.dispatch_moments, scope.config.calendar.closures)
    plan = dispatch.make_plan(scope.session, scope.workflow.intake)
    return chat_text("next_batch", plan=plan, next=describe(slot.runs_at))


def _decide(scope: Scope, text: str, user_id: int) -> str:
    """Apply the coordinator's lines ("MSI-2026-0042: goedkeuren"); the result of each, in Dutch."""
    actions, problems = parse_actions(text, today=local_day(scope.clock()))
    if not actions and not problems:
        return chat_text("decide_usage")
    try:
        with scope.session.begin_nested():  # a concurrent change undoes these lines only, not the message
            results = apply_actions(scope.session, actions, role=Role.COORDINATOR, actor=f"coördinator (telegram {user_id})",
                                    intake=scope.workflow.intake, domain=scope.config.mail_domain, now=scope.clock())
    except StaleDataError:
        return chat_text("decide_concurrent")
    return chat_text("decisions", results=results, problems=problems)


def _answer(scope: Scope, number: int, text: str, user_id: int) -> list[Reply]:
    """Store the answer and pass it on: in chat to a chat question, else by mail."""
    now, by, session = scope.clock(), f"coördinator (telegram {user_id})", scope.session
    question = questions.get_question(session, number)
    if question is None or question.answered_at is not None:
        return [Reply(chat_text("question_unknown", number=number))]
    asker_still_linked = question.asker_chat_id is not None and telegram.linked_staff(session, question.asker_chat_id) is not None
    if asker_still_linked:
        questions.answer_question(session, question, answer=text, by=by, now=now)
        relay = Reply(chat_text("answer_to_asker", number=number, question=question.text, answer=text), chat_id=question.asker_chat_id)
        return [relay, Reply(chat_text("answer_relayed", number=number, by_mail=False))]
    scope.relay_by_mail(session, question, text, by, now)
    return [Reply(chat_text("answer_relayed", number=number, by_mail=True))]
