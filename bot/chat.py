"""The chat desk's plain data: what a person did, what the assistant answers, and one message's scope.

No Telegram types: the adapter (bot/telegram_bot.py) turns an update into a `ChatEvent` and sends the
`Reply`s; the router (bot/router.py) and its handlers (bot/handlers/) work on a `Scope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.keyboards import Keyboard
from desk.ports import RelayByMail
from desk.workflow import IntakeWorkflow
from intake.clock import Clock
from intake.messages import Seen
from intake.schedule import WeeklyMoment, parse_moments
from intake.texts import message
from intake.vocabulary import Channel, Mode
from intake.workhours import WorkCalendar


def chat_text(name: str, /, **context: Any) -> str:
    """A bot message: the macro `name` of templates/telegram/messages.txt.j2."""
    return message(name, source="telegram/messages.txt.j2", **context)


@dataclass(frozen=True)
class ChatEvent:
    """One thing a person did in a chat: a command, a text, or a pressed button."""

    user_id: int
    chat_id: int
    private: bool
    command: str | None = None
    argument: str = ""
    text: str | None = None
    button: str | None = None
    reply_to_bot_text: str | None = None  # the bot message this text replies to, if any
    pressed_text: str | None = None  # the text of the message whose button was pressed, if Telegram still has it
    edited: bool = False  # the person edited an earlier message (its new text is not read)


@dataclass(frozen=True)
class Reply:
    """A message to send: to the chat of the event, or to another chat (the coordinator, an asker)."""

    text: str
    buttons: Keyboard = ()
    chat_id: int | None = None
    force_reply: bool = False
    edit_keyboard: bool = False  # replace the pressed message's buttons instead of sending


@dataclass
class Answer:
    """What the desk does in response: replies, a short notice on the pressed button, tidy up its buttons."""

    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    clear_pressed: bool = False
    # The pressed message's new text: the question with what was chosen, so the chat reads as a record.
    record: str | None = None


@dataclass(frozen=True)
class DeskConfig:
    """The desk's settings."""

    mode: Mode = Mode.MINIMAL
    coordinator_chat_id: int | None = None
    coordinator_email: str | None = None
    allowed_domains: tuple[str, ...] = ()
    mail_domain: str = "localhost"
    reminder_hours: float = 8
    calendar: WorkCalendar = WorkCalendar()  # counts the reminder's working hours and moves batches past closure days
    dispatch_moments: tuple[WeeklyMoment, ...] = parse_moments("wo 09:00, vr 09:00")
    accept_within_days: int = 5  # MELDPUNT_ACCEPT_WITHIN_DAYS: when a dispatch not accepted comes on the agenda (/vandaag)


@dataclass(frozen=True)
class Scope:
    """One message's world: its one session, the workflow inside the same transaction, settings and clock."""

    session: Session
    workflow: IntakeWorkflow
    config: DeskConfig
    clock: Clock
    relay_by_mail: RelayByMail
    # Per chat, the question or summary it last showed: a typed answer counts only for that one.
    seen: dict[int, Seen]

    @staticmethod
    def external_id(event: ChatEvent) -> str:
        """The workflow's name for this chat's conversation."""
        return str(event.chat_id)

    @property
    def channel(self) -> Channel:
        """The workflow's channel of every chat conversation."""
        return Channel.TELEGRAM


def command_menu(name: str) -> list[tuple[str, str]]:
    """A command menu (macro `name` of templates/telegram/commands.txt.j2): (command, what it does) per line."""
    rows = []
    for line in message(name, source="telegram/commands.txt.j2").splitlines():
        command, _, description = line.partition(" – ")
        if command.strip():
            rows.append((command.strip(), description.strip()))
    return rows
