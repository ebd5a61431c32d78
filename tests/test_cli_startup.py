"""A command loads only what it uses: `meldpunt --help` and the read commands must not load Telegram, mail or Alembic.

Not timed (bench/cli_startup.py measures): the modules a fresh interpreter holds afterwards are counted instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_workflow import FULL

EMAIL = "els@clb-halle.example"

HEAVY = ("telegram", "alembic", "aiosmtpd", "aiosmtplib", "imap_tools", "flufl", "mail", "bot")

PROBE = """
import json, sys
from meldpunt.cli import main
args = json.loads(sys.argv[1])
if args:
    try:
        main(args, standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after importing meldpunt.cli and running args."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], env=env or dict(os.environ),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def loaded_after(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing meldpunt.cli and running args."""
    return {name.split(".")[0] for name in modules_after(*args, env=env)}


def test_importing_the_command_line_loads_nothing_heavy() -> None:
    loaded = loaded_after()
    assert not loaded & {*HEAVY, "sqlalchemy", "pydantic", "jinja2"}, loaded & {*HEAVY, "sqlalchemy", "pydantic", "jinja2"}


def test_help_loads_nothing_heavy() -> None:
    loaded = loaded_after("--help")
    assert not loaded & {*HEAVY, "sqlalchemy"}, loaded & {*HEAVY, "sqlalchemy"}


def test_read_commands_do_not_load_telegram_or_the_mail_stack(tmp_path: Path) -> None:
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var")}
    assert subprocess.run([sys.executable, "-m", "meldpunt", "db", "upgrade"], env=env, capture_output=True, timeout=60).returncode == 0
    for command in (["referrals", "list"], ["staff", "list"], ["review", "list"]):
        loaded = loaded_after(*command, env=env)
        assert not loaded & {"telegram", "aiosmtpd", "aiosmtplib", "imap_tools", "flufl", "bot"}, (command, loaded)


# What only a change, a decision or a report needs: the read commands answer without loading it.
WRITE_SIDE = ("store.figures", "store.figure_models", "desk.decisions", "desk.agenda_lines", "desk.catalogue_changes",
              "intake.catalogue", "store.outbox", "sqlalchemy.dialects.postgresql")


def test_read_commands_on_a_referral_load_no_decision_figures_or_catalogue_code(tmp_path: Path) -> None:
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_OUTBOX": "maildir"}
    for setup in (["db", "upgrade"], ["staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle"]):
        assert subprocess.run([sys.executable, "-m", "meldpunt", *setup], env=env, capture_output=True, timeout=60).returncode == 0
    chat = subprocess.run([sys.executable, "-m", "meldpunt", "chat", "--as", EMAIL], input="\n".join(FULL) + "\n", env=env,
                          capture_output=True, text=True, timeout=120)
    assert "MSI-2026-0001" in chat.stdout, chat.stderr
    for command in (["referrals", "list"], ["referrals", "show", "MSI-2026-0001"], ["review", "list"]):
        loaded = modules_after(*command, env=env)
        assert not loaded.intersection(WRITE_SIDE), (command, sorted(loaded.intersection(WRITE_SIDE)))
