"""A real Dovecot IMAP server on loopback for tests (no pytest inside): start, add users, stop.

Facts from /work/shared/TESTING.md: an own base_dir/state_dir/instance_name so it never clashes with
a system Dovecot, plaintext logins without SSL on 127.0.0.1, mail users with uid 65534 (Dovecot
refuses uid 0), and every directory on the way to the passwd-files readable by the `dovecot` user.
With a certificate, the same server also speaks implicit TLS (imaps) and offers STARTTLS.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT_CANDIDATES = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
MAIL_UID = 65534  # nobody/nogroup: Dovecot refuses to run mail processes as root
START_TIMEOUT = 15.0

CONFIG_TEMPLATE = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = {instance}
log_path = /dev/stderr
{ssl}
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
verbose_proctitle = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


def dovecot_binary() -> str | None:
    """Path of the dovecot executable, or None when Dovecot is not installed."""
    for candidate in DOVECOT_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("dovecot")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DovecotServer:
    """A running Dovecot instance; one passwd-file per user, homes under its base dir."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    tls_port: int | None = None  # implicit TLS (imaps), when started with a certificate
    started_in: float = 0.0
    users: dict[str, str] = field(default_factory=dict)

    def add_user(self, name: str, password: str) -> None:
        """Add a mail user: its own passwd-file, so Dovecot loads it fresh at the first login."""
        # One file per user (%u in the passdb path) rather than one shared file: Dovecot re-reads
        # a changed passwd-file at most once a second, so a user added right after another
        # login could be refused.
        if "/" in name or name.startswith("."):
            raise ValueError(f"unusable user name for a file name: {name!r}")
        home = self.base / "home" / name
        home.mkdir(parents=True)
        if os.geteuid() == 0:
            os.chown(home, MAIL_UID, MAIL_UID)
        entry = self.base / "users" / name
        # Write then rename: Dovecot must never read a half-written file.
        staging = entry.with_name(f".{name}.new")
        staging.write_text(f"{name}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_UID}::{home}\n")
        staging.chmod(0o644)
        staging.replace(entry)
        self.users[name] = password

    def new_user(self, password: str = "geheim") -> tuple[str, str]:
        """A fresh user with a unique name: (username, password)."""
        name = f"u{uuid.uuid4().hex[:12]}@example.test"
        self.add_user(name, password)
        return name, password

    def drop_connections(self, name: str) -> int:
        """SIGKILL this server's imap processes of one user: a connection lost without a BYE."""
        sessions = self._sessions(name)
        for pid in sessions:
            os.kill(pid, signal.SIGKILL)
        return len(sessions)

    def idling(self, name: str) -> int:
        """How many imap sessions of one user are in IDLE right now: the event a test waits for, not a sleep."""
        return sum(title.rstrip("\0").endswith(" IDLE]") for title in self._sessions(name).values())

    def _sessions(self, name: str) -> dict[int, str]:
        """This server's imap processes of one user, by pid, with their process titles."""
        found = {}
        for pid in _children(self.process.pid):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
            except OSError:
                continue  # already gone
            # verbose_proctitle: "…/imap [user 127.0.0.1 IDLE]"
            if "/imap [" in title and f"[{name} " in title:
                found[pid] = title
        return found

    def log(self) -> str:
        """Dovecot's output and its log file, for failure messages."""
        paths = (self.base / "stderr.log",)
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def stop(self) -> None:
        """SIGTERM, wait for the master to exit (1-3 s), and remove the base dir."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _children(parent: int) -> list[int]:
    """Process ids whose parent is parent (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The name field may contain spaces: the parent pid is the 2nd field after ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _make_base() -> Path:
    """A base dir outside pytest's 0700 tmp dirs, traversable by the dovecot users."""
    base = Path(tempfile.mkdtemp(prefix="meldpunt-dovecot-", dir="/tmp"))
    base.chmod(0o755)  # mkdtemp makes 0700; the auth process (user dovecot) must reach users/
    (base / "home").mkdir(mode=0o755)
    (base / "users").mkdir(mode=0o755)
    return base


def _wait_for_greeting(server: DovecotServer, deadline: float) -> None:
    """Block until the server says `* OK` on its port; raise with the log if it dies or times out."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {server.process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as conn:
                if conn.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on port {server.port}:\n{server.log()}")


def start_dovecot(binary: str | None = None, *, tls: tuple[Path, Path] | None = None) -> DovecotServer:
    """Start a Dovecot on a free loopback port in a fresh base dir and wait until it greets.

    tls: (certificate, key) PEM files; then imaps listens on tls_port and the plain port offers
    STARTTLS (plaintext logins stay allowed, so a client that skips TLS is still noticed in tests).
    """
    binary = binary or dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd)")
    started = time.monotonic()
    base, port = _make_base(), free_port()
    tls_port = free_port() if tls else None
    # auth_verbose: every authentication attempt is logged, so a test can prove none was made.
    ssl_lines = f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\nauth_verbose = yes" if tls else "ssl = no"
    config = base / "dovecot.conf"
    config.write_text(CONFIG_TEMPLATE.format(
        base=base, instance=f"meldpunt-test-{base.name}", port=port, uid=MAIL_UID, ssl=ssl_lines,
        tls_port=tls_port or 0))
    # Every Dovecot process logs to this one file, opened for appending: a log_path file of its own
    # was opened by several processes at their own offsets, and lines overwrote each other.
    with open(base / "stderr.log", "ab") as stderr:
        process = subprocess.Popen([binary, "-F", "-c", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    server = DovecotServer(base=base, port=port, process=process, tls_port=tls_port)
    try:
        _wait_for_greeting(server, started + START_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    server.started_in = time.monotonic() - started
    return server


def require_dovecot() -> None:
    """Skip when Dovecot cannot run here; fail instead when CI is set, where these tests must run."""
    reason = None
    if dovecot_binary() is None:
        reason = "Dovecot is niet geïnstalleerd (apt-get install dovecot-imapd of bash scripts/test-deps)"
    elif os.geteuid() != 0:
        reason = "Dovecot-tests hebben root nodig (mailgebruikers met uid 65534, eigen dovecot-instantie)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (de CI-variabele staat aan: deze tests moeten lopen)", pytrace=False)
        pytest.skip(reason)
