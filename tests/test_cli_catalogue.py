"""`meldpunt catalogue changes|approve|reject|history`: the coordinator decides, the next App sees it."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import select

from desk import catalogue_changes as changes
from intake.catalogue import DEFAULT_PATH
from meldpunt.app import App
from meldpunt.cli import main
from meldpunt.settings import Settings
from store.dispatch_models import ChangeStatus
from store.mail_models import OutboxMessage

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
PROFO = "aanmeldingen@profo.example"
SERVICE = "naft-profo-oost"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An embedded installation in a fresh folder (its own SQLite file), read from the environment like the CLI does."""
    monkeypatch.setenv("MELDPUNT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the developer's checkout is read
    settings = Settings()
    _ = App(settings).engine  # as `meldpunt db upgrade` does: the commands themselves make no database
    return settings


def _propose(settings: Settings, **updates: object) -> int:
    """A provider's pending change, stored the way the mail handler stores it."""
    app = App(settings)
    with app.sessions.begin() as session:
        service = app.catalogue.service(SERVICE)
        assert service is not None
        return changes.propose(session, service=service, updates=dict(updates), submitted_by=PROFO, now=NOW).id


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["catalogue", *args], catch_exceptions=False)


def test_changes_lists_pending_then_approve_reaches_the_next_app(settings: Settings) -> None:
    number = _propose(settings, capacity=4, accepting_referrals=False)
    listed = _run("changes")
    assert listed.exit_code == 0
    assert f"Wijziging {number}: NAFT-traject Profo (Vlaams-Brabant Oost) ({SERVICE})" in listed.output
    assert f"van {PROFO}, 02/12/2026 10:30" in listed.output
    assert "- Vrije plaatsen: niet gekend → 4" in listed.output and "- Neemt aanmeldingen aan: ja → nee" in listed.output
    approved = _run("approve", str(number))
    assert approved.exit_code == 0, approved.output
    assert "goedgekeurd" in approved.output and "binnen een minuut over" in approved.output
    service = App(Settings()).catalogue.service(SERVICE)
    assert service is not None and (service.capacity, service.accepting_referrals) == (4, False)
    assert _run("changes").output.strip() == "Er wachten geen wijzigingen aan het aanbod."
    with App(Settings()).sessions() as session:
        change = changes.get(session, number)
        assert change is not None and change.status is ChangeStatus.APPROVED
        assert change.decided_by == f"cli:{getpass.getuser()}"
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "aanbod-besluit"))
        assert mail is not None and mail.to_address == PROFO and "goedgekeurd" in mail.subject


def test_reject_keeps_the_old_value_and_tells_the_provider_why(settings: Settings) -> None:
    number = _propose(settings, capacity=4)
    refused = CliRunner().invoke(main, ["catalogue", "reject", str(number)])
    assert refused.exit_code != 0 and "--reden" in refused.output
    rejected = _run("reject", str(number), "--reden", "Graag eerst overleggen.")
    assert rejected.exit_code == 0 and "geweigerd" in rejected.output
    assert App(Settings()).catalogue.service(SERVICE).capacity is None  # type: ignore[union-attr]
    with App(Settings()).sessions() as session:
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "aanbod-besluit"))
        assert mail is not None and "Reden: Graag eerst overleggen." in mail.body_text
    again = CliRunner().invoke(main, ["catalogue", "approve", str(number)])
    assert again.exit_code == 1 and f"Wijziging {number} is al geweigerd" in again.output


def test_unknown_number_and_a_service_gone_from_the_file_are_refused(settings: Settings, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert "geen wijziging aan het aanbod met nummer 7" in CliRunner().invoke(main, ["catalogue", "approve", "7"]).output
    number = _propose(settings, capacity=4)
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["services"] = [s for s in data["services"] if s["id"] != SERVICE]
    smaller = tmp_path / "aanbod.yaml"
    smaller.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MELDPUNT_CATALOGUE_PATH", str(smaller))
    refused = CliRunner().invoke(main, ["catalogue", "approve", str(number)])
    assert refused.exit_code == 1 and f"de dienst '{SERVICE}', die niet meer in het aanbod staat" in refused.output
    with App(Settings()).sessions() as session:
        assert [c.id for c in changes.pending(session)] == [number]


def test_the_later_approval_of_the_same_field_wins(settings: Settings) -> None:
    app = App(settings)
    with app.sessions.begin() as session:
        service = app.catalogue.service(SERVICE)
        assert service is not None
        # Two mails about the age range, both seen against the same old values.
        low = changes.propose(session, service=service, updates={"age_range": {"minimum": 16, "maximum": None}},
                              submitted_by=PROFO, now=NOW).id
        high = changes.propose(session, service=service, updates={"age_range": {"minimum": None, "maximum": 14}},
                               submitted_by=PROFO, now=NOW).id
    assert _run("approve", str(low)).exit_code == 0
    assert _run("approve", str(high)).exit_code == 0
    bounds = App(Settings()).catalogue.service(SERVICE).age_range  # type: ignore[union-attr]
    assert bounds is not None and (bounds.minimum, bounds.maximum) == (None, 14)
    assert "Leeftijd: ? tot ? jaar → ? tot 14 jaar" not in _run("history").output, "old is what the catalogue held then"
    assert "Leeftijd: 16 tot ? jaar → ? tot 14 jaar" in _run("history").output


def test_history_shows_who_when_old_and_new_newest_first(settings: Settings) -> None:
    assert _run("history").output.strip() == "Er zijn nog geen wijzigingen aan het aanbod voorgesteld."
    first = _propose(settings, capacity=4)
    second = _propose(settings, on_site=False)
    _run("reject", str(first), "--reden", "Niet juist.")
    shown = _run("history", SERVICE).output
    assert shown.index(f"Wijziging {second}:") < shown.index(f"Wijziging {first}:")
    assert f"Wijziging {first}: NAFT-traject Profo (Vlaams-Brabant Oost) ({SERVICE}), geweigerd" in shown
    assert f"beslist door cli:{getpass.getuser()}" in shown and ": Niet juist." in shown
    assert "- Op school mogelijk: ja → nee" in shown and "wacht" in shown
    assert _run("history", "tako").output.strip() == "Er zijn nog geen wijzigingen aan het aanbod voorgesteld."
