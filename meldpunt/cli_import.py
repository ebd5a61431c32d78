"""`meldpunt import`: overviews of providers read into the figures; `groene-zorg` reads Groene Zorg's yearly overview."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from meldpunt.cli_common import app_of

if TYPE_CHECKING:
    from intake.catalogue import Catalogue
    from intake.groene_zorg import Problem

_TEXTS = "cli/import_messages.txt.j2"
GROENE_ZORG_ORGANIZATION = "groene-zorg"
_SHOWN_CHARS = 60  # of a wrong value in a message: enough to find it in the file


def _say(name: str, **context: object) -> str:
    """A message of the import."""
    from intake.texts import message

    return message(name, source=_TEXTS, **context)


def _fail(text: str) -> NoReturn:
    """Print why nothing was imported and end with exit code 1."""
    click.echo(text, err=True)
    raise click.exceptions.Exit(1)


def shown(value: str | None) -> str | None:
    """A value from the file as a message shows it: printable, and cut short."""
    if value is None:
        return None
    printable = "".join(c if c.isprintable() else "?" for c in value[:_SHOWN_CHARS])
    return printable + ("…" if len(value) > _SHOWN_CHARS else "")


def groene_zorg_service(catalogue: Catalogue) -> str | None:
    """The id of the catalogue's one Groene Zorg service; None when there is none, or more than one to choose from."""
    found = [service.id for service in catalogue.services if service.organization_id == GROENE_ZORG_ORGANIZATION]
    return found[0] if len(found) == 1 else None


def problems_text(problems: list[Problem]) -> str:
    """Every problem on its own line, file order, and what to do."""
    from dataclasses import replace

    from intake.groene_zorg_cells import Kind

    lines = [_say("problem", p=replace(p, value=shown(p.value), column=shown(p.column))) for p in problems]
    if any(p.kind is Kind.IDENTIFYING_COLUMN for p in problems):
        return "\n".join([*lines, "", _say("refused_identifying")])
    return "\n".join([*lines, "", _say("nothing_imported", count=len(problems))])


@click.group("import")
def import_group() -> None:
    """Lees overzichten van aanbieders in de cijfers (bv. het jaaroverzicht van Groene Zorg)."""


@import_group.command("groene-zorg")
@click.argument("bestand", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def groene_zorg(ctx: click.Context, bestand: Path) -> None:
    """Lees het jaaroverzicht van Groene Zorg (CSV of XLSX, zonder namen) in de cijfers; opnieuw inlezen verandert niets."""
    from intake.groene_zorg import MAX_COLUMNS, MAX_FILE_BYTES, read_overview
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from meldpunt.import_sheets import SheetError, sheet_rows
    from store.groene_zorg import import_trajectories

    if bestand.stat().st_size > MAX_FILE_BYTES:
        _fail(_say("too_large", limit=f"{MAX_FILE_BYTES // (1024 * 1024)} MB"))
    try:
        overview = read_overview(sheet_rows(bestand.read_bytes(), max_columns=MAX_COLUMNS))
    except SheetError as error:
        _fail(_say(error.reason, row=error.row) if error.reason == "unreadable" else _say(error.reason))
    if overview.problems:
        _fail(problems_text(overview.problems))
    app = app_of(ctx)
    service_id = groene_zorg_service(app.catalogue)
    if service_id is None:
        _fail(_say("no_service"))
    with app.sessions.begin() as session:
        result = import_trajectories(session, overview.trajectories, service_id=service_id, actor=cli_actor(), now=utc_now())
    click.echo(_say("done", result=result, ignored=[shown(name) for name in overview.ignored_columns]))
