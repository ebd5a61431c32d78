"""Settled by the coordinator: a quarantined inbound mail or a failed outbox mail marked handled leaves her agenda.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps. Every column is nullable: NULL means "not handled".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_mail", "outbox")


def upgrade() -> None:
    """Add when and by whom each was handled."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("handled_at", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("handled_by", sa.String(254), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("handled_by")
            batch.drop_column("handled_at")
