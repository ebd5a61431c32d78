"""The referral form by mail: render it as "Label: antwoord" lines, and read a filled-in one back. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import groupby
from typing import Any

from pydantic import BaseModel, ConfigDict

from intake.answers import Invalid, Parsed, display_value, fold, parse_answer
from intake.dialogue import in_mode
from intake.hygiene import clean_text
from intake.questionnaire import Choice, Question, Questionnaire, QuestionType
from intake.references import find_reference
from intake.texts import render
from intake.vocabulary import Mode
from mail.body import all_text, body_text, starts_history

__all__ = ["MARK", "RULE", "FormProblem", "FormResult", "all_text", "body_text", "parse_form", "render_form"]

MARK = "↳"  # starts every note line of the form: help, conditions, choices
RULE = "==="  # starts every divider line: section titles and the end of the form
TEMPLATE = "mail/form.txt.j2"
_UNANSWERED = {"", "-", "--", "–", "—", "overslaan", "nvt", "n.v.t."}
_RECEIVED_MAX = 500  # a problem quotes what was received; a pasted essay need not be kept twice
_QUOTE = re.compile(r"^(?:\s*>)+")
_BULLET = re.compile(r"^(?:[*\-•·]|\d{1,2}[.)])\s+")  # "1. Label:" as in the chat summary, or a list
_NOT_KEY = re.compile(r"[^a-z0-9]")
_MANGLED_MARK = re.compile(r"^[^A-Za-z0-9\"'(]{1,6}")  # "â†³" or "?" where a client lost the mark's charset
# A greeting or a phone's signature ends an answer: replies put them right after the last one.
_CLOSING = re.compile(
    r"^(?:(?:met )?(?:vriendelijke|hartelijke|beste|warme|collegiale) groet(?:en)?\b|groet(?:en|jes)?\b|mvg\b|"
    r"(?:alvast )?(?:bedankt|dank (?:je|u)(?: wel)?)\b|(?:kind |best )?regards\b|"
    r"(?:verzonden|verstuurd|sent) (?:vanaf|van|met|from) (?:mijn|my)\b)"
)
# Both are matched at a position (Pattern.match(text, pos)): the choices of an answer are read left to
# right without cutting the text, which copied the rest at every choice (quadratic: 320 KB took 12.9 s).
_CHOICE_LEAD = re.compile(r"(?:[\s,;/+]|en\b)+")
_CHOICE_NUMBER = re.compile(r"(\d{1,2})(?!\w)\s*[.):=\-]?\s*")


class FormProblem(BaseModel):
    """An answer in the form that could not be used, with what was received and the Dutch reason."""

    model_config = ConfigDict(frozen=True)

    question_id: str
    label: str
    received: str
    reason: str


class FormResult(BaseModel):
    """What a filled-in form yields: valid answers, problems, and how much of a form was found."""

    model_config = ConfigDict(frozen=True)

    answers: dict[str, Any]
    problems: tuple[FormProblem, ...]
    labels_found: int
    reference: str | None

    @property
    def complete(self) -> bool:
        """No problems; every applicable required question left empty is itself a problem."""
        return not self.problems


@dataclass(frozen=True)
class _Row:
    """One question as the form template shows it: prefilled value and readable conditions."""

    question: Question
    value: str
    conditions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Section:
    """A titled group of rows in the form."""

    name: str
    rows: tuple[_Row, ...]


def render_form(
    questionnaire: Questionnaire,
    *,
    answers: dict[str, Any] | None = None,
    mode: Mode = Mode.FULL,
    reference: str | None = None,
) -> str:
    """The form as plain text, prefilled with known answers, for the questions of this mode."""
    known = answers or {}
    rows = [
        (question.section, _row(questionnaire, question, known))
        for question in questionnaire.questions
        if in_mode(question, mode) and _may_apply(question, known)
    ]
    sections = [_Section(name, tuple(row for _, row in group)) for name, group in groupby(rows, key=lambda r: r[0])]
    return render(TEMPLATE, reference=reference, sections=sections, mark=MARK, rule=RULE)


def _may_apply(question: Question, known: dict[str, Any]) -> bool:
    """A mail form cannot branch: leave out only questions whose condition is known to fail."""
    return all(c.question not in known or c.holds(known) for c in question.when)


def _row(questionnaire: Questionnaire, question: Question, known: dict[str, Any]) -> _Row:
    """The template's view of one question."""
    value = known.get(question.id)
    conditions = tuple(
        (questionnaire.get(c.question).label, display_value(questionnaire.get(c.question), c.equals))
        for c in question.when
    )
    return _Row(question=question, value="" if value is None else display_value(question, value), conditions=conditions)


