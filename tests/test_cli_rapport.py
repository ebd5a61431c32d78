"""`meldpunt rapport`: the period options, the forms written to files (0600) or the terminal, and the mailed report.

The tests that compute a report need desk.report (the engine's part of issue 15) and skip without it; the period
checks answer before anything is computed, so they run everywhere.
"""

from __future__ import annotations

import io
import json
import stat
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.outbox import OutboxConfig, build_message
from meldpunt.cli import main
from meldpunt.cli_rapport import choose_period, current_school_year, queue_report_mail
from meldpunt.settings import Settings
from store.db import create_db_engine, make_session_factory
from store.mail_models import MailKind, OutboxMessage
from tests.maildir_order import delivered
from tests.report_fixture import MADE, sample_report

COORDINATOR = "coordinator@meldpunt.example"


def period(today: date, *, schooljaar: str | None = None, van: str | None = None, tot: str | None = None, since: bool = False,
           meetings: tuple[date, ...] = ()) -> tuple[date, date, str]:
    """The period the options choose on `today`: first day, last day, name."""
    chosen = choose_period(schooljaar=schooljaar, van=van, tot=tot, since_meeting=since, meetings=meetings, today=today)
    return chosen.start, chosen.end, chosen.label


def refusal(today: date = date(2026, 12, 3), **options: object) -> str:
    """The Dutch sentence with which the options are refused."""
    with pytest.raises(click.UsageError) as refused:
        period(today, **options)
    return refused.value.format_message()


def test_the_default_is_the_school_year_today_lies_in() -> None:
    assert current_school_year(date(2026, 8, 31)).label == "schooljaar 2025-2026"
    assert period(date(2026, 9, 1)) == (date(2026, 9, 1), date(2027, 8, 31), "schooljaar 2026-2027")


def test_a_school_year_is_two_following_years() -> None:
    assert period(date(2026, 12, 3), schooljaar="2024-2025") == (date(2024, 9, 1), date(2025, 8, 31), "schooljaar 2024-2025")
    for wrong in ("2025-2027", "2025", "2026-2025", "vorig jaar"):
        assert f"'{wrong}' is geen schooljaar; schrijf het als 2025-2026" in refusal(schooljaar=wrong)


def test_from_to_takes_both_days_in_order() -> None:
    assert period(date(2026, 12, 3), van="01/10/2026", tot="15/11/2026") == (
        date(2026, 10, 1), date(2026, 11, 15), "van 01/10/2026 tot en met 15/11/2026")
    assert refusal(van="01/10/2026") == "Geef --van en --tot samen, allebei als dd/mm/jjjj."
    assert refusal(van="15/11/2026", tot="01/10/2026") == "--tot ligt vóór --van: geef eerst de vroegste dag."
    assert "'2026-10-01' is geen datum; schrijf dd/mm/jjjj" in refusal(van="2026-10-01", tot="15/11/2026")
    assert refusal(schooljaar="2025-2026", van="01/10/2026", tot="15/11/2026").startswith("Kies één periode")


def test_since_the_last_meeting_runs_from_the_last_past_meeting_to_today() -> None:
    meetings = (date(2026, 6, 9), date(2026, 2, 10), date(2026, 10, 14), date(2027, 2, 9))
    assert period(date(2026, 12, 3), since=True, meetings=meetings) == (date(2026, 10, 14), date(2026, 12, 3),
                                                                         "sinds het overleg van 14/10/2026")
    # On a meeting's own day the report covers the time since the meeting before it.
    assert period(date(2026, 10, 14), since=True, meetings=meetings)[0] == date(2026, 6, 9)
    assert "geen overlegdata in MELDPUNT_RAPPORT_OVERLEGDATA" in refusal(since=True)
    assert "het eerste in MELDPUNT_RAPPORT_OVERLEGDATA is op 09/02/2027" in refusal(since=True, meetings=(date(2027, 2, 9),))


