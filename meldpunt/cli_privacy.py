"""`meldpunt privacy`: the coordinator's privacy commands; `opschonen` runs the retention purge (or, with --proef, shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from meldpunt.cli_common import app_of

if TYPE_CHECKING:
    from desk.retention import Retention
    from intake.clock import Clock
    from meldpunt.app import App


def build_retention(app: App, *, clock: Clock) -> Retention:
    """The purge use case with this service's database, retention table and mail domain."""
    from desk.retention import Retention
    from intake.questionnaire import load_questionnaire

    return Retention(app.sessions, periods=app.settings.retention, questionnaire=load_questionnaire(),
                     domain=app.settings.mail_domain, clock=clock)


@click.group()
def privacy() -> None:
    """Privacy: bewaartermijnen toepassen."""


@privacy.command("opschonen")
@click.option("--proef", is_flag=True, help="Toon enkel wat de opschoning nu zou wissen; er verandert niets.")
@click.pass_context
def privacy_purge(ctx: click.Context, proef: bool) -> None:
    """Wis wat zijn bewaartermijn voorbij is (zoals serve elke dag doet); zonder namen, met aantallen en referenties."""
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    now = utc_now()
    report = build_retention(app_of(ctx), clock=lambda: now).run(dry_run=proef, actor=cli_actor())
    click.echo(message("purge", source="cli/privacy.txt.j2", report=report, now=now))


def _add_key_commands() -> None:
    """`privacy sleutel …` lives in its own module (meldpunt/cli_privacy_key.py)."""
    from meldpunt.cli_privacy_key import key

    privacy.add_command(key)


_add_key_commands()
