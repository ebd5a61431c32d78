"""The agenda's one-line actions besides the referral lines: `Vraag #12: <antwoord>`, `Aanbod #3: goedkeuren`,
`Aanbod #3: weigeren - reden`, `Quarantaine #5: afgehandeld`, `Mail #9: opnieuw` and `Mail #9: afgehandeld`.

Pure: the numbers are database ids, whether they exist is the desk's call (desk/agenda_lines.py). Lines are read
as intake/actions.py reads references: case does not matter, quote marks and bullets in front are skipped.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from intake.actions import LineProblem
from intake.folding import fold
from intake.texts import message

_TEXTS = "agenda_lines/messages.txt.j2"
# Bounded: a line is read up to this many characters, a text up to this many lines; an answer is at most
# MAX_ANSWER long. The pattern has no nested repetition: one pass over the line, whatever its content.
MAX_LINE = 6000
MAX_LINES = 2000
MAX_ANSWER = 5000
_LINE = re.compile(r"^[\s>*\-•]*(vraag|aanbod|quarantaine|mail)[ \t]*#[ \t]*(\d{1,9})(?!\d)[ \t]*[:\-–—]?[ \t]*(.*)$", re.IGNORECASE)


class Subject(StrEnum):
    """What a line's number names."""

    QUESTION = "vraag"
    OFFER = "aanbod"
    QUARANTINE = "quarantaine"
    MAIL = "mail"


class Deed(StrEnum):
    """What the line asks to do with it."""

    ANSWER = "antwoord"
    APPROVE = "goedkeuren"
    REJECT = "weigeren"
    HANDLED = "afgehandeld"
    AGAIN = "opnieuw"


# Folded words a person may write, per subject; longest first where one starts another.
_WORDS: dict[Subject, tuple[tuple[str, Deed], ...]] = {
    Subject.OFFER: (("goedkeuren", Deed.APPROVE), ("goedgekeurd", Deed.APPROVE), ("keur goed", Deed.APPROVE),
                    ("weigeren", Deed.REJECT), ("geweigerd", Deed.REJECT), ("weiger", Deed.REJECT)),
    Subject.QUARANTINE: (("afgehandeld", Deed.HANDLED), ("behandeld", Deed.HANDLED)),
    Subject.MAIL: (("opnieuw", Deed.AGAIN), ("nog eens", Deed.AGAIN), ("afgehandeld", Deed.HANDLED), ("behandeld", Deed.HANDLED)),
}
_LABELS = {Subject.QUESTION: "Vraag", Subject.OFFER: "Aanbod", Subject.QUARANTINE: "Quarantaine", Subject.MAIL: "Mail"}


class AgendaLine(BaseModel):
    """One understood line: which item (subject and number), what to do, and its text (an answer or a reason)."""

    model_config = ConfigDict(frozen=True)

    subject: Subject
    number: int
    deed: Deed
    line: str
    text: str | None = None

    @property
    def label(self) -> str:
        """The item as the coordinator names it: "Vraag #12"."""
        return label(self.subject, self.number)


def label(subject: Subject, number: int) -> str:
    """An item's name as the agenda shows it: "Aanbod #3"."""
    return f"{_LABELS[subject]} #{number}"


def parse_agenda_lines(text: str) -> tuple[list[AgendaLine], list[LineProblem]]:
    """Every line naming a question, offer change, quarantined or outgoing mail by number; other lines are ignored."""
    lines: list[AgendaLine] = []
    problems: list[LineProblem] = []
    for raw in text.splitlines()[:MAX_LINES]:
        found = _LINE.match(raw[:MAX_LINE])
        if found is None:
            continue
        subject, number, rest = Subject(found[1].lower()), int(found[2]), " ".join(found[3].split())
        shown = " ".join(raw.split())[:300]
        result = _read(subject, number, rest)
        if isinstance(result, str):
            problems.append(LineProblem(line=shown, reason=result))
        else:
            lines.append(AgendaLine(subject=subject, number=number, deed=result[0], text=result[1], line=shown))
    return lines, problems


def has_agenda_line(text: str) -> bool:
    """Whether any line of the text names an agenda item by number (understood or not)."""
    return any(_LINE.match(raw[:MAX_LINE]) for raw in text.splitlines()[:MAX_LINES])


def _read(subject: Subject, number: int, rest: str) -> tuple[Deed, str | None] | str:
    """The deed and its text after the number, or the Dutch reason the line is not understood."""
    name = label(subject, number)
    if subject is Subject.QUESTION:
        # The agenda shows "Vraag #12: <je antwoord>": the placeholder copied as is is no answer.
        if not rest or (rest.startswith("<") and rest.endswith(">")):
            return message("answer_missing", source=_TEXTS, name=name)
        return Deed.ANSWER, rest[:MAX_ANSWER]
    folded = fold(rest)
    for word, deed in _WORDS[subject]:
        if folded == word or folded.startswith(word + " ") or (folded.startswith(word) and not folded[len(word)].isalnum()):
            reason = rest[len(word):].strip().lstrip("-–—:;,.!? \t").strip()
            if deed is Deed.REJECT and not any(c.isalnum() for c in reason):
                return message("reason_missing", source=_TEXTS, name=name)
            return deed, reason[:500] if deed is Deed.REJECT else None
    return message(f"not_understood_{subject.value}", source=_TEXTS, name=name, rest=rest[:60])
