"""`meldpunt status`: how the service fares, read from the database; exit code 1 when the watchdog would alert."""

from __future__ import annotations

import click

from intake.schedule import describe
from intake.texts import brussels_time, render
from meldpunt.app import App, utc_now
from meldpunt.watchdog import Thresholds, incidents, minutes_ago
from store import runners

# Names of the runners in serve, in the order a reader thinks of them.
RUNNER_ORDER = (
    "verwerking", "gegevens", "mailvragen", "outbox", "verzending", "aanbod", "imap", "telegram", "chatvragen", "chattoegang", "waakhond", "privacy",
    "bevraging", "chatbevraging", "ochtendoverzicht", "alarmen", "chatalarmen", "website",
)


@click.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Toon hoe de dienst draait: elk onderdeel, wat wacht, en de volgende verzending (code 1 = alarm)."""
    app: App = ctx.ensure_object(App)
    settings = app.settings
    now = utc_now()
    with app.sessions() as session:
        backlog = runners.backlog(session)
        reports = sorted(runners.reports(session), key=lambda r: (RUNNER_ORDER.index(r.name) if r.name in RUNNER_ORDER else 99, r.name))
    thresholds = Thresholds(minutes=settings.watchdog_minutes, failures=settings.watchdog_failures)
    found = incidents(backlog, reports, now=now, thresholds=thresholds)
    click.echo(render(
        "cli/status.txt.j2", reports=reports, backlog=backlog, incidents=found, thresholds=thresholds,
        next_slot=describe(app.dispatcher.next_slot().runs_at), now=brussels_time(now),
        local_time=brussels_time, minutes_ago=lambda moment: minutes_ago(moment, now=now),
    ))
    ctx.exit(1 if found else 0)
