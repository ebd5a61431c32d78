"""A running service picks up catalogue changes the coordinator approved from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from desk import catalogue_changes
from meldpunt.app import App
from meldpunt.settings import Settings

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_an_approved_change_reaches_every_channel_without_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env here
    app = App(Settings(var_dir=tmp_path / "var"))
    before = app.workflow.intake.catalogue.service("tryout")
    assert before is not None and before.capacity is None
    assert app.refresh_catalogue() is False, "nothing approved yet"
    with app.sessions.begin() as session:
        change = catalogue_changes.propose(session, service=before, updates={"capacity": 4}, submitted_by="aanmeldingen@tryout.example", now=NOW)
    assert app.workflow.intake.catalogue.service("tryout").capacity is None, "a pending change changes nothing"
    with app.sessions.begin() as session:
        catalogue_changes.approve(session, change.id, by="cli:coordinator", now=NOW)
    workflow, processor = app.workflow, app.processor
    assert app.refresh_catalogue() is True
    assert processor.workflow is workflow and workflow.intake.catalogue.service("tryout").capacity == 4
    assert app.dispatcher.intake().catalogue.service("tryout").capacity == 4, "the dispatcher plans with it too"
    assert app.refresh_catalogue() is False, "only a new approval counts as a change"
