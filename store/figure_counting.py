"""Counting rows per combination of keys on both databases: PostgreSQL's GROUP BY, SQLite's upsert into a keyed table.

SQLite groups by sorting, slow for the few hundred thousand rows of a report period; counting into a temporary table keyed
by the grouping values (an upsert per row: one B-tree lookup) is much cheaper when the groups are few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Integer, MetaData, Select, Table, func, literal, literal_column, select

from store.db import upsert_into

# SQLite: what a key that is NULL is stored as in a keyed table (a key cannot be NULL there). A blob: no text, number or
# boolean the figures hold equals it, and no column affinity converts it.
NO_VALUE: ColumnElement[Any] = literal_column("X'00'")


def count_groups(connection: Connection, keys: Sequence[ColumnElement[Any]], rows: Select[Any], name: str) -> list[tuple[Any, ...]]:
    """How many of `rows` have each combination of the keys' values: (values…, count) per combination.

    `rows` (a SELECT without columns) needs a WHERE on SQLite: it would read the upsert's ON CONFLICT as a join's ON otherwise.
    `name` names SQLite's temporary table, dropped again before returning.
    """
    if connection.dialect.name == "postgresql":
        return [tuple(row) for row in connection.execute(rows.add_columns(*keys, func.count()).group_by(*keys))]
    table = Table(name, MetaData(), *(Column(f"key_{i}", key.type, primary_key=True, autoincrement=False) for i, key in enumerate(keys)),
                  Column("counted", Integer), prefixes=["TEMPORARY"], sqlite_with_rowid=False)
    table.drop(connection, checkfirst=True)  # a report that failed half-way may have left it on a pooled connection
    table.create(connection)
    names = [column.name for column in table.c]
    upsert = upsert_into("sqlite", table).from_select(names, rows.add_columns(*(func.coalesce(key, NO_VALUE) for key in keys), literal(1)))
    connection.execute(upsert.on_conflict_do_update(set_={"counted": table.c.counted + upsert.excluded.counted}))
    found = [tuple(row) for row in connection.execute(select(*(func.nullif(table.c[n], NO_VALUE) for n in names[:-1]), table.c.counted))]
    table.drop(connection)
    return found

