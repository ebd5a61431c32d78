"""Parse and validate one typed answer, with a Dutch reason when it is wrong; the same rules for every channel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from intake import places
from intake.folding import fold as fold  # re-exported: channels match typed words with it
from intake.hygiene import clean_text, has_letter
from intake.questionnaire import Choice, Question, QuestionType


class Invalid(BaseModel):
    """A rejected answer and why, in Dutch."""

    model_config = ConfigDict(frozen=True)

    reason: str


Parsed = Any  # a JSON-ready value: str, bool, int or list[str]
BLANK = "Geen antwoord ontvangen."
# Initials: one to four letters, each maybe with a dot, apart or together ("Z.P.", "ZP", "Z P").
_INITIALS = re.compile(r"(?:[^\W\d_]\.?[\s\-]*){1,4}")
_LETTER_RUN = re.compile(r"[^\W\d_]{2,}")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Split on the separators only and strip the pieces: "\s*(?:…)\s*" retried its white space from every
# position inside a long run of blanks (quadratic).
_SPLIT_MULTI = re.compile(r"[,;/+\n]|\ben\b")


def _text(question: Question, raw: str, today: date) -> Parsed | Invalid:
    text = raw.strip()
    if len(text) > question.max_length:
        return Invalid(reason=f"Dit antwoord is te lang: hou het onder {question.max_length} tekens.")
    if not has_letter(text) and not question.number_is_answer:
        # A phone number typed as the pupil's first name, or "0" as the help request: a slip, not an answer.
        if isinstance(_phone(question, text, today), str):
            return Invalid(reason="Dat lijkt een telefoonnummer, geen antwoord op deze vraag.")
        return Invalid(reason="Dit antwoord bevat geen letters; schrijf het in woorden.")
    return text


def _initials(question: Question, raw: str, today: date) -> Parsed | Invalid:
    text = raw.strip()
    # Letters written together are initials only in capitals: "ZP" is, "Tim" and "Eva" are names.
    together = _LETTER_RUN.findall(text)
    if len(text) > 20 or not _INITIALS.fullmatch(text) or any(not run.isupper() for run in together):
        return Invalid(
            reason="Geef enkel de initialen, bijvoorbeeld Z.P. of ZP, geen naam: "
            "in deze modus blijft de naam van de leerling uit het gesprek."
        )
    letters = re.sub(r"[\s.\-]", "", text)
    return ".".join(letters.upper()) + "."


def match_choice(raw: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice meant by a number, a value, a label or an unambiguous start of a label."""
    folded = fold(raw).rstrip(".)")
    if folded.isdigit() and 1 <= int(folded) <= len(choices):
        return choices[int(folded) - 1]
    exact = [c for c in choices if folded in (fold(c.value), fold(c.label))]
    if exact:
        return exact[0]
    starts = [c for c in choices if folded and fold(c.label).startswith(folded)]
    return starts[0] if len(starts) == 1 else None


def _choices_reason(choices: tuple[Choice, ...]) -> str:
    return f"Kies een nummer van 1 tot {len(choices)}, of typ de naam van een keuze."


def _choice(question: Question, raw: str, today: date) -> Parsed | Invalid:
    choice = match_choice(raw, question.choices)
    return choice.value if choice else Invalid(reason=_choices_reason(question.choices))


def _multi_choice(question: Question, raw: str, today: date) -> Parsed | Invalid:
    parts = [p for p in (piece.strip() for piece in _SPLIT_MULTI.split(raw)) if p]
    picked: list[str] = []
    for part in parts:
        choice = match_choice(part, question.choices)
        if choice is None:
            return Invalid(reason=f"'{part[:40]}' is geen keuze. " + _choices_reason(question.choices))
        if choice.value not in picked:
            picked.append(choice.value)
    if not picked:
        return Invalid(reason="Kies minstens één mogelijkheid. " + _choices_reason(question.choices))
    return picked


YES_WORDS = {"ja", "j", "yes", "y", "jawel", "ok", "akkoord"}
NO_WORDS = {"nee", "n", "neen", "no", "nope"}


