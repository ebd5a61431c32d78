"""Identifying columns encrypted at rest (Fernet, AES-128-CBC with HMAC-SHA256): a copied database file shows no names.

The key lives outside the database: meldpunt configures it from MELDPUNT_ENCRYPTION_KEY or the key file
(use_keys); a process that configured nothing (a test's child process) falls back to the environment
variable. Several keys may be active: the first encrypts, all decrypt (rotation, see reencrypt_all).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, Dialect, LargeBinary, Text, TypeDecorator, inspect, text

KEY_ENV = "MELDPUNT_ENCRYPTION_KEY"

_keyring: MultiFernet | None = None


class EncryptionKeyError(Exception):
    """No key is configured (missing), or the key does not open what the database holds (wrong)."""

    def __init__(self, *, missing: bool) -> None:
        """Remember which of the two; the message names no key material."""
        super().__init__("encryption key missing" if missing else "encryption key does not fit the database")
        self.missing = missing


def new_key() -> str:
    """A fresh random key, as the url-safe base64 text a key file or setting holds."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> list[str]:
    """The keys in a setting or key file: comma- or line-separated, the first one current."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Write keys to a new private file (0600 from creation on, never readable by others for a moment)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write("\n".join(keys) + "\n")


def key_file_keys(path: Path, *, create: bool) -> list[str]:
    """The keys in the key file at path; a missing file is made with a new key when create is set."""
    if create:
        with contextlib.suppress(FileExistsError):
            write_key_file(path, [new_key()])
    try:
        return parse_keys(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        raise EncryptionKeyError(missing=True) from None


def use_keys(keys: Sequence[str] | None) -> None:
    """Make keys this process's keyring (the first encrypts); None forgets it again."""
    global _keyring
    if keys is None:
        _keyring = None
        return
    try:
        _keyring = MultiFernet([Fernet(key) for key in keys]) if keys else None
    except ValueError:  # not 32 url-safe base64-encoded bytes
        raise EncryptionKeyError(missing=False) from None
    if _keyring is None:
        raise EncryptionKeyError(missing=True)


def keyring() -> MultiFernet:
    """The configured keyring, else one from MELDPUNT_ENCRYPTION_KEY, else EncryptionKeyError."""
    if _keyring is None:
        use_keys(parse_keys(os.environ.get(KEY_ENV, "")))
    assert _keyring is not None
    return _keyring


def encrypt(data: bytes) -> bytes:
    """data as a token under the current key."""
    return keyring().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """The data in token; a token no active key opens is a wrong key, not corrupt data."""
    try:
        return keyring().decrypt(token)
    except InvalidToken:
        raise EncryptionKeyError(missing=False) from None


def rotate(token: bytes) -> bytes:
    """token re-encrypted under the current (first) key."""
    try:
        return keyring().rotate(token)
    except InvalidToken:
        raise EncryptionKeyError(missing=False) from None


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted (an ASCII token); NULL stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt the text."""
        return None if value is None else encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypt the text."""
        return None if value is None else decrypt(value.encode("ascii")).decode("utf-8")


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted; Python None is SQL NULL. Not queryable by its content in SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialise (keeping non-ASCII as is, like store.db) and encrypt."""
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Decrypt and parse."""
        return None if value is None else json.loads(decrypt(value.encode("ascii")))


class EncryptedBytes(TypeDecorator[bytes]):
    """A binary column (a raw mail) stored encrypted."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Encrypt the bytes."""
        return None if value is None else encrypt(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Decrypt the bytes."""
        return None if value is None else decrypt(bytes(value))


# The encrypted columns, as (table, primary key, column, kind): the migration and rotation walk them.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("referrals", "id", "answers", "json"),
    ("conversations", "id", "state", "json"),
    ("inbound_mail", "id", "raw", "bytes"),
    ("inbound_mail", "id", "envelope_from", "text"),
    ("outbox", "id", "subject", "text"),
    ("outbox", "id", "body_text", "text"),
    ("outbox", "id", "body_html", "text"),
    ("outbox", "id", "attachments", "json"),
    ("questions", "id", "text", "text"),
    ("questions", "id", "answer", "text"),
    ("questions", "id", "context", "json"),
    ("telegram_updates", "bot_id, update_id", "answer", "json"),  # replies not yet sent may quote what was typed
    ("survey_answers", "id", "missing_offer", "text"),  # from migration 0013 on
)


def _present(connection: Connection) -> list[tuple[str, str, str, str]]:
    """The encrypted columns whose table exists: migration 0011 runs before later migrations made theirs."""
    tables = set(inspect(connection).get_table_names())
    return [entry for entry in ENCRYPTED_COLUMNS if entry[0] in tables]


def rewrite_all(connection: Connection, change: Callable[[bytes], bytes]) -> int:
    """Apply change to every stored value of the encrypted columns (encrypt, decrypt, rotate); the number changed."""
    changed = 0
    for table, key, column, kind in _present(connection):
        keys = [name.strip() for name in key.split(",")]
        rows = connection.execute(text(f'SELECT {key}, "{column}" FROM {table} WHERE "{column}" IS NOT NULL')).all()
        where = " AND ".join(f"{name} = :k{number}" for number, name in enumerate(keys))
        update = text(f'UPDATE {table} SET "{column}" = :value WHERE {where}')
        for *row_keys, value in rows:
            new = change(bytes(value) if kind == "bytes" else str(value).encode("utf-8"))
            bound = {f"k{number}": row_key for number, row_key in enumerate(row_keys)}
            connection.execute(update, {"value": new if kind == "bytes" else new.decode("utf-8"), **bound})
            changed += 1
    return changed


def check_key(connection: Connection) -> None:
    """EncryptionKeyError unless the keyring opens a stored value (of each column that holds one): a wrong key is told at start."""
    for table, _key, column, kind in _present(connection):
        value = connection.execute(text(f'SELECT "{column}" FROM {table} WHERE "{column}" IS NOT NULL LIMIT 1')).scalar()
        if value is not None:
            decrypt(bytes(value) if kind == "bytes" else str(value).encode("utf-8"))


def replace_key_file(path: Path, keys: Sequence[str]) -> None:
    """Put keys in the key file at path at once (a private temporary file renamed over it): never half written."""
    temporary = path.with_name(path.name + ".nieuw")
    temporary.unlink(missing_ok=True)
    write_key_file(temporary, keys)
    os.replace(temporary, path)
