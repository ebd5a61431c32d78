"""`meldpunt serve`: every channel and runner on one asyncio loop, closed in reverse order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import click

from intake.schedule import describe
from intake.texts import message
from mail.imap_poller import ImapPoller
from mail.smtp_intake import IntakeHandler, start_smtp_server
from meldpunt.app import App, utc_now

log = logging.getLogger(__name__)
OUTBOX_INTERVAL = 5.0  # seconds between outbox drains; a reply is queued, then sent within this time
DISPATCH_INTERVAL = 60.0  # seconds between looks at the schedule; a batch leaves within a minute of its slot
CATALOGUE_INTERVAL = 60.0  # seconds between looks for catalogue changes approved from the command line


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM: SMTP intake, IMAP poller, mail processor, outbox runner and Telegram."""
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def wake_processor() -> None:
        loop.call_soon_threadsafe(wake.set)

    async with AsyncExitStack() as stack:
        await _start_smtp(app, stack, wake_processor)
        tasks = [asyncio.create_task(app.processor.run(stop, wake), name="verwerking")]
        tasks.append(asyncio.create_task(_every(stop, OUTBOX_INTERVAL, app.outbox.drain, "outbox: versturen"), name="outbox"))
        tasks.append(asyncio.create_task(
            _every(stop, DISPATCH_INTERVAL, lambda: asyncio.to_thread(app.dispatcher.tick), "verzending: de planning"), name="verzending"))
        tasks.append(asyncio.create_task(_every(stop, CATALOGUE_INTERVAL, lambda: _refresh_catalogue(app), "aanbod: herladen"), name="aanbod"))
        click.echo(message("serve_dispatch", times=app.settings.dispatch_times, next=describe(app.dispatcher.next_slot().runs_at)))
        imap = app.imap_config
        if imap is not None:
            poller = ImapPoller(imap, app.sessions, clock=utc_now, on_stored=wake_processor)
            tasks.append(asyncio.create_task(poller.run(stop), name="imap"))
        click.echo(message("serve_imap", host=imap.host if imap else None))
        bot = app.telegram
        if bot is not None:
            tasks.append(asyncio.create_task(bot.run(stop), name="telegram"))
        log.info(message("serve_telegram", on=bot is not None, webhook=app.settings.telegram_webhook_url is not None))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _start_smtp(app: App, stack: AsyncExitStack, wake: Callable[[], None]) -> None:
    """Listen for mail when configured; the exit stack closes the server before the loop ends."""
    listen = app.settings.smtp_listen
    if not listen:
        click.echo(message("serve_smtp", listen=None))
        return
    host, _, port = listen.rpartition(":")
    handler = IntakeHandler(app.sessions, recipients={app.settings.mail_address}, clock=utc_now, on_stored=wake)
    server = await start_smtp_server(handler, host=host, port=int(port), size_limit=app.settings.smtp_size_limit)
    stack.push_async_callback(server.wait_closed)
    stack.callback(server.close)
    click.echo(message("serve_smtp", listen=listen, address=app.settings.mail_address))


async def _every(stop: asyncio.Event, interval: float, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run job now and then every interval until stop; a failure is logged and the next round tries again.

    The database is the truth, not this loop: a round that was missed or failed only delays the work.
    """
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("%s mislukte; volgende poging binnen %s s", what, interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass


async def _refresh_catalogue(app: App) -> None:
    """Pick up catalogue changes the coordinator approved (`meldpunt catalogue approve`) while we run."""
    if await asyncio.to_thread(app.refresh_catalogue):
        log.info("aanbod: goedgekeurde wijzigingen zijn nu van kracht")
