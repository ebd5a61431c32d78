"""Applies the coordinator's one-line actions, whatever channel brought them: mail, chat or command line.

Referral lines (`MSI-2026-0042: goedkeuren`, `…: herinneren`) go to desk.decisions.apply_actions as they are;
the agenda's other lines (intake/agenda_lines.py) answer a question, decide an offer change, settle a
quarantined or failed mail. Only the coordinator's channels call this. Each line's result is a Decision
with a Dutch sentence, so every channel answers it as it answers decisions. Flushes, never commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from desk import catalogue_changes
from desk.decisions import Decision, Role, apply_actions
from desk.ports import RelayByMail
from desk.question_answers import answer_question
from intake.actions import Action, LineProblem, parse_actions
from intake.agenda_lines import AgendaLine, Deed, Subject, parse_agenda_lines
from intake.dialogue import Intake
from intake.texts import message
from intake.workhours import WorkCalendar
from store import handled

log = logging.getLogger(__name__)
_TEXTS = "agenda_lines/messages.txt.j2"


@dataclass(frozen=True)
class LineCall:
    """Who applies the lines, when, and what the channel lends: the mail relay, and whether it can reach a chat."""

    actor: str
    intake: Intake
    domain: str
    now: datetime
    relay_by_mail: RelayByMail
    calendar: WorkCalendar = WorkCalendar()
    chat_reachable: bool = False


@dataclass(frozen=True)
class Lines:
    """A text's lines: referral actions, agenda lines, and the lines naming an item that were not understood."""

    actions: list[Action]
    agenda: list[AgendaLine]
    problems: list[LineProblem]

    @property
    def empty(self) -> bool:
        """No line names a referral or an agenda item."""
        return not (self.actions or self.agenda or self.problems)


@dataclass(frozen=True)
class ChatRelay:
    """An answer the caller sends to the asker's chat: question number, its text, the answer."""

    chat_id: int
    number: int
    question: str
    answer: str


@dataclass
class Settled:
    """What became of each line, the lines not understood, and the answers still to send in chat."""

    decisions: list[Decision] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    relays: list[ChatRelay] = field(default_factory=list)


def read_lines(text: str, *, today: date) -> Lines:
    """Every line of the text naming a referral or an agenda item; `today` (Brussels) bounds a round table's date."""
    actions, problems = parse_actions(text, today=today)
    agenda, agenda_problems = parse_agenda_lines(text)
    return Lines(actions=actions, agenda=agenda, problems=problems + agenda_problems)


def settle_text(session: Session, text: str, call: LineCall, *, today: date) -> Settled | None:
    """Read and apply a text's lines; None when no line names a referral or an agenda item."""
    lines = read_lines(text, today=today)
    return None if lines.empty else settle(session, lines, call)


def settle(session: Session, lines: Lines, call: LineCall) -> Settled:
    """Apply the referral lines (one mail per referrer), then each agenda line; a refused line changes nothing."""
    settled = Settled(problems=list(lines.problems))
    if lines.actions:
        settled.decisions += apply_actions(session, lines.actions, role=Role.COORDINATOR, actor=call.actor, intake=call.intake,
                                           domain=call.domain, now=call.now, calendar=call.calendar)
    for line in lines.agenda:
        text, applied, relay = _apply(session, line, call)
        settled.decisions.append(Decision(line.label, line.line, applied=applied, message=text))
        if relay is not None:
            settled.relays.append(relay)
    return settled


def _apply(session: Session, line: AgendaLine, call: LineCall) -> tuple[str, bool, ChatRelay | None]:
    """One agenda line: the Dutch sentence, whether it was applied, and an answer to send in chat if any."""
    name = line.label
    if line.subject is Subject.QUESTION:
        return _answer(session, line, call)
    if line.subject is Subject.OFFER:
        return (*_offer(session, line, call), None)
    if line.subject is Subject.QUARANTINE:
        done = handled.handle_quarantined(session, line.number, by=call.actor, now=call.now)
        log.info("quarantaine: mail %s %s", line.number, "afgehandeld" if done else "niet gevonden")
        return message("quarantine_handled" if done else "quarantine_unknown", source=_TEXTS, name=name), done is not None, None
    return (*_mail(session, line, call), None)


def _answer(session: Session, line: AgendaLine, call: LineCall) -> tuple[str, bool, ChatRelay | None]:
    """Answer question `number` (desk.question_answers): in the asker's chat when the channel reaches it, else by mail."""
    answer = line.text or ""
    relayed = answer_question(session, line.number, answer, by=call.actor, now=call.now, relay_by_mail=call.relay_by_mail,
                              chat_reachable=call.chat_reachable)
    if relayed is None:
        return message("question_unknown", source=_TEXTS, name=line.label), False, None
    if relayed.chat_id is None:
        return message("question_by_mail", source=_TEXTS, name=line.label), True, None
    relay = ChatRelay(chat_id=relayed.chat_id, number=line.number, question=relayed.question.text, answer=answer)
    return message("question_in_chat", source=_TEXTS, name=line.label), True, relay


def _offer(session: Session, line: AgendaLine, call: LineCall) -> tuple[str, bool]:
    """Approve or reject an offer change as `meldpunt catalogue approve|reject` does: the provider is told, the audit records it."""
    try:
        if line.deed is Deed.APPROVE:
            service = catalogue_changes.approve_and_tell(session, line.number, by=call.actor, catalogue=call.intake.catalogue,
                                                         domain=call.domain, now=call.now)
            return message("offer_approved", source=_TEXTS, name=line.label, service=service), True
        service = catalogue_changes.reject_and_tell(session, line.number, by=call.actor, reason=line.text or "", catalogue=call.intake.catalogue,
                                                    domain=call.domain, now=call.now)
    except catalogue_changes.ChangeRefused as refused:
        return f"{line.label}: {refused}", False
    return message("offer_rejected", source=_TEXTS, name=line.label, service=service), True


def _mail(session: Session, line: AgendaLine, call: LineCall) -> tuple[str, bool]:
    """Send a failed mail again, or mark it handled."""
    row = handled.failed_mail(session, line.number)
    if row is None or (line.deed is Deed.HANDLED and row.handled_at is not None):
        return message("mail_unknown", source=_TEXTS, name=line.label), False
    if line.deed is Deed.HANDLED:
        handled.handle_failed(session, row, by=call.actor, now=call.now)
        return message("mail_handled", source=_TEXTS, name=line.label), True
    if row.purged_at is not None:
        return message("mail_purged", source=_TEXTS, name=line.label), False
    handled.send_again(session, row, now=call.now)
    log.info("mislukte mail %s opnieuw in de wachtrij", row.id)
    return message("mail_again", source=_TEXTS, name=line.label), True
