"""What became of one batch's provider mails, whoever sent them: sent, being sent, waiting, failed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.dispatch_models import DispatchBatch, DispatchItem
from store.mail_models import OutboxMessage, OutboxStatus


def batch_mail_states(session: Session, slot_key: str) -> Counter[OutboxStatus]:
    """How many of the batch's provider mails are in each outbox status now (one mail carries several referrals)."""
    mail_ids = (
        select(DispatchItem.outbox_id).join(DispatchBatch, DispatchBatch.id == DispatchItem.batch_id)
        .where(DispatchBatch.slot_key == slot_key)
    )
    query = select(OutboxMessage.status, func.count()).where(OutboxMessage.id.in_(mail_ids)).group_by(OutboxMessage.status)
    return Counter({status: count for status, count in session.execute(query)})
