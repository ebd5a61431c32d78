"""The yearly under-12 survey: surveys, invitations, answers and the needs they name.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps. missing_offer is encrypted text (store.encryption).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        sa.UniqueConstraint("year", name="uq_surveys_year"),
    )
    op.create_index("ix_surveys_school_year", "surveys", ["school_year"])
    op.create_table(
        "survey_invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survey_id", sa.Integer(), sa.ForeignKey("surveys.id", name="fk_survey_invites_survey_id_surveys"), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id", name="fk_survey_invites_staff_id_staff"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("reminder_token_hash", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("reminder_message_id", sa.String(998), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("chat_sent_at", sa.DateTime(), nullable=True),
        sa.Column("chat_step", sa.String(16), nullable=True),
        sa.Column("chat_draft", sa.JSON(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_invites"),
        sa.UniqueConstraint("survey_id", "staff_id", name="uq_survey_invites_survey_id_staff_id"),
        sa.UniqueConstraint("token_hash", name="uq_survey_invites_token_hash"),
        sa.UniqueConstraint("reminder_token_hash", name="uq_survey_invites_reminder_token_hash"),
    )
    op.create_index("ix_survey_invites_survey_id", "survey_invites", ["survey_id"])
    op.create_index("ix_survey_invites_staff_id", "survey_invites", ["staff_id"])
    op.create_index("ix_survey_invites_message_id", "survey_invites", ["message_id"])
    op.create_index("ix_survey_invites_reminder_message_id", "survey_invites", ["reminder_message_id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("invite_id", sa.Integer(), sa.ForeignKey("survey_invites.id", name="fk_survey_answers_invite_id_survey_invites"), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("under12_questions", sa.Integer(), nullable=False),
        sa.Column("missing_offer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        sa.UniqueConstraint("invite_id", name="uq_survey_answers_invite_id"),
    )
    op.create_table(
        "survey_answer_needs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("answer_id", sa.Integer(),
                  sa.ForeignKey("survey_answers.id", name="fk_survey_answer_needs_answer_id_survey_answers", ondelete="CASCADE"), nullable=False),
        sa.Column("need", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answer_needs"),
        sa.UniqueConstraint("answer_id", "need", name="uq_survey_answer_needs_answer_id_need"),
    )
    op.create_index("ix_survey_answer_needs_answer_id", "survey_answer_needs", ["answer_id"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("survey_answer_needs")
    op.drop_table("survey_answers")
    op.drop_table("survey_invites")
    op.drop_table("surveys")
