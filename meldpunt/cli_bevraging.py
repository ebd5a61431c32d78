"""`meldpunt bevraging`: the yearly survey of CLB staff about pupils under 12, started and followed up."""

from __future__ import annotations

import click

from meldpunt.cli_common import app_of

_SOURCE = "survey/messages.txt.j2"
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


@click.group()
def bevraging() -> None:
    """De jaarlijkse bevraging van de CLB-medewerkers over leerlingen jonger dan 12."""


def _year(year: int) -> int:
    """The year as typed, or a Dutch refusal."""
    from intake.texts import message

    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise click.ClickException(message("bad_year", source=_SOURCE, year=year))
    return year


@bevraging.command("start")
@click.argument("jaar", type=int, metavar="JAAR")
@click.pass_context
def bevraging_start(ctx: click.Context, jaar: int) -> None:
    """Stuur de bevraging van dit jaar naar elke actieve medewerker (per mail, en in Telegram wie gekoppeld is)."""
    from desk import survey
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store import staff as staff_repo
    from store import survey as survey_repo

    app, year = app_of(ctx), _year(jaar)
    with app.sessions.begin() as session:
        existing = survey_repo.get_survey(session, year)
        if existing is None and not staff_repo.list_staff(session):
            raise click.ClickException(message("no_staff", source=_SOURCE, year=year))
        result = survey.start(session, year=year, actor=cli_actor(), domain=app.settings.mail_domain, now=utc_now())
        if result.already:
            click.echo(message("already", source=_SOURCE, year=year, started_at=result.survey.started_at))
            return
        click.echo(message("started", source=_SOURCE, year=year, mailed=result.mailed, chat=result.chat))


@bevraging.command("stand")
@click.argument("jaar", type=int, metavar="JAAR")
@click.option("--ontbrekend-aanbod", "missing", is_flag=True, help="Toon ook wat de medewerkers als ontbrekend aanbod schreven (enkel voor de coördinator).")
@click.pass_context
def bevraging_stand(ctx: click.Context, jaar: int, missing: bool) -> None:
    """Toon hoeveel medewerkers uitgenodigd zijn en hoeveel antwoordden, per regio."""
    from desk import survey
    from intake.survey import SurveyNeed
    from intake.texts import message, render
    from intake.vocabulary import Region
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store.audit import AuditAction, AuditChannel, record_audit

    year = _year(jaar)
    with app_of(ctx).sessions() as session:
        found = survey.standing(session, year)
        if found is None:
            raise click.ClickException(message("unknown", source=_SOURCE, year=year))
        if missing:  # free texts staff wrote: who read them is accounted for, like every read of personal data
            record_audit(session, actor=cli_actor(), action=AuditAction.SURVEY_READ, now=utc_now(), channel=AuditChannel.CLI,
                         detail=f"bevraging {year}: ontbrekend aanbod")
            session.commit()
        results = found["results"]
        regions = [{"label": region.label, "result": results.regions[region.value]} for region in Region]
        texts = found["missing"] if missing else None
        click.echo(render("survey/standing.txt.j2", results=results, started_at=found["started_at"], regions=regions, needs=list(SurveyNeed),
                          missing=texts))
