"""Encryption at rest: identifying columns become encrypted text (store.encryption) and existing rows are encrypted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

JSON columns become TEXT (a token is no JSON); the sender column becomes TEXT (a token outgrows 254).
The key comes from the process (store.encryption.keyring): meldpunt configures it before migrating.
Downgrade decrypts every row and gives the columns their old types back.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.encryption import decrypt, encrypt, rewrite_all

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, type before, nullable): the raw mail stays binary and needs no new type.
RETYPED = (
    ("referrals", "answers", sa.JSON(), False),
    ("conversations", "state", sa.JSON(), False),
    ("inbound_mail", "envelope_from", sa.String(length=254), True),
    ("outbox", "attachments", sa.JSON(), True),
    ("questions", "context", sa.JSON(), True),
    ("telegram_updates", "answer", sa.JSON(), True),
)


def upgrade() -> None:
    """Retype the columns, then encrypt every stored value."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column, old_type, nullable in RETYPED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=old_type, type_=sa.Text(), existing_nullable=nullable,
                               postgresql_using=f"{column}::text" if postgres else None)
    rewrite_all(op.get_bind(), encrypt)


def downgrade() -> None:
    """Decrypt every stored value, then give the columns their old types."""
    rewrite_all(op.get_bind(), decrypt)
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column, old_type, nullable in reversed(RETYPED):
        cast = "json" if isinstance(old_type, sa.JSON) else "varchar(254)"
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Text(), type_=old_type, existing_nullable=nullable,
                               postgresql_using=f"{column}::{cast}" if postgres else None)
