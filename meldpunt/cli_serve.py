"""`meldpunt serve` and `meldpunt chat`: the service, and a referral in the terminal."""

from __future__ import annotations

import logging
import sys

import click

from meldpunt.cli_common import address, app_of
from meldpunt.cli_errors import say

log = logging.getLogger("meldpunt")


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start de dienst: databank bijwerken, aanbod laden, mail ontvangen, verwerken en versturen."""
    import asyncio

    from bot.telegram_bot import TelegramConfigError
    from intake.texts import message
    from meldpunt.cli_errors import database_shown, is_address_in_use
    from meldpunt.service import serve as run_service
    from meldpunt.startup import StartRefused, lock_instance, sender_notice, site_refusal

    app = app_of(ctx)
    try:
        _ = app.telegram_config  # a webhook without a strong secret stops serve before anything listens
    except TelegramConfigError as unsafe:
        raise click.ClickException(str(unsafe)) from None
    refusal = app.mail_refusal() or site_refusal(app.settings)  # plaintext IMAP, a relay or the website beyond this machine
    if refusal is not None:
        raise click.ClickException(refusal)
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
    except StartRefused as refused:  # e.g. the website's address in use: said with its own setting
        raise click.ClickException(str(refused)) from None
    except OSError as error:
        if not is_address_in_use(error):
            raise
        raise click.ClickException(say("port_in_use", listen=app.settings.smtp_listen, setting="MELDPUNT_SMTP_LISTEN")) from None
    if instance is not None:
        instance.release()
    click.echo(message("serve_stopped"))


@click.command()
@click.option("--as", "email", required=True, metavar="E-MAILADRES", help="Je e-mailadres als geregistreerde CLB-medewerker.")
@click.option("--minimal", is_flag=True, help="Geen naam of geboortedatum van de leerling (initialen en geboortejaar).")
@click.option("--details", "reference", default=None, metavar="REFERENTIE", help="Vul de gegevens aan van een aanmelding die daarop wacht.")
@click.pass_context
def chat(ctx: click.Context, email: str, minimal: bool, reference: str | None) -> None:
    """Doe een aanmelding in de terminal (werkt ook met invoer via een pipe)."""
    from bot.terminal import run_chat
    from desk.workflow import DetailsRefused
    from intake.texts import message
    from intake.vocabulary import Mode
    from meldpunt.app import utc_now
    from store import staff as staff_repo

    email = address(email)
    app = app_of(ctx)
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
