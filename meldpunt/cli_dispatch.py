"""`meldpunt dispatch`: what the next batch will send to whom, or a batch at once."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the rest is imported when the command runs: loading it must not load the mail stack
    from meldpunt.app import App
    from store.mail_models import OutboxStatus

_TEXTS = "cli/dispatch.txt.j2"
# How long to wait for the batch's mails a running service (`meldpunt serve`) is handing over right now.
SENDING_WAIT_SECONDS = 30.0


def _example_addresses(app: App) -> set[str]:
    """Dispatch addresses still on the reserved .example domain: such mail never arrives."""
    return {s.dispatch_email.lower() for s in app.catalogue.services if s.dispatch_email and s.dispatch_email_is_example}


@click.command("dispatch")
@click.option("--dry-run", is_flag=True, help="Toon wat de volgende batch naar wie stuurt; er verandert niets.")
@click.option("--now", "run_now", is_flag=True, help="Verstuur nu een batch, buiten de planning om.")
@click.pass_context
def dispatch(ctx: click.Context, dry_run: bool, run_now: bool) -> None:
    """Verzending naar de aanbieders (standaard woensdag en vrijdag om 9 uur)."""
    import asyncio

    from intake.schedule import describe
    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import App
    from store.mail_models import OutboxStatus

    app: App = ctx.ensure_object(App)
    dispatcher = app.dispatcher
    if run_now and dry_run:
        raise click.UsageError(message("dispatch_flags"))
    if not run_now:
        plan = dispatcher.preview()
        click.echo(render("cli/dispatch_plan.txt.j2", plan=plan, next=describe(dispatcher.next_slot().runs_at),
                          examples=_example_addresses(app), dry_run=dry_run))
        return
    report = dispatcher.run_now(cli_actor())
    click.echo(message("dispatch_done", referrals=report.referrals, mails=report.mails, set_aside=report.set_aside))
    handed = asyncio.run(_send_with_progress(app))
    states = _settled_states(app, report.slot_key)
    click.echo(render("cli/dispatch_sent.txt.j2", planned=report.mails, handed=handed, sent=states[OutboxStatus.SENT],
                      sending=states[OutboxStatus.SENDING], failed=states[OutboxStatus.FAILED],
                      waiting=states[OutboxStatus.QUEUED] + states[OutboxStatus.RETRY]))


async def _send_with_progress(app: App) -> int:
    """Drain the outbox mail by mail, showing progress; how many mails this command handed over.

    The outbox holds other mails too (notices, replies), and a running `meldpunt serve` drains the
    same outbox: the count is this command's work, not the batch's (see _settled_states).
    """
    from intake.texts import message

    sent = failed = 0
    while True:
        report = await app.outbox.drain(limit=1)
        if report.sent + report.retried + report.failed == 0:
            break
        sent, failed = sent + report.sent, failed + report.failed + report.retried
        click.echo(message("progress", source=_TEXTS, sent=sent, failed=failed))
        if report.retried:
            break  # the relay is not taking mail now; the outbox retries later
    return sent


def _settled_states(app: App, slot_key: str) -> Counter[OutboxStatus]:
    """The batch's provider mails by status, once no other runner is still handing one over (bounded wait)."""
    from store.batch_mails import batch_mail_states
    from store.mail_models import OutboxStatus

    deadline = time.monotonic() + SENDING_WAIT_SECONDS
    while True:
        with app.sessions() as session:
            states = batch_mail_states(session, slot_key)
        if not states[OutboxStatus.SENDING] or time.monotonic() >= deadline:
            return states
        time.sleep(0.2)  # another process is sending it: its outcome decides what we can truthfully report
