"""`meldpunt week`: the coordinator's week view before the Wednesday and Friday batches (a dry run)."""

from __future__ import annotations

import click

from meldpunt.cli_common import app_of


@click.command("week")
@click.pass_context
def week(ctx: click.Context) -> None:
    """Toon de verzendingen van de komende zeven dagen: wat meegaat, wat wacht, en de regel om het te veranderen."""
    from desk.week import build_week, render_week
    from intake.schedule import parse_moments
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit

    app, now = app_of(ctx), utc_now()
    moments = parse_moments(app.settings.dispatch_times)
    with app.sessions.begin() as session:
        view = build_week(session, now=now, moments=moments, calendar=app.calendar, intake=app.intake)
        # As `review list`: the list was read (references, reasons), never the pupils' data.
        audit.record_audit(session, actor=cli_actor(), action=audit.AuditAction.LIST_READ, now=now,
                           detail=f"week: {len(view.referral_ids)} aanmeldingen", channel=audit.AuditChannel.CLI,
                           purpose=audit.AuditPurpose.REVIEW)
    click.echo(render_week(view))
