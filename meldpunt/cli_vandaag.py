"""`meldpunt vandaag`: everything that waits for the coordinator today, the most urgent and oldest first, with the line that settles it."""

from __future__ import annotations

from datetime import datetime

import click

from desk.agenda import build_agenda, record_agenda_view
from desk.digest import DigestConfig
from intake.agenda import AgendaRules
from intake.schedule import describe, parse_moments
from intake.texts import render
from meldpunt.actor import cli_actor
from meldpunt.app import App, utc_now
from meldpunt.cli_common import app_of
from store.audit import AuditChannel


def agenda_rules(app: App) -> AgendaRules:
    """The agenda's rules from the settings: MELDPUNT_ACCEPT_WITHIN_DAYS and the dispatch moments."""
    settings = app.settings
    return AgendaRules(accept_within_days=settings.accept_within_days, dispatch_moments=parse_moments(settings.dispatch_times))


def digest_config(app: App) -> DigestConfig:
    """The morning digest's settings: the coordinator's address, MELDPUNT_DIGEST_TIME, the calendar and the agenda's rules."""
    settings = app.settings
    return DigestConfig(coordinator_email=settings.coordinator_email, domain=settings.mail_domain, at=settings.digest_time,
                        calendar=app.calendar, rules=agenda_rules(app))


def agenda_text(app: App, *, now: datetime, actor: str) -> str:
    """The agenda as text, its view written in the audit log in the same transaction."""
    with app.sessions.begin() as session:
        agenda = build_agenda(session, now=now, calendar=app.calendar, rules=agenda_rules(app), intake=app.workflow.intake)
        record_agenda_view(session, agenda, actor=actor, channel=AuditChannel.CLI, now=now)
    return render("coordinator/agenda.txt.j2", agenda=agenda, describe=describe)


@click.command("vandaag")
@click.pass_context
def vandaag(ctx: click.Context) -> None:
    """Toon wat vandaag op de coördinator wacht, het dringendste eerst, met de regel die elk punt afhandelt."""
    click.echo(agenda_text(app_of(ctx), now=utc_now(), actor=cli_actor()))
