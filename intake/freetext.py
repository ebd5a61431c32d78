"""Reads the facts a consult needs (place, level, age, problems, form) from a question in free text.

Conservative on purpose: a four-digit number counts as a postcode only when it is a Belgian one and
the word "postcode" or a municipality comes with it, because "geboren in 2011" must not become
postcode 2011. Municipalities are read from Statbel's table (intake.places).
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from intake import places
from intake.answers import fold
from intake.facts import ReferralFacts
from intake.vocabulary import DesiredForm, ProblemArea, SchoolLevel

_PROBLEM_WORDS: dict[ProblemArea, tuple[str, ...]] = {
    ProblemArea.ABSENTEEISM: ("spijbel", "afwezig", "verzuim", "niet meer naar school", "thuisblijv"),
    ProblemArea.SCHOOL_FATIGUE: ("schoolmoe", "motivatie", "gemotiveerd", "verveel"),
    ProblemArea.BEHAVIOUR: ("gedrag", "agressie", "agressief", "conflict", "vecht", "geschorst", "uitgesloten"),
    ProblemArea.SOCIO_EMOTIONAL: ("angst", "depress", "somber", "emotione", "faalangst", "zelfbeeld"),
    ProblemArea.SCHOOL_RELATION: ("leerkracht", "relatie met school", "relatie met de school"),
    ProblemArea.HOME: ("thuissituatie", "gezin", "thuis loopt", "ouders"),
    ProblemArea.PERSPECTIVE: ("perspectief", "stoppen met school", "wil stoppen", "uitstroom", "kwalificatie"),
    ProblemArea.SUBSTANCES: ("drugs", "cannabis", "alcohol", "middelen", "blowen"),
}
_FORM_WORDS: dict[DesiredForm, tuple[str, ...]] = {
    DesiredForm.TIME_OUT: ("time-out", "timeout", "dagbesteding", "buiten de school"),
    DesiredForm.CLASS: ("klastraject", "hele klas", "de klas"),
    DesiredForm.COACHING: ("coaching", "schoolteam", "leerkrachten ondersteunen"),
}
_PRIMARY = ("basisschool", "basisonderwijs", "lagere school", "lager onderwijs", "leerjaar")
_SECONDARY = ("secundair", "middelbaar", "aso", "tso", "bso", "kso", "graad", "a-stroom", "b-stroom", "duaal")
_AGE = re.compile(r"\b(?:van|is|bijna|ongeveer)?\s*(\d{1,2})\s*(?:jaar|j\b|-jarige|jarige)|\bvan (\d{1,2})\b")
_POSTCODE_WORD = re.compile(r"\bpostcode\s*:?\s*(\d{4})\b")
_POSTCODE_PLACE = re.compile(r"\b(\d{4})\s+([a-z][a-z\-]+)")


class FreeTextFacts(BaseModel):
    """What a free-text question told us, and whether that is enough for a consult."""

    model_config = ConfigDict(frozen=True)

    facts: ReferralFacts
    place: str | None = None
    age: int | None = None

    @property
    def enough_for_consult(self) -> bool:
        """A place and either a level or an age: then suggestions can be honest."""
        return self.facts.relevant_postcode is not None and (self.facts.school_level is not None or self.age is not None)


def _words_present(text: str, words: tuple[str, ...]) -> bool:
    # The plain substring test first: a regex starting with \b gets no fast literal scan, and 40 of them
    # over a pasted megabyte cost seconds.
    return any(word in text and re.search(rf"\b{re.escape(word)}", text) for word in words)


def _place(text: str, folded: str, today: date) -> tuple[str | None, int | None]:
    """A known postcode said as such or with its municipality, else a municipality's name."""
    said = _POSTCODE_WORD.search(folded)
    if said and places.is_known_postcode(int(said[1]), on=today):
        return None, int(said[1])
    for found in _POSTCODE_PLACE.finditer(folded):
        if places.is_known_postcode(int(found[1]), on=today) and places.postcodes_named(found[2], on=today):
            return places.fold_name(found[2]), int(found[1])
    named = places.named_place(text, on=today)
    return named if named else (None, None)


def _age(text: str) -> int | None:
    for found in _AGE.finditer(text):
        value = int(found[1] or found[2])
        if 3 <= value <= 25:
            return value
    return None


def _level(text: str) -> SchoolLevel | None:
    if _words_present(text, _SECONDARY):
        return SchoolLevel.SECONDARY
    if _words_present(text, _PRIMARY):
        return SchoolLevel.PRIMARY
    return None


def read_question(text: str, *, today: date) -> FreeTextFacts:
    """The facts in a free-text question; the age becomes an approximate birth year."""
    folded = fold(text)
    place, postcode = _place(text, folded, today)
    age = _age(folded)
    form = next((f for f, words in _FORM_WORDS.items() if _words_present(folded, words)), None)
    facts = ReferralFacts(
        school_postcode=postcode,
        school_level=_level(folded),
        pupil_birth_year=today.year - age if age is not None else None,
        problem_areas=frozenset(p for p, words in _PROBLEM_WORDS.items() if _words_present(folded, words)),
        desired_form=form,
    )
    return FreeTextFacts(facts=facts, place=place, age=age)
