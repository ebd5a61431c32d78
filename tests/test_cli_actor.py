"""The audit trail names the operating-system account behind a CLI command, not what the environment claims."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.test_cli import meldpunt


def test_the_audit_actor_is_the_os_account_whatever_logname_says(tmp_path: Path) -> None:
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "LOGNAME": "coordinator", "USER": "coordinator"}
    assert meldpunt(env, "db", "upgrade").returncode == 0
    added = meldpunt(env, "staff", "add", "els@clb-halle.example", "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    assert added.returncode == 0, added.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'meldpunt.db'}")
    with engine.connect() as connection:
        actors = set(connection.execute(text("SELECT actor FROM audit_log")).scalars())
    engine.dispose()
    assert actors == {f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"}
