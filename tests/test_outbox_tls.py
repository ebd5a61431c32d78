"""The relay over TLS with a self-signed certificate, and where the settings send mail.

An aiosmtpd relay on loopback presents a certificate made with `openssl` for `localhost` only, by
STARTTLS (required by the relay) or implicit TLS (as on port 465). Without MELDPUNT_SMTP_CA_FILE
the handshake fails and the mail waits for a retry; with it the mail goes out; a host name the
certificate does not carry (127.0.0.1) fails even with the CA file.
"""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy.orm import Session, sessionmaker

from mail.outbox import Destination, DrainReport, OutboxConfig, OutboxRunner
from meldpunt.app import App
from meldpunt.settings import Settings
from store.mail_models import OutboxStatus
from tests.mail_harness import Clock
from tests.test_mail_crash import Service, free_port
from tests.test_outbox import NOW, Sink, _config, _enqueue, _row
from tests.tls_certs import Certificate, certificate_or_skip

SERVE_WAIT = 30.0


class TlsSink(Sink):
    """The test sink, also noting whether each accepted mail came over TLS."""

    def __init__(self) -> None:
        """Start empty."""
        super().__init__()
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the mail and whether the session was encrypted."""
        self.encrypted.append(session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for `localhost`."""
    return certificate_or_skip(tmp_path_factory.mktemp("relay-tls"))


@asynccontextmanager
async def relay(certificate: Certificate, *, implicit: bool) -> AsyncIterator[tuple[TlsSink, int]]:
    """A relay on 127.0.0.1: STARTTLS required, or TLS from the first byte (implicit)."""
    sink, context = TlsSink(), certificate.server_context()
    loop = asyncio.get_running_loop()
    if implicit:
        server = await loop.create_server(lambda: SMTP(sink, hostname="localhost"), "127.0.0.1", 0, ssl=context)
    else:
        server = await loop.create_server(
            lambda: SMTP(sink, hostname="localhost", tls_context=context, require_starttls=True), "127.0.0.1", 0)
    try:
        yield sink, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def _relay_config(tmp_path: Path, port: int, **changes: Any) -> OutboxConfig:
    """The outbox towards the loopback relay by name, STARTTLS on, no Maildir."""
    return _config(tmp_path, port, relay_host="localhost", maildir=None, **changes)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])
async def test_a_self_signed_relay_is_refused_without_the_ca_file_and_used_with_it(
    session_factory: sessionmaker[Session], tmp_path: Path, certificate: Certificate, implicit: bool
) -> None:
    """Without MELDPUNT_SMTP_CA_FILE: no mail reaches the relay, the row waits for a retry; with it: sent."""
    row = _enqueue(session_factory)
    async with relay(certificate, implicit=implicit) as (sink, port):
        config = _relay_config(tmp_path, port, implicit_tls=implicit)
        assert await OutboxRunner(session_factory, config, clock=Clock(NOW)).drain() == DrainReport(retried=1)
        assert sink.received == []
        waiting = _row(session_factory, row.id)
        assert waiting.status is OutboxStatus.RETRY and "CERTIFICATE_VERIFY_FAILED" in (waiting.last_error or "")

        trusted = config.model_copy(update={"ca_file": certificate.cert})
        later = Clock(waiting.next_attempt_at)
        assert await OutboxRunner(session_factory, trusted, clock=later).drain() == DrainReport(sent=1)
    assert sink.encrypted == [True]
    assert _row(session_factory, row.id).status is OutboxStatus.SENT


async def test_the_relay_host_name_is_checked_even_with_the_ca_file(
    session_factory: sessionmaker[Session], tmp_path: Path, certificate: Certificate
) -> None:
    """The certificate names `localhost`; the relay configured as 127.0.0.1 does not match: nothing sent."""
    row = _enqueue(session_factory)
    async with relay(certificate, implicit=False) as (sink, port):
        config = _relay_config(tmp_path, port, ca_file=certificate.cert).model_copy(update={"relay_host": "127.0.0.1"})
        assert await OutboxRunner(session_factory, config, clock=Clock(NOW)).drain() == DrainReport(retried=1)
    assert sink.received == []
    assert "IP address mismatch" in (_row(session_factory, row.id).last_error or "")


