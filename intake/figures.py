"""What the figures count of one referral, pure: closed sets, normalised names, a keyed pupil hash, decline reasons.

The store (store/figures.py) feeds it the referral's answers, eligibility, suggestions and history and writes
the result to referral_figures. Nothing here keeps a name, a date of birth or free text: the pupil is a keyed
hash (HMAC-SHA256 with a secret from the settings), a provider's note becomes one DeclineReason.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from intake import places
from intake.brussels import BRUSSELS
from intake.eligibility import Severity
from intake.facts import ReferralFacts
from intake.folding import fold
from intake.retention import AGE_BAND_KEY, REGION_KEY, figure_fields, school_year_of
from intake.vocabulary import Labelled

# Names kept as written by schools and CLBs; these short words are acronyms and stay in capitals.
ACRONYMS = frozenset({"clb", "go", "vti", "kta", "bso", "tso", "aso", "kso", "vzw", "okan", "pti", "giti", "sito", "mpi"})
# "derde jaar" counts as "3": the ordinals a referrer may write instead of a digit.
ORDINALS = {"eerste": "1", "tweede": "2", "derde": "3", "vierde": "4", "vijfde": "5", "zesde": "6", "zevende": "7", "achtste": "8"}
HIGHEST_GRADE = 8  # primary has six years, secondary seven (a Se-n-Se eighth at most): more is no grade
# What pseudonymisation does to the figures (intake.retention.pseudonymised drops the answers these come from):
# the school's name and place and the exact age go with the pupil's identity, as the referral's own answers do
# (its age band and region stay); the CLB and the year are kept as they were, they say nothing of who the pupil is.
FORGOTTEN_FIELDS = ("school", "municipality", "age")
KEPT_FIELDS = ("clb", "school_grade")
# An erasure on request leaves nothing that came from a free answer.
ERASED_FIELDS = FORGOTTEN_FIELDS + KEPT_FIELDS


class DeclineReason(Labelled):
    """Why a provider declined a referral, as a closed set the report counts (from the provider's note)."""

    VOLZET = ("volzet", "Geen plaats (volzet)")
    BUITEN_REGIO = ("buiten-regio", "Buiten het werkgebied")
    BUITEN_DOELGROEP = ("buiten-doelgroep", "Past niet bij het aanbod of de doelgroep")
    LEERLING_OF_GEZIN = ("leerling-of-gezin", "Leerling of gezin wil niet of is niet bereikbaar")
    ANDERE = ("andere", "Andere reden")


# Phrases per reason, as folded words; a word ending in "*" matches every word it begins. The reason of
# the phrase that comes first in the note wins: a provider names the main reason first.
_PHRASES: dict[DeclineReason, tuple[str, ...]] = {
    DeclineReason.VOLZET: (
        "volzet*", "vol", "volgeboekt*", "wachtlijst*", "capaciteit*", "plaatsgebrek", "geen plaats*", "geen plek*",
        "geen vrije plaats*", "geen ruimte", "overbevraagd*", "overvraagd*", "te veel aanmeldingen",
    ),
    DeclineReason.BUITEN_REGIO: (
        "werkgebied*", "regio*", "buiten ons gebied", "te ver", "afstand*", "andere provincie", "niet in onze streek",
    ),
    DeclineReason.BUITEN_DOELGROEP: (
        "doelgroep*", "past niet", "passen niet", "niet passend", "niet geschikt", "ongeschikt", "profiel*", "te jong",
        "te oud", "leeftijd*", "problematiek*", "te zwaar", "psychiatr*", "aanbod past", "buiten ons aanbod", "indicatie*",
    ),
    DeclineReason.LEERLING_OF_GEZIN: (
        "wil niet", "willen niet", "weigert", "weigeren", "ouder*", "gezin*", "moeder", "vader", "niet bereikbaar",
        "onbereikbaar", "geen contact", "niet gemotiveerd", "geen motivatie", "ongemotiveerd", "geen toestemming",
        "geen interesse", "niet opgedaagd", "niet komen opdagen", "ziet het niet zitten",
    ),
}
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Phrase:
    """One phrase of the classifier: its reason and its words (a word ending in "*" as a prefix)."""

    reason: DeclineReason
    words: tuple[str, ...]

    def at(self, words: list[str], start: int) -> bool:
        """Whether the phrase begins at words[start]: each word equal, or begun by a prefix word."""
        if start + len(self.words) > len(words):
            return False
        for wanted, word in zip(self.words, words[start:start + len(self.words)], strict=True):
            if not (word.startswith(wanted[:-1]) if wanted.endswith("*") else word == wanted):
                return False
        return True


def _phrase_index() -> tuple[dict[str, list[_Phrase]], list[_Phrase]]:
    """The phrases by their exact first word, and those whose first word is a prefix (checked at every word)."""
    exact: dict[str, list[_Phrase]] = {}
    prefixed: list[_Phrase] = []
    for reason, phrases in _PHRASES.items():
        for text in phrases:
            phrase = _Phrase(reason, tuple(text.split()))
            if phrase.words[0].endswith("*"):
                prefixed.append(phrase)
            else:
                exact.setdefault(phrase.words[0], []).append(phrase)
    return exact, prefixed


_EXACT, _PREFIXED = _phrase_index()


def classify_decline(note: str | None) -> DeclineReason:
    """The reason a provider's (already scrubbed) note gives; ANDERE when it names none.

    Linear in the note: one pass over its words, a fixed number of short phrases tried at each.
    """
    words = _WORDS.findall(fold(note or ""))
    starting: dict[str, list[_Phrase]] = {}  # per distinct word, the phrases it can begin: a repeated word costs once
    for start, word in enumerate(words):
        if word not in starting:
            starting[word] = [*_EXACT.get(word, ()), *(p for p in _PREFIXED if word.startswith(p.words[0][:-1]))]
        for phrase in starting[word]:
            if phrase.at(words, start):
                reason: DeclineReason = phrase.reason
                return reason
    return DeclineReason.ANDERE


def normalise_name(name: Any) -> str | None:
    """A school's or CLB's name as the figures group it: trimmed, single spaces, title case (acronyms in capitals)."""
    if not isinstance(name, str) or not name.strip():
        return None
    words = []
    for word in name.split():
        titled = word.title()
        words.append(titled.upper() if fold(re.sub(r"\W", "", word)) in ACRONYMS else titled)
    return " ".join(words)[:200]


def normalise_grade(answer: Any) -> str | None:
    """The pupil's year as a digit: "3de jaar" and "derde jaar" are "3"; None when the answer names no year."""
    if answer is None:
        return None
    text = fold(str(answer))
    digits = re.search(r"\d+", text)
    grade = digits.group() if digits else next((d for word, d in ORDINALS.items() if word in text), None)
    # Length first: int() refuses a number of thousands of digits, and no year has more than one.
    if grade is None or len(grade) > 2 or not 1 <= int(grade) <= HIGHEST_GRADE:
        return None
    return str(int(grade))




def is_pseudonymised(answers: dict[str, Any]) -> bool:
    """Whether the answers are what pseudonymisation kept: only then do they carry the derived age band."""
    return AGE_BAND_KEY in answers


def _letters(value: Any) -> str:
    """A name reduced to its letters, folded: "Van Acker", "van-acker" and "VanAcker" are the same."""
    return re.sub(r"[^a-z]", "", fold(str(value or "")))


def pupil_key(answers: dict[str, Any], secret: bytes) -> str | None:
    """A keyed hash of who the pupil is, to count distinct pupils; None when the answers do not say.

    Full mode: first and last name and date of birth. Minimal mode (no names): initials, birth year and
    the school's postcode. The two never give the same key: they are different evidence.
    """
    first, last, born = _letters(answers.get("pupil_first_name")), _letters(answers.get("pupil_last_name")), answers.get("pupil_birth_date")
    if first and last and born:
        material = f"volledig\x00{first}\x00{last}\x00{born}"
    else:
        initials, year = _letters(answers.get("pupil_initials")), answers.get("pupil_birth_year")
        postcode = answers.get("school_postcode") or answers.get("last_school_postcode")
        if not (initials and year and postcode):
            return None
        material = f"minimaal\x00{initials}\x00{year}\x00{postcode}"
    return hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class FigureFacts:
    """What the figures row holds of a referral's answers, eligibility and suggestions (the store adds the history)."""

    submitted_on: date | None
    school_year: int | None
    eligible: bool | None
    ineligible_reason: str | None  # the first blocking rule's code when not eligible (intake.eligibility)
    region: str | None
    municipality: str | None
    school: str | None
    clb: str | None
    age: int | None
    age_band: str | None
    school_level: str | None
    school_grade: str | None
    education_form: str | None
    urgency: str | None
    referrer_role: str | None
    desired_form: str | None
    preferred_service: str | None
    suggested_service: str | None
    no_offer_in_region: bool
    problem_areas: tuple[str, ...]

    @classmethod
    def of(cls, answers: dict[str, Any], *, eligibility: dict[str, Any] | None, suggestions: Any,
           submitted_at: datetime | None, created_at: datetime) -> FigureFacts:
        """The facts of one referral; the day that fixes age and region is the one pseudonymisation uses."""
        day = (submitted_at or created_at).astimezone(BRUSSELS).date()
        submitted_on = submitted_at.astimezone(BRUSSELS).date() if submitted_at else None
        answers = readable(answers)
        kept = figure_fields(answers, on=day)
        facts = ReferralFacts.from_answers(_birth(answers))
        consulted = suggestions if isinstance(suggestions, dict) else {}
        ranked = consulted.get("suggestions") or []
        return cls(
            submitted_on=submitted_on, school_year=school_year_of(submitted_on) if submitted_on else None,
            eligible=_eligible(eligibility), ineligible_reason=_blocking_rule(eligibility), region=kept[REGION_KEY], municipality=_municipality(answers, day),
            school=normalise_name(answers.get("school_name") or answers.get("last_school_name")),
            clb=normalise_name(answers.get("referrer_organisation")), age=facts.age_on(day), age_band=kept[AGE_BAND_KEY],
            school_level=kept["school_level"], school_grade=normalise_grade(answers.get("school_year")),
            education_form=_text(answers.get("education_form")), urgency=_text(answers.get("urgency")),
            referrer_role=_text(answers.get("referrer_role")), desired_form=_text(answers.get("desired_form")),
            preferred_service=kept["preferred_intervention"],
            suggested_service=_text(ranked[0].get("service_id")) if ranked and isinstance(ranked[0], dict) else None,
            # The consult ran, found the region, and had no service it was sure of (a direct route does not count).
            no_offer_in_region=bool(consulted) and kept[REGION_KEY] is not None and consulted.get("proposed") is None,
            problem_areas=tuple(str(area) for area in kept["problem_areas"]),
        )


def readable(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without those ReferralFacts cannot read ("14 maart" as a date): the figures count what they can, never fail."""
    try:
        ReferralFacts.from_answers(answers)
        return answers
    except ValueError:  # pydantic's ValidationError; rare (a corrupt or hand-edited answer), so each is tried alone only now
        pass
    unreadable = set()
    for key in ReferralFacts.model_fields.keys() & answers.keys():
        try:
            ReferralFacts.from_answers({key: answers[key]})
        except ValueError:
            unreadable.add(key)
    return {key: value for key, value in answers.items() if key not in unreadable}


def _birth(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers the age comes from: date of birth, or the birth year alone (minimal mode)."""
    return {key: answers[key] for key in ("pupil_birth_date", "pupil_birth_year") if answers.get(key) is not None}


def _municipality(answers: dict[str, Any], day: date) -> str | None:
    """The municipality of the school, else of the last school; None when neither postcode is known."""
    for key in ("school_postcode", "last_school_postcode"):
        value = str(answers.get(key) or "").strip()
        if re.fullmatch(r"[0-9]{4}", value):  # a Belgian postcode; anything else names no place
            found = places.place(int(value), on=day)
            return found.municipalities[0][:100] if found.municipalities else None
    return None


def _eligible(eligibility: dict[str, Any] | None) -> bool | None:
    """Ontvankelijk (also with points for the coordinator) or not; None before it was judged."""
    outcome = (eligibility or {}).get("outcome")
    return None if outcome is None else outcome != "not_eligible"


def _blocking_rule(eligibility: dict[str, Any] | None) -> str | None:
    """Why a referral is not eligible: the code of its first blocking finding (rules run in one fixed order), else None."""
    if _eligible(eligibility) is not False:
        return None
    findings = (eligibility or {}).get("findings") or []
    blocks = [str(f.get("rule"))[:32] for f in findings if isinstance(f, dict) and f.get("severity") == Severity.BLOCK and f.get("rule")]
    return blocks[0] if blocks else None


def _text(value: Any) -> str | None:
    """A closed-set answer as stored, or None."""
    return None if value is None else str(value)[:64]
