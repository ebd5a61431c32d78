"""Security: whether a received mail came from a trusted relay (its Authentication-Results may count).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Same conventions as 0001: naive-UTC timestamps, constraint names from NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Mark each inbound mail with whether the client that handed it over is one of our relays."""
    with op.batch_alter_table("inbound_mail") as batch:
        # Mail stored before this revision came through the same intake, so it keeps today's trust.
        batch.add_column(sa.Column("trusted_client", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    """Drop the column again."""
    with op.batch_alter_table("inbound_mail") as batch:
        batch.drop_column("trusted_client")
