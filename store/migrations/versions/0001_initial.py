"""Initial schema: staff, referrals, conversations, status history, audit log, reference counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Timestamps are naive UTC (see store.models.UTCDateTime); statuses are plain strings so a new status
needs no migration. Constraint names follow store.models.NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    """A naive-UTC timestamp column."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    """Create the tables, parents before children."""
    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("clb", sa.String(length=200), nullable=False),
        _timestamp("created_at"),
        _timestamp("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    _create_referrals()
    _create_audit_log()
    _create_conversations()
    _create_status_changes()


def _create_referrals() -> None:
    """The referrals table and its indexes."""
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=True),
        sa.Column("assigned_service_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("submitted_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_referrals_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("reference", name=op.f("uq_referrals_reference")),
    )
    op.create_index(op.f("ix_referrals_created_at"), "referrals", ["created_at"])
    op.create_index(op.f("ix_referrals_staff_id"), "referrals", ["staff_id"])
    op.create_index(op.f("ix_referrals_status"), "referrals", ["status"])


def _create_audit_log() -> None:
    """The audit log and its indexes."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_audit_log_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_referral_id"), "audit_log", ["referral_id"])


def _create_conversations() -> None:
    """The conversations table, unique per (channel, external id), and its indexes."""
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=254), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_conversations_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_conversations_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_conversations_channel_external_id")
        ),
    )
    op.create_index(op.f("ix_conversations_referral_id"), "conversations", ["referral_id"])
    op.create_index(op.f("ix_conversations_staff_id"), "conversations", ["staff_id"])


def _create_status_changes() -> None:
    """The status history table and its index."""
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_status_changes_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_referral_id"), "status_changes", ["referral_id"])


def downgrade() -> None:
    """Drop everything, children before parents (indexes go with their tables)."""
    for table in (
        "status_changes", "conversations", "audit_log", "referrals", "staff", "reference_counters"
    ):
        op.drop_table(table)
