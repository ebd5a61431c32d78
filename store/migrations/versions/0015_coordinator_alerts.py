"""The coordinator's immediate alerts: one row per event, and the scan's high-water marks.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

The marks start at the newest status change and outbox row at upgrade time, so the first scan after
the upgrade alerts nothing that happened before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create both tables and start each scan at the newest row of its source."""
    op.create_table(
        "coordinator_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("service_id", sa.String(64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_coordinator_alerts"),
        sa.UniqueConstraint("kind", "event_key", name="uq_coordinator_alerts_kind_event_key"),
    )
    op.create_index("ix_coordinator_alerts_delivered_at", "coordinator_alerts", ["delivered_at"])
    op.create_table(
        "coordinator_alert_scans",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_coordinator_alert_scans"),
    )
    for source in ("status_changes", "outbox"):
        op.execute(sa.text(
            f"INSERT INTO coordinator_alert_scans (source, last_id) SELECT '{source}', COALESCE(MAX(id), 0) FROM {source}"  # noqa: S608 — two fixed names
        ))


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("coordinator_alert_scans")
    op.drop_index("ix_coordinator_alerts_delivered_at", table_name="coordinator_alerts")
    op.drop_table("coordinator_alerts")
