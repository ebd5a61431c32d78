"""`meldpunt dispatch`: what the next batch will send to whom, or a batch at once."""

from __future__ import annotations

import asyncio

import click

from intake.schedule import describe
from intake.texts import message, render
from meldpunt.actor import cli_actor
from meldpunt.app import App


def _example_addresses(app: App) -> set[str]:
    """Dispatch addresses still on the reserved .example domain: such mail never arrives."""
    return {s.dispatch_email.lower() for s in app.catalogue.services if s.dispatch_email and s.dispatch_email_is_example}


@click.command("dispatch")
@click.option("--dry-run", is_flag=True, help="Toon wat de volgende batch naar wie stuurt; er verandert niets.")
@click.option("--now", "run_now", is_flag=True, help="Verstuur nu een batch, buiten de planning om.")
@click.pass_context
def dispatch(ctx: click.Context, dry_run: bool, run_now: bool) -> None:
    """Verzending naar de aanbieders (standaard woensdag en vrijdag om 9 uur)."""

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
    asyncio.run(_send_with_progress(app))


async def _send_with_progress(app: App) -> None:
    """Drain the outbox mail by mail, showing progress; what cannot go now stays queued for `serve`."""
    sent = failed = 0
    while True:
        report = await app.outbox.drain(limit=1)
        if report.sent + report.retried + report.failed == 0:
            break
        sent, failed = sent + report.sent, failed + report.failed + report.retried
        click.echo(message("dispatch_progress", sent=sent, failed=failed))
        if report.retried:
            break  # the relay is not taking mail now; the outbox retries later
    click.echo(message("dispatch_sent", sent=sent, failed=failed))
