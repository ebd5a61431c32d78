"""`meldpunt referrals`: list and show referrals, every read recorded in the audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from meldpunt.cli_common import app_of

if TYPE_CHECKING:
    from intake.lifecycle import Status


@click.group()
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
@click.option("--sorteer", "order", type=click.Choice(["urgentie", "datum"]), default="datum", show_default=True, metavar="VOLGORDE",
              help="datum: nieuwste eerst; urgentie: zeer dringend eerst, dan dringend, dan de rest (telkens nieuwste eerst).")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON, voor scripts.")
@click.pass_context
def referrals_list(ctx: click.Context, status_value: str | None, order: str, as_json: bool) -> None:
    """Toon aanmeldingen, nieuwste eerst of de dringendste eerst (zonder gegevens die de leerling identificeren)."""
    import json

    from intake.texts import message, render
    from intake.urgency import urgency_rank, urgency_short
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import referrals as referral_repo
    from store.views import referral_row

    status = _status(status_value)
    with app_of(ctx).sessions.begin() as session:
        rows = [referral_row(r) for r in referral_repo.list_referrals(session, status=status)]
        if order == "urgentie":  # stable: newest first within each level
            rows.sort(key=lambda row: urgency_rank(row["urgency"]))
        audit.record_audit(session, actor=cli_actor(), action=audit.AuditAction.LIST_READ, now=utc_now(), detail=f"{len(rows)} aanmeldingen",
                           channel=audit.AuditChannel.CLI, purpose=audit.AuditPurpose.FOLLOW_UP)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(render("cli/referrals_list.txt.j2", rows=rows, short=urgency_short) if rows else message("referrals_none"))


@referrals.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@click.pass_context
def referrals_show(ctx: click.Context, reference: str, as_json: bool) -> None:
    """Toon één aanmelding volledig, met haar geschiedenis (wordt gelogd in de audit)."""
    import json

    from intake.eligibility import Outcome
    from intake.lifecycle import Status
    from intake.questionnaire import load_questionnaire
    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import audit
    from store import referrals as referral_repo
    from store.views import answer_rows, referral_row

    with app_of(ctx).sessions.begin() as session:
        referral = referral_repo.get_referral(session, reference.upper())
        if referral is None:
            raise click.ClickException(message("referral_unknown", reference=reference))
        viewer = audit.Viewer(cli_actor(), audit.AuditChannel.CLI, audit.AuditPurpose.FOLLOW_UP)
        audit.record_view(session, viewer, seen="antwoorden en geschiedenis", now=utc_now(), referral_ids=[referral.id])
        history = referral_repo.status_history(session, referral)
        row = referral_row(referral, full=True)
        row["history"] = [
            {"at": c.at.isoformat(), "actor": c.actor, "from": c.from_status.value if c.from_status else None, "to": c.to_status.value, "note": c.note}
            for c in history
        ]
        answers = answer_rows(load_questionnaire(), referral.answers)  # the questionnaire only: no catalogue to load
        text = render("cli/referral_show.txt.j2", row=row, answers=answers, Status=Status, Outcome=Outcome)
    click.echo(json.dumps(row, ensure_ascii=False, indent=2) if as_json else text)
