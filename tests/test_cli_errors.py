"""`meldpunt` as a subprocess: a failure a person can fix is one Dutch sentence naming the setting, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EMAIL = "els@clb-halle.example"


def meldpunt(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one command and return what it printed."""
    return subprocess.run([sys.executable, "-m", "meldpunt", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60)


def refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The Dutch error of a failed command; it names each of words and shows no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "Fout: " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh folder, no database yet."""
    return {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_OUTBOX": "maildir", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def db_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A migrated test database (SQLite and PostgreSQL)."""
    return {**os.environ, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"),
            "MELDPUNT_OUTBOX": "maildir", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another program listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (PostgreSQL "down")."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- point 14: addresses and required fields ---

@pytest.mark.parametrize("address", ["", "els", "els@clb", "els @clb.be", "els@@clb.be", "els\x1b]0;x@clb.be", "els\u202e@clb.be"])
def test_staff_add_refuses_what_is_not_an_address(db_env: dict[str, str], address: str) -> None:
    refused(meldpunt(db_env, "staff", "add", address, "--name", "Els Janssens", "--clb", "Vrij CLB Halle"), "geen geldig e-mailadres")
    assert "@" not in meldpunt(db_env, "staff", "list").stdout, "nobody was registered"


@pytest.mark.parametrize(("name", "clb", "named"), [("", "Vrij CLB Halle", "--name"), ("Els Janssens", "  ", "--clb")])
def test_staff_add_refuses_an_empty_name_or_clb(db_env: dict[str, str], name: str, clb: str, named: str) -> None:
    refused(meldpunt(db_env, "staff", "add", EMAIL, "--name", name, "--clb", clb), named, "mag niet leeg zijn")


def test_chat_as_nobody_is_refused(db_env: dict[str, str]) -> None:
    refused(meldpunt(db_env, "chat", "--as", "", stdin="1\n"), "geen geldig e-mailadres")


# --- point 15: no traceback, the setting named ---

def test_an_unknown_log_level_names_the_setting(env: dict[str, str]) -> None:
    refused(meldpunt({**env, "MELDPUNT_LOG_LEVEL": "loud"}, "staff", "list"), "MELDPUNT_LOG_LEVEL", "loud")


def test_unreadable_dispatch_times_name_the_setting(env: dict[str, str]) -> None:
    refused(meldpunt({**env, "MELDPUNT_DISPATCH_TIMES": "woensdag negen uur"}, "staff", "list"), "MELDPUNT_DISPATCH_TIMES", "verzendmoment")


def test_a_number_setting_that_is_no_number_is_named(env: dict[str, str]) -> None:
    refused(meldpunt({**env, "MELDPUNT_WATCHDOG_MINUTES": "vijftien"}, "staff", "list"), "MELDPUNT_WATCHDOG_MINUTES", "geheel getal")


def test_a_malformed_database_url_names_the_setting(env: dict[str, str]) -> None:
    text = refused(meldpunt({**env, "MELDPUNT_DATABASE_URL": "postgres//meldpunt:geheim@db"}, "staff", "list"), "MELDPUNT_DATABASE_URL")
    assert "geheim" not in text


def test_postgresql_down_names_the_setting_not_the_password(env: dict[str, str]) -> None:
    url = f"postgresql+psycopg://meldpunt:geheim@127.0.0.1:{_closed_port()}/meldpunt"
    text = refused(meldpunt({**env, "MELDPUNT_DATABASE_URL": url}, "staff", "list"), "MELDPUNT_DATABASE_URL", "antwoordt niet")
    assert "geheim" not in text


@pytest.mark.postgresql
def test_a_database_missing_on_the_server_is_said(env: dict[str, str], postgres_server: object) -> None:
    url = postgres_server.url("bestaat_niet")  # type: ignore[attr-defined]
    refused(meldpunt({**env, "MELDPUNT_DATABASE_URL": url}, "staff", "list"), "MELDPUNT_DATABASE_URL", "bestaat niet")


def test_a_read_only_database_is_said(env: dict[str, str], tmp_path: Path) -> None:
    database = tmp_path / "meldpunt.db"
    assert meldpunt({**env, "MELDPUNT_DATABASE_URL": f"sqlite:///{database}"}, "db", "upgrade").returncode == 0
    read_only = {**env, "MELDPUNT_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"}
    refused(meldpunt(read_only, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle"),
            "alleen-lezen", "MELDPUNT_DATABASE_URL")


def test_an_invalid_catalogue_names_the_setting(db_env: dict[str, str], tmp_path: Path) -> None:
    catalogue = tmp_path / "aanbod.yaml"
    catalogue.write_text("organizations: []\nservices: niet-een-lijst\n", encoding="utf-8")
    refused(meldpunt({**db_env, "MELDPUNT_CATALOGUE_PATH": str(catalogue)}, "dispatch", "--dry-run"), "MELDPUNT_CATALOGUE_PATH")


def test_serve_on_a_port_in_use_names_the_setting(env: dict[str, str], busy_port: int) -> None:
    assert meldpunt(env, "db", "upgrade").returncode == 0
    refused(meldpunt({**env, "MELDPUNT_SMTP_LISTEN": f"127.0.0.1:{busy_port}"}, "serve"), "MELDPUNT_SMTP_LISTEN", str(busy_port))


# --- point 16: only `db upgrade` and `serve` make a database ---

@pytest.mark.parametrize("command", [["staff", "list"], ["referrals", "list"], ["review"], ["status"],
                                     ["staff", "add", EMAIL, "--name", "Els", "--clb", "CLB"]])
def test_a_command_on_a_mistyped_path_says_where_it_looked_and_creates_nothing(env: dict[str, str], tmp_path: Path, command: list[str]) -> None:
    mistyped = tmp_path / "vra"
    refused(meldpunt({**env, "MELDPUNT_VAR_DIR": str(mistyped)}, *command), str(mistyped / "meldpunt.db"), "MELDPUNT_VAR_DIR")
    assert not mistyped.exists()


def test_db_upgrade_creates_the_database_then_commands_use_it(env: dict[str, str], tmp_path: Path) -> None:
    assert meldpunt(env, "db", "upgrade").returncode == 0
    assert (tmp_path / "var" / "meldpunt.db").exists()
    assert meldpunt(env, "staff", "list").returncode == 0