def parse_form(text: str, questionnaire: Questionnaire, *, mode: Mode = Mode.FULL, today: date) -> FormResult:
    """The answers in a filled-in form, with a problem per unusable or missing required answer."""
    collector = _Collector(_form_index(questionnaire))
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if starts_history(lines, index):
            # Quoted or forwarded history, or a signature, is never part of the answer above it.
            collector.stop()
        else:
            collector.feed(line)
    collector.stop()
    answers, problems = _evaluate(questionnaire, collector.found, mode=mode, today=today)
    return FormResult(
        answers=answers,
        problems=tuple(problems),
        labels_found=len(collector.seen),
        reference=find_reference(text),
    )


@dataclass(frozen=True)
class _FormIndex:
    """What the parser recognises: every label (by folded key) and every note line of our own form."""

    labels: dict[str, Question]
    notes: frozenset[str]


def _key(text: str) -> str:
    """A label compared without case, accents, spacing or punctuation."""
    return _NOT_KEY.sub("", fold(text))


@lru_cache(maxsize=16)
def _form_index(questionnaire: Questionnaire) -> _FormIndex:
    """Labels and note lines of this questionnaire's form, in every mode."""
    labels = {_key(q.label): q for q in questionnaire.questions}
    notes = {
        fold(line.strip()[len(MARK):])
        for mode in Mode
        for line in render_form(questionnaire, mode=mode).splitlines()
        if line.strip().startswith(MARK)
    }
    return _FormIndex(labels=labels, notes=frozenset(notes))


class _Collector:
    """Gathers the lines under each label; the first non-empty answer to a question wins (newest on top)."""

    def __init__(self, index: _FormIndex) -> None:
        self.index = index
        self.found: dict[str, str] = {}
        self.seen: set[str] = set()
        self.current: Question | None = None
        self.lines: list[str] = []

    def feed(self, raw_line: str) -> None:
        """Take one line of the mail."""
        line = _QUOTE.sub("", raw_line).strip()
        if not line:
            if self.lines and self.lines[-1]:
                self.lines.append("")
        elif line.startswith(RULE):
            self.stop()
        elif not self._is_note(line):
            labelled = self._label(line)
            if labelled is not None:
                self.stop()
                self.current, value = labelled
                self.seen.add(self.current.id)
                self.lines = [value] if value else []
            else:
                self._text(line)

    def _text(self, line: str) -> None:
        """A line that is no label: it continues the current answer, if any."""
        if self.current is None:
            return
        if _CLOSING.match(fold(line)):
            self.stop()
            return
        if self.lines and not self.lines[-1] and self.current.type is not QuestionType.TEXT:
            # A short answer ends at a blank line: what follows is a greeting or a signature.
            self.stop()
            return
        self.lines.append(line)

    def _is_note(self, line: str) -> bool:
        """A note line of our form, also when a mail client mangled or dropped the mark."""
        return line.startswith(MARK) or fold(_MANGLED_MARK.sub("", line)) in self.index.notes

    def _label(self, line: str) -> tuple[Question, str] | None:
        """The question a line is the label of, and the answer after the colon."""
        head, _, value = line.partition(":")
        question = self.index.labels.get(_key(_BULLET.sub("", head))) if len(head) <= 80 else None
        return (question, value.strip()) if question is not None else None

    def stop(self) -> None:
        """Close the current answer and keep it if it says something."""
        if self.current is not None:
            value = _join(self.current, self.lines)
            if fold(value) not in _UNANSWERED:
                self.found.setdefault(self.current.id, value)
        self.current, self.lines = None, []


