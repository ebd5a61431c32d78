"""What every `meldpunt` command sets and checks at start: private files, one `serve` per SQLite database, who may send.

The files hold minors' data: umask 077 makes everything we create (database, WAL, var/, the
Maildir, exports) readable by our own account only, and a start warns about older files that are
not. SQLite has no safe way for two services to share a database, so `serve` takes a lock file
next to it (flock: the kernel drops it when the process dies, so a stale file never blocks).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: every command starts here, and `meldpunt --help` must answer at once
    from meldpunt.settings import Settings

PRIVATE_UMASK = 0o077
SETTINGS_FILE = Path("meldpunt.env")  # where pydantic-settings reads it: the working directory


class StartRefused(Exception):
    """`serve` must not start; the message is the Dutch reason."""


class DatabaseMissing(Exception):
    """A command that only uses the database found no SQLite file where the settings point."""

    def __init__(self, path: Path) -> None:
        """Keep the path the settings point at: the person is told which file was looked for."""
        super().__init__(str(path))
        self.path = path


def make_private() -> int:
    """Files and folders made from now on are for our own account only; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file, or None for PostgreSQL or an in-memory database."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def permission_warnings(settings: Settings) -> list[str]:
    """A Dutch line for the settings file, the key file and each database file others may read."""
    from intake.texts import message

    # The key file opens the data; the pupil-key secret links a pupil's referrals in the figures.
    files = (SETTINGS_FILE, settings.effective_key_file, settings.effective_rapport_key_file, *_database_files(settings))
    exposed = [path for path in files if _readable_by_others(path)]
    return [message("file_readable", path=str(path), mode=f"{stat.S_IMODE(path.stat().st_mode):04o}") for path in exposed]


def require_database(settings: Settings) -> None:
    """DatabaseMissing when the SQLite file is not there: only `db upgrade` and `serve` make one.

    A mistyped MELDPUNT_VAR_DIR or database path would otherwise give an empty new database, and
    `staff list` would say there is no one, instead of saying where it looked.
    """
    database = sqlite_path(settings)
    if database is not None and not database.exists():
        raise DatabaseMissing(database)


def _database_files(settings: Settings) -> list[Path]:
    database = sqlite_path(settings)
    if database is None:
        return []
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


@dataclass
class InstanceLock:
    """The held lock file of a running `serve`; the kernel releases it when the process ends."""

    path: Path
    fd: int

    def release(self) -> None:
        """Give the lock up (at a clean stop); the file stays, harmless without the lock."""
        os.close(self.fd)


def lock_instance(settings: Settings) -> InstanceLock | None:
    """Hold var/meldpunt.lock (next to the SQLite database) for this serve; StartRefused naming the pid holding it.

    PostgreSQL needs no lock: claims there are atomic, so several instances may share it.
    """
    database = sqlite_path(settings)
    if database is None:
        return None
    path = database.with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        from intake.texts import message

        raise StartRefused(message("serve_already_running", pid=holder, lock=str(path))) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return InstanceLock(path, fd)


def is_loopback_listen(listen: str) -> bool:
    """Whether host:port listens on this machine only (127.0.0.0/8, ::1 or localhost); "" or 0.0.0.0 is everywhere."""
    from mail.tls import is_loopback

    return is_loopback(listen.rpartition(":")[0])


def site_refusal(settings: Settings) -> str | None:
    """Why serve must not show the website where it is set to (beyond loopback without MELDPUNT_SITE_PUBLIC), or None."""
    listen = settings.site_listen
    if not listen or settings.site_public or is_loopback_listen(listen):
        return None
    from intake.texts import message

    return message("serve_refuses_public_site", listen=listen)


def sender_notice(settings: Settings) -> tuple[str, str] | None:
    """Whether senders are authenticated: None when they are, else (level, Dutch line); StartRefused when unsafe.

    Without MELDPUNT_TRUSTED_AUTHSERV_ID the From header alone says who sent a mail; on loopback
    that is a trial install, beyond it anyone could act as the coordinator.
    """
    if settings.trusted_authserv_id:
        return None
    from intake.texts import message

    listen = settings.smtp_listen
    if listen and not is_loopback_listen(listen):
        if not settings.allow_unauthenticated:
            raise StartRefused(message("serve_refuses_unauthenticated", listen=listen))
        return "warning", message("serve_allows_unauthenticated", listen=listen)
    if listen or settings.imap_host:
        return "info", message("serve_unauthenticated")
    return None