def test_plaintext_only_to_a_relay_on_this_machine(tmp_path: Path) -> None:
    """No STARTTLS to a remote relay is refused; implicit TLS or a loopback relay is fine."""
    remote = _config(tmp_path, 25, relay_host="smtp.provider.example", starttls=False)
    assert "STARTTLS staat uit" in (remote.refusal() or "")
    assert remote.model_copy(update={"implicit_tls": True}).refusal() is None
    assert remote.model_copy(update={"relay_host": "localhost"}).refusal() is None
    unreadable = remote.model_copy(update={"starttls": True, "ca_file": tmp_path / "ontbreekt.pem"})
    assert "MELDPUNT_SMTP_CA_FILE" in (unreadable.refusal() or "")


def _settings(tmp_path: Path, **values: Any) -> Settings:
    """Settings from these values only (none from the machine's environment or a meldpunt.env)."""
    defaults: dict[str, Any] = {"var_dir": tmp_path / "var", "smtp_relay": None, "outbox": None, "smtp_ca_file": None}
    return Settings(_env_file=None, **(defaults | values))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "destination"),
    [({}, Destination.NOWHERE), ({"outbox": "maildir"}, Destination.MAILDIR),
     ({"smtp_relay": "smtp.meldpunt.example:587"}, Destination.RELAY),
     ({"outbox": "relay"}, Destination.NOWHERE),
     ({"outbox": "maildir", "smtp_relay": "smtp.meldpunt.example:587"}, Destination.MAILDIR)],
)
def test_the_settings_choose_where_mail_goes(tmp_path: Path, values: dict[str, Any], destination: Destination) -> None:
    """The Maildir only when chosen; the relay by default when set; otherwise nowhere."""
    config = App(_settings(tmp_path, **values)).outbox_config
    assert config.destination is destination
    assert (config.maildir is not None) is (destination is Destination.MAILDIR)


def test_port_465_means_implicit_tls(tmp_path: Path) -> None:
    """RFC 8314: submission over TLS from the first byte on 465; STARTTLS elsewhere."""
    assert App(_settings(tmp_path, smtp_relay="smtp.meldpunt.example:465")).outbox_config.implicit_tls
    assert not App(_settings(tmp_path, smtp_relay="smtp.meldpunt.example:587")).outbox_config.implicit_tls


class OutboxService(Service):
    """`meldpunt serve` with extra settings for the outbox."""

    def __init__(self, var_dir: Path, port: int, extra: dict[str, str]) -> None:
        """Remember the extra settings."""
        super().__init__(var_dir, port)
        self.extra = extra

    def environment(self) -> dict[str, str]:
        """The service's settings plus the extra ones."""
        return super().environment() | self.extra

    def line_with(self, text: str) -> str:
        """The first output line containing text, waiting for it as the service prints on."""
        deadline = time.monotonic() + SERVE_WAIT
        while (found := next((line for line in self.output if text in line), None)) is None:
            assert time.monotonic() < deadline, "".join(self.output)
            try:
                self.lines.get(timeout=0.1)
            except queue.Empty:
                pass
        return found.strip()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({}, "Uitgaande mail gaat nergens: stel MELDPUNT_SMTP_RELAY in of kies MELDPUNT_OUTBOX=maildir."),
     ({"MELDPUNT_OUTBOX": "maildir"}, "Uitgaande mail gaat naar de map {var}/maildir (MELDPUNT_OUTBOX=maildir)"),
     ({"MELDPUNT_SMTP_RELAY": "127.0.0.1:2525"}, "Uitgaande mail gaat via de relay 127.0.0.1:2525 (STARTTLS).")],
    ids=["nowhere", "maildir", "relay"],
)
def test_serve_says_where_mail_goes(tmp_path: Path, extra: dict[str, str], expected: str) -> None:
    """At start, in Dutch: the relay, the Maildir, or nowhere (and how to fix that)."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    service = OutboxService(var_dir, free_port(), extra)
    try:
        service.start()
        assert expected.format(var=var_dir) in service.line_with("Uitgaande mail")
    finally:
        service.stop()


def test_serve_refuses_a_remote_relay_without_tls(tmp_path: Path) -> None:
    """STARTTLS off towards another machine: serve stops at once with the Dutch reason."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    service = OutboxService(var_dir, free_port(), {"MELDPUNT_SMTP_RELAY": "smtp.meldpunt.example:25",
                                                   "MELDPUNT_SMTP_STARTTLS": "false"})
    result = subprocess.run([sys.executable, "-m", "meldpunt", "serve"], env=service.environment(), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "STARTTLS staat uit" in result.stderr