def _join(question: Question, lines: list[str]) -> str:
    """The lines of one answer as the text `parse_answer` expects."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    if question.type in (QuestionType.TEXT, QuestionType.MULTI_CHOICE):
        return "\n".join(lines)
    return " ".join(line for line in lines if line)


def _evaluate(
    questionnaire: Questionnaire, received: dict[str, str], *, mode: Mode, today: date
) -> tuple[dict[str, Any], list[FormProblem]]:
    """Parse the received answers in order, evaluating conditions on what parsed so far."""
    answers: dict[str, Any] = {}
    problems: list[FormProblem] = []
    excluded: set[str] = set()
    for question in questionnaire.questions:
        applies = _applies(question, answers, excluded) if in_mode(question, mode) else False
        if applies is False:
            excluded.add(question.id)
            continue
        raw = received.get(question.id)
        if raw is None:
            if question.required and applies:
                problems.append(_problem(question, "", render("mail/form_missing.txt.j2")))
            continue
        value = _parse(question, raw, today)
        if isinstance(value, Invalid):
            problems.append(_problem(question, raw, value.reason))
        else:
            answers[question.id] = value
    return answers, problems


def _applies(question: Question, answers: dict[str, Any], excluded: set[str]) -> bool | None:
    """True or False when the conditions can be decided; None while an earlier answer is missing or wrong."""
    undecided = False
    for condition in question.when:
        if condition.question in excluded:
            return False
        if condition.question not in answers:
            # Keep what was typed for it: once the earlier answer is fixed, nothing has to be asked again.
            undecided = True
        elif not condition.holds(answers):
            return False
    return None if undecided else True


def _problem(question: Question, received: str, reason: str) -> FormProblem:
    """A problem for one question; what was received is quoted back without escapes or bidi controls."""
    received = clean_text(received)
    clipped = received if len(received) <= _RECEIVED_MAX else received[:_RECEIVED_MAX] + "…"
    return FormProblem(question_id=question.id, label=question.label, received=clipped, reason=reason)


def _parse(question: Question, raw: str, today: date) -> Parsed | Invalid:
    """Like `parse_answer`, but first reading choices as the form prefills them (labels may hold commas)."""
    if question.is_choice:
        picked = _pick_choices(question.choices, raw)
        if picked is not None and (question.type is QuestionType.MULTI_CHOICE or len(picked) == 1):
            return picked if question.type is QuestionType.MULTI_CHOICE else picked[0]
    return parse_answer(question, raw, today=today)


def _pick_choices(choices: tuple[Choice, ...], raw: str) -> list[str] | None:
    """The choices named by whole labels, values or numbers ("2. Ouder"), or None if anything else is left."""
    text = fold(raw).rstrip(".!")
    picked: list[str] = []
    names = _choice_names(choices)
    pos = 0
    while True:
        lead = _CHOICE_LEAD.match(text, pos)
        pos = lead.end() if lead else pos
        if pos >= len(text):
            return picked or None
        choice, pos = _take_choice(choices, names, text, pos)
        if choice is None:
            return None
        if choice.value not in picked:
            picked.append(choice.value)


def _choice_names(choices: tuple[Choice, ...]) -> list[tuple[Choice, tuple[str, str]]]:
    """Each choice with its folded label and value, longest label first (a label may start another)."""
    return [(c, (fold(c.label), fold(c.value))) for c in sorted(choices, key=lambda c: -len(c.label))]


def _take_choice(
    choices: tuple[Choice, ...], names: list[tuple[Choice, tuple[str, str]]], text: str, pos: int
) -> tuple[Choice | None, int]:
    """The choice at pos in the folded text, and where the text after it starts."""
    number = _CHOICE_NUMBER.match(text, pos)
    if number and 1 <= int(number[1]) <= len(choices):
        choice = choices[int(number[1]) - 1]
        named = _after_name(text, number.end(), next(n for c, n in names if c is choice))
        return choice, number.end() if named is None else named
    for choice, folded in names:
        after = _after_name(text, pos, folded)
        if after is not None:
            return choice, after
    return None, pos


def _after_name(text: str, pos: int, names: tuple[str, str]) -> int | None:
    """Where the text after a choice's label or value starts, when one stands at pos as a whole word."""
    for name in names:
        end = pos + len(name)
        if text.startswith(name, pos) and not text[end:end + 1].isalnum():
            return end
    return None
