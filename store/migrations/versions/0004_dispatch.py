"""Dispatch: batches, dispatched referrals per provider, catalogue changes, outbox attachments.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Same conventions as 0001: naive-UTC timestamps, constraint names from NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the dispatch and catalogue-change tables; attachments on the outbox."""
    op.create_table(
        "dispatch_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_key", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("mails", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_batches")),
        sa.UniqueConstraint("slot_key", name=op.f("uq_dispatch_batches_slot_key")),
    )
    op.create_table(
        "dispatch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("provider_address", sa.String(length=254), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["dispatch_batches.id"], name=op.f("fk_dispatch_items_batch_id_dispatch_batches")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], name=op.f("fk_dispatch_items_referral_id_referrals")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_dispatch_items_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_items")),
        sa.UniqueConstraint("referral_id", "service_id", name=op.f("uq_dispatch_items_referral_id_service_id")),
    )
    op.create_index(op.f("ix_dispatch_items_batch_id"), "dispatch_items", ["batch_id"])
    op.create_index(op.f("ix_dispatch_items_referral_id"), "dispatch_items", ["referral_id"])
    op.create_index(op.f("ix_dispatch_items_provider_address"), "dispatch_items", ["provider_address"])
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=254), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_changes")),
    )
    op.create_index(op.f("ix_catalogue_changes_service_id"), "catalogue_changes", ["service_id"])
    op.create_index(op.f("ix_catalogue_changes_status"), "catalogue_changes", ["status"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop attachments and the dispatch tables."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachments")
    op.drop_table("catalogue_changes")
    op.drop_table("dispatch_items")
    op.drop_table("dispatch_batches")
