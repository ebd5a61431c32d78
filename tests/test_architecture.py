"""The rooms of the house and their one-way arrows (README "Architecture"), read from every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Which of our packages each room may import (besides itself). The core imports nothing of ours.
ALLOWED: dict[str, frozenset[str]] = {
    "intake": frozenset(),
    "store": frozenset({"intake"}),
    "desk": frozenset({"intake", "store"}),
    "bot": frozenset({"desk", "intake", "store"}),
    "mail": frozenset({"desk", "intake", "store"}),
    "meldpunt": frozenset({"desk", "intake", "store", "bot", "mail"}),
}
OURS = frozenset(ALLOWED)
# The store keeps and finds; words a person reads are rendered by the use cases and the channels.
RENDERING = ("jinja2", "intake.texts")


def imported_modules(path: Path) -> set[str]:
    """Every module path imports, also inside functions and under TYPE_CHECKING (a type is an arrow too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_of(room: str) -> list[Path]:
    """The Python files of one room."""
    return sorted((ROOT / room).rglob("*.py"))


def arrows_against_the_rules(room: str, paths: list[Path]) -> list[str]:
    """'file → module' for each import of ours that a module of room may not make."""
    wrong = []
    for path in paths:
        for name in sorted(imported_modules(path)):
            target = name.split(".")[0]
            if target in OURS and target != room and target not in ALLOWED[room]:
                wrong.append(f"{path.name} → {name}")
    return wrong


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_the_rooms_below_it(room: str) -> None:
    assert modules_of(room), f"{room}/ has modules"
    assert arrows_against_the_rules(room, modules_of(room)) == []


def test_the_store_renders_nothing() -> None:
    rendering = [
        f"{path.relative_to(ROOT)} → {name}"
        for path in modules_of("store")
        for name in sorted(imported_modules(path))
        if name.startswith(RENDERING)
    ]
    assert rendering == []


def test_the_check_sees_an_arrow_the_wrong_way_even_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "replies.py"
    module.write_text("import desk.workflow\n\ndef later() -> None:\n    from bot import desk as chat\n    import meldpunt.cli\n", "utf-8")
    assert arrows_against_the_rules("mail", [module]) == ["replies.py → bot", "replies.py → bot.desk", "replies.py → meldpunt.cli"]
    assert "replies.py → desk.workflow" in arrows_against_the_rules("store", [module])
    assert arrows_against_the_rules("meldpunt", [module]) == []


# Small modules and functions (issue 13); a shipped migration is history and is never edited.
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 50
FROZEN = ROOT / "store" / "migrations" / "versions"


def too_long(path: Path) -> list[str]:
    """'file (lines)' when path is over MAX_FILE_LINES, and 'file:function (lines)' for each function over MAX_FUNCTION_LINES."""
    source = path.read_text("utf-8")
    found = [f"{path.name} ({source.count(chr(10))})"] if source.count("\n") > MAX_FILE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (length := (node.end_lineno or 0) - node.lineno + 1) > MAX_FUNCTION_LINES:
            found.append(f"{path.name}:{node.name} ({length})")
    return found


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_modules_and_functions_stay_small(room: str) -> None:
    assert [entry for path in modules_of(room) if not path.is_relative_to(FROZEN) for entry in too_long(path)] == []


def test_the_size_check_sees_a_long_function(tmp_path: Path) -> None:
    module = tmp_path / "long.py"
    module.write_text("def long() -> None:\n" + "    pass\n" * 50, "utf-8")
    assert too_long(module) == ["long.py:long (51)"]
