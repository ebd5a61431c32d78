"""Alembic environment: migrates the connection store.db hands in, or sqlalchemy.url."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, TypeDecorator

from store import alert_models, chat_models, declaration_models, digest_models, dispatch_models, figure_models, mail_models, survey_models  # noqa: F401 — registers their tables on Base.metadata
from store.db import create_db_engine
from store.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our TypeDecorators as plain SQL types: migrations must never import store.models."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_on(connection: Connection) -> None:
    """Run the migrations on connection; SQLite gets batch mode and foreign keys off meanwhile."""
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # Batch mode rebuilds a table by copy, drop and rename; with foreign keys enforced that DROP
        # would cascade or fail. SQLite's documented recipe: keys off for the change, check after.
        # (pysqlite has opened no transaction yet, so the pragma takes effect.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise RuntimeError(f"foreign key violations after migration: {violations[:5]}")


def run_migrations_online() -> None:
    """Use the connection from store.db.upgrade_database, or open one on sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as own_connection:
            run_on(own_connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """Emit the migration SQL for sqlalchemy.url's dialect instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=bool(url and url.startswith("sqlite")),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
