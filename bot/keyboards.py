"""Buttons for the engine's messages, and what a pressed button means; plain data, no Telegram types.

A button's data names where the conversation stood when it was shown (the engine's position token),
so a press under an older question is recognised as stale. Telegram allows 64 bytes of data.

Callback data comes from the client and can be forged: a press counts only when it is one of the
buttons of the message shown now (`accepts`); a multi-select mask or index only within that question's
choices. No number from the client is converted before its length is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from intake.messages import Outbound, OutKind
from intake.questionnaire import Choice
from intake.texts import environment

SEPARATOR = "|"
MAX_DATA_BYTES = 64  # Telegram's limit for callback data
_SUMMARY_EDITS_PER_ROW = 6


class Action(StrEnum):
    """What a button does: the first field of its callback data (old messages keep theirs: never renumber)."""

    CHOICE = "q"  # one choice of a question: token, number
    YES_NO = "y"  # token, "ja" or "nee"
    TOGGLE = "t"  # tick a choice of a multi-select: token, mask, index
    DONE = "d"  # "Klaar" under a multi-select: token, mask
    SKIP = "o"
    BACK = "b"
    CONFIRM = "k"  # the summary's "Bevestigen"
    EDIT = "e"  # correct a numbered answer of the summary: token, number
    CANCEL = "x"  # the summary's "Annuleren": asks WIPE or KEEP first
    WIPE = "w"
    KEEP = "n"
    ADVICE = "a"  # under an advice: "start" a referral with it, or ask the coordinator ("vraag")
    ASK = "v"  # ask the coordinator about a referral: reference
    CATALOGUE = "c"  # browse the catalogue: region, kind
    SURVEY = "s"  # the under-12 survey's buttons (bot/handlers/survey.py): what, and a value


_SELECTION_ARGS = {Action.TOGGLE: 3, Action.DONE: 2}  # toggle: token, mask, index; done: token, mask


@cache
def _labels() -> Any:
    """The label macros, loaded once: a keyboard has a dozen labels, each then a call."""
    return environment().get_template("telegram/buttons.txt.j2").make_module()


def label(name: str, /, **context: Any) -> str:
    """What a button says: the macro `name` of templates/telegram/buttons.txt.j2."""
    return str(getattr(_labels(), name)(**context)).strip()


@dataclass(frozen=True)
class Button:
    """One inline button: what it says and the data it sends back."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Press:
    """A pressed button, split into its action and arguments."""

    action: Action | None  # None: data no button of ours carries
    args: tuple[str, ...]

    @classmethod
    def parse(cls, data: str) -> Press:
        """Split callback data; unknown or oversized data becomes an action nobody handles."""
        if len(data.encode()) > MAX_DATA_BYTES:
            return cls(action=None, args=())
        action, *args = data.split(SEPARATOR)
        return cls(action=Action(action) if action in set(Action) else None, args=tuple(args))

    @property
    def data(self) -> str:
        """The callback data again, as sent."""
        return SEPARATOR.join([self.action or "", *self.args])


def accepts(outbound: Outbound, press: Press) -> bool:
    """Whether a press belongs to the keyboard shown with outbound (the question or summary asked now)."""
    if press.action is None:
        return False
    if press.action in _SELECTION_ARGS:
        return _valid_selection(outbound, press)
    if press.action in (Action.WIPE, Action.KEEP):
        return outbound.kind is OutKind.SUMMARY and outbound.token is not None and press.args == (outbound.token,)
    return any(button.data == press.data for row in keyboard_for(outbound) for button in row)


def selection(press: Press) -> tuple[int, int | None]:
    """The mask and (for a toggle) the index of a press that `accepts` let through."""
    mask = int(press.args[1])
    return mask, int(press.args[2]) if press.action is Action.TOGGLE else None


