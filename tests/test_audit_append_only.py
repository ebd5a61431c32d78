"""The audit log is append-only: the code only adds and reads, the database refuses changes (SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
import importlib.util
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from meldpunt.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = ROOT / "store" / "migrations" / "versions" / "0009_audit_append_only.py"
# Only the retention purge may remove audit rows, and only once older than the period.
MAY_DELETE = {"store/retention.py", "desk/retention.py"}


def _insert(engine: Engine, at: datetime) -> int:
    """One audit row written at `at` (naive UTC, as stored); its id."""
    with engine.begin() as connection:
        return int(connection.execute(
            text("INSERT INTO audit_log (at, actor, action, detail) VALUES (:at, 'cli:root', 'gelezen', 'antwoorden') RETURNING id"),
            {"at": at.astimezone(UTC).replace(tzinfo=None)},
        ).scalar_one())


def _run(engine: Engine, statement: str, row_id: int) -> int:
    """Run a raw statement on one row; how many rows it touched."""
    with engine.begin() as connection:
        return connection.execute(text(statement), {"id": row_id}).rowcount


def _floor_days() -> int:
    """The floor migration 0009 gives the triggers."""
    spec = importlib.util.spec_from_file_location("audit_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.FLOOR_DAYS)


def test_the_database_refuses_to_change_or_delete_an_audit_row(db_engine: Engine) -> None:
    row = _insert(db_engine, datetime.now(UTC))
    with pytest.raises(DBAPIError, match="append-only"):
        _run(db_engine, "UPDATE audit_log SET detail = 'niets' WHERE id = :id", row)
    with pytest.raises(DBAPIError, match="append-only"):
        _run(db_engine, "DELETE FROM audit_log WHERE id = :id", row)
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT detail FROM audit_log WHERE id = :id"), {"id": row}).scalar_one() == "antwoorden"


def test_a_row_older_than_the_retention_floor_may_be_purged_but_not_changed(db_engine: Engine) -> None:
    old = _insert(db_engine, datetime.now(UTC) - timedelta(days=_floor_days() + 1))
    almost = _insert(db_engine, datetime.now(UTC) - timedelta(days=_floor_days() - 2))  # the trigger allows a day for clock skew
    with pytest.raises(DBAPIError, match="append-only"):
        _run(db_engine, "UPDATE audit_log SET actor = 'iemand anders' WHERE id = :id", old)
    with pytest.raises(DBAPIError, match="append-only"):
        _run(db_engine, "DELETE FROM audit_log WHERE id = :id", almost)
    assert _run(db_engine, "DELETE FROM audit_log WHERE id = :id", old) == 1


def test_the_audit_module_only_adds_and_reads() -> None:
    tree = ast.parse((ROOT / "store" / "audit.py").read_text("utf-8"))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert functions == {"audit_channel", "record_audit", "record_view", "record_questions_view", "audit_trail", "search_audit"}
    source = (ROOT / "store" / "audit.py").read_text("utf-8")
    assert not re.search(r"\b(delete|update)\b\s*\(|session\.delete|\.merge\(", source)


def test_no_module_updates_or_deletes_audit_rows() -> None:
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("tests/", "store/migrations/", ".")) or relative in MAY_DELETE:
            continue
        source = path.read_text("utf-8")
        if re.search(r"(update|delete)\(\s*AuditEntry|(UPDATE|DELETE FROM)\s+audit_log", source, re.IGNORECASE):
            offenders.append(relative)
    assert offenders == []


def test_only_the_audit_module_and_the_retention_purge_handle_audit_rows() -> None:
    # A module with the AuditEntry table in hand could change or delete rows through the session.
    importing = re.compile(r"^from [\w.]+ import [^\n]*\bAuditEntry\b", re.MULTILINE)
    holders = {
        path.relative_to(ROOT).as_posix() for path in ROOT.glob("*/**/*.py")
        if not path.relative_to(ROOT).as_posix().startswith(("tests/", ".")) and importing.search(path.read_text("utf-8"))
    }
    assert holders - MAY_DELETE == {"store/audit.py"}


def test_the_setting_may_keep_the_audit_longer_never_shorter_than_the_database_floor() -> None:
    assert Settings().retention_audit_days == _floor_days() == 1827
    assert Settings(retention_audit_days=3650).retention_audit_days == 3650
    with pytest.raises(ValidationError):
        Settings(retention_audit_days=365)
