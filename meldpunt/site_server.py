"""The website as `meldpunt serve` shows it: a static-file server for the built folder, and the job that rebuilds it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.httpserver
import tornado.web

if TYPE_CHECKING:
    from meldpunt.app import App

log = logging.getLogger(__name__)

# What a browser may do with our pages: load only our own files (no trackers, no injected script from
# elsewhere), never frame them, never send our addresses on as a referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A visitor only reads: no request needs a body, and a header beyond this is not a browser's.
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024


class _SiteFiles(tornado.web.StaticFileHandler):
    """GET and HEAD of a built file (a folder means its index.html), with our headers and a Dutch 404."""

    def set_extra_headers(self, path: str) -> None:
        """Our headers on every file; pages are rebuilt in place, so a browser asks again after a minute."""
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "public, max-age=60")

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        """Tornado's own line names the visitor's address: a missing page is not logged, our fault only by its kind."""
        if isinstance(value, tornado.web.HTTPError):
            return
        log.error("website: een bestand kon niet getoond worden (%s)", getattr(typ, "__name__", "fout"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A short Dutch page for a missing page (or any other refusal), never a traceback."""
        from intake.texts import render

        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(render("site_server/not_found.html.j2", status=status_code))


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """Keep no visitor log: an address and the pages it read are personal data the Meldpunt does not need."""


def site_application(folder: Path) -> tornado.web.Application:
    """The tornado application serving `folder`: every path is a file of the built site."""
    return tornado.web.Application(
        [(r"/(.*)", _SiteFiles, {"path": str(folder), "default_filename": "index.html"})],
        log_function=_no_access_log, compress_response=True,
    )


async def start_site_server(folder: Path, listen: str) -> tornado.httpserver.HTTPServer:
    """Listen on host:port for the built site; OSError (e.g. the address in use) before anything is served."""
    host, _, port = listen.rpartition(":")
    folder.mkdir(parents=True, exist_ok=True)
    server = tornado.httpserver.HTTPServer(
        site_application(folder), max_header_size=MAX_HEADER_BYTES, max_body_size=MAX_BODY_BYTES,
        idle_connection_timeout=60, body_timeout=10,
    )
    server.listen(int(port), address=host.strip("[]") or None)
    return server


class SiteRebuild:
    """The job "website": rebuild the served folder when its inputs changed (an approved change, a signature, a new day)."""

    def __init__(self, app: App, folder: Path, *, clock: Callable[[], datetime],
                 telegram_username: Callable[[], str | None]) -> None:
        """Nothing built yet: the first round always builds."""
        self.app = app
        self.folder = folder
        self.clock = clock
        self.telegram_username = telegram_username
        self.built_from: tuple[str, str | None] | None = None

    def run(self) -> bool:
        """One round (in a worker thread): True when the site was rebuilt; a failure escapes to the supervisor."""
        from meldpunt.site_build import build_site, site_fingerprint

        now, username = self.clock(), self.telegram_username()
        inputs = (site_fingerprint(self.app, now=now), username)
        if inputs == self.built_from:
            return False
        build = build_site(self.app, self.folder, now=now, telegram_username=username)
        self.built_from = (build.fingerprint, username)
        log.info("website: %d pagina's, %d bestand(en) bijgewerkt, %d verwijderd", build.pages, build.written, build.removed)
        return True


def running_bot_username(bot: Any) -> str | None:
    """The running bot's username (PTB asks Telegram's getMe when it starts), or None before that or without a bot."""
    if bot is None:
        return None
    try:
        return str(bot.application.bot.username)
    except RuntimeError:  # PTB: the bot is not initialised yet
        return None
