"""Telegram: accounts linked to staff, one-time link codes, questions asked in chat.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Same conventions as 0001: naive-UTC timestamps, constraint names from NAMING_CONVENTION.
Telegram ids exceed 32 bits, hence BigInteger.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the link tables and add the asker's chat to questions."""
    op.create_table(
        "telegram_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_telegram_links_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_links")),
        sa.UniqueConstraint("user_id", name=op.f("uq_telegram_links_user_id")),
    )
    op.create_index(op.f("ix_telegram_links_staff_id"), "telegram_links", ["staff_id"])
    op.create_table(
        "telegram_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_link_codes")),
    )
    op.create_index(op.f("ix_telegram_link_codes_user_id"), "telegram_link_codes", ["user_id"])
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("asker_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop the asker's chat and the link tables."""
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("asker_chat_id")
    op.drop_table("telegram_link_codes")
    op.drop_table("telegram_links")
