"""The morning digest's ledger: one row per Brussels day, so the digest goes at most once a day.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Holds no personal data: a day, a moment, a count and the outbox row of the mail (whose text names
references only, and is purged with the outbox's retention).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create coordinator_digests."""
    op.create_table(
        "coordinator_digests",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id", name="fk_coordinator_digests_outbox_id_outbox"), nullable=True),
        sa.PrimaryKeyConstraint("day", name="pk_coordinator_digests"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("coordinator_digests")
