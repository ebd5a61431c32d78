"""Settings: embedded defaults, the MELDPUNT_ prefix, and an example file that explains every key."""

from __future__ import annotations

from pathlib import Path

import pytest

from meldpunt.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "meldpunt.env.example"


def test_defaults_run_embedded_on_sqlite_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env here
    url = Settings().effective_database_url
    assert url == f"sqlite:///{tmp_path / 'var' / 'meldpunt.db'}"


def test_environment_overrides_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MELDPUNT_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/m")
    assert Settings().effective_database_url == "postgresql+psycopg://u@127.0.0.1/m"


def test_settings_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "meldpunt.env").write_text("MELDPUNT_VAR_DIR=elders\n", encoding="utf-8")
    assert Settings().var_dir == Path("elders")


def test_example_file_explains_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"MELDPUNT_{name.upper()}" in text, f"{name} is missing from meldpunt.env.example"
