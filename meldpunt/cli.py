"""The `meldpunt` command line: serve, chat, staff, referrals, catalogue and database commands."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from intake.catalogue_loader import check_catalogue
from intake.dialogue import Mode
from intake.eligibility import Outcome
from intake.lifecycle import Status
from intake.texts import message, render
from meldpunt.actor import cli_actor
from meldpunt.app import App, utc_now
from meldpunt.settings import Settings
from meldpunt.startup import StartRefused, lock_instance, make_private, permission_warnings, sender_notice
from store import audit
from store import referrals as referral_repo
from store import staff as staff_repo
from store.db import database_revision, upgrade_database
from store.views import answer_rows, referral_row


log = logging.getLogger("meldpunt")


def _app(ctx: click.Context) -> App:
    return ctx.ensure_object(App)  # type: ignore[no-any-return]



@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Meldpunt Schoolexterne Interventies: intake-assistent."""
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
    ctx.obj = App(settings)


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start de dienst: databank bijwerken, aanbod laden, mail ontvangen, verwerken en versturen."""
    from bot.telegram_bot import TelegramConfigError
    from meldpunt.service import serve as run_service

    app = _app(ctx)
    try:
        app.telegram_config  # a webhook without a strong secret stops serve before anything listens
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
    app.engine  # migrates on first start
    database = make_url(app.settings.effective_database_url).render_as_string(hide_password=True)
    click.echo(message("serve_started", database=database, services=len(app.catalogue.services)))
    click.echo(message("serve_channels"))
    asyncio.run(run_service(app))
    if instance is not None:
        instance.release()
    click.echo(message("serve_stopped"))


@main.command()
@click.option("--as", "email", required=True, help="Je e-mailadres als geregistreerde CLB-medewerker.")
@click.option("--minimal", is_flag=True, help="Geen naam of geboortedatum van de leerling (initialen en geboortejaar).")
@click.option("--details", "reference", default=None, help="Vul de gegevens aan van een aanmelding die daarop wacht.")
@click.pass_context
def chat(ctx: click.Context, email: str, minimal: bool, reference: str | None) -> None:
    """Doe een aanmelding in de terminal (werkt ook met invoer via een pipe)."""
    from bot.terminal import run_chat
    from store.workflow import DetailsRefused

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
    with _app(ctx).sessions() as session:
        members = staff_repo.list_staff(session, include_removed=include_removed)
        click.echo(render("cli/staff_list.txt.j2", members=members) if members else message("staff_none"))


@staff.command("remove")
@click.argument("email")
@click.pass_context
def staff_remove(ctx: click.Context, email: str) -> None:
    """Trek de toegang van een medewerker meteen in."""
    with _app(ctx).sessions.begin() as session:
        if not staff_repo.remove_staff(session, email, now=utc_now()):
            raise click.ClickException(message("staff_unknown", email=email))
        audit.record_audit(session, actor=cli_actor(), action="medewerker-verwijderd", now=utc_now())
        click.echo(message("staff_removed", email=email))


@main.group()
def referrals() -> None:
    """Bekijk aanmeldingen."""


def _status(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status.parse(value)
    except ValueError:
        raise click.BadParameter(message("status_unknown", value=value, allowed=", ".join(s.value for s in Status))) from None


@referrals.command("list")
@click.option("--status", "status_value", default=None, help="Enkel aanmeldingen met deze status (bv. queued).")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON, voor scripts.")
@click.pass_context
def referrals_list(ctx: click.Context, status_value: str | None, as_json: bool) -> None:
    """Toon aanmeldingen, nieuwste eerst (zonder gegevens die de leerling identificeren)."""
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
    report = check_catalogue(path or _app(ctx).settings.catalogue_path)
    click.echo(report.render())
    ctx.exit(0 if report.ok else 1)


@main.group()
def db() -> None:
    """De databank."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Pas de databankmigraties toe (gebeurt ook vanzelf bij serve en chat)."""
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
    from store.questions import open_questions

    with _app(ctx).sessions() as session:
        rows = open_questions(session)
        click.echo(render("cli/questions.txt.j2", rows=rows) if rows else message("questions_none"))


@questions_group.command("answer")
@click.argument("number", type=int)
@click.argument("answer")
@click.pass_context
def questions_answer(ctx: click.Context, number: int, answer: str) -> None:
    """Beantwoord vraag NUMBER; het antwoord gaat per mail naar wie de vraag stelde."""
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


from meldpunt.cli_dispatch import dispatch  # noqa: E402 — registered after the group exists

main.add_command(dispatch)


from meldpunt.cli_review import review  # noqa: E402

main.add_command(review)


from meldpunt.cli_status import status  # noqa: E402

main.add_command(status)


from meldpunt.cli_catalogue import register_catalogue_commands  # noqa: E402

register_catalogue_commands(catalogue)
