"""Reads the facts a consult needs (place, level, age, problems, form) from a question in free text.

Conservative on purpose: a four-digit number counts as a postcode only when the word "postcode"
or a municipality comes with it, because "geboren in 2011" must not become postcode 2011.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from intake.answers import fold
from intake.facts import ReferralFacts
from intake.vocabulary import DesiredForm, ProblemArea, SchoolLevel

# Main postcode per municipality of Vlaams-Brabant (and a few big cities outside, to recognise them).
MUNICIPALITIES: dict[str, int] = {
    "affligem": 1790, "asse": 1730, "beersel": 1650, "bever": 1547, "dilbeek": 1700, "drogenbos": 1620,
    "galmaarden": 1570, "gooik": 1755, "grimbergen": 1850, "halle": 1500, "herne": 1540, "hoeilaart": 1560,
    "kampenhout": 1910, "kapelle-op-den-bos": 1880, "kraainem": 1950, "lennik": 1750, "liedekerke": 1770,
    "linkebeek": 1630, "londerzeel": 1840, "machelen": 1830, "meise": 1860, "merchtem": 1785, "opwijk": 1745,
    "pepingen": 1670, "roosdaal": 1760, "sint-genesius-rode": 1640, "sint-pieters-leeuw": 1600,
    "steenokkerzeel": 1820, "ternat": 1740, "vilvoorde": 1800, "wemmel": 1780, "wezembeek-oppem": 1970,
    "zaventem": 1930, "zemst": 1980,
    "aarschot": 3200, "begijnendijk": 3130, "bekkevoort": 3460, "bertem": 3060, "bierbeek": 3360,
    "boortmeerbeek": 3190, "boutersem": 3370, "diest": 3290, "geetbets": 3450, "glabbeek": 3380,
    "haacht": 3150, "herent": 3020, "heverlee": 3001, "hoegaarden": 3320, "holsbeek": 3220,
    "huldenberg": 3040, "keerbergen": 3140, "kessel-lo": 3010, "kortenaken": 3470, "kortenberg": 3070,
    "landen": 3400, "leuven": 3000, "linter": 3350, "lubbeek": 3210, "oud-heverlee": 3050, "rotselaar": 3110,
    "scherpenheuvel-zichem": 3270, "tervuren": 3080, "tielt-winge": 3390, "tienen": 3300, "tremelo": 3120,
    "wilsele": 3012, "zoutleeuw": 3440,
    "brussel": 1000, "antwerpen": 2000, "mechelen": 2800, "gent": 9000, "hasselt": 3500, "waver": 1300,
}
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


def _place(text: str) -> tuple[str | None, int | None]:
    """A postcode said as such or with its municipality, else a municipality's name."""
    for found in (_POSTCODE_WORD.search(text), _POSTCODE_PLACE.search(text)):
        if found and (found.re is _POSTCODE_WORD or found[2] in MUNICIPALITIES):
            return (found[2] if found.re is _POSTCODE_PLACE else None), int(found[1])
    for name, postcode in MUNICIPALITIES.items():
        if name in text and re.search(rf"\b{re.escape(name)}\b", text):
            return name, postcode
    return None, None


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
    place, postcode = _place(folded)
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
