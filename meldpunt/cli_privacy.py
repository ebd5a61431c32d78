"""`meldpunt privacy`: the coordinator's privacy commands; `opschonen` runs the retention purge, `inzage` and `wissen` a data subject's request."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from meldpunt.cli_common import app_of, required, typed_date

RIGHTS = "cli/privacy_rights.txt.j2"

if TYPE_CHECKING:

    from desk.privacy_rights import PrivacyRights
    from desk.retention import Retention
    from intake.clock import Clock
    from meldpunt.app import App


def build_retention(app: App, *, clock: Clock) -> Retention:
    """The purge use case with this service's database, retention table and mail domain."""
    from desk.retention import Retention
    from intake.questionnaire import load_questionnaire

    return Retention(app.sessions, periods=app.settings.retention, questionnaire=load_questionnaire(),
                     domain=app.settings.mail_domain, clock=clock)


def build_rights(app: App, *, clock: Clock) -> PrivacyRights:
    """The data subject's rights with this service's database and retention's pseudonymising."""
    from desk.privacy_rights import PrivacyRights
    from intake.questionnaire import load_questionnaire

    return PrivacyRights(app.sessions, retention=build_retention(app, clock=clock), questionnaire=load_questionnaire(),
                         domain=app.settings.mail_domain, clock=clock)


def _sure(question: str) -> bool:
    """Ask question; only "ja" (or "j") goes on, anything else, Enter included, does not."""
    answer: str = click.prompt(f"{question} (ja/nee)", default="nee", show_default=False)
    return answer.strip().casefold() in {"j", "ja"}


@click.group()
def privacy() -> None:
    """Privacy: bewaartermijnen toepassen, inzage geven en wissen op verzoek."""


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


@privacy.command("inzage")
@click.argument("referentie", required=False)
@click.option("--naam", help="Voornaam en achternaam van de leerling (met --geboortedatum, in plaats van een referentie).")
@click.option("--geboortedatum", help="Geboortedatum van de leerling als dd/mm/jjjj.")
@click.option("--reden", required=True, help="Waarom (het verzoek): komt in het auditlogboek.")
@click.option("--map", "folder", type=click.Path(path_type=Path), help="Waar de map met de inzage komt (standaard var/inzage).")
@click.pass_context
def privacy_export(ctx: click.Context, referentie: str | None, naam: str | None, geboortedatum: str | None, reden: str,
                   folder: Path | None) -> None:
    """Zet alles wat over een leerling bewaard is in een leesbaar bestand (HTML) en een gegevensbestand (JSON)."""
    from desk.privacy_rights import PupilNotFound
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    if (referentie is None) == (naam is None) or (naam is None) != (geboortedatum is None):
        raise click.UsageError(message("which", source=RIGHTS))
    app, now = app_of(ctx), utc_now()
    try:
        result = build_rights(app, clock=lambda: now).export(
            reference=referentie, name=naam, birth_date=typed_date(geboortedatum, option="--geboortedatum"), reason=required(reden, "--reden"),
            actor=cli_actor(), folder=folder or app.settings.var_dir / "inzage")
    except PupilNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(message("exported", source=RIGHTS, result=result))


@privacy.command("wissen")
@click.argument("referentie")
@click.option("--reden", required=True, help="Waarom (het verzoek): komt in het auditlogboek.")
@click.option("--ja", is_flag=True, help="Niet meer vragen of je zeker bent.")
@click.pass_context
def privacy_erase(ctx: click.Context, referentie: str, reden: str, ja: bool) -> None:
    """Wis of pseudonimiseer alles over de leerling van een aanmelding, en vraag de aanbieders hetzelfde te doen."""
    from desk.privacy_rights import PupilNotFound
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    reason = required(reden, "--reden")
    if not ja and not _sure(message("confirm", source=RIGHTS, reference=referentie)):
        click.echo(message("cancelled", source=RIGHTS))
        return
    now = utc_now()
    try:
        result = build_rights(app_of(ctx), clock=lambda: now).erase(referentie, reason=reason, actor=cli_actor())
    except PupilNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(message("erased", source=RIGHTS, result=result))


def _add_key_commands() -> None:
    """`privacy sleutel …` lives in its own module (meldpunt/cli_privacy_key.py)."""
    from meldpunt.cli_privacy_key import key

    privacy.add_command(key)


_add_key_commands()
