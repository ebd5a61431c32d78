"""The `meldpunt` command line: the main group, the catalogue and database commands; the others live in cli_* modules.

Every command imports what it needs in its own body: `meldpunt --help` and the read commands must
answer at once, not after loading Telegram, the mail stack and Alembic.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

import click

from meldpunt import cli_dutch
from meldpunt.cli_common import app_of
from meldpunt.cli_errors import explain, say

cli_dutch.install()
log = logging.getLogger("meldpunt")

# Commands defined in modules of their own, loaded only when run; their line in `meldpunt --help`.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("meldpunt.cli_audit:audit", "Toon het auditlogboek: wie wanneer welke gegevens zag of wijzigde, waarom en via welk kanaal."),
    "bevraging": ("meldpunt.cli_bevraging:bevraging", "De jaarlijkse bevraging over leerlingen jonger dan 12: starten en de stand bekijken."),
    "dispatch": ("meldpunt.cli_dispatch:dispatch", "Verzending naar de aanbieders (standaard woensdag en vrijdag om 9 uur)."),
    "import": ("meldpunt.cli_import:import_group", "Lees overzichten van aanbieders in de cijfers (bv. het jaaroverzicht van Groene Zorg)."),
    "intentieverklaring": ("meldpunt.cli_intentieverklaring:intentieverklaring", "Wie ondertekende de intentieverklaring: noteren, intrekken en tonen."),
    "privacy": ("meldpunt.cli_privacy:privacy", "Privacy: bewaartermijnen toepassen, inzage geven en wissen op verzoek."),
    "rapport": ("meldpunt.cli_rapport:rapport", "Maak het cijferrapport van een periode: tabellen in de terminal, of CSV, XLSX, HTML of JSON; of mail het."),
    "review": ("meldpunt.cli_review:review", "Beslis over aanmeldingen die wachten."),
    "site": ("meldpunt.cli_site:site", "Bouw de publieke website: het aanbod, hoe je aanmeldt, de intentieverklaring en de cijfers."),
    "status": ("meldpunt.cli_status:status", "Toon hoe de dienst draait: elk onderdeel, wat wacht, en de volgende verzending (code 1 = alarm)."),
    "vandaag": ("meldpunt.cli_vandaag:vandaag", "Toon wat vandaag op de coördinator wacht, het dringendste eerst, met de regel die elk punt afhandelt."),
    "week": ("meldpunt.cli_week:week", "Toon de verzendingen van de komende zeven dagen: wat meegaat, wat wacht, en de regel om het te veranderen."),
}
# Only these make a new database; every other command says where it looked when there is none.
CREATES_DATABASE = frozenset({"serve", "db"})
# Dutch names for what a person types, where a parameter does not give its own.
METAVARS: dict[str, str] = {
    "email": "E-MAILADRES", "reference": "REFERENTIE", "number": "NUMMER", "answer": "ANTWOORD", "name": "NAAM",
    "clb": "CLB", "reason": "REDEN", "reden": "REDEN", "service": "DIENST", "service_id": "DIENST", "path": "BESTAND",
    "status_value": "STATUS", "lines": "REGEL", "vraag": "VRAAG", "waarde": "WAARDE",
}
TYPE_METAVARS = {"text": "TEKST", "integer": "GETAL", "float": "GETAL", "path": "BESTAND"}
FIGURES_TEXTS = "cli/figures.txt.j2"
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["--help", "-h"]}


def in_dutch(command: click.Command) -> click.Command:
    """Dutch placeholders in command's usage (and its subcommands'), and its whole description in command lists.

    Click cuts a description at the terminal width ("Keur een aanmelding goed: ze gaat mee met de
    volgende..."); a short_help of the whole first sentence is wrapped instead.
    """
    command.short_help = command.get_short_help_str(limit=1000)
    command.options_metavar = "[OPTIES]"
    for param in command.params:
        if param.metavar is not None or getattr(param, "is_flag", False) or param.name == "help":
            continue
        word = METAVARS.get(param.name or "") or TYPE_METAVARS.get(param.type.name, (param.name or "").upper())
        if isinstance(param, click.Argument):
            word = word if param.required else f"[{word}]"
            word += "..." if param.nargs != 1 else ""
        param.metavar = word
    if isinstance(command, click.Group):
        command.subcommand_metavar = "[OPDRACHT] [ARGUMENTEN]..." if command.invoke_without_command else "OPDRACHT [ARGUMENTEN]..."
        for sub in command.commands.values():
            in_dutch(sub)
    return command


class DutchGroup(click.Group):
    """A group that lists its commands with their whole description, and loads lazy ones when run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The group's own commands and, for `main`, the lazy ones."""
        return sorted({*self.commands, *(LAZY_COMMANDS if self.name == "main" else ())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A command of the group, importing a lazy one's module only now."""
        if cmd_name in self.commands or self.name != "main" or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = LAZY_COMMANDS[cmd_name][0].partition(":")
        command = in_dutch(getattr(importlib.import_module(module_name), attribute))
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """One line per command; a lazy one is described from LAZY_COMMANDS, without importing it."""
        rows = [(name, command.get_short_help_str()) for name, command in sorted(self.commands.items()) if not command.hidden]
        if self.name == "main":
            rows = sorted(rows + [(name, entry[1]) for name, entry in LAZY_COMMANDS.items() if name not in self.commands])
        if rows:
            with formatter.section(cli_dutch.dutch("Commands")):
                formatter.write_dl(rows)


class MeldpuntGroup(DutchGroup):
    """The top group: a failure a person can fix becomes one Dutch sentence and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; known failures are explained, unknown ones named without their traceback."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:
            settings = ctx.obj.settings if ctx.obj is not None else None
            sentence = explain(error, settings)
            if sentence is None:
                log.debug("onverwachte fout", exc_info=True)  # MELDPUNT_LOG_LEVEL=DEBUG shows where
                sentence = say("unexpected", kind=type(error).__name__)
            raise click.ClickException(sentence) from None


@click.group(cls=MeldpuntGroup, context_settings=CONTEXT_SETTINGS)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Meldpunt Schoolexterne Interventies: intake-assistent.

    De databank is standaard var/meldpunt.db in de map waar je het commando start (MELDPUNT_VAR_DIR
    kiest een andere map, MELDPUNT_DATABASE_URL een andere databank). Enkel 'meldpunt serve' en
    'meldpunt db upgrade' maken een nieuwe databank. Instellingen: omgevingsvariabelen MELDPUNT_*
    of het bestand meldpunt.env.
    """
    from meldpunt.app import App
    from meldpunt.settings import Settings
    from meldpunt.startup import make_private, permission_warnings

    # Before anything is created: the database, its WAL, var/, the Maildir and exports hold minors' data.
    previous_umask = make_private()
    ctx.call_on_close(lambda: os.umask(previous_umask))  # an in-process caller (a test) gets its own back
    settings = Settings()
    # The service logs its work; a command a person types only shows problems.
    level = settings.log_level or ("INFO" if ctx.invoked_subcommand == "serve" else "WARNING")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic reports every migration check at INFO; only problems matter on the command line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosmtpd logs every envelope address and command at INFO: personal data, so only problems.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # flufl.bounce logs each of its ~40 detectors per scanned mail at INFO.
    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    for warning in permission_warnings(settings):
        log.warning(warning)
    ctx.obj = App(settings, create_database=ctx.invoked_subcommand in CREATES_DATABASE)


@main.group()
def catalogue() -> None:
    """Het aanbod van de aanbieders."""


@catalogue.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def catalogue_check(ctx: click.Context, path: Path | None) -> None:
    """Controleer het aanbodbestand en toon wat ontbreekt of fout is."""
    from intake.catalogue_loader import check_catalogue

    report = check_catalogue(path or app_of(ctx).settings.catalogue_path)
    click.echo(report.render())
    ctx.exit(0 if report.ok else 1)


@main.group()
def db() -> None:
    """De databank."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Maak de databank of pas haar migraties toe (gebeurt ook vanzelf bij serve)."""
    from intake.texts import message
    from store.db import database_revision, upgrade_database
    from store.encryption import use_keys

    settings = app_of(ctx).settings
    use_keys(settings.encryption_keys())  # made on a fresh install; migration 0011 encrypts the rows already there
    url = settings.effective_database_url
    upgrade_database(url)
    click.echo(message("db_upgraded", revision=database_revision(url)))
    backfill_figures(ctx)


def backfill_figures(ctx: click.Context) -> None:
    """Give referrals from before the figures table their row (it needs the keys the migration lacks), with progress."""
    from intake.texts import message
    from meldpunt.app import utc_now
    from store import figures

    def progress(done: int, total: int) -> None:
        click.echo(message("backfill_progress", source=FIGURES_TEXTS, done=done, total=total))

    with app_of(ctx).sessions.begin() as session:  # the engine configures the pupil-key secret, made on a fresh install
        figures.backfill_figures(session, utc_now(), progress=progress)  # silent when every referral has its row


# Light modules: each command imports what it needs in its own body.
from meldpunt.cli_catalogue import register_catalogue_commands  # noqa: E402
from meldpunt.cli_mailbox import mail_group, questions_group  # noqa: E402
from meldpunt.cli_referrals import referrals  # noqa: E402
from meldpunt.cli_serve import chat, serve  # noqa: E402
from meldpunt.cli_staff import staff  # noqa: E402

for command in (serve, chat, staff, referrals, mail_group, questions_group):
    main.add_command(command)
register_catalogue_commands(catalogue)
in_dutch(main)
