"""The `meldpunt` command line: serve, chat, staff, referrals, catalogue and database commands.

Every command imports what it needs in its own body: `meldpunt --help` and the read commands must
answer at once, not after loading Telegram, the mail stack and Alembic.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from meldpunt import cli_dutch
from meldpunt.cli_errors import explain, say

if TYPE_CHECKING:
    from intake.lifecycle import Status
    from meldpunt.app import App

cli_dutch.install()
log = logging.getLogger("meldpunt")

# Commands defined in modules of their own, loaded only when run; their line in `meldpunt --help`.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "dispatch": ("meldpunt.cli_dispatch:dispatch", "Verzending naar de aanbieders (standaard woensdag en vrijdag om 9 uur)."),
    "review": ("meldpunt.cli_review:review", "Beslis over aanmeldingen die wachten."),
    "status": ("meldpunt.cli_status:status", "Toon hoe de dienst draait: elk onderdeel, wat wacht, en de volgende verzending (code 1 = alarm)."),
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


def _app(ctx: click.Context) -> App:
    """The App the `main` group made for this command."""
    app: App = ctx.find_root().obj
    return app


def _required(value: str, label: str) -> str:
    """value without surrounding blanks; a Dutch usage error when nothing is left."""
    value = value.strip()
    if not value:
        raise click.UsageError(say("field_empty", label=label))
    return value


def _address(value: str) -> str:
    """A real e-mail address (one @, a domain with a dot, no spaces or controls), lower-case; else a Dutch usage error."""
    from intake.answers import email_address

    address = email_address(value)
    if address is None:
        raise click.UsageError(say("address_invalid", value=value.strip()[:100].encode("unicode_escape").decode("ascii")))
    return address


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


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start de dienst: databank bijwerken, aanbod laden, mail ontvangen, verwerken en versturen."""
    import asyncio

    from bot.telegram_bot import TelegramConfigError
    from intake.texts import message
    from meldpunt.cli_errors import database_shown, is_address_in_use
    from meldpunt.service import serve as run_service
    from meldpunt.startup import StartRefused, lock_instance, sender_notice

    app = _app(ctx)
    try:
        _ = app.telegram_config  # a webhook without a strong secret stops serve before anything listens
    except TelegramConfigError as unsafe:
        raise click.ClickException(str(unsafe)) from None
    unsafe_mail = app.mail_refusal()  # plaintext IMAP or relay beyond this machine: nothing connects
    if unsafe_mail is not None:
        raise click.ClickException(unsafe_mail)
    try:
        notice = sender_notice(app.settings)
        instance = lock_instance(app.settings)  # held until the process ends, before the database is touched
    except StartRefused as refused:
        raise click.ClickException(str(refused)) from None
    if notice is not None and notice[0] == "warning":
        log.warning(notice[1])
    elif notice is not None:
        click.echo(notice[1])
    _ = app.engine  # migrates on first start
    click.echo(message("serve_started", database=database_shown(app.settings), services=len(app.catalogue.services)))
    click.echo(message("serve_channels"))
    try:
        asyncio.run(run_service(app))
    except OSError as error:
        if not is_address_in_use(error):
            raise
        raise click.ClickException(say("port_in_use", listen=app.settings.smtp_listen, setting="MELDPUNT_SMTP_LISTEN")) from None
    if instance is not None:
        instance.release()
    click.echo(message("serve_stopped"))


@main.command()
@click.option("--as", "email", required=True, metavar="E-MAILADRES", help="Je e-mailadres als geregistreerde CLB-medewerker.")
@click.option("--minimal", is_flag=True, help="Geen naam of geboortedatum van de leerling (initialen en geboortejaar).")
@click.option("--details", "reference", default=None, metavar="REFERENTIE", help="Vul de gegevens aan van een aanmelding die daarop wacht.")
@click.pass_context
def chat(ctx: click.Context, email: str, minimal: bool, reference: str | None) -> None:
    """Doe een aanmelding in de terminal (werkt ook met invoer via een pipe)."""
    from bot.terminal import run_chat
    from desk.workflow import DetailsRefused
    from intake.dialogue import Mode
    from intake.texts import message
    from meldpunt.app import utc_now
    from store import staff as staff_repo

    email = _address(email)
    app = _app(ctx)
    with app.sessions() as session:
        staff = staff_repo.get_active_staff(session, email)
        session.expunge_all()
    if staff is None:
        raise click.ClickException(message("not_registered", email=email))
    mode = Mode.MINIMAL if minimal else Mode.FULL
    try:
        code = run_chat(app.workflow, staff, mode=mode, details=reference, clock=utc_now, stdin=sys.stdin, stdout=sys.stdout)
    except DetailsRefused as refused:
        raise click.ClickException(str(refused)) from None
    except KeyboardInterrupt:  # every answer is committed as it is given: say so, instead of "Afgebroken."
        click.echo("\n" + say("chat_interrupted", email=email), err=True)
        ctx.exit(130)
    ctx.exit(code)


@main.group()
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

    email, name, clb = _address(email), _required(name, "De naam (--name)"), _required(clb, "Het CLB (--clb)")
    with _app(ctx).sessions.begin() as session:
        try:
            member = staff_repo.add_staff(session, email=email, name=name, clb=clb, now=utc_now())
        except staff_repo.StaffExists:
            raise click.ClickException(message("staff_exists", email=email)) from None
        audit.record_audit(session, actor=cli_actor(), action="medewerker-toegevoegd", now=utc_now(), detail=f"staff:{member.id}")
        click.echo(message("staff_added", email=member.email, clb=member.clb))


