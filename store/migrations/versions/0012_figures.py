"""Figures: a row per referral with only what the report counts, its problem areas, and providers' answers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Same conventions as 0001: naive-UTC timestamps. The rows are filled by store.figures (and for existing
referrals by `meldpunt db upgrade` after the migration, which needs the keys the migration does not have).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three tables and the indexes the report groups on."""
    op.create_table(
        "referral_figures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referrals.id", name="fk_referral_figures_referral_id_referrals"), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("import_key", sa.String(64), nullable=True),
        sa.Column("pupil_key", sa.String(64), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("ineligible_reason", sa.String(32), nullable=True),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("school", sa.Text(), nullable=True),  # sealed (store.figure_secret.SealedName)
        sa.Column("clb", sa.String(200), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(8), nullable=True),
        sa.Column("school_level", sa.String(32), nullable=True),
        sa.Column("school_grade", sa.String(16), nullable=True),
        sa.Column("education_form", sa.String(32), nullable=True),
        sa.Column("urgency", sa.String(32), nullable=True),
        sa.Column("referrer_role", sa.String(32), nullable=True),
        sa.Column("desired_form", sa.String(32), nullable=True),
        sa.Column("preferred_service", sa.String(64), nullable=True),
        sa.Column("suggested_service", sa.String(64), nullable=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("set_aside", sa.Boolean(), nullable=False),
        sa.Column("coordinator_declined", sa.Boolean(), nullable=False),
        sa.Column("provider_declines", sa.Integer(), nullable=False),
        sa.Column("no_offer_in_region", sa.Boolean(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("round_table_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_referral_figures"),
        sa.UniqueConstraint("referral_id", name="uq_referral_figures_referral_id"),
        sa.UniqueConstraint("import_key", name="uq_referral_figures_import_key"),
    )
    op.create_index("ix_referral_figures_source", "referral_figures", ["source"])
    op.create_index("ix_referral_figures_submitted_on", "referral_figures", ["submitted_on"])
    op.create_index("ix_referral_figures_school_year", "referral_figures", ["school_year"])
    op.create_table(
        "referral_figure_problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("figures_id", sa.Integer(), sa.ForeignKey(
            "referral_figures.id", name="fk_referral_figure_problems_figures_id_referral_figures", ondelete="CASCADE"), nullable=False),
        sa.Column("problem_area", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_referral_figure_problems"),
        sa.UniqueConstraint("figures_id", "problem_area", name="uq_referral_figure_problems_figures_id_problem_area"),
    )
    op.create_index("ix_referral_figure_problems_figures_id", "referral_figure_problems", ["figures_id"])
    op.create_index("ix_referral_figure_problems_problem_area", "referral_figure_problems", ["problem_area"])
    op.create_table(
        "dispatch_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dispatch_item_id", sa.Integer(), sa.ForeignKey(
            "dispatch_items.id", name="fk_dispatch_answers_dispatch_item_id_dispatch_items"), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("decline_reason", sa.String(32), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispatch_answers"),
        sa.UniqueConstraint("dispatch_item_id", name="uq_dispatch_answers_dispatch_item_id"),
    )
    op.create_index("ix_dispatch_answers_service_id", "dispatch_answers", ["service_id"])
    op.create_index("ix_dispatch_answers_answered_at", "dispatch_answers", ["answered_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("dispatch_answers")
    op.drop_table("referral_figure_problems")
    op.drop_table("referral_figures")
