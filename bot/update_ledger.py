"""Each Telegram update handled once: the desk's effect and the update's record commit together.

The adapter asks the ledger for an update's answer: a new update is handled by the desk inside one
transaction (store/telegram_updates.one_transaction) that also records it with the replies to send
(Desk.answer works in that transaction); a redelivered one (the bot died before Telegram was told)
gets the stored answer and how many of its replies were already sent, and the desk is not asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.chat import Answer, Reply
from bot.desk import Desk
from bot.keyboards import Button
from store import telegram_updates

log = logging.getLogger(__name__)

# The answer to an update, worked out inside the update's transaction (its sessions: one_transaction's).
Decide = Callable[[sessionmaker[Session]], Answer]


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The answer as JSON, to be sent after a crash."""
    return asdict(answer)


def answer_from_json(stored: dict[str, Any]) -> Answer:
    """The answer stored by answer_to_json."""
    replies = [
        Reply(**{**reply, "buttons": tuple(tuple(Button(**button) for button in row) for row in reply["buttons"])})
        for reply in stored["replies"]
    ]
    return Answer(**{**stored, "replies": replies})


class UpdateLedger:
    """Decides each update once and remembers how far its replies were sent."""

    def __init__(self, desk: Desk) -> None:
        """Use the desk's database and clock."""
        self.desk = desk

    def decide(self, *, bot_id: int, update_id: int, decide: Decide) -> tuple[Answer, int]:
        """The update's answer and how many of its replies were sent already (blocking: run it in a thread)."""
        with telegram_updates.one_transaction(self.desk.sessions) as sessions:
            with sessions() as session:
                seen = telegram_updates.find(session, bot_id=bot_id, update_id=update_id)
                stored, sent = (seen.answer, seen.sent) if seen is not None else (None, 0)
            if seen is not None:
                log.info("Telegram: update %s was al afgehandeld; enkel wat nog niet verstuurd was gaat nog uit", update_id)
                return (answer_from_json(stored) if stored is not None else Answer(), sent)
            answer = decide(sessions)
            with sessions.begin() as session:
                telegram_updates.record(session, bot_id=bot_id, update_id=update_id, answer=answer_to_json(answer), now=self.desk.clock())
        return answer, 0

    def sent(self, *, bot_id: int, update_id: int, sent: int, done: bool) -> None:
        """Note that `sent` replies went out (blocking: run it in a thread)."""
        with self.desk.sessions.begin() as session:
            telegram_updates.mark_sent(session, bot_id=bot_id, update_id=update_id, sent=sent, done=done)
