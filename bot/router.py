"""The chat desk's one router: who is asking, and which handler answers this message, command or button.

The coordinator's chat goes to bot/handlers/coordinator.py; catalogue buttons are public, also in
groups; everything else needs a private chat, and a linked staff member for more than the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import advice, catalogue, coordinator, linking, questions, referral, status, survey
from bot.keyboards import Action, Press
from store import telegram
from store.models import Staff

Handler = Callable[[Scope, ChatEvent, Staff], Answer]
ButtonHandler = Callable[[Scope, ChatEvent, Staff, Press], Answer]


class Command(StrEnum):
    """A linked staff member's own commands (the engine's words follow in ENGINE_COMMANDS)."""

    START = "start"
    REFER = "aanmelden"
    ADVICE = "advies"
    CATALOGUE = "aanbod"
    ASK = "vraag"
    STATUS = "status"
    UNLINK = "ontkoppel"
    SURVEY = "bevraging"


# The engine's own commands: they act on the conversation going on (/help also without one).
ENGINE_COMMANDS = frozenset({"terug", "overslaan", "annuleer", "help", "overzicht", "bevestig", "wijzig", "pauze"})

_COMMANDS: dict[Command, Handler] = {
    Command.START: linking.welcome,
    Command.REFER: referral.open_referral,
    Command.ADVICE: advice.open_advice,
    Command.CATALOGUE: catalogue.command,
    Command.ASK: questions.command,
    Command.STATUS: status.show,
    Command.UNLINK: linking.unlink,
    Command.SURVEY: survey.command,
}
_BUTTONS: dict[Action, ButtonHandler] = {
    Action.ADVICE: advice.pressed,
    Action.ASK: questions.pressed,
    Action.SURVEY: survey.pressed,
    **dict.fromkeys(referral.CONVERSATION_BUTTONS, referral.pressed),
}


def route(scope: Scope, event: ChatEvent) -> Answer:
    """Decide who is asking and let the right handler answer."""
    coordinator_chat = scope.config.coordinator_chat_id
    if coordinator_chat is not None and event.chat_id == coordinator_chat:
        return coordinator.handle(scope, event)
    press = Press.parse(event.button) if event.button is not None else None
    if press is not None and press.action is Action.CATALOGUE:
        return catalogue.browse(scope, press)  # public, also in groups
    if not event.private:
        return Answer([Reply(chat_text("only_private"))] if event.command else [])
    staff = telegram.linked_staff(scope.session, event.user_id)
    if staff is None:
        if telegram.revoked_account(scope.session, event.user_id):
            return linking.ended(event)
        return linking.stranger(scope, event)
    return _staff(scope, event, staff, press)


def _staff(scope: Scope, event: ChatEvent, staff: Staff, press: Press | None) -> Answer:
    """A linked staff member in their private chat."""
    if event.edited:
        return referral.edited(scope, event)
    if press is not None:
        button = _BUTTONS.get(press.action) if press.action is not None and press.args else None
        if button is None:
            return Answer(toast=chat_text("stale"), clear_pressed=True)
        return button(scope, event, staff, press)
    if event.command is None and questions.is_reply_to_prompt(event):
        return questions.replied(scope, event, staff)
    # While the survey asks its questions in this chat, what is typed answers them (bot/handlers/survey.py).
    if (event.command is None or event.command in survey.COMMANDS) and (invite := survey.active(scope, event, staff)) is not None:
        return survey.typed(scope, event, staff, invite)
    if event.command is None:
        return referral.typed(scope, event)
    if event.command in set(Command):
        return _COMMANDS[Command(event.command)](scope, event, staff)
    if event.command in ENGINE_COMMANDS:
        return referral.engine_command(scope, event, staff)
    return Answer([Reply(chat_text("hint_linked"))])
