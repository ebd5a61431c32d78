"""Indexes for the figures report: the signaalfunctie's period before, and the trajectories running now.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

(municipality, submitted_on) and (school, submitted_on) count the period before for the top ten values only;
(status, service) reads the running trajectories per service without scanning every figures row.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_referral_figures_municipality_submitted_on", ["municipality", "submitted_on"]),
    ("ix_referral_figures_school_submitted_on", ["school", "submitted_on"]),
    ("ix_referral_figures_status_service", ["status", "service"]),
)


def upgrade() -> None:
    """Create the three indexes."""
    for name, columns in INDEXES:
        op.create_index(name, "referral_figures", columns)


def downgrade() -> None:
    """Drop them again."""
    for name, _ in INDEXES:
        op.drop_index(name, table_name="referral_figures")
