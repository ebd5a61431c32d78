"""`meldpunt site bouwen MAP`: the public website as plain files, to copy to any web host."""

from __future__ import annotations

import os
from pathlib import Path

import click

from meldpunt.cli_common import app_of

TEXTS = "site/cli_messages.txt.j2"


def _say(name: str, /, **context: object) -> str:
    """A sentence of the command (templates/site/cli_messages.txt.j2)."""
    from intake.texts import message

    return message(name, source=TEXTS, **context)


def _check_folder(folder: Path) -> None:
    """Refuse, before anything is read, a folder that is a file or cannot be written (the nearest existing folder counts)."""
    if folder.exists() and not folder.is_dir():
        raise click.ClickException(_say("not_a_folder", folder=folder))
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    if not existing.is_dir():
        raise click.ClickException(_say("not_a_folder", folder=existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise click.ClickException(_say("not_writable", folder=existing))


@click.group("site")
def site() -> None:
    """De publieke website van het Meldpunt: het aanbod, hoe je aanmeldt, de intentieverklaring en de cijfers."""


@site.command("bouwen")
@click.argument("map_", metavar="MAP", type=click.Path(path_type=Path))
@click.option("--telegram", "telegram", default=None, metavar="NAAM",
              help="Gebruikersnaam van de Telegram-bot (zonder @) voor de link op de website; standaard MELDPUNT_TELEGRAM_USERNAME.")
@click.pass_context
def site_bouwen(ctx: click.Context, map_: Path, telegram: str | None) -> None:
    """Bouw de website in MAP: gewone HTML-bestanden, klaar om naar elke webserver te kopiëren."""
    from meldpunt.app import utc_now
    from meldpunt.site_build import build_site

    folder = map_.expanduser().absolute()
    _check_folder(folder)
    try:
        built = build_site(app_of(ctx), folder, now=utc_now(), telegram_username=telegram.lstrip("@") if telegram else None)
    except PermissionError:
        raise click.ClickException(_say("not_writable", folder=folder)) from None
    except (NotADirectoryError, FileExistsError):
        raise click.ClickException(_say("not_a_folder", folder=folder)) from None
    click.echo(_say("built", pages=built.pages, written=built.written, removed=built.removed, folder=folder))
