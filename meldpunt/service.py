"""`meldpunt serve`: every channel and runner on one asyncio loop under one supervisor, closed in reverse order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from desk.alerts import AlertJob
from desk.digest import MorningDigest
from intake.clock import Clock
from intake.schedule import describe
from intake.texts import message
from mail.imap_poller import ImapPoller
from mail.smtp_intake import IntakeHandler, start_smtp_server
from mail.smtp_limits import IntakeLimits
from meldpunt.app import App, utc_now
from meldpunt.cli_errors import is_address_in_use, say
from meldpunt.cli_privacy import build_retention
from meldpunt.cli_vandaag import digest_config
from meldpunt.periodic import Periodic
from meldpunt.site_server import SiteRebuild, running_bot_username, start_site_server
from meldpunt.startup import StartRefused
from meldpunt.supervisor import Backoff, Sleeper, Supervisor, sleep
from meldpunt.watchdog import Thresholds, Watchdog
from store import inbound

if TYPE_CHECKING:
    from bot.telegram_bot import TelegramBot

log = logging.getLogger(__name__)
# Seconds between rounds of each periodic runner.
OUTBOX_INTERVAL = 5.0  # a reply is queued, then sent within this time
DISPATCH_INTERVAL = 60.0  # a batch leaves within a minute of its slot
CATALOGUE_INTERVAL = 60.0  # catalogue changes approved from the command line take effect within a minute
WATCHDOG_INTERVAL = 60.0
PROCESS_INTERVAL = 30.0  # the processor also looks without being woken (reminders, missed wake-ups)
PRIVACY_INTERVAL = 24 * 3600.0  # the retention purge: periods are in days, so once a day
SURVEY_INTERVAL = 3600.0  # the survey's reminder is counted in days: an hour late is on time
DIGEST_INTERVAL = 300.0  # the morning digest leaves within five minutes of MELDPUNT_DIGEST_TIME
ALERTS_INTERVAL = 60.0  # an urgent event reaches the coordinator within about a minute
SITE_INTERVAL = 60.0  # the website shows an approved change or a new signature within about a minute
PRIVACY_FIRST = 300.0  # not at start: a (re)started service first catches up on mail, the purge can wait
# A claim on an inbound mail this old that no transaction holds was left by a process that died.
ORPHAN_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Timing:
    """How often each runner goes round and how the supervisor backs off; tests make them short."""

    outbox: float = OUTBOX_INTERVAL
    dispatch: float = DISPATCH_INTERVAL
    catalogue: float = CATALOGUE_INTERVAL
    watchdog: float = WATCHDOG_INTERVAL
    process: float = PROCESS_INTERVAL
    privacy: float = PRIVACY_INTERVAL
    survey: float = SURVEY_INTERVAL
    digest: float = DIGEST_INTERVAL
    alerts: float = ALERTS_INTERVAL
    site: float = SITE_INTERVAL
    backoff: Backoff = Backoff()


async def serve(
    app: App, *, stop: asyncio.Event | None = None, clock: Clock = utc_now, timing: Timing = Timing(),
    sleeper: Sleeper = sleep,
) -> None:
    """Run until SIGINT or SIGTERM (or stop): SMTP intake, IMAP, the periodic jobs, Telegram.

    Every runner runs under one Supervisor: what escapes a runner is logged, recorded and retried
    after a back-off, so no runner dies silently while SMTP keeps answering 250.
    """
    loop = asyncio.get_running_loop()
    stop = stop if stop is not None else _stop_on_signals(loop)
    wake = asyncio.Event()

    def wake_processor() -> None:
        loop.call_soon_threadsafe(wake.set)

    supervisor = Supervisor(app.sessions, stop, clock=clock, backoff=timing.backoff, sleeper=sleeper)
    periodic = Periodic(supervisor)
    bot = app.telegram
    register_jobs(periodic, app, timing=timing, wake=wake, clock=clock, bot=bot)
    async with AsyncExitStack() as stack:
        await _start_smtp(app, stack, wake_processor)
        await _start_site(app, stack)
        tasks = [asyncio.create_task(periodic.run())]
        click.echo(message("serve_dispatch", times=app.settings.dispatch_times, next=describe(app.dispatcher.next_slot().runs_at)))
        imap = app.imap_config
        if imap is not None:
            poller = ImapPoller(imap, app.sessions, clock=utc_now, on_stored=wake_processor)
            tasks.append(asyncio.create_task(supervisor.keep_running("imap", lambda: poller.run(stop))))
        click.echo(message("serve_imap", host=imap.host if imap else None))
        click.echo(message("serve_outbox", outbox=app.outbox_config))  # relay, maildir, or nowhere: said, never guessed
        if bot is not None:
            tasks.append(asyncio.create_task(supervisor.keep_running("telegram", lambda: bot.run(stop))))
        log.info(message("serve_telegram", on=bot is not None, webhook=app.settings.telegram_webhook_url is not None))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


def register_jobs(
    periodic: Periodic, app: App, *, timing: Timing, wake: asyncio.Event, clock: Clock, bot: TelegramBot | None,
) -> None:
    """Every scheduled job of the service, by the name `meldpunt status` shows, on its interval."""
    watchdog = Watchdog(
        app.sessions, thresholds=Thresholds(minutes=app.settings.watchdog_minutes, failures=app.settings.watchdog_failures),
        coordinator_email=app.settings.coordinator_email, domain=app.settings.mail_domain, clock=clock,
    )
    processor, dispatcher = app.processor, app.dispatcher
    details = asyncio.Event()  # a processing round that ends asks for missing details at once, as before
    periodic.add("verwerking", _MailRounds(app, then=details).run, every=timing.process, wake=wake)
    periodic.add("gegevens", lambda: asyncio.to_thread(processor.request_missing_details), every=timing.process, wake=details)
    periodic.add("mailvragen", lambda: asyncio.to_thread(processor.remind_open_questions), every=timing.process)
    periodic.add("outbox", app.outbox.drain, every=timing.outbox)
    # A due batch, then the reminders of providers without news (Dispatcher.tick does both, in that order).
    periodic.add("verzending", lambda: asyncio.to_thread(dispatcher.tick), every=timing.dispatch)
    periodic.add("aanbod", lambda: _refresh_catalogue(app), every=timing.catalogue)
    periodic.add("waakhond", lambda: asyncio.to_thread(watchdog.check), every=timing.watchdog)
    periodic.add("privacy", build_retention(app, clock=clock).daily, every=timing.privacy, first=min(PRIVACY_FIRST, timing.privacy))
    periodic.add("bevraging", lambda: asyncio.to_thread(remind_survey, app, clock), every=timing.survey)
    digest = MorningDigest(app.sessions, lambda: app.workflow.intake, digest_config(app), clock=clock)
    periodic.add("ochtendoverzicht", lambda: asyncio.to_thread(digest.run), every=timing.digest)
    alerts = alert_job(app, clock=clock, chat=bot is not None and bot.config.coordinator_chat_id is not None)
    periodic.add("alarmen", lambda: asyncio.to_thread(alerts.run), every=timing.alerts)
    if app.settings.site_listen:
        rebuild = SiteRebuild(app, app.settings.effective_site_dir, clock=clock,
                              telegram_username=lambda: app.settings.telegram_username or running_bot_username(bot))
        periodic.add("website", lambda: asyncio.to_thread(rebuild.run), every=timing.site)
    if bot is not None:
        register_bot_jobs(periodic, bot)


def register_bot_jobs(periodic: Periodic, bot: TelegramBot) -> None:
    """The bot's jobs: reminders to the coordinator's chat a little after start, access-ended notices after an interval."""
    interval = bot.config.reminder_interval
    periodic.add("chatvragen", bot.remind, every=interval, first=min(30.0, interval))
    periodic.add("chattoegang", bot.tell_revoked, every=interval, first=interval)
    periodic.add("chatbevraging", bot.ask_survey, every=interval, first=min(30.0, interval))
    periodic.add("chatalarmen", bot.send_alerts, every=min(ALERTS_INTERVAL, interval), first=min(ALERTS_INTERVAL, interval))


def alert_job(app: App, *, clock: Clock, chat: bool) -> AlertJob:
    """The job "alarmen": urgent events found in the database, by mail when the chat will not carry them (desk/alerts.py)."""
    settings = app.settings
    return AlertJob(app.sessions, lambda: app.workflow.intake, clock, settings.coordinator_email, settings.mail_domain, chat)


def remind_survey(app: App, clock: Clock) -> int:
    """The survey's one reminder to staff who did not answer after MELDPUNT_BEVRAGING_HERINNERING_DAGEN days."""
    from desk import survey

    with app.sessions.begin() as session:
        return survey.remind(session, now=clock(), after_days=app.settings.bevraging_herinnering_dagen, domain=app.settings.mail_domain)


