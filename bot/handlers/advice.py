"""Advice in chat: which offer fits a pupil, then a referral with those answers or a question about it."""

from __future__ import annotations

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import engine, questions
from bot.keyboards import Press
from desk.workflow import Busy
from intake.vocabulary import Mode
from store.models import Staff


def open_advice(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/advies: the few questions matching needs; a referral in progress is never overwritten."""
    try:
        turn = scope.workflow.open_advice(channel=scope.channel, external_id=scope.external_id(event), staff=staff, now=scope.clock())
    except Busy as busy:
        return Answer([Reply(str(busy))])
    return engine.turn_answer(engine.showing(scope, event, turn))


def pressed(scope: Scope, event: ChatEvent, staff: Staff, press: Press) -> Answer:
    """A button under an advice: start a referral with its answers, or ask the coordinator."""
    if press.args == ("start",):
        turn = scope.workflow.open_from_advice(channel=scope.channel, external_id=scope.external_id(event), staff=staff,
                                               mode=scope.config.mode, now=scope.clock())
        answer = engine.turn_answer(engine.showing(scope, event, turn), notice=scope.config.mode is Mode.MINIMAL)
        answer.clear_pressed = True
        return answer
    if press.args == ("vraag",):
        return questions.prompt()
    return Answer(toast=chat_text("stale"), clear_pressed=True)