@staff.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Ook verwijderde medewerkers.")
@click.pass_context
def staff_list(ctx: click.Context, include_removed: bool) -> None:
    """Toon de geregistreerde medewerkers."""
    from intake.texts import message, render
    from store import staff as staff_repo

    with _app(ctx).sessions() as session:
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

    email = _required(email, "Het e-mailadres")
    with _app(ctx).sessions.begin() as session:
        if not staff_repo.remove_staff(session, email, now=utc_now()):
            raise click.ClickException(message("staff_unknown", email=email))
        audit.record_audit(session, actor=cli_actor(), action="medewerker-verwijderd", now=utc_now())
        click.echo(message("staff_removed", email=email))


@main.group()
def referrals() -> None:
    """Bekijk aanmeldingen."""


def _status(value: str | None) -> Status | None:
    """The status a person named (Dutch words), or None for all; a Dutch usage error for an unknown one."""
    from intake.lifecycle import Status
    from intake.texts import message
    from store.views import status_named

    if value is None:
        return None
    try:
        return status_named(value)
    except ValueError:
        raise click.BadParameter(message("status_unknown", value=value, allowed=[s.label for s in Status])) from None


@referrals.command("list")
@click.option("--status", "status_value", default=None, help='Enkel aanmeldingen met deze status (bv. "Klaar voor verzending" of "wacht op de coördinator").')
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON, voor scripts.")
@click.pass_context
def referrals_list(ctx: click.Context, status_value: str | None, as_json: bool) -> None:
    """Toon aanmeldingen, nieuwste eerst (zonder gegevens die de leerling identificeren)."""
    import json

    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import referrals as referral_repo
    from store.views import referral_row

    status = _status(status_value)
    with _app(ctx).sessions.begin() as session:
        rows = [referral_row(r) for r in referral_repo.list_referrals(session, status=status)]
        audit.record_audit(session, actor=cli_actor(), action="lijst-gelezen", now=utc_now(), detail=f"{len(rows)} aanmeldingen")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(render("cli/referrals_list.txt.j2", rows=rows) if rows else message("referrals_none"))


@referrals.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@click.pass_context
def referrals_show(ctx: click.Context, reference: str, as_json: bool) -> None:
    """Toon één aanmelding volledig, met haar geschiedenis (wordt gelogd in de audit)."""
    import json

    from intake.eligibility import Outcome
    from intake.lifecycle import Status
    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import referrals as referral_repo
    from store.views import answer_rows, referral_row

    app = _app(ctx)
    with app.sessions.begin() as session:
        referral = referral_repo.get_referral(session, reference.upper())
        if referral is None:
            raise click.ClickException(message("referral_unknown", reference=reference))
        audit.record_audit(session, actor=cli_actor(), action="gelezen", now=utc_now(), referral_id=referral.id)
        history = referral_repo.status_history(session, referral)
        row = referral_row(referral, full=True)
        row["history"] = [
            {"at": c.at.isoformat(), "actor": c.actor, "from": c.from_status.value if c.from_status else None, "to": c.to_status.value, "note": c.note}
            for c in history
        ]
        answers = answer_rows(app.intake.questionnaire, referral.answers)
        text = render("cli/referral_show.txt.j2", row=row, answers=answers, Status=Status, Outcome=Outcome)
    click.echo(json.dumps(row, ensure_ascii=False, indent=2) if as_json else text)


@main.group()
def catalogue() -> None:
    """Het aanbod van de aanbieders."""


@catalogue.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def catalogue_check(ctx: click.Context, path: Path | None) -> None:
    """Controleer het aanbodbestand en toon wat ontbreekt of fout is."""
    from intake.catalogue_loader import check_catalogue

    report = check_catalogue(path or _app(ctx).settings.catalogue_path)
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

    url = _app(ctx).settings.effective_database_url
    upgrade_database(url)
    click.echo(message("db_upgraded", revision=database_revision(url)))


@main.group("mail")
def mail_group() -> None:
    """De mailbox van het Meldpunt."""


@mail_group.command("quarantine")
@click.pass_context
def mail_quarantine(ctx: click.Context) -> None:
    """Toon de mails in quarantaine, met de reden."""
    from intake.texts import message, render
    from store.inbound import quarantined

    with _app(ctx).sessions() as session:
        rows = quarantined(session)
        click.echo(render("cli/quarantine.txt.j2", rows=rows) if rows else message("quarantine_empty"))


@main.group("questions")
def questions_group() -> None:
    """Vragen die aan de coördinator zijn voorgelegd."""


@questions_group.command("list")
@click.pass_context
def questions_list(ctx: click.Context) -> None:
    """Toon de open vragen."""
    from intake.texts import message, render
    from store.questions import open_questions
    from store.views import CHANNEL_LABELS

    with _app(ctx).sessions() as session:
        rows = open_questions(session)
        click.echo(render("cli/questions.txt.j2", rows=rows, channels=CHANNEL_LABELS) if rows else message("questions_none"))


@questions_group.command("answer")
@click.argument("number", type=int)
@click.argument("answer")
@click.pass_context
def questions_answer(ctx: click.Context, number: int, answer: str) -> None:
    """Beantwoord vraag NUMMER; het antwoord gaat per mail naar wie de vraag stelde."""
    import asyncio

    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store.questions import get_question

    app = _app(ctx)
    with app.sessions.begin() as session:
        question = get_question(session, number)
        if question is None or question.answer is not None:
            raise click.ClickException(message("question_unknown", number=number))
        app.processor.relay_answer(session, question, answer=answer, by=cli_actor(), now=utc_now())
        asker = question.asker_email
    asyncio.run(app.outbox.drain())
    click.echo(message("question_answered", number=number, asker=asker))


from meldpunt.cli_catalogue import register_catalogue_commands  # noqa: E402 — light: imports in its commands

register_catalogue_commands(catalogue)
in_dutch(main)