def _stop_on_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    """An event SIGINT and SIGTERM set."""
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


class _MailRounds:
    """The processor's rounds: take back orphaned claims and process what waits; then wake the details request."""

    def __init__(self, app: App, *, then: asyncio.Event) -> None:
        """Start as after a failure: the first round takes back every claim no transaction holds."""
        self.app = app
        self.then = then
        self.after_failure = True

    async def run(self) -> None:
        """One round in a worker thread; a failure escapes to the supervisor."""
        await asyncio.to_thread(self._round)
        self.then.set()

    def _round(self) -> None:
        processor = self.app.processor
        with self.app.sessions.begin() as session:
            # After a start or a failure every claim not held is an orphan; otherwise only old ones
            # (on PostgreSQL another instance may be between its claim and its hold).
            older_than = None if self.after_failure else ORPHAN_AFTER
            recovered = inbound.recover_interrupted(session, now=processor.clock(), older_than=older_than)
        if recovered:
            log.info("verwerking: %d onderbroken mail(s) terug in de wachtrij", recovered)
        self.after_failure = True
        processor.process_all()
        self.after_failure = False


async def _start_smtp(app: App, stack: AsyncExitStack, wake: Callable[[], None]) -> None:
    """Listen for mail when configured; the exit stack closes the server before the loop ends."""
    listen = app.settings.smtp_listen
    if not listen:
        click.echo(message("serve_smtp", listen=None))
        return
    host, _, port = listen.rpartition(":")
    handler = IntakeHandler(app.sessions, recipients={app.settings.mail_address}, clock=utc_now, on_stored=wake,
                            trusted_relays=frozenset(app.settings.smtp_trusted_relays))
    settings = app.settings
    limits = IntakeLimits(
        max_connections=settings.smtp_max_connections, max_connections_per_ip=settings.smtp_max_connections_per_ip,
        max_recipients=settings.smtp_max_recipients, max_data_bytes=settings.smtp_max_data_bytes,
    )
    server = await start_smtp_server(handler, host=host, port=int(port), size_limit=settings.smtp_size_limit, limits=limits)
    stack.push_async_callback(server.wait_closed)
    stack.callback(server.close)
    click.echo(message("serve_smtp", listen=listen, address=app.settings.mail_address))


async def _start_site(app: App, stack: AsyncExitStack) -> None:
    """Show the website when configured (the job "website" builds it); the exit stack stops the server first."""
    listen = app.settings.site_listen
    if not listen:
        click.echo(message("serve_site", listen=None))
        return
    try:
        server = await start_site_server(app.settings.effective_site_dir, listen)
    except OSError as error:
        if not is_address_in_use(error):
            raise
        raise StartRefused(say("port_in_use", listen=listen, setting="MELDPUNT_SITE_LISTEN")) from None
    stack.callback(server.stop)
    click.echo(message("serve_site", listen=listen, url=f"http://{listen}/"))


async def _refresh_catalogue(app: App) -> None:
    """Pick up catalogue changes the coordinator approved (`meldpunt catalogue approve`) while we run."""
    if await asyncio.to_thread(app.refresh_catalogue):
        log.info("aanbod: goedgekeurde wijzigingen zijn nu van kracht")
