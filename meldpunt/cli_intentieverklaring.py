"""`meldpunt intentieverklaring teken|lijst|intrekken`: the coordinator records who signed the joint declaration of intent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meldpunt.cli_common import app_of, typed_date

if TYPE_CHECKING:
    from intake.declaration import PartnerKind, Signature

MESSAGES = "cli/declaration_messages.txt.j2"
F = TypeVar("F", bound=Callable[..., Any])


def _partner(aanbieder: str | None, clb: str | None, scholengemeenschap: str | None) -> tuple[PartnerKind, str]:
    """The one partner the options name, and its kind; a Dutch usage error for none or several."""
    from intake.declaration import PartnerKind
    from intake.texts import message

    given = [(kind, value) for kind, value in ((PartnerKind.PROVIDER, aanbieder), (PartnerKind.CLB, clb),
                                               (PartnerKind.SCHOOL_COMMUNITY, scholengemeenschap)) if value is not None]
    if len(given) != 1:
        raise click.UsageError(message("choose_one", source=MESSAGES))
    return given[0]


def partner_options(command: F) -> F:
    """The three ways to name a partner, shared by `teken` and `intrekken`."""
    for option in reversed((
        click.option("--aanbieder", metavar="NAAM_OF_KENMERK", default=None,
                     help="Een aanbieder uit het aanbod, met zijn naam (bv. Arktos) of kenmerk (bv. groep-intro)."),
        click.option("--clb", metavar="NAAM", default=None, help="Een CLB, met zijn volledige naam."),
        click.option("--scholengemeenschap", metavar="NAAM", default=None,
                     help="Een scholengemeenschap (de scholen tekenen via hun scholengemeenschap), met haar volledige naam."),
    )):
        command = option(command)
    return command


def _change(ctx: click.Context, said: str, change: Callable[..., Signature]) -> None:
    """Sign or withdraw in one transaction as this account, through the command line; the Dutch line, or its refusal."""
    from desk import declaration
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from store.audit import AuditChannel

    catalogue = app_of(ctx).catalogue  # read before the write transaction opens: it uses a session of its own
    with app_of(ctx).sessions.begin() as session:
        try:
            signature = change(declaration, session, catalogue, cli_actor(), AuditChannel.CLI)
        except declaration.DeclarationRefused as refused:
            raise click.ClickException(str(refused)) from None
    click.echo(message(said, source=MESSAGES, who=declaration.shown(signature), on=signature.signed_on))


@click.group("intentieverklaring")
def intentieverklaring() -> None:
    """Wie ondertekende de gezamenlijke intentieverklaring: noteren, intrekken en tonen (ook wie nog niet tekende)."""


@intentieverklaring.command("teken")
@partner_options
@click.option("--datum", metavar="DD/MM/JJJJ", default=None, help="De dag waarop de partner ondertekende (standaard vandaag).")
@click.pass_context
def teken(ctx: click.Context, aanbieder: str | None, clb: str | None, scholengemeenschap: str | None, datum: str | None) -> None:
    """Noteer dat een partner de intentieverklaring ondertekende (niet in de toekomst, niet vóór 01/11/2017)."""
    from intake.brussels import BRUSSELS
    from meldpunt.app import utc_now

    kind, named = _partner(aanbieder, clb, scholengemeenschap)
    now = utc_now()
    signed_on = typed_date(datum, option="--datum") or now.astimezone(BRUSSELS).date()
    _change(ctx, "signed", lambda declaration, session, catalogue, by, channel: declaration.sign(
        session, kind=kind, name=named, signed_on=signed_on, by=by, now=now, catalogue=catalogue, channel=channel))


@intentieverklaring.command("intrekken")
@partner_options
@click.pass_context
def intrekken(ctx: click.Context, aanbieder: str | None, clb: str | None, scholengemeenschap: str | None) -> None:
    """Trek de handtekening van een partner in; ze blijft bewaard, maar telt niet meer mee."""
    from meldpunt.app import utc_now

    kind, named = _partner(aanbieder, clb, scholengemeenschap)
    now = utc_now()
    _change(ctx, "withdrawn", lambda declaration, session, catalogue, by, channel: declaration.withdraw(
        session, kind=kind, name=named, by=by, now=now, catalogue=catalogue, channel=channel))


@intentieverklaring.command("lijst")
@click.pass_context
def lijst(ctx: click.Context) -> None:
    """Toon per soort partner wie de intentieverklaring ondertekende en wanneer, en welke aanbieders nog niet."""
    from desk import declaration
    from intake.declaration import PartnerKind
    from intake.texts import render

    catalogue = app_of(ctx).catalogue
    with app_of(ctx).sessions() as session:
        overview = declaration.overview(session, catalogue=catalogue)
    groups = [(kind, [s for s in overview.signed if s.kind is kind]) for kind in PartnerKind]
    click.echo(render("cli/declaration.txt.j2", groups=groups, unsigned=overview.unsigned))
