"""IMAP over TLS against a real Dovecot with a self-signed certificate: verified before LOGIN, or no LOGIN.

The certificate is made per test session with `openssl` and names only `localhost`: connecting to
`localhost` with it as MELDPUNT_IMAP_CA_FILE must work; without it, or to `127.0.0.1` (a host name
the certificate does not carry), the handshake must fail before the password leaves the process.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from mail.imap_poller import ImapConfig, ImapPoller, PollReport
from tests.child_process import without_our_settings
from tests.imap_server import DovecotServer, require_dovecot, start_dovecot
from tests.test_imap_poller import GUARD, _append, _clock, _mail, _stored
from tests.test_runners import until
from tests.tls_certs import Certificate, certificate_or_skip

ROOT = Path(__file__).resolve().parent.parent
LOG_WAIT = 60.0  # Dovecot writes its log through a separate process: wait for a line, never assume it


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for `localhost`, made once per session."""
    return certificate_or_skip(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot_tls(certificate: Certificate) -> Iterator[DovecotServer]:
    """A real Dovecot speaking imaps and STARTTLS with the self-signed certificate."""
    require_dovecot()
    server = start_dovecot(tls=(certificate.cert, certificate.key))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls_config(dovecot_tls: DovecotServer) -> ImapConfig:
    """Implicit TLS to `localhost` for a fresh user, trusting only the system's CAs (the default)."""
    username, password = dovecot_tls.new_user("tls-geheim")
    assert dovecot_tls.tls_port is not None
    return ImapConfig(host="localhost", port=dovecot_tls.tls_port, username=username,
                      password=SecretStr(password), ssl=True, idle_seconds=30, timeout_seconds=10)


def _plain(config: ImapConfig, server: DovecotServer) -> ImapConfig:
    """The same user over plain IMAP on loopback, to put mail in as the mail server would."""
    return config.model_copy(update={"host": "127.0.0.1", "port": server.port, "ssl": False, "starttls": False})


def _handshakes_refused(server: DovecotServer) -> int:
    """How many connections Dovecot saw end in a failed TLS handshake (so without any login attempt)."""
    # "no auth attempts" or, right after start, "disconnected before auth was ready": both user=<>.
    return sum(1 for line in server.log().splitlines() if "TLS handshaking" in line and "user=<>" in line)


def _login_attempts(server: DovecotServer, username: str) -> int:
    """Login attempts Dovecot saw for the user: each success or failure is one imap-login line."""
    return sum(1 for line in server.log().splitlines() if "imap-login:" in line and f"user=<{username}>" in line)


def _wait_for(server: DovecotServer, condition: Callable[[], bool]) -> None:
    """Block until condition holds on Dovecot's log (its log process writes a little later)."""
    deadline = time.monotonic() + LOG_WAIT
    while not condition():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.02)


def test_a_self_signed_certificate_is_refused_before_login(
    dovecot_tls: DovecotServer, tls_config: ImapConfig, session_factory: sessionmaker[Session]
) -> None:
    """No CA file: the handshake fails, Dovecot sees no authentication attempt, nothing is stored."""
    _append(_plain(tls_config, dovecot_tls), _mail(1))  # one plaintext login on loopback, logged
    user = tls_config.username
    _wait_for(dovecot_tls, lambda: _login_attempts(dovecot_tls, user) == 1)
    before = _handshakes_refused(dovecot_tls)

    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed"):
        ImapPoller(tls_config, session_factory, clock=_clock).poll_once()

    _wait_for(dovecot_tls, lambda: _handshakes_refused(dovecot_tls) == before + 1)
    assert _login_attempts(dovecot_tls, user) == 1, "only the plaintext APPEND logged in: no LOGIN over TLS"
    assert _stored(session_factory) == []


def test_the_private_ca_file_is_trusted(
    dovecot_tls: DovecotServer, tls_config: ImapConfig, certificate: Certificate,
    session_factory: sessionmaker[Session],
) -> None:
    """MELDPUNT_IMAP_CA_FILE pointing at the server's certificate: logged in over TLS, mail stored."""
    _append(_plain(tls_config, dovecot_tls), _mail(1))
    config = tls_config.model_copy(update={"ca_file": certificate.cert})

    assert ImapPoller(config, session_factory, clock=_clock).poll_once() == PollReport(fetched=1, stored=1)
    assert [row.message_id for row in _stored(session_factory)] == ["aanmelding-1@school.test"]
    assert any(f"Login: user=<{config.username}>" in line and ", TLS," in line
               for line in dovecot_tls.log().splitlines())


