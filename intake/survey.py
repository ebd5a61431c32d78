"""The yearly under-12 survey: its questions, its closed sets, and reading answers from a mail form or a chat. Pure.

Four questions: the region the staff member mostly works in, how many questions about pupils under 12
reached her this school year, which needs she saw (one or more of a closed set), and which offer she
missed (free text, may be skipped). Every wrong answer gets a Dutch reason.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from intake.folding import fold
from intake.hygiene import clean_text
from intake.vocabulary import Labelled, Region

MAX_COUNT = 10_000  # more questions than a CLB staff member gets in years: a typo
MAX_MISSING = 1000  # characters of the missing offer kept
SKIP_WORDS = frozenset({"", "-", "--", "–", "—", "overslaan", "nvt", "n.v.t.", "geen", "niets", "nee"})
# The token in a survey mail's subject: "[bevraging 2026 K7QX2M9D]"; no 0/O or 1/I to misread.
TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TOKEN_LENGTH = 8
_TOKEN = re.compile(r"\[\s*bevraging\s+(\d{4})\s+([A-Za-z0-9]{%d})\s*\]" % TOKEN_LENGTH, re.IGNORECASE)
_EMAIL = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[a-z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\d)(?:\+32|0)[\d /.\-]{7,13}\d(?!\d)")
_QUOTE = re.compile(r"^(?:\s*>)+")
_SPLIT = re.compile(r"[,;/+\n]|\ben\b")


class SurveyNeed(Labelled):
    """The needs a staff member saw in pupils under 12: a closed set, so the report can count them."""

    GEDRAG = ("gedrag", "Gedragsproblemen")
    SCHOOLVERZUIM = ("schoolverzuim", "Schoolverzuim of spijbelen")
    SOCIO_EMOTIONEEL = ("socio-emotioneel", "Socio-emotionele problemen")
    THUISSITUATIE = ("thuissituatie", "Moeilijke thuissituatie")
    LEERPROBLEMEN = ("leerproblemen", "Leerproblemen")
    ANDERS = ("anders", "Iets anders")


class SurveyField:
    """The form's labels, as the mail shows them and a reply gives them back."""

    REGION = "Regio"
    COUNT = "Vragen jonger dan 12"
    NEEDS = "Noden"
    MISSING = "Ontbrekend aanbod"


FIELDS = (SurveyField.REGION, SurveyField.COUNT, SurveyField.NEEDS, SurveyField.MISSING)
_LABELS = {fold(label): label for label in FIELDS}


@dataclass(frozen=True)
class SurveyAnswer:
    """One staff member's answer: what the report counts, and her free text for the coordinator."""

    region: Region
    under12_questions: int
    needs: tuple[SurveyNeed, ...]
    missing_offer: str | None


@dataclass(frozen=True)
class SurveyProblem:
    """An answer that could not be used: the label, what was received and the Dutch reason."""

    label: str
    received: str
    reason: str


@dataclass(frozen=True)
class SurveyForm:
    """What a filled-in form yields: the answer when everything is right, else the problems."""

    answer: SurveyAnswer | None
    problems: tuple[SurveyProblem, ...]
    labels_found: int
    values: dict[str, str]


def new_token() -> str:
    """A random token for one invitation (40 bits): it names the invitation in a reply's subject."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def subject_tag(year: int, token: str) -> str:
    """The tag in the subject of a survey mail, found back in a reply's "Re:" subject."""
    return f"[bevraging {year} {token}]"


def find_token(subject: str) -> tuple[int, str] | None:
    """The (year, token) of a survey tag in a subject, or None."""
    found = _TOKEN.search(subject or "")
    return (int(found.group(1)), found.group(2).upper()) if found else None




