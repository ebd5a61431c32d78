"""Dialogue state per (channel, external id), saved after every step so a chat resumes anywhere."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from store.models import CHANNELS, Conversation


def get_conversation(session: Session, channel: str, external_id: str) -> Conversation | None:
    """The conversation on channel with this external id (chat id, email address…), or None."""
    return session.scalar(
        select(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id
        )
    )


def save_conversation(
    session: Session,
    *,
    channel: str,
    external_id: str,
    staff_id: int | None,
    referral_id: int | None,
    step: str,
    state: dict[str, Any],
    now: datetime,
) -> Conversation:
    """Insert or update the conversation with the engine's latest step and state."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    conversation = get_conversation(session, channel, external_id)
    if conversation is None:
        conversation = Conversation(channel=channel, external_id=external_id, created_at=now)
        session.add(conversation)
    conversation.staff_id = staff_id
    conversation.referral_id = referral_id
    conversation.step = step
    # A copy, flagged: the caller may have mutated the very dict loaded from this row, and the ORM
    # would then see no difference and skip the UPDATE.
    conversation.state = copy.deepcopy(state)
    flag_modified(conversation, "state")
    conversation.updated_at = now
    session.flush()
    return conversation


def delete_conversation(session: Session, channel: str, external_id: str) -> bool:
    """Forget a conversation (its referral stays); False if there was none."""
    conversation = get_conversation(session, channel, external_id)
    if conversation is None:
        return False
    session.delete(conversation)
    session.flush()
    return True
