"""The referral questionnaire as data: questions, types, choices and conditions, loaded from templates/.

The words live in `templates/questionnaire.yaml`; this module gives them a schema and the order.

```mermaid
flowchart TD
    A[Aanmelder: rol, naam, CLB, e-mail, telefoon] --> M{minimale modus?}
    M -- nee --> P1[Leerling: voornaam, achternaam, geboortedatum]
    M -- ja --> P2[Leerling: initialen, geboortejaar]
    P1 --> H[Postcode woonplaats]
    P2 --> H
    H --> E{Ingeschreven in een school?}
    E -- ja --> S1[Naam school, postcode school]
    E -- nee --> S2[Laatste school, postcode laatste school - mag overslaan]
    S1 --> L[Niveau, leerjaar, onderwijsvorm]
    S2 --> L
    L --> Z[Fase zorgcontinuüm]
    Z --> C{In samenspraak met de school?}
    C -- ja --> CA[School akkoord?]
    C -- nee --> I
    CA --> I[Leerling en ouders geïnformeerd?]
    I --> Q[Probleemgebieden, hulpvraag, gewenste vorm]
    Q --> F{Individueel traject?}
    F -- ja --> LOC[Plaats: op school / buiten de school]
    F -- nee --> V
    LOC --> V[Voorkeur interventie - mag overslaan, dringendheid, eerdere hulp]
    V --> R{Ingeschreven?}
    R -- ja --> RT[Contactpersoon school voor de ronde tafel]
    R -- nee --> O
    RT --> O[Overzicht met ontvankelijkheid en voorstellen]
    O -- wijzig N --> Q2[vraag N opnieuw] --> O
    O -- bevestig --> D[Ingediend / wacht op gegevens]
```
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from intake import vocabulary
from intake.texts import TEMPLATES_DIR

CATALOGUE_CHOICES = "catalogue"


class QuestionType(StrEnum):
    """How an answer is typed and validated."""

    TEXT = "text"
    INITIALS = "initials"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    DATE = "date"
    YEAR = "year"
    POSTCODE = "postcode"
    EMAIL = "email"
    PHONE = "phone"


class Choice(BaseModel):
    """One allowed answer of a choice question: the stored value and the label a person reads."""

    model_config = ConfigDict(frozen=True)

    value: str
    label: str


class Condition(BaseModel):
    """Ask a question only when an earlier answer equals a value."""

    model_config = ConfigDict(frozen=True)

    question: str
    equals: str | bool

    def holds(self, answers: dict[str, Any]) -> bool:
        """Whether the earlier answer is given and equal to the expected value."""
        return self.question in answers and answers[self.question] == self.equals


class Question(BaseModel):
    """One referral question."""

    model_config = ConfigDict(frozen=True)

    id: str
    section: str
    label: str
    prompt: str
    help: str
    type: QuestionType
    required: bool = True
    choices_from: str | None = None
    choices: tuple[Choice, ...] = ()
    when: tuple[Condition, ...] = ()
    identifying: bool = False
    minimal_only: bool = False
    max_length: int = 200
    # A text answer needs letters (a phone number as a first name is a slip), unless a bare number says it all.
    number_is_answer: bool = False

    @model_validator(mode="after")
    def _choices_declared(self) -> "Question":
        needs_choices = self.type in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE)
        if needs_choices and not self.choices_from:
            raise ValueError(f"vraag {self.id}: een keuzevraag heeft 'choices_from' nodig")
        return self

    @property
    def is_choice(self) -> bool:
        """Whether the answer is picked from a list."""
        return self.type in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE)

    def applies(self, answers: dict[str, Any]) -> bool:
        """Whether every condition of this question holds for the answers so far."""
        return all(condition.holds(answers) for condition in self.when)


class Questionnaire(BaseModel):
    """The ordered questions of a referral."""

    model_config = ConfigDict(frozen=True)

    version: int
    questions: tuple[Question, ...]

    @model_validator(mode="after")
    def _conditions_refer_backwards(self) -> "Questionnaire":
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"vraag {question.id} staat er twee keer in")
            for condition in question.when:
                if condition.question not in seen:
                    raise ValueError(f"vraag {question.id} hangt af van een latere vraag")
            seen.add(question.id)
        return self

    def get(self, question_id: str) -> Question:
        """The question with this id (KeyError when unknown)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def ids(self) -> tuple[str, ...]:
        """All question ids in order."""
        return tuple(question.id for question in self.questions)

    def with_catalogue_choices(self, choices: tuple[Choice, ...]) -> "Questionnaire":
        """A copy whose catalogue-backed questions offer these choices."""
        questions = tuple(
            q.model_copy(update={"choices": choices}) if q.choices_from == CATALOGUE_CHOICES else q
            for q in self.questions
        )
        return self.model_copy(update={"questions": questions})


def _enum_choices(enum_name: str) -> tuple[Choice, ...]:
    enum = getattr(vocabulary, enum_name, None)
    if enum is None or not issubclass(enum, vocabulary.Labelled):
        raise ValueError(f"onbekende keuzelijst '{enum_name}'")
    return tuple(Choice(value=member.value, label=member.label) for member in enum)


@cache
def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Read and validate the questionnaire; choices of closed sets come from the vocabulary."""
    import yaml  # here, not at the top: a read command that only labels answers never parses the file

    # libyaml's safe loader when PyYAML was built with it (seven times faster here), else the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load((path or TEMPLATES_DIR / "questionnaire.yaml").read_text("utf-8"), Loader=loader)
    for question in raw["questions"]:
        source = question.get("choices_from")
        if source and source != CATALOGUE_CHOICES:
            question["choices"] = _enum_choices(source)
    return Questionnaire.model_validate(raw)
