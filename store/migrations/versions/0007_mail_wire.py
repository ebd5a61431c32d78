"""Mail on the wire: outgoing subjects of any length, and received mail findable by Message-ID.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

A subject was one header line (998 characters) and longer ones were cut; it is folded when sent,
so it becomes text. inbound_mail.message_id gets an index: a new mail reusing an earlier mail's
Message-ID is stored and processed (dedupe is on Message-ID and content) and noticed in the log.
Same conventions as 0001: constraint and index names from NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEADER_LENGTH = 998


def upgrade() -> None:
    """Widen outbox.subject to text; index inbound_mail.message_id."""
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "subject", existing_type=sa.String(length=HEADER_LENGTH), type_=sa.Text(), existing_nullable=False
        )
    op.create_index(op.f("ix_inbound_mail_message_id"), "inbound_mail", ["message_id"])


def downgrade() -> None:
    """Drop the index; subjects longer than one header line are cut to fit the old column."""
    op.drop_index(op.f("ix_inbound_mail_message_id"), table_name="inbound_mail")
    op.execute(
        sa.text(f"UPDATE outbox SET subject = substr(subject, 1, {HEADER_LENGTH}) WHERE length(subject) > {HEADER_LENGTH}")
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "subject", existing_type=sa.Text(), type_=sa.String(length=HEADER_LENGTH), existing_nullable=False
        )
