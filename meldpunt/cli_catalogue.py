"""`meldpunt catalogue changes|approve|reject|history`: the coordinator decides on providers' offer updates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from meldpunt.cli_common import app_of

# The heavy parts are imported in the commands: `meldpunt --help` loads this module and must answer at once.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from intake.catalogue import Catalogue
    from meldpunt.app import App
    from store.dispatch_models import CatalogueChange



def _say(name: str, **context: Any) -> str:
    """A short text of these commands."""
    from desk.catalogue_changes import MESSAGES
    from intake.texts import message

    return message(name, source=MESSAGES, **context)


def _when(moment: datetime | None) -> str:
    """A moment as the coordinator reads it: Brussels time, or nothing when there is none."""
    from intake.texts import brussels_time

    return brussels_time(moment) if moment else ""


def _status_text(change: CatalogueChange) -> str:
    """A change's status in the coordinator's words."""
    from store.dispatch_models import ChangeStatus

    return {ChangeStatus.PENDING: "wacht", ChangeStatus.APPROVED: "goedgekeurd", ChangeStatus.REJECTED: "geweigerd"}[change.status]


def _row(change: CatalogueChange, catalogue: Catalogue) -> dict[str, Any]:
    """The template's view of one change."""
    from intake.offer_form import change_rows

    service = catalogue.service(change.service_id)
    return {
        "number": change.id, "service_id": change.service_id, "service": service.name if service else "(niet meer in het aanbod)",
        "by": change.submitted_by, "at": _when(change.submitted_at), "status": _status_text(change),
        "decided_by": change.decided_by, "decided_at": _when(change.decided_at), "note": change.note,
        "rows": change_rows(change.old, change.new),
    }


def _effective(app: App, session: Session) -> Catalogue:
    """The catalogue as it is now: the file, with the approved changes of this very moment."""
    from desk import catalogue_changes as changes_repo
    from intake.catalogue_loader import load_catalogue

    return changes_repo.apply_approved(session, load_catalogue(app.settings.catalogue_path))


def changes_command(ctx: click.Context) -> None:
    """Toon de wijzigingen aan het aanbod die op goedkeuring wachten."""
    from desk import catalogue_changes as changes_repo
    from intake.texts import render

    app = app_of(ctx)
    with app.sessions() as session:
        catalogue = _effective(app, session)
        rows = [_row(c, catalogue) for c in changes_repo.pending(session)]
    click.echo(render("cli/catalogue_changes.txt.j2", rows=rows) if rows else _say("changes_none"))


def approve_command(ctx: click.Context, number: int) -> None:
    """Keur wijziging NUMMER goed: ze komt in het aanbod en de aanbieder krijgt een bericht."""
    import asyncio

    from desk import catalogue_changes as changes_repo
    from intake.catalogue_loader import load_catalogue
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    app, now = app_of(ctx), utc_now()
    with app.sessions.begin() as session:
        try:
            name = changes_repo.approve_and_tell(session, number, by=cli_actor(), catalogue=load_catalogue(app.settings.catalogue_path),
                                                 domain=app.settings.mail_domain, now=now)
        except changes_repo.ChangeRefused as refused:
            raise click.ClickException(str(refused)) from None
    asyncio.run(app.outbox.drain())
    click.echo(_say("change_approved", number=number, service=name))


def reject_command(ctx: click.Context, number: int, reason: str) -> None:
    """Weiger wijziging NUMMER; de aanbieder krijgt de reden te lezen."""
    import asyncio

    from desk import catalogue_changes as changes_repo
    from intake.catalogue_loader import load_catalogue
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    if not reason.strip():
        raise click.ClickException(_say("reason_empty"))
    app, now = app_of(ctx), utc_now()
    with app.sessions.begin() as session:
        try:
            name = changes_repo.reject_and_tell(session, number, by=cli_actor(), reason=reason, catalogue=load_catalogue(app.settings.catalogue_path),
                                                domain=app.settings.mail_domain, now=now)
        except changes_repo.ChangeRefused as refused:
            raise click.ClickException(str(refused)) from None
    asyncio.run(app.outbox.drain())
    click.echo(_say("change_rejected", number=number, service=name))


def history_command(ctx: click.Context, service_id: str | None) -> None:
    """Toon alle wijzigingen aan het aanbod, nieuwste eerst (wie, wanneer, oud en nieuw)."""
    from desk import catalogue_changes as changes_repo
    from intake.texts import render

    app = app_of(ctx)
    with app.sessions() as session:
        catalogue = _effective(app, session)
        rows = [_row(c, catalogue) for c in changes_repo.history(session, service_id)]
    click.echo(render("cli/catalogue_history.txt.j2", rows=rows) if rows else _say("history_none"))


def register_catalogue_commands(group: click.Group) -> None:
    """Add the change commands to the existing `catalogue` group."""
    group.command("changes")(click.pass_context(changes_command))
    approve = click.argument("number", type=int)(click.pass_context(approve_command))
    group.command("approve")(approve)
    reject = click.option("--reden", "reason", required=True, help="Waarom; de aanbieder krijgt dit te lezen.")(
        click.argument("number", type=int)(click.pass_context(reject_command)))
    group.command("reject")(reject)
    group.command("history")(click.argument("service_id", metavar="[DIENST]", required=False)(click.pass_context(history_command)))