class Rapport:
    """`meldpunt rapport` in-process on the test database, with its own var folder (the Maildir) and settings."""

    def __init__(self, database_url: str, var_dir: Path, **settings: str) -> None:
        self.database_url, self.var_dir = database_url, var_dir
        env = {"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(var_dir), "MELDPUNT_OUTBOX": "maildir",
               "MELDPUNT_COORDINATOR_EMAIL": None, "MELDPUNT_RAPPORT_OVERLEGDATA": None}
        self.cli = CliRunner(env={**env, **{f"MELDPUNT_{name.upper()}": value for name, value in settings.items()}})

    def __call__(self, *args: str) -> Result:
        """Run `meldpunt rapport` with these options."""
        return self.cli.invoke(main, ["rapport", *args], catch_exceptions=False)

    def mails(self) -> list[EmailMessage]:
        """Every mail the outbox put in the Maildir."""
        folder = self.var_dir / "maildir" / "new"
        return [message_from_bytes(path.read_bytes(), policy=default) for path in delivered(folder)]


@pytest.fixture
def rapport(database_url: str, tmp_path: Path) -> Rapport:
    """The command on this test's database (SQLite file and PostgreSQL)."""
    return Rapport(database_url, tmp_path / "var")


def test_the_settings_read_meeting_dates_as_people_write_them() -> None:
    assert Settings(rapport_overlegdata="14/10/2025, 10/02/2026,").rapport_overlegdata == [date(2025, 10, 14), date(2026, 2, 10)]
    assert (Settings().rapport_min_cel, Settings().rapport_wachtdagen, Settings().rapport_overlegdata) == (5, 10, [])
    with pytest.raises(ValidationError, match="'2026-02-10' is geen datum; schrijf dd/mm/jjjj"):
        Settings(rapport_overlegdata="2026-02-10")
    with pytest.raises(ValidationError):
        Settings(rapport_min_cel=0)


def test_wrong_options_are_refused_in_dutch_before_anything_is_computed(tmp_path: Path) -> None:
    # Nothing is computed, so no database is opened: the file is never made.
    run = Rapport(f"sqlite:///{tmp_path / 'meldpunt.db'}", tmp_path / "var", rapport_overlegdata="01/01/2999")
    refused = run("--schooljaar", "2025-2027")
    assert refused.exit_code == 2 and "'2025-2027' is geen schooljaar" in refused.stderr and "Traceback" not in refused.output
    refused = run("--vorm", "xlsx")
    assert refused.exit_code == 2 and "geef --uit BESTAND" in refused.stderr
    refused = run("--sinds-vorig-overleg")
    assert refused.exit_code == 2 and "Er was nog geen overleg vóór vandaag" in refused.stderr
    refused = run("--schooljaar", "2025-2026", "--vorm", "html", "--uit", str(tmp_path / "geen-map" / "rapport.html"))
    assert refused.exit_code == 2 and "geen-map bestaat niet" in refused.stderr
    assert "Rapport wordt berekend" not in refused.stderr and not (tmp_path / "meldpunt.db").exists()


def test_the_table_in_the_terminal_names_the_period_and_the_audience(rapport: Rapport) -> None:
    shown = rapport("--schooljaar", "2025-2026")
    assert shown.exit_code == 0, shown.output
    assert "Rapport wordt berekend…" in shown.stderr
    assert "schooljaar 2025-2026 (01/09/2025 – 31/08/2026)" in shown.stdout
    assert "Publiek rapport: kleine aantallen verborgen" in shown.stdout and "Gemaakt op " in shown.stdout
    internal = rapport("--schooljaar", "2025-2026", "--intern")
    assert "Intern rapport: niet verspreiden" in internal.stdout


