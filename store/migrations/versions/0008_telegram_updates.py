"""Telegram updates handled: each recorded with its effect, so a redelivered update is not applied twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

An update is confirmed to Telegram only after it was handled; one redelivered after a crash finds its
row and only the replies not yet sent go out. Same conventions as 0001: naive-UTC timestamps,
constraint and index names from NAMING_CONVENTION; Telegram ids exceed 32 bits, hence BigInteger.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create telegram_updates."""
    op.create_table(
        "telegram_updates",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_index(op.f("ix_telegram_updates_handled_at"), "telegram_updates", ["handled_at"])


def downgrade() -> None:
    """Drop telegram_updates."""
    op.drop_index(op.f("ix_telegram_updates_handled_at"), table_name="telegram_updates")
    op.drop_table("telegram_updates")
