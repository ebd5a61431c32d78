"""Self-signed certificates for TLS tests, made with the `openssl` command line (no pytest inside)."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate (also usable as its own CA file) and its private key, as PEM files."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def openssl_binary() -> str | None:
    """Path of the openssl command, or None when it is missing."""
    return shutil.which("openssl")


def make_certificate(directory: Path, *, names: tuple[str, ...] = ("localhost",), stem: str = "server") -> Certificate:
    """A fresh EC key and a self-signed certificate valid for names (DNS names) for two days."""
    binary = openssl_binary()
    if binary is None:
        raise FileNotFoundError("openssl is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    subject_alt = ",".join(f"DNS:{name}" for name in names)
    subprocess.run(
        [binary, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={names[0]}",
         "-addext", f"subjectAltName={subject_alt}", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
        check=True, capture_output=True, timeout=30,
    )
    return Certificate(cert=cert, key=key)


def certificate_or_skip(directory: Path) -> Certificate:
    """make_certificate, or skip when openssl is missing; fail instead when CI is set, where TLS tests must run."""
    if openssl_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("openssl ontbreekt (de CI-variabele staat aan: deze tests moeten lopen)", pytrace=False)
        pytest.skip("openssl ontbreekt (apt-get install openssl)")
    return make_certificate(directory)
