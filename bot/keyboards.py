"""Buttons for the engine's messages, and what a pressed button means; plain data, no Telegram types.

A button's data names where the conversation stood when it was shown (the engine's position token),
so a press under an older question is recognised as stale. Telegram allows 64 bytes of data.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.dialogue import Outbound, OutKind
from intake.questionnaire import Choice

SEPARATOR = "|"
_SUMMARY_EDITS_PER_ROW = 6


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
        """Split callback data; unknown data becomes an action nobody handles."""
        action, *args = data.split(SEPARATOR)
        return cls(action=action, args=tuple(args))


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


def selected_numbers(mask: int, count: int) -> list[int]:
    """The 1-based numbers of the choices set in a multi-select mask."""
    return [n + 1 for n in range(count) if mask >> n & 1]


def _navigation(token: str, optional: bool) -> tuple[Button, ...]:
    back = Button("⬅️ Terug", data("b", token))
    return (back, Button("Overslaan ⏭️", data("o", token))) if optional else (back,)