def _valid_selection(outbound: Outbound, press: Press) -> bool:
    """A toggle or Klaar of this multi-select question, with a mask and index within its choices."""
    if press.action is None or not outbound.multi or outbound.token is None or len(press.args) != _SELECTION_ARGS[press.action]:
        return False
    if press.args[0] != outbound.token:
        return False
    count = len(outbound.choices)
    if _bounded(press.args[1], most=(1 << count) - 1) is None:
        return False
    return press.action is not Action.TOGGLE or _bounded(press.args[2], most=count - 1) is not None


def _bounded(text: str, *, most: int) -> int | None:
    """A number 0..most written in ASCII digits, else None; the length is checked before converting."""
    if not (0 < len(text) <= len(str(most)) and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= most else None


def data(action: Action, *args: object) -> str:
    """Callback data for an action; kept within Telegram's 64 bytes."""
    joined = SEPARATOR.join([action, *(str(a) for a in args)])
    if len(joined.encode()) > 64:
        raise ValueError(f"callback data too long: {joined!r}")
    return joined


def keyboard_for(outbound: Outbound) -> Keyboard:
    """The buttons that go with an engine message: choices, yes/no, back and skip, or the summary's."""
    token = outbound.token
    if token is None:
        return ()
    if outbound.kind is OutKind.SUMMARY:
        return summary_keyboard(token, len(outbound.choices))
    if outbound.kind is OutKind.ADVICE:
        return ((Button(label("start_from_advice"), data(Action.ADVICE, "start")),), (Button(label("ask_coordinator"), data(Action.ADVICE, "vraag")),))
    if outbound.kind is not OutKind.QUESTION:
        return ()
    if outbound.multi:
        return multi_keyboard(token, outbound.choices, selected=0, optional=outbound.optional)
    rows: list[tuple[Button, ...]] = [(Button(c.label, data(Action.CHOICE, token, n)),) for n, c in enumerate(outbound.choices, 1)]
    if not outbound.choices and outbound.question_type == "yes_no":
        rows.append((Button(label("yes"), data(Action.YES_NO, token, "ja")), Button(label("no"), data(Action.YES_NO, token, "nee"))))
    return (*rows, _navigation(token, outbound.optional))


def multi_keyboard(token: str, choices: tuple[Choice, ...], *, selected: int, optional: bool) -> Keyboard:
    """A multi-select keyboard: each choice toggles (✅), then "Klaar"; the selection travels in the data."""
    rows = [
        (Button(label("toggle", label=c.label, on=bool(selected >> n & 1)), data(Action.TOGGLE, token, selected, n)),)
        for n, c in enumerate(choices)
    ]
    return (*rows, (Button(label("done"), data(Action.DONE, token, selected)),), _navigation(token, optional))


def summary_keyboard(token: str, rows: int) -> Keyboard:
    """Confirm or cancel, and a button to correct each numbered answer of the summary."""
    edits = [Button(label("edit", number=n), data(Action.EDIT, token, n)) for n in range(1, rows + 1)]
    grid = [tuple(edits[i:i + _SUMMARY_EDITS_PER_ROW]) for i in range(0, len(edits), _SUMMARY_EDITS_PER_ROW)]
    return ((Button(label("confirm"), data(Action.CONFIRM, token)), Button(label("cancel"), data(Action.CANCEL, token))), *grid)


def wipe_keyboard(token: str) -> Keyboard:
    """The one question before a summary's answers are wiped: yes, wipe them, or no, go on."""
    return ((Button(label("wipe"), data(Action.WIPE, token)), Button(label("keep"), data(Action.KEEP, token))),)


def ask_keyboard(reference: str) -> Keyboard:
    """One button under a referral that needs the coordinator: ask them about it."""
    return ((Button(label("ask_coordinator"), data(Action.ASK, reference)),),)


def selected_numbers(mask: int, count: int) -> list[int]:
    """The 1-based numbers of the choices set in a multi-select mask."""
    return [n + 1 for n in range(count) if mask >> n & 1]


def _navigation(token: str, optional: bool) -> tuple[Button, ...]:
    back = Button(label("back"), data(Action.BACK, token))
    return (back, Button(label("skip"), data(Action.SKIP, token))) if optional else (back,)
