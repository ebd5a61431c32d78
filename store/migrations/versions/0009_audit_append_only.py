"""Audit log: the channel and purpose of each row, and append-only in the database itself.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Every read of identifying data is recorded with the channel it went through and why (GDPR art. 5(2),
accountability). Triggers refuse any UPDATE of an audit row, and a DELETE of a row younger than the
audit's retention floor: only the retention purge, for rows older than that, may remove them. The floor
is fixed here (not read from settings: a migration is frozen); MELDPUNT_RETENTION_AUDIT_DAYS may keep
rows longer, never shorter (meldpunt.settings checks it). Existing rows keep NULL channel and purpose:
they were written before either was known. On SQLite a later batch_alter_table that recreates audit_log
drops these triggers: such a migration must create them again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Five years (with one leap day): the Belgian limitation period for claims (art. 2262bis BW).
FLOOR_DAYS = 1827
# The purge's cut-off comes from the service's clock, the trigger's from the database's: a day's slack so
# a few seconds between them never make the whole daily purge fail on a row just past the period.
_GUARDED_DAYS = FLOOR_DAYS - 1

_PG_FUNCTION = f"""
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < (now() AT TIME ZONE 'UTC') - interval '{_GUARDED_DAYS} days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log
    WHEN OLD.at >= datetime('now', '-{_GUARDED_DAYS} days')
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
)


def upgrade() -> None:
    """Add channel and purpose, then the triggers that keep the log append-only."""
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    """Drop the triggers, the index and the columns again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_early_delete")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("purpose")
        batch.drop_column("channel")
