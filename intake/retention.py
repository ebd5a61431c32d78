"""Retention as data: the periods, when a closed referral is due, and what a pseudonymised referral keeps."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intake.brussels import BRUSSELS
from intake.facts import ReferralFacts
from intake.questionnaire import Questionnaire, QuestionType

SCHOOL_YEAR_START_MONTH = 9  # a school year runs from 1 September to 31 August
# Closed sets: an answer picked from a list cannot name or describe a pupil, so pseudonymising keeps it.
CLOSED_TYPES = frozenset({QuestionType.CHOICE, QuestionType.MULTI_CHOICE, QuestionType.YES_NO})
# Derived from the answers that go: what the figures need of the postcode and the date of birth.
REGION_KEY = "region"
AGE_BAND_KEY = "age_band"
# (lowest age, band): coarse enough that no pupil stands out, fine enough for compulsory schooling (to 18).
AGE_BANDS: tuple[tuple[int, str], ...] = ((18, "18+"), (16, "16-17"), (14, "14-15"), (12, "12-13"), (0, "-12"))


class RetentionPeriods(BaseModel):
    """How long each kind of data is kept (meldpunt/settings.py fills it from MELDPUNT_RETENTION_*)."""

    model_config = ConfigDict(frozen=True)

    inbound_days: int = Field(default=30, ge=1)
    outbox_days: int = Field(default=30, ge=1)
    draft_days: int = Field(default=30, ge=1)
    draft_warning_days: int = Field(default=7, ge=1)
    question_days: int = Field(default=365, ge=1)
    referral_school_years: int = Field(default=1, ge=1)
    audit_days: int = Field(default=1827, ge=1)


class PurgeKind(StrEnum):
    """What the purge removes, in the order it reports them."""

    INBOUND = "inkomende-mail"
    OUTBOX = "verstuurde-mail"
    CONVERSATION = "gesprek"
    DRAFT = "concept"
    QUESTION = "vraag"
    REFERRAL = "aanmelding"
    AUDIT = "auditregel"


def school_year_of(day: date) -> int:
    """The school year a day falls in, named by its first year: 2025 for 1 September 2025 to 31 August 2026."""
    return day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1


def school_year_end(moment: datetime) -> datetime:
    """The first moment after the school year moment falls in: 1 September, midnight in Brussels."""
    local = moment.astimezone(BRUSSELS)
    year = local.year + 1 if local.month >= SCHOOL_YEAR_START_MONTH else local.year
    return datetime.combine(date(year, SCHOOL_YEAR_START_MONTH, 1), time(), tzinfo=BRUSSELS)


def pseudonymise_from(closed_at: datetime, *, school_years: int) -> datetime:
    """When a referral closed at closed_at loses its identifying answers: after its school year and school_years more."""
    end = school_year_end(closed_at)
    return end.replace(year=end.year + school_years)


def closed_before(now: datetime, *, school_years: int) -> datetime:
    """Referrals closed before this moment are due at now (the inverse of pseudonymise_from)."""
    end = school_year_end(now)
    return end.replace(year=end.year - 1 - school_years)


def age_band(age: int | None) -> str | None:
    """The band an age falls in, or None when the age is unknown."""
    if age is None:
        return None
    return next(band for lowest, band in AGE_BANDS if age >= lowest)


def pseudonymised(answers: dict[str, Any], questionnaire: Questionnaire, *, on: date) -> dict[str, Any]:
    """The answers without anything that identifies (names, dates, contacts, postcodes, free text), with region and age band."""
    closed = {q.id for q in questionnaire.questions if q.type in CLOSED_TYPES}
    kept = {key: value for key, value in answers.items() if key in closed}
    figures = figure_fields(answers, on=on)
    kept[REGION_KEY] = figures[REGION_KEY]
    kept[AGE_BAND_KEY] = figures[AGE_BAND_KEY]
    return kept


def figure_fields(answers: dict[str, Any], *, on: date) -> dict[str, Any]:
    """What the figures count of a referral's answers, the same before and after pseudonymisation."""
    facts = ReferralFacts.from_answers(answers)
    region = facts.region_on(on)
    return {
        REGION_KEY: answers.get(REGION_KEY, region.value if region else None),
        AGE_BAND_KEY: answers.get(AGE_BAND_KEY, age_band(facts.age_on(on))),
        "school_level": answers.get("school_level"),
        "problem_areas": sorted(answers.get("problem_areas") or []),
        "preferred_intervention": answers.get("preferred_intervention"),
    }

