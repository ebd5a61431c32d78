"""Our getUpdates loop: an update is confirmed to Telegram (the next offset) only after it was handled.

PTB's Updater asks getUpdates(offset=last+1) on its next poll, while the fetched updates may still be
waiting or running: a crash then loses them (Telegram forgets a confirmed update). Here each batch is
handled first (chats in parallel, each chat in order, see TelegramBot), then the offset moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError

log = logging.getLogger(__name__)

Process = Callable[[Update], Awaitable[None]]
MAX_BACKOFF = 30.0  # seconds between tries while Telegram cannot be reached


class Poller:
    """Long-polls getUpdates and hands each batch to `process` before confirming it."""

    def __init__(self, bot: Bot, process: Process, *, timeout: int, allowed_updates: Sequence[str]) -> None:
        """Nothing is fetched until start()."""
        self.bot, self.process = bot, process
        self.timeout, self.allowed_updates = timeout, list(allowed_updates)
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._handling: asyncio.Future[list[BaseException | None]] | None = None

    def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.create_task(self._run(), name="Telegram polling")

    async def stop(self) -> None:
        """Let the batch being handled finish, stop polling, and confirm what was handled."""
        if self._task is None:
            return
        if self._handling is not None:
            await asyncio.wait([self._handling])  # not cancelled: a handler half-way would be done again
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._offset is not None:
            with contextlib.suppress(TelegramError):  # not confirmed: they come again and are skipped then
                await self.bot.get_updates(offset=self._offset, timeout=0, allowed_updates=self.allowed_updates)

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(offset=self._offset, timeout=self.timeout, allowed_updates=self.allowed_updates)
            except InvalidToken:
                log.error("Telegram: het token wordt niet meer aanvaard; polling stopt (kijk MELDPUNT_TELEGRAM_TOKEN na)")
                return
            except RetryAfter as error:
                await asyncio.sleep(float(error.retry_after if isinstance(error.retry_after, int | float) else error.retry_after.total_seconds()))
                continue
            except TelegramError as error:
                log.warning("Telegram: updates ophalen mislukt (%s); nieuwe poging binnen %.0f s", type(error).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            if updates:
                handling = asyncio.ensure_future(asyncio.gather(*(self.process(u) for u in updates), return_exceptions=True))
                self._handling = handling
                try:
                    outcomes = await asyncio.shield(handling)
                finally:
                    self._handling = None
                for update, outcome in zip(updates, outcomes, strict=True):
                    if isinstance(outcome, Exception):  # the type only: its message may quote what was typed
                        log.error("Telegram: update %s niet afgehandeld (%s)", update.update_id, type(outcome).__name__)
                self._offset = updates[-1].update_id + 1
