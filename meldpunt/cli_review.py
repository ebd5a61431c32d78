"""`meldpunt review`: the coordinator lists waiting referrals and decides, or records a provider's phone call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from intake.actions import Action, Verb
from intake.texts import message
from meldpunt.actor import cli_actor
from meldpunt.app import utc_now
from meldpunt.cli_common import app_of

if TYPE_CHECKING:
    from desk.decisions import Decision
    from intake.agenda_lines import AgendaLine

_TEXTS = "cli/review.txt.j2"



@click.group(invoke_without_command=True)
@click.pass_context
def review(ctx: click.Context) -> None:
    """Beslis over aanmeldingen die wachten."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(review_list)


@review.command("list")
@click.pass_context
def review_list(ctx: click.Context) -> None:
    """Toon de aanmeldingen die op de coördinator wachten, de dringendste eerst (zonder namen van leerlingen)."""
    from desk.review_rows import review_row
    from intake.texts import render
    from store import audit
    from store.referrals import waiting_for_coordinator

    with app_of(ctx).sessions.begin() as session:
        rows = [review_row(session, r) for r in waiting_for_coordinator(session)]
        audit.record_audit(session, actor=cli_actor(), action=audit.AuditAction.LIST_READ, now=utc_now(), detail=f"review: {len(rows)} aanmeldingen",
                           channel=audit.AuditChannel.CLI, purpose=audit.AuditPurpose.REVIEW)
    click.echo(render("cli/review_list.txt.j2", rows=rows) if rows else message("none_waiting", source=_TEXTS))


@review.command("approve")
@click.argument("reference")
@click.pass_context
def review_approve(ctx: click.Context, reference: str) -> None:
    """Keur een aanmelding goed: ze gaat mee met de volgende verzending."""
    _decide(ctx, [_action(reference, Verb.APPROVE, "goedkeuren")])


@review.command("hold")
@click.argument("reference")
@click.option("--reden", required=True, help="Waarom de aanmelding wacht (komt in de geschiedenis en bij de aanmelder).")
@click.pass_context
def review_hold(ctx: click.Context, reference: str, reden: str) -> None:
    """Houd een aanmelding tegen: ze gaat niet mee met de verzending."""
    _decide(ctx, [_action(reference, Verb.HOLD, f"vasthouden - {reden}", note=reden)])


@review.command("decline")
@click.argument("reference")
@click.option("--reden", required=True, help="Waarom de aanmelding geweigerd wordt (de aanmelder krijgt die te lezen).")
@click.pass_context
def review_decline(ctx: click.Context, reference: str, reden: str) -> None:
    """Weiger een aanmelding."""
    _decide(ctx, [_action(reference, Verb.DECLINE, f"weigeren - {reden}", note=reden)])


@review.command("redirect")
@click.argument("reference")
@click.argument("service")
@click.pass_context
def review_redirect(ctx: click.Context, reference: str, service: str) -> None:
    """Verwijs een aanmelding door naar een ander aanbod (kenmerk of naam uit de catalogus)."""
    _decide(ctx, [_action(reference, Verb.REDIRECT, f"doorverwijzen naar {service}", target=service)])


@review.command("correct")
@click.argument("reference")
@click.argument("vraag")
@click.argument("waarde")
@click.pass_context
def review_correct(ctx: click.Context, reference: str, vraag: str, waarde: str) -> None:
    """Corrigeer één antwoord (vraag: kenmerk of label), vóór de verzending; de ontvankelijkheid wordt herberekend."""
    _decide(ctx, [_action(reference, Verb.CORRECT, f"corrigeer {vraag} = ...", target=vraag, value=waarde)])


@review.command("record")
@click.argument("lines", nargs=-1)
@click.pass_context
def review_record(ctx: click.Context, lines: tuple[str, ...]) -> None:
    """Noteer wat een aanbieder meldde (bv. telefonisch): "MSI-2026-0042: gestart", één regel per argument.

    Ook de regels van je overzicht: "Vraag #12: antwoord", "Aanbod #3: goedkeuren", "Quarantaine #5: afgehandeld", "Mail #9: opnieuw".
    """
    from desk import agenda_lines
    from intake.workhours import local_day

    today = local_day(utc_now())
    actions: list[Action] = []
    agenda: list[AgendaLine] = []
    refused: list[str] = []
    unreferenced = 0
    for line in lines:
        read = agenda_lines.read_lines(line, today=today)
        actions += read.actions
        agenda += read.agenda
        refused += [message("not_understood", source=_TEXTS, line=p.line, reason=p.reason) for p in read.problems]
        if read.empty:  # an argument is a line: one without a reference is not dropped unseen
            unreferenced += 1
            refused.append(message("no_reference", source=_TEXTS, line=" ".join(line.split())[:300]))
    if unreferenced == len(lines):
        raise click.UsageError(message("no_lines", source=_TEXTS))
    for text in refused:
        click.echo(text)
    _decide(ctx, actions, refused=len(refused), agenda=agenda)


def _action(reference: str, verb: Verb, rest: str, **details: Any) -> Action:
    """An action as if the line had been written; the written line leaves out a corrected value."""
    reference = reference.strip().upper()
    return Action(reference=reference, verb=verb, line=f"{reference}: {rest}", **details)


def _decide(ctx: click.Context, actions: list[Action], *, refused: int = 0, agenda: list[AgendaLine] | None = None) -> None:
    """Apply as the coordinator (desk/agenda_lines.py), print each result, send the mails; exit 1 if anything was refused.

    `refused` counts the lines refused before applying (not understood): the count includes them.
    """
    import asyncio

    from sqlalchemy.orm.exc import StaleDataError

    from desk import agenda_lines

    app = app_of(ctx)
    call = agenda_lines.LineCall(
        actor=cli_actor(), intake=app.intake, domain=app.settings.mail_domain, now=utc_now(), calendar=app.calendar,
        relay_by_mail=lambda session, question, answer, by, now: app.processor.relay_answer(session, question, answer=answer, by=by, now=now),
    )
    try:
        with app.sessions.begin() as session:
            results = agenda_lines.settle(session, agenda_lines.Lines(actions=actions, agenda=agenda or [], problems=[]), call).decisions
    except StaleDataError:
        raise click.ClickException(message("concurrent", source="decisions.txt.j2")) from None
    _print(results, refused=refused)
    if any(r.applied for r in results):
        asyncio.run(app.outbox.drain())  # the referrers hear it now, not at the service's next drain
    if refused or not all(r.applied for r in results):
        ctx.exit(1)


def _print(results: list[Decision], *, refused: int) -> None:
    """One line per decision and a count of every line given, the ones refused before applying included."""
    for result in results:
        click.echo(message("applied" if result.applied else "refused", source=_TEXTS, text=result.message))
    applied = sum(r.applied for r in results)
    if len(results) + refused > 1:
        click.echo(message("summary", source=_TEXTS, applied=applied, refused=len(results) + refused - applied))
