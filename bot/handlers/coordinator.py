"""The coordinator's chat: open questions and answers, the review queue, the next batch, decisions line by line."""

from __future__ import annotations

import re

from sqlalchemy.orm.exc import StaleDataError

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import agenda, week
from bot.handlers.questions import coordinator_viewer
from desk import agenda_lines, dispatch
from desk.question_answers import answer_question
from desk.review_rows import review_row
from intake.agenda_lines import has_agenda_line
from intake.references import REFERENCE_PATTERN
from intake.schedule import describe, next_slot
from intake.workhours import local_day
from store import audit, questions
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
    if event.command == "week":
        return Answer([Reply(week.week_view(scope, event.user_id))])
    if event.command == "beslis":
        return Answer(_decide(scope, event.argument, event.user_id))
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
    if event.text and (_ACTION_LINE.search(event.text) or has_agenda_line(event.text)):
        return Answer(_decide(scope, event.text, event.user_id))
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


def _decide(scope: Scope, text: str, user_id: int) -> list[Reply]:
    """Apply the coordinator's lines ("MSI-2026-0042: goedkeuren", "Vraag #12: …") in one place (desk/agenda_lines.py)."""
    call = agenda_lines.LineCall(actor=f"coördinator (telegram {user_id})", intake=scope.workflow.intake, domain=scope.config.mail_domain,
                                 now=scope.clock(), relay_by_mail=scope.relay_by_mail, calendar=scope.config.calendar, chat_reachable=True)
    try:
        with scope.session.begin_nested():  # a concurrent change undoes these lines only, not the message
            settled = agenda_lines.settle_text(scope.session, text, call, today=local_day(call.now))
    except StaleDataError:
        return [Reply(chat_text("decide_concurrent"))]
    if settled is None:
        return [Reply(chat_text("decide_usage"))]
    relays = [Reply(chat_text("answer_to_asker", number=r.number, question=r.question, answer=r.answer), chat_id=r.chat_id) for r in settled.relays]
    return [*relays, Reply(chat_text("decisions", results=settled.decisions, problems=settled.problems))]


def _answer(scope: Scope, number: int, text: str, user_id: int) -> list[Reply]:
    """Store the answer and pass it on (desk/question_answers.py): in chat to a chat question, else by mail."""
    relayed = answer_question(scope.session, number, text, by=f"coördinator (telegram {user_id})", now=scope.clock(),
                              relay_by_mail=scope.relay_by_mail, chat_reachable=True)
    if relayed is None:
        return [Reply(chat_text("question_unknown", number=number))]
    if relayed.chat_id is None:
        return [Reply(chat_text("answer_relayed", number=number, by_mail=True))]
    relay = Reply(chat_text("answer_to_asker", number=number, question=relayed.question.text, answer=text), chat_id=relayed.chat_id)
    return [relay, Reply(chat_text("answer_relayed", number=number, by_mail=False))]
