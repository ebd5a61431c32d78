"""Our endpoint for Telegram's webhook calls: the secret header is checked in constant time before parsing.

PTB 22's own webhook server (telegram/ext/_utils/webhookhandler.py) compares the secret with `!=`,
which can leak by timing how much of a guess matched, and logs a whole update that fails to parse
at CRITICAL (personal data in the log). So, as PTB's examples/customwebhookbot does, we run a small
tornado server of our own. It answers 200 only after the update was handled: Telegram redelivers an
update until it gets 200, so one whose handling a crash cut off comes again (and is not applied twice,
see bot/update_ledger.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Bot, Update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes (a text is at most 4096 characters); anything near this is not Telegram.
MAX_BODY_BYTES = 1 << 20

Process = Callable[[Update], Awaitable[None]]


def secret_matches(given: str, secret: str) -> bool:
    """Constant-time comparison; hashing first also hides the secret's length."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(secret.encode()).digest())


class _UpdateHandler(tornado.web.RequestHandler):
    """POST /path: one update from Telegram, accepted only with the right secret header."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, process: Process, bot: Bot, secret: str) -> None:
        """Tornado's per-request setup: what the handler needs (`self.application` is tornado's own)."""
        self.process = process
        self.bot = bot
        self.secret = secret

    async def post(self) -> None:
        """Check the secret, parse the update and handle it; a body that is no update is refused, and not logged.

        The body (at most MAX_BODY_BYTES) is read before answering 403: a reverse proxy still writing it
        would otherwise see the connection close under it and answer 502 instead.
        """
        if not secret_matches(self.request.headers.get(SECRET_HEADER, ""), self.secret):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(json.loads(self.request.body), self.bot)
        except Exception:  # noqa: BLE001 — JSON errors, deep nesting (RecursionError), PTB's own: all mean "no update"
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        await self.process(update)  # 200 only once handled: "accepted" means its effect is committed
        self.set_status(HTTPStatus.OK)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Status and method only: the caller's address and the path are no business of our logs."""
    status = handler.get_status()
    if status == HTTPStatus.FORBIDDEN:
        log.warning("Telegram-webhook: oproep zonder geldig geheim geweigerd (403)")
    elif status >= 400:
        log.warning("Telegram-webhook: oproep geweigerd (%s)", status)


class WebhookServer:
    """The HTTP server Telegram posts updates to (behind a reverse proxy that terminates TLS)."""

    def __init__(self, process: Process, bot: Bot, *, host: str, port: int, path: str, secret: str) -> None:
        """Nothing listens until start(); `process` handles one update and returns when it is done."""
        self.host, self.port = host, port
        routes: list[Any] = [(rf"/{path.strip('/')}/?", _UpdateHandler, {"process": process, "bot": bot, "secret": secret})]
        self._app = tornado.web.Application(routes, log_function=_log_request)
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        """Listen now (OSError when the port is taken)."""
        server = tornado.httpserver.HTTPServer(self._app, max_body_size=MAX_BODY_BYTES, xheaders=False)
        server.listen(self.port, address=self.host)
        self._server = server

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