def _yes_no(question: Question, raw: str, today: date) -> Parsed | Invalid:
    folded = fold(raw).rstrip(".!")
    if folded in YES_WORDS:
        return True
    if folded in NO_WORDS:
        return False
    return Invalid(reason="Antwoord met ja of nee.")


def _date(question: Question, raw: str, today: date) -> Parsed | Invalid:
    text = raw.strip()
    dmy, iso = _DATE_DMY.match(text), _DATE_ISO.match(text)
    try:
        if dmy:
            value = date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
        elif iso:
            value = date(int(iso[1]), int(iso[2]), int(iso[3]))
        else:
            raise ValueError
    except ValueError:
        return Invalid(reason="Geef een bestaande datum als dd/mm/jjjj, bijvoorbeeld 14/03/2011.")
    if value > today:
        return Invalid(reason="Die datum ligt in de toekomst.")
    if value.year < today.year - 30:
        return Invalid(reason="Die datum ligt meer dan 30 jaar terug; controleer het jaar.")
    return value.isoformat()


def _year(question: Question, raw: str, today: date) -> Parsed | Invalid:
    text = raw.strip()
    if not re.fullmatch(r"\d{4}", text):
        return Invalid(reason="Geef het jaar in vier cijfers, bijvoorbeeld 2011.")
    year = int(text)
    if not today.year - 30 <= year <= today.year - 2:
        return Invalid(reason=f"Een geboortejaar tussen {today.year - 30} en {today.year - 2}, alsjeblieft.")
    return year


def _postcode(question: Question, raw: str, today: date) -> Parsed | Invalid:
    found = re.match(r"^\s*(?:B-?\s*)?(\d{4})\b", raw.strip(), flags=re.IGNORECASE)
    if not found:
        return Invalid(reason="Een Belgische postcode heeft 4 cijfers, bijvoorbeeld 1500 of 3000.")
    if not places.is_known_postcode(int(found[1]), on=today):
        return Invalid(reason=f"{found[1]} is geen Belgische postcode. Kijk ze na, bijvoorbeeld 1500 (Halle) of 3000 (Leuven).")
    return found[1]


def email_address(raw: str) -> str | None:
    """raw as a lower-case e-mail address (one @, a domain with a dot, no blanks or controls), or None."""
    address = raw.strip().strip("<>").lower()
    if not _EMAIL.match(address) or len(address) > 254 or not address.isprintable():
        return None
    return address


def _email(question: Question, raw: str, today: date) -> Parsed | Invalid:
    address = email_address(raw)
    if address is None:
        return Invalid(reason="Dat is geen geldig e-mailadres, bijvoorbeeld naam@clb.be.")
    return address


def _phone(question: Question, raw: str, today: date) -> Parsed | Invalid:
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if re.search(r"[^\d\s+/.()\-]", text) or not 9 <= len(digits) <= 15:
        return Invalid(reason="Geef een telefoonnummer van 9 tot 15 cijfers, bijvoorbeeld 0470 12 34 56.")
    return " ".join(text.split())


_PARSERS: dict[QuestionType, Callable[[Question, str, date], Parsed | Invalid]] = {
    QuestionType.TEXT: _text,
    QuestionType.INITIALS: _initials,
    QuestionType.CHOICE: _choice,
    QuestionType.MULTI_CHOICE: _multi_choice,
    QuestionType.YES_NO: _yes_no,
    QuestionType.DATE: _date,
    QuestionType.YEAR: _year,
    QuestionType.POSTCODE: _postcode,
    QuestionType.EMAIL: _email,
    QuestionType.PHONE: _phone,
}


def parse_answer(question: Question, raw: str, *, today: date) -> Parsed | Invalid:
    """The stored value of a typed answer, or Invalid with a Dutch reason; escapes and controls never reach it."""
    text = clean_text(raw)
    if not text:
        return Invalid(reason=BLANK)
    return _PARSERS[question.type](question, text, today)


def display_value(question: Question, value: Any) -> str:
    """How a stored answer reads in a summary or a form."""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if question.is_choice:
        labels = {c.value: c.label for c in question.choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, str(v)) for v in values)
    if question.type is QuestionType.DATE:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)
