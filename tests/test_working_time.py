"""One notion of working time for every reminder: weekdays 9-17 h Brussels, no Belgian holidays, no closure days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake.workhours import WorkCalendar
from mail.processor import MailProcessor
from meldpunt.app import App
from meldpunt.settings import Settings
from tests.mail_harness import COORDINATOR, running_harness

ELS = "els@clb-halle.example"
CLOSED = date(2026, 11, 19)  # a Thursday the Meldpunt is closed


def test_the_calendar_counts_without_closure_days() -> None:
    calendar = WorkCalendar(closures=frozenset({CLOSED}))
    wednesday_11 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    assert WorkCalendar().hours_between(wednesday_11, wednesday_11 + timedelta(days=1)) == 8
    assert calendar.hours_between(wednesday_11, wednesday_11 + timedelta(days=1)) == 6, "Thursday does not count"
    assert calendar.days_between(wednesday_11, wednesday_11 + timedelta(days=2)) == 1
    assert not calendar.is_working_day(CLOSED) and calendar.is_working_day(date(2026, 11, 20))
    assert not calendar.is_working_day(date(2026, 11, 11)), "Wapenstilstand, a Belgian public holiday"


def settings_for(tmp_path: Path, database_url: str, **more: object) -> Settings:
    """Settings as meldpunt.env would give them, with one closure day."""
    return Settings(var_dir=tmp_path / "var", database_url=database_url, coordinator_email=COORDINATOR, closure_days=[CLOSED], **more)


def test_every_reminder_gets_the_same_calendar_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env here
    app = App(settings_for(tmp_path, f"sqlite:///{tmp_path / 'meldpunt.db'}", coordinator_chat_id=-100))
    try:
        expected = WorkCalendar(closures=frozenset({CLOSED}))
        assert app.processor.config.calendar == app.desk.config.calendar == app.dispatcher.config.calendar == expected
    finally:
        app.engine.dispose()


async def test_a_mail_question_asked_before_a_closure_day_is_not_reminded_on_it(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    async with running_harness(session_factory, tmp_path, reminder_hours=8) as harness:  # Wednesday 11:00 Brussels
        harness.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        app = App(settings_for(tmp_path, database_url, mail_address=harness.address, question_reminder_hours=8))
        try:
            # The processor exactly as `meldpunt serve` configures it, on the test's clock.
            processor = MailProcessor(harness.sessions, harness.workflow, app.processor.config, clock=harness.clock)
        finally:
            app.engine.dispose()
        await harness.send(harness.new_mail(ELS, "Vraag", "Kan een leerling uit Halle van 17 nog naar NAFT?"))
        await harness.process()
        harness.clock.advance(timedelta(days=1))  # the closure day, 11:00: eight working hours on an ordinary Thursday
        assert processor.remind_open_questions() == 0
        harness.clock.advance(timedelta(days=1))  # Friday 11:00: 6 hours on Wednesday and 2 on Friday
        assert processor.remind_open_questions() == 1
        await harness.process()
        escalation, reminder = harness.inbox(COORDINATOR)
        assert "Herinnering" in str(reminder["Subject"]) and reminder["Date"].datetime.date() == date(2026, 11, 20)