def test_files_are_written_for_the_owner_only_and_read_back(rapport: Rapport, tmp_path: Path) -> None:
    workbook, data = tmp_path / "rapport.xlsx", tmp_path / "rapport.json"
    data.write_text("oud")
    data.chmod(0o644)  # an existing file of anyone's making is made private too
    assert rapport("--van", "01/10/2025", "--tot", "30/11/2025", "--vorm", "xlsx", "--uit", str(workbook)).exit_code == 0
    assert rapport("--schooljaar", "2025-2026", "--intern", "--vorm", "json", "--uit", str(data)).exit_code == 0
    for path in (workbook, data):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert load_workbook(workbook).sheetnames[0] == "Definities"
    loaded = json.loads(data.read_text("utf-8"))
    assert (loaded["publiek"], loaded["periode"]["van"], loaded["periode"]["tot"]) == (False, "2025-09-01", "2026-08-31")
    shown = rapport("--sinds-vorig-overleg", "--vorm", "csv")
    assert shown.exit_code == 2  # no meeting dates set
    csv_out = rapport("--van", "01/10/2025", "--tot", "30/11/2025", "--vorm", "csv")
    assert csv_out.stdout_bytes.startswith(b"\xef\xbb\xbf") and "van 01/10/2025 tot en met 30/11/2025" in csv_out.stdout


def test_since_the_last_meeting_uses_the_meeting_dates_setting(database_url: str, tmp_path: Path) -> None:
    shown = Rapport(database_url, tmp_path / "var", rapport_overlegdata="14/10/2025, 01/01/2020")("--sinds-vorig-overleg", "--vorm", "html")
    assert shown.exit_code == 0, shown.output
    assert "sinds het overleg van 14/10/2025" in shown.stdout and '<html lang="nl">' in shown.stdout


def test_the_mailed_report_carries_the_workbook_and_the_page(rapport: Rapport) -> None:
    sent = rapport("--schooljaar", "2025-2026", "--mail", COORDINATOR)
    assert sent.exit_code == 0, sent.output
    assert f"Het rapport gaat per mail naar {COORDINATOR}" in sent.stdout and "Cijfers" not in sent.stdout
    with make_session_factory(create_db_engine(rapport.database_url))() as session:
        assert session.scalars(select(OutboxMessage.kind)).all() == [MailKind.REPORT]
    (mail,) = rapport.mails()
    assert mail["To"] == COORDINATOR and mail["Subject"] == "Cijferrapport Meldpunt: schooljaar 2025-2026"
    assert "In de bijlage vind je het cijferrapport" in mail.get_body(("plain",)).get_content()
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) == {"meldpunt-rapport-2025-09-01-2026-08-31.xlsx", "meldpunt-rapport-2025-09-01-2026-08-31.html"}
    book = load_workbook(io.BytesIO(files["meldpunt-rapport-2025-09-01-2026-08-31.xlsx"].get_content()))
    assert book.sheetnames[0] == "Definities"
    assert '<html lang="nl">' in files["meldpunt-rapport-2025-09-01-2026-08-31.html"].get_content()


def test_the_report_mail_goes_out_with_a_binary_workbook_and_a_text_page(session: Session) -> None:
    # The outbox keeps attachments as JSON: the workbook goes in as base64 and comes out as the same bytes.
    queue_report_mail(session, sample_report(), to=COORDINATOR, domain="meldpunt.example", now=MADE)
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.REPORT)).one()
    config = OutboxConfig(from_address="meldpunt@meldpunt.example", from_name="Meldpunt", domain="meldpunt.example")
    mail = message_from_bytes(build_message(row, config).as_bytes(), policy=default)
    assert mail["Subject"] == "Cijferrapport Meldpunt: schooljaar 2025-2026"
    parts = {part.get_filename(): part for part in mail.iter_attachments()}
    workbook = parts["meldpunt-rapport-2025-09-01-2026-08-31.xlsx"]
    assert workbook.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert load_workbook(io.BytesIO(workbook.get_content()))["Vraag per interventie"]["B4"].value == "<5"
    assert "Wereld van Indra &lt;b&gt;" in parts["meldpunt-rapport-2025-09-01-2026-08-31.html"].get_content()