def test_the_host_name_is_checked_even_with_a_trusted_certificate(
    dovecot_tls: DovecotServer, tls_config: ImapConfig, certificate: Certificate,
    session_factory: sessionmaker[Session],
) -> None:
    """A trusted certificate for `localhost` does not do for `127.0.0.1`: refused, no login."""
    config = tls_config.model_copy(update={"ca_file": certificate.cert, "host": "127.0.0.1"})
    before = _handshakes_refused(dovecot_tls)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        ImapPoller(config, session_factory, clock=_clock).poll_once()
    _wait_for(dovecot_tls, lambda: _handshakes_refused(dovecot_tls) == before + 1)
    assert _login_attempts(dovecot_tls, config.username) == 0


def test_starttls_verifies_the_certificate_too(
    dovecot_tls: DovecotServer, tls_config: ImapConfig, certificate: Certificate,
    session_factory: sessionmaker[Session],
) -> None:
    """STARTTLS on the plain port: refused without the CA file, works with it."""
    _append(_plain(tls_config, dovecot_tls), _mail(1))
    config = tls_config.model_copy(update={"ssl": False, "starttls": True, "port": dovecot_tls.port})
    _wait_for(dovecot_tls, lambda: _login_attempts(dovecot_tls, config.username) == 1)
    before = _handshakes_refused(dovecot_tls)
    with pytest.raises(ssl.SSLCertVerificationError):
        ImapPoller(config, session_factory, clock=_clock).poll_once()
    _wait_for(dovecot_tls, lambda: _handshakes_refused(dovecot_tls) == before + 1)
    assert _login_attempts(dovecot_tls, config.username) == 1

    trusted = config.model_copy(update={"ca_file": certificate.cert})
    assert ImapPoller(trusted, session_factory, clock=_clock).poll_once().stored == 1


async def test_a_failed_verification_is_one_dutch_line_per_try_and_retried_with_backoff(
    dovecot_tls: DovecotServer, tls_config: ImapConfig, session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """run() keeps going: each failure is one Dutch warning without traceback, retried after 1 s, 2 s."""
    caplog.set_level(logging.DEBUG, logger="mail.imap_poller")
    stop = asyncio.Event()
    task = asyncio.create_task(ImapPoller(tls_config, session_factory, clock=_clock).run(stop))

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "mail.imap_poller"]

    await until(lambda: len(failures()) >= 2, timeout=GUARD, what="two failures")  # the second after the 1 s backoff
    stop.set()
    await asyncio.wait_for(task, timeout=GUARD)

    first, second = failures()[:2]
    for record in (first, second):
        text = record.getMessage()
        assert record.levelno == logging.WARNING and record.exc_info is None and "\n" not in text
        assert "certificaat van de IMAP-server is niet te vertrouwen (self-signed certificate)" in text
        assert "MELDPUNT_IMAP_CA_FILE" in text
        assert tls_config.username not in text and "tls-geheim" not in text
    assert "opnieuw over 1 s" in first.getMessage() and "opnieuw over 2 s" in second.getMessage()


def test_plaintext_imap_only_to_this_machine() -> None:
    """Without TLS only a loopback host is allowed; the reason is Dutch and names the settings."""
    remote = ImapConfig(host="imap.meldpunt.example", port=143, username="u", password=SecretStr("p"), ssl=False)
    refusal = remote.refusal()
    assert refusal is not None and "zonder TLS" in refusal and "MELDPUNT_IMAP_SSL=true" in refusal
    assert remote.model_copy(update={"starttls": True}).refusal() is None
    assert remote.model_copy(update={"host": "127.0.0.1"}).refusal() is None
    assert remote.model_copy(update={"host": "localhost"}).refusal() is None


def test_serve_refuses_to_start_with_plaintext_imap_to_another_host(tmp_path: Path) -> None:
    """`meldpunt serve` stops at once with the Dutch reason; it never tries to reach the server."""
    env = without_our_settings()
    env.update({
        "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_SMTP_LISTEN": "", "MELDPUNT_OUTBOX": "maildir",
        "MELDPUNT_IMAP_HOST": "imap.meldpunt.example", "MELDPUNT_IMAP_PORT": "143", "MELDPUNT_IMAP_SSL": "false",
        "MELDPUNT_IMAP_USERNAME": "meldpunt@meldpunt.example", "MELDPUNT_IMAP_PASSWORD": "geheim",
    })
    result = subprocess.run([sys.executable, "-m", "meldpunt", "serve"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "IMAP zonder TLS naar imap.meldpunt.example weigert de dienst" in result.stderr
    assert "geheim" not in result.stdout + result.stderr


def test_an_unreadable_ca_file_is_refused_in_dutch(tmp_path: Path) -> None:
    """A CA file that is missing or no certificate is a configuration error, said in Dutch."""
    config = ImapConfig(host="imap.meldpunt.example", username="u", password=SecretStr("p"),
                        ca_file=tmp_path / "ontbreekt.pem")
    assert "bestaat niet of is niet leesbaar" in (config.refusal() or "")
    garbage = tmp_path / "rommel.pem"
    garbage.write_text("geen certificaat\n")
    assert "geen bruikbaar CA-certificaat" in (config.model_copy(update={"ca_file": garbage}).refusal() or "")
