"""The figures' secret: it keys the pupil hash and seals school names, and lives outside the database like the encryption key.

meldpunt configures it from MELDPUNT_RAPPORT_SLEUTEL or the file var/rapport.key (use_secret); a process that
configured nothing (a test's child process) falls back to the environment variable. School names are sealed
deterministically (AES-SIV): the same school gives the same stored value, so SQL still groups on it, while a
copied database file shows no school a pupil attends.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from sqlalchemy import Dialect, Text, TypeDecorator

from store.encryption import write_key_file

SECRET_ENV = "MELDPUNT_RAPPORT_SLEUTEL"
_SEAL_CONTEXT = b"meldpunt cijfers: schoolnaam"  # derives the sealing key: never the pupil hash's key itself

_secret: bytes | None = None


class FiguresSecretError(Exception):
    """No secret is configured (missing), or it does not open the sealed names the database holds (wrong)."""

    def __init__(self, *, missing: bool) -> None:
        """Remember which of the two; the message names no secret."""
        super().__init__("figures secret missing" if missing else "figures secret does not fit the database")
        self.missing = missing


def new_secret() -> str:
    """A fresh random secret (256 bits), as the text the file or setting holds."""
    return secrets.token_urlsafe(32)


def secret_from_file(path: Path, *, create: bool) -> str:
    """The secret in the file at path; a missing file is made (0600 from creation on, a new secret) when create is set."""
    if create:
        with contextlib.suppress(FileExistsError):
            write_key_file(path, [new_secret()])
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise FiguresSecretError(missing=True) from None
    if not text:
        raise FiguresSecretError(missing=True)
    return text


def use_secret(secret: str | None) -> None:
    """Make secret this process's figures secret; None forgets it (the environment variable counts again)."""
    global _secret
    if secret is not None and not secret.strip():
        raise FiguresSecretError(missing=True)
    _secret = secret.strip().encode("utf-8") if secret is not None else None


def configured_secret() -> bytes:
    """The configured secret, else MELDPUNT_RAPPORT_SLEUTEL, else FiguresSecretError."""
    if _secret is None:
        use_secret(os.environ.get(SECRET_ENV, ""))
    assert _secret is not None
    return _secret


@lru_cache(maxsize=4)
def _sealer(secret: bytes) -> AESSIV:
    """AES-SIV with a 512-bit key derived from the secret."""
    return AESSIV(hmac.new(secret, _SEAL_CONTEXT, hashlib.sha512).digest())


class SealedName(TypeDecorator[str]):
    """A name stored sealed, the same name always the same text (GROUP BY and = work); read back in clear."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Seal the name."""
        if value is None:
            return None
        return base64.urlsafe_b64encode(_sealer(configured_secret()).encrypt(value.encode("utf-8"), None)).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Open the name; a secret that does not open it is a wrong secret, not corrupt data."""
        if value is None:
            return None
        try:
            return _sealer(configured_secret()).decrypt(base64.urlsafe_b64decode(value), None).decode("utf-8")
        except InvalidTag:
            raise FiguresSecretError(missing=False) from None
