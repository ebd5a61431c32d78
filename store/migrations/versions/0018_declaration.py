"""The joint declaration of intent: who signed it (schools via their scholengemeenschap, CLBs, providers) and when.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps. The partners are organisations; recorded_by and
withdrawn_by name the coordinator's account. active_key is the partner's identity while the signature
is active and NULL once withdrawn, so the unique constraint allows one active signature per partner on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create declaration_signatures."""
    op.create_table(
        "declaration_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(254), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(254), nullable=True),
        sa.Column("active_key", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_declaration_signatures"),
        sa.UniqueConstraint("kind", "active_key", name="uq_declaration_signatures_kind_active_key"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("declaration_signatures")
