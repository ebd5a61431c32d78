"""A typed view of a (possibly partial) referral's answers, as eligibility and consult need them."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from intake import places
from intake.places import Place
from intake.vocabulary import (
    CarePhase,
    DesiredForm,
    LocationPreference,
    ProblemArea,
    ReferrerRole,
    Region,
    SchoolLevel,
)


class PostcodeOf(Enum):
    """Whose postcode decides the region."""

    SCHOOL = "school"
    LAST_SCHOOL = "last_school"
    HOME = "home"


class ReferralFacts(BaseModel):
    """What is known of a referral; every field is None (or empty) when not answered yet."""

    model_config = ConfigDict(frozen=True)

    referrer_role: ReferrerRole | None = None
    pupil_birth_date: date | None = None
    pupil_birth_year: int | None = None
    pupil_home_postcode: int | None = None
    pupil_enrolled: bool | None = None
    school_postcode: int | None = None
    last_school_postcode: int | None = None
    school_level: SchoolLevel | None = None
    care_phase: CarePhase | None = None
    school_consulted: bool | None = None
    school_agrees: bool | None = None
    problem_areas: frozenset[ProblemArea] = frozenset()
    desired_form: DesiredForm | None = None
    location_preference: LocationPreference | None = None
    preferred_intervention: str | None = None

    @classmethod
    def from_answers(cls, answers: dict[str, Any]) -> "ReferralFacts":
        """Build from the questionnaire's stored answers (JSON values keyed by question id)."""
        known = {k: v for k, v in answers.items() if k in cls.model_fields and v is not None}
        for key in ("pupil_home_postcode", "school_postcode", "last_school_postcode"):
            if key in known:
                known[key] = int(known[key])
        return cls.model_validate(known)

    @property
    def deciding_postcode(self) -> tuple[PostcodeOf, int] | None:
        """Which postcode decides the region, and its value: the school, else the last school, else home.

        A pupil who is not enrolled is followed by the CLB of the last school, or else the CLB
        nearest to home (seed 000). So home decides only for a pupil known not to be enrolled:
        before that is answered, the school may still be in Vlaams-Brabant.
        """
        if self.school_postcode is not None:
            return PostcodeOf.SCHOOL, self.school_postcode
        if self.last_school_postcode is not None:
            return PostcodeOf.LAST_SCHOOL, self.last_school_postcode
        if self.pupil_enrolled is False and self.pupil_home_postcode is not None:
            return PostcodeOf.HOME, self.pupil_home_postcode
        return None

    @property
    def relevant_postcode(self) -> int | None:
        """The postcode that decides the region, or None while none does."""
        deciding = self.deciding_postcode
        return deciding[1] if deciding else None

    def place_on(self, day: date) -> Place | None:
        """Where the deciding postcode lies on a day, or None while no postcode decides."""
        postcode = self.relevant_postcode
        return places.place(postcode, on=day) if postcode is not None else None

    def region_on(self, day: date) -> Region | None:
        """The Meldpunt region on a day, or None when unknown or outside Vlaams-Brabant."""
        found = self.place_on(day)
        return found.region if found else None

    @property
    def region(self) -> Region | None:
        """The region for a listing that has no day at hand: on the first day of the postcode table."""
        return self.region_on(places.MAP_FROM)

    def age_on(self, today: date) -> int | None:
        """Age in whole years; from the birth year alone it is the age reached this calendar year."""
        if self.pupil_birth_date is not None:
            born = self.pupil_birth_date
            return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if self.pupil_birth_year is not None:
            return today.year - self.pupil_birth_year
        return None

    @property
    def age_is_approximate(self) -> bool:
        """True when only the birth year is known (minimal mode)."""
        return self.pupil_birth_date is None and self.pupil_birth_year is not None
