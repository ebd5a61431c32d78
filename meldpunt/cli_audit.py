"""`meldpunt audit`: who saw or changed what, filtered by referral, actor and period, in Brussels time."""

from __future__ import annotations

from datetime import timedelta

import click

from meldpunt.cli_common import app_of, typed_date

_TEXTS = "cli/audit_messages.txt.j2"


@click.command("audit")
@click.option("--referentie", default=None, help="Enkel regels over deze aanmelding (bv. MSI-2026-0042).")
@click.option("--actor", default=None, help="Enkel regels van wie dit in zijn naam of adres heeft (bv. els@clb.be of cli:).")
@click.option("--van", default=None, help="Vanaf deze dag (dd/mm/jjjj, Brusselse tijd).")
@click.option("--tot", default=None, help="Tot en met deze dag (dd/mm/jjjj, Brusselse tijd).")
@click.pass_context
def audit(ctx: click.Context, referentie: str | None, actor: str | None, van: str | None, tot: str | None) -> None:
    """Toon het auditlogboek: wie wanneer welke gegevens zag of wijzigde, waarom en via welk kanaal."""
    from intake.brussels import brussels_midnight
    from intake.texts import message, render
    from store.audit import search_audit

    first, last = typed_date(van, option="--van"), typed_date(tot, option="--tot")
    if first is not None and last is not None and last < first:
        raise click.UsageError(message("bad_period", source=_TEXTS))
    since = brussels_midnight(first) if first is not None else None
    until = brussels_midnight(last + timedelta(days=1)) if last is not None else None
    reference = referentie.strip().upper() if referentie else None
    with app_of(ctx).sessions() as session:
        found = search_audit(session, reference=reference, actor=actor.strip() if actor else None, since=since, until=until)
        rows = [{"at": e.at, "actor": e.actor, "action": e.action, "reference": ref, "detail": e.detail, "channel": e.channel,
                 "purpose": e.purpose} for e, ref in found]
    click.echo(render("cli/audit.txt.j2", rows=rows) if rows else message("none_found", source=_TEXTS))
