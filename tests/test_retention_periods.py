"""The retention table as data: read from MELDPUNT_RETENTION_*, checked at start; school-year dates and age bands (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from intake.brussels import BRUSSELS
from intake.retention import RetentionPeriods, age_band, closed_before, pseudonymise_from
from meldpunt.settings import Settings


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment on the Brussels wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


@pytest.mark.parametrize(("closed", "due"), [
    (brussels(2026, 6, 30, 16), brussels(2027, 9, 1)),  # closed in school year 2025-2026: kept through 2026-2027
    (brussels(2026, 8, 31, 23, 59), brussels(2027, 9, 1)),
    (brussels(2026, 9, 1, 0, 0), brussels(2028, 9, 1)),  # the first minute of 2026-2027
    (brussels(2027, 2, 14, 12), brussels(2028, 9, 1)),
])
def test_a_closed_referral_is_pseudonymised_one_whole_school_year_after_the_one_it_closed_in(closed: datetime, due: datetime) -> None:
    assert pseudonymise_from(closed, school_years=1) == due
    assert closed_before(due, school_years=1) > closed, "due at that moment"
    assert not closed_before(due - timedelta(minutes=1), school_years=1) > closed, "not a minute before"


def test_age_bands_are_coarse() -> None:
    assert [age_band(age) for age in (None, 9, 12, 13, 14, 15, 16, 17, 18, 21)] == [
        None, "-12", "12-13", "12-13", "14-15", "14-15", "16-17", "16-17", "18+", "18+",
    ]


def test_the_table_comes_from_the_settings_and_each_period_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the machine is read
    assert Settings().retention == RetentionPeriods()
    monkeypatch.setenv("MELDPUNT_RETENTION_INBOUND_DAYS", "14")
    monkeypatch.setenv("MELDPUNT_RETENTION_REFERRAL_SCHOOL_YEARS", "2")
    table = Settings().retention
    assert (table.inbound_days, table.referral_school_years, table.question_days) == (14, 2, 365)


def test_a_warning_that_would_come_before_the_pause_is_refused_in_dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="MELDPUNT_RETENTION_DRAFT_WARNING_DAYS moet kleiner zijn"):
        Settings(retention_draft_days=7, retention_draft_warning_days=7)
