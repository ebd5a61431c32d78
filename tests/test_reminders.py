"""Unanswered questions come back to the coordinator after working hours: the clock, and the mail path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from intake.workhours import is_working_day, working_hours_between
from store import questions
from store.mail_models import QuestionStatus
from tests.mail_harness import COORDINATOR, running_harness

ELS = "els@clb-halle.example"


def test_working_hours_count_office_hours_on_working_days_only() -> None:
    wednesday_10 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
    assert working_hours_between(wednesday_10, wednesday_10 + timedelta(hours=3)) == 3
    assert working_hours_between(wednesday_10, wednesday_10 + timedelta(days=1)) == 8, "the night does not count"
    friday_16 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert working_hours_between(friday_16, friday_16 + timedelta(days=2, hours=18)) == 2, "Friday 16-17 and Monday 9-10"


def test_belgian_holidays_and_closure_days_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 11, 11)), "Wapenstilstand"
    assert not is_working_day(date(2026, 12, 25))
    assert is_working_day(date(2026, 11, 12))
    assert not is_working_day(date(2026, 11, 12), frozenset({date(2026, 11, 12)})), "a configured closure day"
    tuesday_before_armistice = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    assert working_hours_between(tuesday_before_armistice, tuesday_before_armistice + timedelta(days=1)) == 1


async def test_an_unanswered_mail_question_is_mailed_again_and_a_reply_to_the_reminder_answers_it(session_factory: sessionmaker[Session],
                                                                                                  tmp_path: Path) -> None:
    async with running_harness(session_factory, tmp_path, reminder_hours=8) as harness:
        harness.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        await harness.send(harness.new_mail(ELS, "Vraag", "Kan een leerling uit Halle van 17 nog naar NAFT?"))
        await harness.process()
        assert harness.processor.remind_open_questions() == 0, "not yet: no working hours passed"
        harness.clock.advance(timedelta(hours=7))  # 17:00 Brussels: 7 working hours
        assert harness.processor.remind_open_questions() == 0
        harness.clock.advance(timedelta(hours=17))  # Thursday 10:00: 8 working hours
        assert harness.processor.remind_open_questions() == 1
        assert harness.processor.remind_open_questions() == 0, "one reminder per period"
        await harness.process()
        escalation, reminder = harness.inbox(COORDINATOR)
        assert "Herinnering" in str(reminder["Subject"]) and "nog naar NAFT" in reminder.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert str(reminder["In-Reply-To"]) == str(escalation["Message-ID"])
        await harness.send(harness.reply_to(reminder, "Ja, tot 18 jaar.", sender=COORDINATOR))
        await harness.process()
        assert "tot 18 jaar" in harness.inbox(ELS)[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        with session_factory() as session:
            question = questions.get_question(session, 1)
            assert question is not None and question.status is QuestionStatus.ANSWERED
