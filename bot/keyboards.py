"""Buttons for the engine's messages, and what a pressed button means; plain data, no Telegram types.

A button's data names where the conversation stood when it was shown (the engine's position token),
so a press under an older question is recognised as stale. Telegram allows 64 bytes of data.

Callback data comes from the client and can be forged: a press counts only when it is one of the
buttons of the message shown now (`accepts`); a multi-select mask or index only within that question's
choices. No number from the client is converted before its length is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.dialogue import Outbound, OutKind
from intake.questionnaire import Choice

SEPARATOR = "|"
MAX_DATA_BYTES = 64  # Telegram's limit for callback data
_SUMMARY_EDITS_PER_ROW = 6
_SELECTION_ARGS = {"t": 3, "d": 2}  # toggle: token, mask, index; done: token, mask
# The answers to "Alle antwoorden wissen?" under a summary: wipe (w) or keep going (n).
WIPE, KEEP = "w", "n"


@dataclass(frozen=True)
class Button:
    """One inline button: what it says and the data it sends back."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Press:
    """A pressed button, split into its action and arguments."""

    action: str
    args: tuple[str, ...]

    @classmethod
    def parse(cls, data: str) -> Press:
        """Split callback data; unknown or oversized data becomes an action nobody handles."""
        if len(data.encode()) > MAX_DATA_BYTES:
            return cls(action="", args=())
        action, *args = data.split(SEPARATOR)
        return cls(action=action, args=tuple(args))

    @property
    def data(self) -> str:
        """The callback data again, as sent."""
        return SEPARATOR.join([self.action, *self.args])


def accepts(outbound: Outbound, press: Press) -> bool:
    """Whether a press belongs to the keyboard shown with outbound (the question or summary asked now)."""
    if press.action in _SELECTION_ARGS:
        return _valid_selection(outbound, press)
    if press.action in (WIPE, KEEP):
        return outbound.kind is OutKind.SUMMARY and outbound.token is not None and press.args == (outbound.token,)
    return any(button.data == press.data for row in keyboard_for(outbound) for button in row)


def selection(press: Press) -> tuple[int, int | None]:
    """The mask and (for a toggle) the index of a press that `accepts` let through."""
    mask = int(press.args[1])
    return mask, int(press.args[2]) if press.action == "t" else None


def _valid_selection(outbound: Outbound, press: Press) -> bool:
    """A toggle or Klaar of this multi-select question, with a mask and index within its choices."""
    if not outbound.multi or outbound.token is None or len(press.args) != _SELECTION_ARGS[press.action]:
        return False
    if press.args[0] != outbound.token:
        return False
    count = len(outbound.choices)
    if _bounded(press.args[1], most=(1 << count) - 1) is None:
        return False
    return press.action != "t" or _bounded(press.args[2], most=count - 1) is not None


def _bounded(text: str, *, most: int) -> int | None:
    """A number 0..most written in ASCII digits, else None; the length is checked before converting."""
    if not (0 < len(text) <= len(str(most)) and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= most else None


def data(action: str, *args: object) -> str:
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
        return ((Button("📝 Aanmelding starten met deze antwoorden", data("a", "start")),), (Button("❓ Vraag aan de coördinator", data("a", "vraag")),))
    if outbound.kind is not OutKind.QUESTION:
        return ()
    if outbound.multi:
        return multi_keyboard(token, outbound.choices, selected=0, optional=outbound.optional)
    rows: list[tuple[Button, ...]] = [(Button(c.label, data("q", token, n)),) for n, c in enumerate(outbound.choices, 1)]
    if not outbound.choices and outbound.question_type == "yes_no":
        rows.append((Button("Ja", data("y", token, "ja")), Button("Nee", data("y", token, "nee"))))
    return (*rows, _navigation(token, outbound.optional))


def multi_keyboard(token: str, choices: tuple[Choice, ...], *, selected: int, optional: bool) -> Keyboard:
    """A multi-select keyboard: each choice toggles (✅), then "Klaar"; the selection travels in the data."""
    rows = [
        (Button(("✅ " if selected >> n & 1 else "▫️ ") + c.label, data("t", token, selected, n)),)
        for n, c in enumerate(choices)
    ]
    return (*rows, (Button("Klaar ✔️", data("d", token, selected)),), _navigation(token, optional))


def summary_keyboard(token: str, rows: int) -> Keyboard:
    """Confirm or cancel, and a button to correct each numbered answer of the summary."""
    edits = [Button(f"✏️ {n}", data("e", token, n)) for n in range(1, rows + 1)]
    grid = [tuple(edits[i:i + _SUMMARY_EDITS_PER_ROW]) for i in range(0, len(edits), _SUMMARY_EDITS_PER_ROW)]
    return ((Button("✅ Bevestigen", data("k", token)), Button("✖️ Annuleren", data("x", token))), *grid)


def wipe_keyboard(token: str) -> Keyboard:
    """The one question before a summary's answers are wiped: yes, wipe them, or no, go on."""
    return ((Button("Ja, wissen", data(WIPE, token)), Button("Nee, verder", data(KEEP, token))),)


def selected_numbers(mask: int, count: int) -> list[int]:
    """The 1-based numbers of the choices set in a multi-select mask."""
    return [n + 1 for n in range(count) if mask >> n & 1]


def _navigation(token: str, optional: bool) -> tuple[Button, ...]:
    back = Button("⬅️ Terug", data("b", token))
    return (back, Button("Overslaan ⏭️", data("o", token))) if optional else (back,)
