"""Collaborators one room lends another, as Protocols: the caller passes any function of this shape."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from store.mail_models import Question


class RelayByMail(Protocol):
    """Stores the coordinator's answer to a question and mails it to whoever asked (mail's MailSender.relay_answer)."""

    def __call__(self, session: Session, question: Question, answer: str, by: str, now: datetime, /) -> object: ...
