"""Retention: when a stored mail's content was purged, a paused conversation's owner warned, a referral pseudonymised.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps. Every column is nullable: NULL means "not yet".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("inbound_mail", "purged_at"), ("outbox", "purged_at"), ("conversations", "warned_at"), ("referrals", "pseudonymised_at"))


def upgrade() -> None:
    """Add the four moments."""
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
