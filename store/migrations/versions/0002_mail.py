"""Mail: the outbox, durable inbound mail, questions to the coordinator, the auto-reply log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Same conventions as 0001: naive-UTC timestamps, statuses as plain strings, constraint names from
store.models.NAMING_CONVENTION. Lengths of 998 are RFC 5322's limit for a header line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    """A naive-UTC timestamp column."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    """Create the four mail tables and their indexes."""
    _create_outbox()
    _create_inbound_mail()
    _create_questions()
    op.create_table(
        "auto_reply_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        _timestamp("sent_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_reply_log")),
    )
    op.create_index(
        op.f("ix_auto_reply_log_address_sent_at"), "auto_reply_log", ["address", "sent_at"]
    )


def _create_outbox() -> None:
    """The outbox and its indexes (the runner claims by status and due time)."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("in_reply_to", sa.String(length=998), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        _timestamp("bounced_at", nullable=True),
        sa.Column("bounce_detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_outbox_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index(op.f("ix_outbox_referral_id"), "outbox", ["referral_id"])
    op.create_index(
        op.f("ix_outbox_status_next_attempt_at"), "outbox", ["status", "next_attempt_at"]
    )


def _create_inbound_mail() -> None:
    """Received mail, raw, deduplicated by Message-ID (or content) hash."""
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("envelope_from", sa.String(length=254), nullable=True),
        sa.Column("envelope_to", sa.JSON(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _timestamp("received_at"),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _timestamp("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mail")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbound_mail_dedupe_key")),
    )
    op.create_index(op.f("ix_inbound_mail_status"), "inbound_mail", ["status"])


def _create_questions() -> None:
    """Questions passed on to the coordinator, and their indexes."""
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_email", sa.String(length=254), nullable=False),
        sa.Column("asker_staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        _timestamp("created_at"),
        _timestamp("answered_at", nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=254), nullable=True),
        sa.Column("escalation_message_id", sa.String(length=998), nullable=True),
        _timestamp("reminded_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["asker_staff_id"], ["staff.id"], name=op.f("fk_questions_asker_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_asker_staff_id"), "questions", ["asker_staff_id"])
    op.create_index(
        op.f("ix_questions_escalation_message_id"), "questions", ["escalation_message_id"]
    )
    op.create_index(op.f("ix_questions_status"), "questions", ["status"])


def downgrade() -> None:
    """Drop the mail tables (indexes go with their tables)."""
    for table in ("auto_reply_log", "questions", "inbound_mail", "outbox"):
        op.drop_table(table)
