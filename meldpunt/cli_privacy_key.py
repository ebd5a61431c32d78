"""`meldpunt privacy sleutel`: make the key file of a new install, or rotate the key (re-encrypt everything under a new one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from meldpunt.cli_common import app_of

TEXTS = "cli/privacy_key.txt.j2"


def say(name: str, /, **context: Any) -> str:
    """A text of these commands (templates/cli/privacy_key.txt.j2)."""
    from intake.texts import message

    return message(name, source=TEXTS, **context)


@click.group("sleutel")
def key() -> None:
    """De sleutel van de versleutelde gegevens: maken of vervangen."""


@key.command("maak")
@click.option("--naar", "target", type=click.Path(path_type=Path), help="Het sleutelbestand; standaard MELDPUNT_ENCRYPTION_KEY_FILE of var/meldpunt.key.")
@click.pass_context
def key_make(ctx: click.Context, target: Path | None) -> None:
    """Schrijf een nieuwe sleutel naar een nieuw bestand (0600); een bestaand bestand blijft ongemoeid."""
    from store.encryption import new_key, write_key_file

    path = target or app_of(ctx).settings.effective_key_file
    try:
        write_key_file(path, [new_key()])
    except FileExistsError:
        raise click.ClickException(say("key_exists", path=str(path))) from None
    click.echo(say("key_made", path=str(path)))


@key.command("roteer")
@click.option("--naar", "target", type=click.Path(path_type=Path), help="Waar de nieuwe sleutel komt; standaard het huidige sleutelbestand.")
@click.pass_context
def key_rotate(ctx: click.Context, target: Path | None) -> None:
    """Versleutel alles opnieuw onder een nieuwe sleutel; de huidige (oude) sleutel blijft werken tot het klaar is."""
    from store.db import fold_wal
    from store.encryption import new_key, replace_key_file, rewrite_all, rotate, use_keys

    app = app_of(ctx)
    from_setting = app.settings.encryption_key is not None
    if from_setting and target is None:
        raise click.ClickException(say("key_target_needed"))
    path = target or app.settings.effective_key_file
    engine = app.engine  # opens with the old key(s) and checks they fit
    old, new = app.settings.encryption_keys(), new_key()
    keys = [new, *old]
    replace_key_file(path, keys)  # both first: a crash midway leaves every value readable
    use_keys(keys)
    with engine.begin() as connection:
        count = rewrite_all(connection, rotate)
    fold_wal(engine)
    replace_key_file(path, [new])
    use_keys([new])
    click.echo(say("key_rotated", path=str(path), count=count))
    if from_setting or target is not None:
        click.echo(say("key_rotated_setting", path=str(path)))
    click.echo(say("key_backup"))
