"""What `meldpunt serve` and the CLI check and set at start, as subprocesses: one serve per SQLite database,
private files, warnings about readable ones, and who may send mail to an intake that listens beyond loopback."""

from __future__ import annotations

import os
import smtplib
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.test_mail_crash import ADDRESS, Service, free_port

TRIAL_NOTICE = "Afzenders worden niet gecontroleerd (proefinstallatie)"


class Configured(Service):
    """The crash test's service with extra settings."""

    def __init__(self, var_dir: Path, port: int, **settings: str) -> None:
        """Remember the extra MELDPUNT_* settings."""
        super().__init__(var_dir, port)
        self.settings = settings

    def environment(self) -> dict[str, str]:
        """The service's environment plus the extra settings (which may replace the listen address)."""
        return {**super().environment(), "MELDPUNT_OUTBOX": "maildir", **self.settings}

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Another `meldpunt` command on the same installation, to its end."""
        return subprocess.run([sys.executable, "-m", "meldpunt", *args], env=self.environment(), cwd=self.var_dir.parent,
                              capture_output=True, text=True, timeout=timeout, check=False)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the children with this umask (the usual 022 of a login), whatever the test runner's is."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    """A var folder meldpunt itself must create (not made here, so its mode is meldpunt's)."""
    return tmp_path / "var"


def modes(folder: Path) -> dict[str, str]:
    """The mode of every file and folder under folder (and of folder), octal, by relative path."""
    found = {".": f"{stat.S_IMODE(folder.stat().st_mode):04o}"}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = f"{stat.S_IMODE(path.stat().st_mode):04o}"
    return found


def wait_for(condition: object, *, timeout: float = 60.0, what: str = "") -> None:
    """Wait (bounded) until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def test_a_second_serve_on_one_sqlite_database_refuses_naming_the_first_and_a_killed_one_blocks_nothing(var_dir: Path) -> None:
    first = Configured(var_dir, free_port())
    try:
        first.start()
        assert any(TRIAL_NOTICE in line for line in first.output), "on loopback without authserv-id: a trial install, said at start"
        assert first.process is not None
        second = Configured(var_dir, free_port()).run("serve", timeout=120)
        assert second.returncode != 0
        assert f"Meldpunt draait al op deze databank (proces {first.process.pid}," in second.stderr
        assert (var_dir / "meldpunt.lock").read_text().strip() == str(first.process.pid)
        first.kill()  # SIGKILL: no cleanup, the lock file stays behind
        assert (var_dir / "meldpunt.lock").exists()
        third = Configured(var_dir, free_port())
        try:
            third.start()  # the kernel released the dead process's lock: the stale file blocks nothing
        finally:
            third.stop()
    finally:
        first.stop()


def a_mail() -> bytes:
    """A parent's question: the reply goes to var/maildir."""
    message = EmailMessage()
    message["From"] = "ouder@ouders.example"
    message["To"] = ADDRESS
    message["Subject"] = "Vraag"
    message["Message-ID"] = "<vraag-1@ouders.example>"
    message.set_content("Dag, kunnen jullie helpen?\n")
    return message.as_bytes()


def test_the_database_its_wal_var_the_maildir_and_the_lock_are_private(var_dir: Path) -> None:
    # A fresh install as a newcomer has it: no key configured (blank is unset), so the first start makes the key file.
    service = Configured(var_dir, free_port(), MELDPUNT_ENCRYPTION_KEY="", MELDPUNT_RAPPORT_SLEUTEL="")
    with umask(0o022):
        assert service.run("db", "upgrade").returncode == 0  # only `db upgrade` and `serve` make a database
        added = service.run("staff", "add", "els@clb.example", "--name", "Els", "--clb", "CLB")
        assert added.returncode == 0, added.stderr
        # The key: issue 14; the figures' secret (pupil key, sealed school names): issue 15.
        assert modes(var_dir) == {".": "0700", "meldpunt.db": "0600", "meldpunt.key": "0600", "rapport.key": "0600"}
        try:
            service.start()
            with smtplib.SMTP("127.0.0.1", service.port, timeout=30) as client:
                client.sendmail("ouder@ouders.example", [ADDRESS], a_mail())
            new = var_dir / "maildir" / "new"
            wait_for(lambda: new.exists() and any(new.iterdir()), what="the reply in the Maildir")
            seen = modes(var_dir)  # while serve runs: the WAL and its shared memory exist
        finally:
            service.stop()
    assert {"meldpunt.db-wal", "meldpunt.db-shm", "meldpunt.lock", "maildir/new"} <= set(seen)
    assert {path: mode for path, mode in seen.items() if mode not in {"0600", "0700"}} == {}
    assert all(mode == "0700" for path, mode in seen.items() if (var_dir / path).is_dir())


def test_every_command_warns_when_the_settings_file_or_the_database_is_readable_by_others(var_dir: Path, tmp_path: Path) -> None:
    service = Configured(var_dir, free_port())
    assert service.run("db", "upgrade").returncode == 0
    quiet = service.run("staff", "list")
    assert "leesbaar voor andere gebruikers" not in quiet.stderr
    (tmp_path / "meldpunt.env").write_text("MELDPUNT_AUTO_REPLY_LIMIT=10\n", encoding="utf-8")
    (tmp_path / "meldpunt.env").chmod(0o644)
    (var_dir / "meldpunt.db").chmod(0o644)
    warned = service.run("staff", "list")
    assert warned.returncode == 0
    lines = [line for line in warned.stderr.splitlines() if "leesbaar voor andere gebruikers" in line]
    assert len(lines) == 2, warned.stderr
    assert "meldpunt.env is leesbaar voor andere gebruikers van deze machine (rechten 0644)" in lines[0]
    assert f"{var_dir / 'meldpunt.db'} is leesbaar" in lines[1] and "chmod 600" in lines[1]


def test_serve_refuses_to_listen_beyond_loopback_without_authenticated_senders(var_dir: Path) -> None:
    port = free_port()
    refused = Configured(var_dir, port, MELDPUNT_SMTP_LISTEN=f"0.0.0.0:{port}").run("serve", timeout=120)
    assert refused.returncode != 0
    assert "Meldpunt start niet: de SMTP-ontvanger zou luisteren op 0.0.0.0:" in refused.stderr
    assert "MELDPUNT_TRUSTED_AUTHSERV_ID" in refused.stderr and "MELDPUNT_ALLOW_UNAUTHENTICATED=true" in refused.stderr
    assert not (var_dir / "meldpunt.db").exists(), "refused before anything was created or listened"


def test_serve_beyond_loopback_starts_when_unauthenticated_senders_are_allowed_and_says_so(var_dir: Path) -> None:
    port = free_port()
    service = Configured(var_dir, port, MELDPUNT_SMTP_LISTEN=f"0.0.0.0:{port}", MELDPUNT_ALLOW_UNAUTHENTICATED="true")
    try:
        service.start()
    finally:
        service.stop()
    warnings = [line for line in service.output if " WARNING " in line and "Afzenders worden NIET gecontroleerd" in line]
    assert len(warnings) == 1 and "MELDPUNT_ALLOW_UNAUTHENTICATED=true" in warnings[0]


def test_serve_with_a_trusted_authserv_id_listens_beyond_loopback_without_a_notice(var_dir: Path) -> None:
    port = free_port()
    service = Configured(var_dir, port, MELDPUNT_SMTP_LISTEN=f"0.0.0.0:{port}", MELDPUNT_TRUSTED_AUTHSERV_ID="mx.meldpunt.example")
    try:
        service.start()
    finally:
        service.stop()
    assert not any("gecontroleerd" in line for line in service.output)