def parse_region(raw: str) -> Region | str:
    """A region from "AHV", "Asse-Halle-Vilvoorde", "oost", "1" or "2"; otherwise the Dutch reason."""
    text = fold(raw).strip(" .")
    if text in {"1", "ahv", "asse-halle-vilvoorde", "asse halle vilvoorde", "halle-vilvoorde"} or text.startswith("asse"):
        return Region.AHV
    if text in {"2", "oost", "vlaams-brabant oost", "vlaams brabant oost", "leuven"} or text.endswith("oost"):
        return Region.OOST
    return "Kies AHV (Asse-Halle-Vilvoorde) of Oost (Vlaams-Brabant Oost)."


def parse_count(raw: str) -> int | str:
    """The number of questions: a whole number from 0; otherwise the Dutch reason."""
    text = raw.strip().rstrip(".")
    if not text:
        return "Vul een getal in, ook als het 0 is."
    if not text.isdigit():
        return "Schrijf enkel een getal, bijvoorbeeld 3 (of 0 als je er geen kreeg)."
    number = int(text)
    if number > MAX_COUNT:
        return f"{number} vragen in één schooljaar lijkt ons een tikfout; kijk het even na."
    return number


def parse_needs(raw: str) -> tuple[SurveyNeed, ...] | str:
    """One or more needs, by number (1-6) or by word, separated by commas; otherwise the Dutch reason."""
    chosen: list[SurveyNeed] = []
    for part in (p.strip(" .") for p in _SPLIT.split(fold(raw))):
        if not part:
            continue
        need = _need(part)
        if need is None:
            return f"'{part[:40]}' is geen keuze. " + needs_hint()
        if need not in chosen:
            chosen.append(need)
    if not chosen:
        return "Kies minstens één nood. " + needs_hint()
    return tuple(chosen)


def needs_hint() -> str:
    """The choices as a person types them: numbers and words."""
    return "Kies uit: " + ", ".join(f"{n} {need.value}" for n, need in enumerate(SurveyNeed, start=1)) + "."


def _need(part: str) -> SurveyNeed | None:
    """The need a typed part names: its number, its value, its label or the start of either."""
    members = list(SurveyNeed)
    if part.isdigit():
        index = int(part) - 1
        return members[index] if 0 <= index < len(members) else None
    for need in members:
        if part in (need.value, fold(need.label)) or need.value.startswith(part) and len(part) >= 4:
            return need
    return None


def parse_missing(raw: str) -> str | None:
    """The missing offer as free text, cleaned and without addresses or phone numbers; None when skipped."""
    text = clean_text(raw, limit=MAX_MISSING)
    if fold(text).strip(" .") in SKIP_WORDS:
        return None
    text = _EMAIL.sub("[adres]", text)
    return _PHONE.sub("[nummer]", text) or None


def read_form(text: str) -> SurveyForm:
    """Read "Label: antwoord" lines (quote marks, bullets and note lines forgiven) into an answer or problems."""
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = _QUOTE.sub("", raw_line).strip()
        label, colon, value = line.partition(":")
        key = _LABELS.get(fold(label).strip(" *-"))
        if colon and key is not None and key not in values:
            values[key] = value.strip()
    return _judge(values)


def _judge(values: dict[str, str]) -> SurveyForm:
    """The answer from the values read, or every problem with its reason."""
    problems: list[SurveyProblem] = []
    region = parse_region(values.get(SurveyField.REGION, ""))
    count = parse_count(values.get(SurveyField.COUNT, ""))
    needs = parse_needs(values.get(SurveyField.NEEDS, ""))
    for label, parsed in ((SurveyField.REGION, region), (SurveyField.COUNT, count), (SurveyField.NEEDS, needs)):
        if isinstance(parsed, str) and not isinstance(parsed, Region):
            problems.append(SurveyProblem(label=label, received=values.get(label, "")[:200], reason=parsed))
    if problems or not isinstance(region, Region) or not isinstance(count, int) or isinstance(needs, str):
        return SurveyForm(answer=None, problems=tuple(problems), labels_found=len(values), values=values)
    answer = SurveyAnswer(region=region, under12_questions=count, needs=needs, missing_offer=parse_missing(values.get(SurveyField.MISSING, "")))
    return SurveyForm(answer=answer, problems=(), labels_found=len(values), values=values)
