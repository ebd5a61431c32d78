"""Why a command could not do its work, as one Dutch sentence naming the setting to look at (never a traceback)."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meldpunt.settings import Settings

TEXTS = "cli/cli_messages.txt.j2"

# pydantic's error types, as what a setting expects (its own ValueErrors are Dutch already).
_EXPECTED: dict[str, str] = {
    "int_parsing": "verwacht een geheel getal.",
    "float_parsing": "verwacht een getal.",
    "bool_parsing": "verwacht true of false.",
    "date_parsing": "verwacht een datum als JJJJ-MM-DD.",
    "date_from_datetime_parsing": "verwacht een datum als JJJJ-MM-DD.",
    "literal_error": "kies een van: {expected}.",
    "greater_than_equal": "moet minstens {ge} zijn.",
    "greater_than": "moet groter dan {gt} zijn.",
}

# Words in a driver's error (SQLite, psycopg) and the Dutch cause they stand for; the first match wins.
_DATABASE_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("readonly", "read-only"), "cause_readonly"),
    (("unable to open database file",), "cause_cannot_open"),
    (("file is not a database",), "cause_not_a_database"),
    (("could not translate host name", "name or service not known", "nodename nor servname"), "cause_unknown_host"),
    (("password authentication failed", "authentication failed", "no password supplied"), "cause_login"),
    (("does not exist",), "cause_no_such_database"),
    (("connection refused", "could not connect", "connection failed", "timeout", "timed out", "server closed"), "cause_unreachable"),
)


def say(name: str, /, **context: Any) -> str:
    """A text of the command line (templates/cli/cli_messages.txt.j2)."""
    from intake.texts import message

    return message(name, source=TEXTS, **context)


def explain(error: BaseException, settings: Settings | None) -> str | None:
    """The Dutch sentence for a failure a person can fix, or None for one we do not know."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from intake.catalogue_loader import CatalogueError
    from meldpunt.startup import DatabaseMissing
    from store.encryption import EncryptionKeyError
    from store.figure_secret import FiguresSecretError

    if isinstance(error, ValidationError):
        return _settings_error(error)
    if isinstance(error, DatabaseMissing):
        return say("database_missing", path=str(error.path), setting=database_setting(settings))
    if isinstance(error, EncryptionKeyError):
        if error.missing:
            return say("encryption_key_missing", path=str(settings.effective_key_file) if settings else "")
        return say("encryption_key_wrong")
    if isinstance(error, FiguresSecretError):
        if error.missing:
            return say("figures_secret_missing", path=str(settings.effective_rapport_key_file) if settings else "")
        return say("figures_secret_wrong")
    if isinstance(error, ArgumentError):
        return say("database_url_invalid", setting=database_setting(settings))
    if isinstance(error, DBAPIError):
        return say("database_unusable", database=database_shown(settings), cause=_database_cause(error),
                   setting=database_setting(settings))
    if isinstance(error, CatalogueError):
        return say("catalogue_invalid", problem=str(error))
    if isinstance(error, PermissionError) and settings is not None:
        return say("folder_refused", path=error.filename or str(settings.var_dir), setting=database_setting(settings))
    return None


def is_address_in_use(error: BaseException) -> bool:
    """Whether a server could not listen because another process holds the address."""
    return isinstance(error, OSError) and error.errno == errno.EADDRINUSE


def database_setting(settings: Settings | None) -> str:
    """The setting that chose the database: the URL when one is set, else the folder of the SQLite file."""
    return "MELDPUNT_DATABASE_URL" if settings is None or settings.database_url else "MELDPUNT_VAR_DIR"


def database_shown(settings: Settings | None) -> str:
    """The database as a person may read it: the path, or the URL without its password."""
    if settings is None:
        return "(onbekend)"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.effective_database_url)
    except ArgumentError:
        return "(ongeldige URL)"
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


def _database_cause(error: BaseException) -> str:
    """What the driver's (English) error means, in Dutch."""
    text = str(getattr(error, "orig", None) or error).lower()
    for words, cause in _DATABASE_CAUSES:
        if any(word in text for word in words):
            return say(cause)
    return say("cause_other", kind=type(getattr(error, "orig", None) or error).__name__)


def _settings_error(error: Any) -> str:
    """The first invalid setting of a pydantic ValidationError: its name and why, in Dutch (never its value)."""
    first = error.errors()[0]
    ctx = first.get("ctx") or {}
    if first["type"] == "value_error":
        reason = str(ctx.get("error", first["msg"]))
    else:
        reason = _EXPECTED.get(first["type"], "deze waarde is niet bruikbaar.").format(**{k: str(v) for k, v in ctx.items()})
    if not first["loc"]:  # a rule across settings: its reason names them
        return reason
    return say("settings_invalid", setting=f"MELDPUNT_{str(first['loc'][0]).upper()}", reason=reason)
