"""A small number per pupil key on every figures row: the report groups integers instead of 64-character keys.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

figure_pupils hands out one number per distinct pupil key (unique, so two writers of one pupil get one number);
referral_figures.pupil_number holds it, NULL exactly when pupil_key is. The backfill numbers the keys in use in
the order of their first figures row and writes each row's number, as the ORM does for new rows (store.figure_models).
The submission-day index gets the number as its second column, so the report reads the period's numbers from it alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_referral_figures_pupil_number_figure_pupils"


def upgrade() -> None:
    """Create figure_pupils, add pupil_number, number the keys in use, then index the numbers (alone, and after the submission day)."""
    op.create_table(
        "figure_pupils",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pupil_key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_figure_pupils"),
        sa.UniqueConstraint("pupil_key", name="uq_figure_pupils_pupil_key"),
    )
    op.add_column("referral_figures", sa.Column("pupil_number", sa.Integer(), nullable=True))
    op.execute(
        "INSERT INTO figure_pupils (pupil_key) SELECT pupil_key FROM referral_figures WHERE pupil_key IS NOT NULL "
        "GROUP BY pupil_key ORDER BY min(id)"
    )
    op.execute(
        "UPDATE referral_figures SET pupil_number = (SELECT number FROM figure_pupils WHERE figure_pupils.pupil_key = referral_figures.pupil_key) "
        "WHERE pupil_key IS NOT NULL"
    )
    # A number cannot go while a figures row has it (store/figure_models.py: _release). SQLite: the table is rebuilt.
    with op.batch_alter_table("referral_figures") as batch:
        batch.create_foreign_key(FOREIGN_KEY, "figure_pupils", ["pupil_number"], ["number"])
    op.create_index("ix_referral_figures_pupil_number", "referral_figures", ["pupil_number"])
    # The submission-day index with the number: the report's pupils with more than one row come from the index alone.
    op.drop_index("ix_referral_figures_submitted_on", table_name="referral_figures")
    op.create_index("ix_referral_figures_submitted_on_pupil_number", "referral_figures", ["submitted_on", "pupil_number"])


def downgrade() -> None:
    """Drop the numbers and their table; the submission-day index as before."""
    op.drop_index("ix_referral_figures_submitted_on_pupil_number", table_name="referral_figures")
    op.create_index("ix_referral_figures_submitted_on", "referral_figures", ["submitted_on"])
    op.drop_index("ix_referral_figures_pupil_number", table_name="referral_figures")
    with op.batch_alter_table("referral_figures") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("pupil_number")
    op.drop_table("figure_pupils")
