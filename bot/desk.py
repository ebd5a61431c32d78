"""The chat desk: everything the assistant answers in chat, one transaction per message, behind one router.

The Telegram adapter (bot/telegram_bot.py) turns an update into a `ChatEvent` and asks the desk for the
`Answer` inside the update's transaction (bot/update_ledger.py); bot/router.py picks the handler. Who
may do what is decided there: the coordinator's chat, linked CLB staff in a private chat, and everyone
else (public catalogue only).
"""

from __future__ import annotations

import copy

from sqlalchemy.orm import Session, sessionmaker

from bot.chat import Answer, ChatEvent, DeskConfig, Reply, Scope
from bot.handlers import linking, questions, survey
from bot.router import route
from desk import alerts as alert_desk
from desk.ports import RelayByMail
from desk.workflow import IntakeWorkflow
from intake.clock import Clock
from intake.messages import Seen
from store import telegram_updates

__all__ = ["Desk", "DeskConfig"]


class Desk:
    """Answers chat events: linking, referrals, advice, catalogue, questions and the coordinator."""

    def __init__(self, workflow: IntakeWorkflow, sessions: sessionmaker[Session], config: DeskConfig, *,
                 relay_by_mail: RelayByMail, clock: Clock) -> None:
        self.workflow = workflow
        self.sessions = sessions
        self.config = config
        self.relay_by_mail = relay_by_mail
        self.clock = clock
        # Per chat, the question or summary it last showed: a typed answer counts only for that one.
        self._seen: dict[int, Seen] = {}

    def handle(self, event: ChatEvent) -> Answer:
        """Answer one event in a transaction of its own; the database is committed before anything is sent."""
        with telegram_updates.one_transaction(self.sessions) as sessions:
            return self.answer(sessions, event)

    def answer(self, sessions: sessionmaker[Session], event: ChatEvent) -> Answer:
        """Answer one event inside `sessions`, one transaction (telegram_updates.one_transaction), nothing committed here.

        The router's handlers share one session of it; the workflow's commit after every step becomes a
        savepoint of the same transaction, so the message's effect is all or nothing.
        """
        workflow = copy.copy(self.workflow)  # the catalogue the workflow holds now, shared
        # Its own sessions, on the same connection: a handler reads what it needs before a workflow step,
        # so nothing it holds goes stale (the terminal and mail keep the workflow's own transactions).
        workflow.sessions = sessions
        with sessions.begin() as session:
            scope = Scope(session=session, workflow=workflow, config=self.config, clock=self.clock,
                          relay_by_mail=self.relay_by_mail, seen=self._seen)
            return route(scope, event)

    def reminders(self) -> list[Reply]:
        """Questions unanswered for the configured working hours, sent again to the coordinator's chat."""
        if self.config.coordinator_chat_id is None:
            return []
        with self.sessions.begin() as session:
            return questions.reminders(session, self.config, now=self.clock())

    def survey_questions(self) -> list[Reply]:
        """The survey's first question to each linked staff member it was not asked yet (bot/handlers/survey.py)."""
        with self.sessions.begin() as session:
            return survey.first_questions(session, now=self.clock())

    def revocations(self) -> list[Reply]:
        """The access-ended message for each account of a removed staff member, unlinked now."""
        with self.sessions.begin() as session:
            return linking.revocations(session)

    def alerts(self) -> list[tuple[int, Reply]]:
        """Each urgent alert the coordinator's chat should carry now, with its id; none without that chat (desk/alerts.py)."""
        chat_id = self.config.coordinator_chat_id
        if chat_id is None:
            return []
        with self.sessions.begin() as session:
            found = alert_desk.for_chat(session, now=self.clock(), catalogue=self.workflow.intake.catalogue,
                                        mail_after_grace=self.config.coordinator_email is not None)
        return [(alert_id, Reply(text, chat_id=chat_id)) for alert_id, text in found]

    def alert_sent(self, alert_id: int) -> None:
        """Record that the alert's chat message went out."""
        with self.sessions.begin() as session:
            alert_desk.delivered_by_chat(session, alert_id, now=self.clock())
