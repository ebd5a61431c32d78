"""TLS for our mail clients (IMAP, the relay): verified certificates and host names, loopback rules."""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path


def is_loopback(host: str) -> bool:
    """Whether host is this machine: localhost (RFC 6761) or a loopback IP literal, no DNS asked."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate chain and host name.

    Without ca_file the system's trusted CAs decide; with it only that PEM file does, so a private
    CA (or a server's own self-signed certificate) is trusted on purpose and nothing else is.
    imaplib's default context, by contrast, verifies nothing: a fake server would get the password.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file) if ca_file else None)
    context.check_hostname = True  # already the default; said here because it is the point
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8996: TLS 1.0 and 1.1 are deprecated
    return context


def ca_file_problem(ca_file: Path | None, setting: str) -> str | None:
    """Why ca_file cannot serve as a trust anchor (in Dutch), or None when it can (or is not set)."""
    if ca_file is None:
        return None
    if not ca_file.is_file() or not os.access(ca_file, os.R_OK):
        return f"{setting}={ca_file} bestaat niet of is niet leesbaar: geef het pad van een CA-certificaat (PEM)."
    try:
        client_context(ca_file)
    except (ssl.SSLError, ValueError):
        return f"{setting}={ca_file} bevat geen bruikbaar CA-certificaat (PEM verwacht)."
    return None


def describe_tls_error(error: BaseException, *, server: str, setting: str) -> str | None:
    """A one-line Dutch explanation of a TLS failure, or None when error is no TLS failure."""
    if isinstance(error, ssl.SSLCertVerificationError):
        # verify_message is OpenSSL's reason ("self-signed certificate", "Hostname mismatch, …"):
        # about the server's certificate, never about a person.
        reason = error.verify_message or "onbekende reden"
        return (f"het certificaat van de {server} is niet te vertrouwen ({reason}): niets verstuurd, "
                f"ook geen wachtwoord (een eigen CA? zet {setting})")
    if isinstance(error, ssl.SSLError):
        return f"TLS met de {server} mislukte ({error.reason or type(error).__name__}); niets verstuurd"
    return None
