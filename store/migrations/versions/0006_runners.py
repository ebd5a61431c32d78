"""Runners: each runner's health, the watchdog's open alerts, and who holds a claim on an inbound mail.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps, constraint names from NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the runners and watchdog_alerts tables; claims on inbound mail get an owner and a time."""
    op.create_table(
        "runners",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("instance", sa.String(length=128), nullable=False),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("last_failure_type", sa.String(length=128), nullable=True),
        sa.Column("last_failure_place", sa.String(length=300), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runners")),
    )
    op.create_table(
        "watchdog_alerts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_watchdog_alerts")),
    )
    with op.batch_alter_table("inbound_mail") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the claim columns and both tables."""
    with op.batch_alter_table("inbound_mail") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    op.drop_table("watchdog_alerts")
    op.drop_table("runners")
