"""What `meldpunt` prints is Dutch, click's own words included; Ctrl-C in the chat says the answers are kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from meldpunt.cli import main

# Click's English, and English placeholders click makes from types and parameter names.
ENGLISH = re.compile(r"Usage:|Options:|Commands:|Error:|Aborted!|\[required\]|Show this message|Missing (option|argument)|"
                     r"Try '|\b(TEXT|INTEGER|PATH|NUMBER|REFERENCE|SERVICE|EMAIL|LINES|COMMAND|ARGS|OPTIONS)\b")


def _all_commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under group, lazy commands included."""
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _all_commands(command, ctx, (*path, name))
    return found


def test_every_help_text_is_dutch_and_no_description_is_cut() -> None:
    runner = CliRunner()
    paths = _all_commands(main, click.Context(main))
    assert ("review", "approve") in paths and ("catalogue", "reject") in paths
    for path in [(), *paths]:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert not ENGLISH.search(result.output), (path, ENGLISH.search(result.output), result.output)
        assert "Gebruik:" in result.output and "Opties:" in result.output
        listed = result.output.partition("Opdrachten:")[2]
        assert not any(line.rstrip().endswith("...") for line in listed.splitlines()), (path, result.output)


def test_the_review_list_shows_each_description_whole() -> None:
    output = CliRunner().invoke(main, ["review", "--help"]).output
    words = " ".join(output.split())
    assert "Toon de aanmeldingen die op de coördinator wachten, de dringendste eerst (zonder namen van leerlingen)." in words
    assert "Noteer wat een aanbieder meldde (bv. telefonisch): \"MSI-2026-0042: gestart\", één regel per argument." in words


def test_main_help_says_where_the_database_is() -> None:
    output = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "var/meldpunt.db" in output and "MELDPUNT_VAR_DIR" in output and "MELDPUNT_DATABASE_URL" in output


def test_click_errors_are_dutch(tmp_path: Path) -> None:
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var")}
    for args in (["staff", "add", "els@clb.be"], ["questions", "answer", "drie", "ja"], ["bestaat-niet"], ["staff", "list", "--alles"]):
        result = subprocess.run([sys.executable, "-m", "meldpunt", *args], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert "Fout:" in result.stderr and "Gebruik:" in result.stderr, result.stderr
        assert not ENGLISH.search(result.stderr), result.stderr


@pytest.fixture
def chat_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A registered staff member on the test database (SQLite and PostgreSQL)."""
    env = {**os.environ, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    added = subprocess.run([sys.executable, "-m", "meldpunt", "staff", "add", "els@clb-halle.example", "--name", "Els Janssens",
                            "--clb", "Vrij CLB Halle"], env=env, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    return env


def test_ctrl_c_in_the_chat_says_the_answers_are_kept(chat_env: dict[str, str]) -> None:
    # As in a terminal, Ctrl-C must reach the chat: a test run started in the background (`nohup … &`) hands
    # its children SIGINT ignored, and Python then installs no handler for it.
    process = subprocess.Popen([sys.executable, "-m", "meldpunt", "chat", "--as", "els@clb-halle.example"], env=chat_env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout is not None and process.stdin is not None
    shown = ""
    while "?" not in shown:  # the first question is on screen: the chat now waits for the keyboard
        line = process.stdout.readline()
        assert line, "the chat ended before its first question"
        shown += line
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr and "Aborted" not in stderr, stderr
    assert "bewaard" in stderr and "meldpunt chat --as els@clb-halle.example" in stderr, stderr
