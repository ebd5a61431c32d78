"""`meldpunt rapport`: the figures of a period in the terminal, or as CSV, XLSX, HTML or JSON, or mailed as XLSX and HTML."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from intake.report_model import Audience, Period
from intake.retention import school_year_of
from meldpunt.cli_common import address, app_of, typed_date
from meldpunt.report_forms.forms import Form

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from intake.report_model import Report
    from meldpunt.app import App

TEXTS = "report/cli_messages.txt.j2"
PRIVATE_FILE = 0o600  # a report names schools (internal) and is for the coordinator first
_SCHOOL_YEAR = re.compile(r"\s*(\d{4})\s*[-/]\s*(\d{4})\s*")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def say(name: str, /, **context: Any) -> str:
    """A sentence of the command (templates/report/cli_messages.txt.j2)."""
    from intake.texts import message

    return message(name, source=TEXTS, **context)


def current_school_year(today: date) -> Period:
    """The school year today lies in: from 1 September on it is the one that began this year."""
    return Period.school_year(school_year_of(today))


def school_year(value: str) -> Period:
    """"2025-2026" as the school year 1/9/2025–31/8/2026; a Dutch usage error when the second year is not the first plus one."""
    found = _SCHOOL_YEAR.fullmatch(value)
    if found is None or int(found[2]) != int(found[1]) + 1:
        raise click.BadParameter(say("bad_school_year", value=value.strip()[:40]), param_hint="--schooljaar")
    return Period.school_year(int(found[1]))


def since_last_meeting(meetings: Sequence[date], today: date) -> Period:
    """From the last meeting before today up to today; a Dutch usage error when no meeting is set or none lies before today."""
    if not meetings:
        raise click.UsageError(say("no_meetings"))
    past = [day for day in meetings if day < today]
    if not past:
        raise click.UsageError(say("no_past_meeting", first=min(meetings)))
    start = max(past)
    return Period(start, today, say("period_since_meeting", day=start))


def choose_period(*, schooljaar: str | None, van: str | None, tot: str | None, since_meeting: bool, meetings: Sequence[date],
                  today: date) -> Period:
    """The period the options ask for (one way at most); the current school year when none is given."""
    if sum((schooljaar is not None, van is not None or tot is not None, since_meeting)) > 1:
        raise click.UsageError(say("one_period"))
    if schooljaar is not None:
        return school_year(schooljaar)
    if since_meeting:
        return since_last_meeting(meetings, today)
    if van is None and tot is None:
        return current_school_year(today)
    start, end = typed_date(van, option="--van"), typed_date(tot, option="--tot")
    if start is None or end is None:
        raise click.UsageError(say("both_ends"))
    if end < start:
        raise click.UsageError(say("end_before_start"))
    return Period(start, end, say("period_between", start=start, end=end))


def check_target(path: Path) -> None:
    """Refuse, before anything is computed, a file in a folder that does not exist."""
    folder = path.expanduser().absolute().parent
    if not folder.is_dir():
        raise click.BadParameter(say("no_folder", folder=folder), param_hint="--uit")


def write_private(path: Path, data: bytes) -> None:
    """Write data to path, readable by our own account only (also when the file was already there); a Dutch error when it cannot."""
    try:
        descriptor = os.open(path.expanduser(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE)  # O_CREAT's mode does not change an existing file
            handle.write(data)
    except OSError:
        raise click.ClickException(say("cannot_write", path=path)) from None


def file_stem(period: Period) -> str:
    """The name attachments get: meldpunt-rapport-2025-09-01-2026-08-31."""
    return f"meldpunt-rapport-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}"


def queue_report_mail(session: Session, report: Report, *, to: str, domain: str, now: datetime) -> None:
    """A short Dutch mail to `to` with the report attached as XLSX (base64: the outbox keeps JSON) and as HTML."""
    from intake.texts import compose_mail
    from meldpunt.report_forms.cells import audience_line, generated_at, period_line
    from meldpunt.report_forms.forms import render
    from store.mail_models import MailKind
    from store.outbox import enqueue_mail

    composed = compose_mail("report/cli_mail.txt.j2", period_name=report.period.label, period=period_line(report),
                            audience=audience_line(report), generated=generated_at(report))
    stem = file_stem(report.period)
    attachments = [
        {"filename": f"{stem}.xlsx", "content_type": XLSX_TYPE, "base64": base64.b64encode(render(report, Form.XLSX)).decode("ascii")},
        {"filename": f"{stem}.html", "content_type": "text/html", "text": render(report, Form.HTML).decode("utf-8")},
    ]
    enqueue_mail(session, composed, kind=MailKind.REPORT, to=to, domain=domain, now=now, attachments=attachments)


def compute(app: App, *, period: Period, audience: Audience, now: datetime, mail_to: str | None) -> Report:
    """Build the report (the use case audits the run and commits that) and, when asked, queue its mail."""
    from desk.report import build_report
    from meldpunt.actor import cli_actor

    click.echo(say("computing"), err=True)
    catalogue, settings = app.catalogue, app.settings
    with app.sessions() as session:  # build_report commits its own audit row, so that no report goes unaudited
        report: Report = build_report(session, period=period, audience=audience, min_cell=settings.rapport_min_cel, now=now, catalogue=catalogue,
                                      waiting_days=settings.rapport_wachtdagen, actor=cli_actor(), calendar=app.calendar)
        if mail_to is not None:
            queue_report_mail(session, report, to=mail_to, domain=settings.mail_domain, now=now)
            session.commit()
    return report


@click.command("rapport")
@click.option("--schooljaar", default=None, metavar="JJJJ-JJJJ", help="Een schooljaar, bv. 2025-2026 (1 september tot 31 augustus). Standaard het huidige.")
@click.option("--van", default=None, metavar="DD/MM/JJJJ", help="Eerste dag (dd/mm/jjjj), samen met --tot.")
@click.option("--tot", default=None, metavar="DD/MM/JJJJ", help="Laatste dag (dd/mm/jjjj), samen met --van.")
@click.option("--sinds-vorig-overleg", "sinds_vorig_overleg", is_flag=True, help="Van het laatste overleg (MELDPUNT_RAPPORT_OVERLEGDATA) tot vandaag.")
@click.option("--vorm", type=click.Choice([form.value for form in Form]), default=Form.TABLE.value, show_default=True, metavar="VORM",
              help="tabel (in de terminal), csv, xlsx, html of json.")
@click.option("--uit", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="BESTAND",
              help="Schrijf het rapport naar dit bestand (enkel voor jou leesbaar); nodig voor xlsx.")
@click.option("--intern", is_flag=True, help="Het interne rapport voor de coördinator: ook per school, niets verborgen. Niet verspreiden.")
@click.option("--mail", "mail", default=None, metavar="E-MAILADRES", help="Mail het rapport (XLSX en HTML als bijlage) naar dit adres.")
@click.pass_context
def rapport(ctx: click.Context, schooljaar: str | None, van: str | None, tot: str | None, sinds_vorig_overleg: bool, vorm: str,
            uit: Path | None, intern: bool, mail: str | None) -> None:
    """Maak het cijferrapport van een periode: tabellen in de terminal, of CSV, XLSX, HTML of JSON; of mail het."""
    import asyncio

    from intake.brussels import BRUSSELS
    from meldpunt.app import utc_now
    from meldpunt.report_forms.forms import render

    app, now, form = app_of(ctx), utc_now(), Form(vorm)
    if form is Form.XLSX and uit is None and mail is None:
        raise click.UsageError(say("xlsx_needs_file"))
    period = choose_period(schooljaar=schooljaar, van=van, tot=tot, since_meeting=sinds_vorig_overleg,
                           meetings=app.settings.rapport_overlegdata, today=now.astimezone(BRUSSELS).date())
    mail_to = address(mail) if mail is not None else None
    if uit is not None:
        check_target(uit)
    report = compute(app, period=period, audience=Audience.INTERNAL if intern else Audience.PUBLIC, now=now, mail_to=mail_to)
    if uit is not None:
        write_private(uit, render(report, form))
        click.echo(say("written", path=uit))
    elif mail_to is None:
        click.echo(render(report, form), nl=False)  # bytes go to the binary stream as they are
    if mail_to is not None:
        asyncio.run(app.outbox.drain())  # now, not at the service's next drain
        click.echo(say("mailed", to=mail_to))
