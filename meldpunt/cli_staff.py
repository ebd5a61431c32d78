"""`meldpunt staff`: the registered CLB staff, added, listed and removed."""

from __future__ import annotations

import click

from meldpunt.cli_common import address, app_of, required


@click.group()
def staff() -> None:
    """Beheer de geregistreerde CLB-medewerkers."""


@staff.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Volledige naam.")
@click.option("--clb", required=True, help="Naam van het CLB.")
@click.pass_context
def staff_add(ctx: click.Context, email: str, name: str, clb: str) -> None:
    """Registreer een CLB-medewerker."""
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import staff as staff_repo

    email, name, clb = address(email), required(name, "De naam (--name)"), required(clb, "Het CLB (--clb)")
    with app_of(ctx).sessions.begin() as session:
        try:
            member = staff_repo.add_staff(session, email=email, name=name, clb=clb, now=utc_now())
        except staff_repo.StaffExists:
            raise click.ClickException(message("staff_exists", email=email)) from None
        audit.record_audit(session, actor=cli_actor(), action=audit.AuditAction.STAFF_ADDED, now=utc_now(), detail=f"staff:{member.id}")
        click.echo(message("staff_added", email=member.email, clb=member.clb))


@staff.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Ook verwijderde medewerkers.")
@click.pass_context
def staff_list(ctx: click.Context, include_removed: bool) -> None:
    """Toon de geregistreerde medewerkers."""
    from intake.texts import message, render
    from store import staff as staff_repo

    with app_of(ctx).sessions() as session:
        members = staff_repo.list_staff(session, include_removed=include_removed)
        click.echo(render("cli/staff_list.txt.j2", members=members) if members else message("staff_none"))


@staff.command("remove")
@click.argument("email")
@click.pass_context
def staff_remove(ctx: click.Context, email: str) -> None:
    """Trek de toegang van een medewerker meteen in."""
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import staff as staff_repo

    email = required(email, "Het e-mailadres")
    with app_of(ctx).sessions.begin() as session:
        if not staff_repo.remove_staff(session, email, now=utc_now()):
            raise click.ClickException(message("staff_unknown", email=email))
        audit.record_audit(session, actor=cli_actor(), action=audit.AuditAction.STAFF_REMOVED, now=utc_now())
        click.echo(message("staff_removed", email=email))
