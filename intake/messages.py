"""What passes between a person and the dialogue engine: commands, an inbound message, the outbound messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from intake.questionnaire import Choice


class Command(StrEnum):
    """Words that steer the conversation instead of answering (with or without a slash)."""

    BACK = "terug"
    SKIP = "overslaan"
    CANCEL = "annuleer"
    HELP = "help"
    CONFIRM = "bevestig"
    EDIT = "wijzig"
    SUMMARY = "overzicht"
    PAUSE = "pauze"


_COMMAND_WORDS = {
    "terug": Command.BACK, "vorige": Command.BACK, "overslaan": Command.SKIP, "sla over": Command.SKIP,
    "annuleer": Command.CANCEL, "annuleren": Command.CANCEL, "stop": Command.CANCEL,
    "help": Command.HELP, "?": Command.HELP, "bevestig": Command.CONFIRM, "verstuur": Command.CONFIRM,
    "wijzig": Command.EDIT, "aanpassen": Command.EDIT, "overzicht": Command.SUMMARY,
    "pauze": Command.PAUSE, "later": Command.PAUSE,
}
CONFIRM_WORDS = {"ja", "ok", "oke", "bevestig", "bevestigen", "in orde"}
_COMMAND = re.compile(r"^/?\s*(sla over|[a-z?]+)(?:@\w+)?(?:\s+(.*))?$", re.IGNORECASE)


class Seen(BaseModel):
    """What a window last showed: the position (question id or summary token) and the conversation's turn."""

    model_config = ConfigDict(frozen=True)

    position: str
    turn: int


class Inbound(BaseModel):
    """What a person sent: an answer text, or a command with an optional argument.

    `seen` is what the sending window last showed; when the conversation moved on in another window,
    the engine refuses the message instead of filing it under another question.
    """

    model_config = ConfigDict(frozen=True)

    text: str = ""
    command: Command | None = None
    argument: str | None = None
    seen: Seen | None = None

    @classmethod
    def from_text(cls, text: str, *, seen: Seen | None = None) -> "Inbound":
        """Recognise a command word (optionally with a slash) or keep the text as an answer."""
        found = _COMMAND.match(text.strip())
        if found and found[1].lower() in _COMMAND_WORDS:
            command = _COMMAND_WORDS[found[1].lower()]
            if command is Command.EDIT or not found[2]:
                return cls(text=text, command=command, argument=found[2], seen=seen)
        return cls(text=text, seen=seen)


class OutKind(StrEnum):
    """What an outbound message is, so a channel can render it (keyboards, buttons)."""

    QUESTION = "question"
    INVALID = "invalid"
    INFO = "info"
    HELP = "help"
    SUMMARY = "summary"
    DONE = "done"
    CANCELLED = "cancelled"
    PAUSED = "paused"
    ADVICE = "advice"


class Outbound(BaseModel):
    """One message for the person, with what a channel needs to offer buttons."""

    model_config = ConfigDict(frozen=True)

    kind: OutKind
    text: str
    question_id: str | None = None
    choices: tuple[Choice, ...] = ()
    multi: bool = False
    optional: bool = False
    question_type: str | None = None
    # Where the conversation stood when this was shown (see Intake.position): buttons carry it,
    # so a button pressed under an older question or summary is recognised as stale.
    token: str | None = None
    turn: int = 0  # the conversation's turn when shown: with the token, what a window last saw (Seen)

    @property
    def seen(self) -> Seen | None:
        """What a window showing this message has seen; None for messages that ask nothing."""
        return Seen(position=self.token, turn=self.turn) if self.token is not None else None


def last_seen(outbounds: Iterable[Outbound]) -> Seen | None:
    """What a window shows after these messages: the last question or summary among them, if any."""
    return next((o.seen for o in reversed(list(outbounds)) if o.seen is not None), None)


# Commands that mean the same whatever a window showed: never refused as behind.
ANYWHERE = frozenset({Command.HELP, Command.PAUSE, Command.CANCEL, Command.SUMMARY})
