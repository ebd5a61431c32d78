"""The chat's buttons and menus as data: callback letters that never change, presses parsed, menus from templates."""

from __future__ import annotations

import pytest

from bot.chat import command_menu
from bot.keyboards import MAX_DATA_BYTES, Action, Press, label

# Old messages keep their buttons for months: a letter that changed would make their presses mean something else.
LETTERS = {
    Action.CHOICE: "q", Action.YES_NO: "y", Action.TOGGLE: "t", Action.DONE: "d", Action.SKIP: "o", Action.BACK: "b",
    Action.CONFIRM: "k", Action.EDIT: "e", Action.CANCEL: "x", Action.WIPE: "w", Action.KEEP: "n", Action.ADVICE: "a",
    Action.ASK: "v", Action.CATALOGUE: "c", Action.SURVEY: "s",
}


def test_every_button_letter_stays_what_old_messages_carry() -> None:
    assert {action: action.value for action in Action} == LETTERS


@pytest.mark.parametrize(("data", "action", "args"), [
    ("q|school_level|2", Action.CHOICE, ("school_level", "2")),
    ("t|problem_areas|5|0", Action.TOGGLE, ("problem_areas", "5", "0")),
    ("c", Action.CATALOGUE, ()),
    ("v|MSI-2026-0001", Action.ASK, ("MSI-2026-0001",)),
    ("zz|1", None, ("1",)),  # no button of ours
    ("", None, ()),
    ("q|" + "9" * MAX_DATA_BYTES, None, ()),  # more than Telegram carries: forged
])
def test_a_press_is_parsed_into_a_known_action_or_none(data: str, action: Action | None, args: tuple[str, ...]) -> None:
    press = Press.parse(data)
    assert (press.action, press.args) == (action, args)


def test_the_command_menus_come_from_the_template() -> None:
    staff = dict(command_menu("staff_menu"))
    assert list(staff)[:5] == ["aanmelden", "advies", "aanbod", "vraag", "status"] and {"ontkoppel", "help", "start"} <= set(staff)
    assert staff["vraag"] == "Een vraag aan de coördinator" and all(staff.values())
    assert [name for name, _ in command_menu("coordinator_menu")] == ["vandaag", "vragen", "antwoord", "nakijken", "beslis", "verzending", "week", "help"]


def test_button_labels_come_from_the_template() -> None:
    assert (label("yes"), label("confirm"), label("edit", number=3)) == ("Ja", "✅ Bevestigen", "✏️ 3")
    assert label("toggle", label="Spijbelen", on=True) == "✅ Spijbelen" and label("toggle", label="Spijbelen", on=False) == "▫️ Spijbelen"
