"""A typed view of a (possibly partial) referral's answers, as eligibility and consult need them."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from intake.vocabulary import (
    CarePhase,
    DesiredForm,
    LocationPreference,
    ProblemArea,
    ReferrerRole,
    Region,
    SchoolLevel,
    region_for_postcode,
)


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
    def relevant_postcode(self) -> int | None:
        """The postcode that decides the region: the school, else the last school, else home.

        A pupil who is not enrolled is followed by the CLB of the last school, or else the
        CLB nearest to home (seed 000), so the region follows the same order.
        """
        for postcode in (self.school_postcode, self.last_school_postcode, self.pupil_home_postcode):
            if postcode is not None:
                return postcode
        return None

    @property
    def region(self) -> Region | None:
        """The Meldpunt region, or None when unknown or outside Vlaams-Brabant."""
        postcode = self.relevant_postcode
        return region_for_postcode(postcode) if postcode is not None else None

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
