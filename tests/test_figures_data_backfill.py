"""Referrals from before the figures table get their rows (`meldpunt db upgrade`), and the figures' secret is made and kept private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from meldpunt.settings import Settings
from meldpunt.startup import permission_warnings
from store import figures, referrals
from store.figure_models import ReferralFigures
from store.figure_secret import FiguresSecretError, use_secret
from store.models import Referral, Staff
from tests.mail_harness import NOW
from tests.test_decisions import ELS, add_staff
from tests.test_figures_data import row_of, submit
from tests.test_serve_start import umask

LATER = NOW + timedelta(days=400)


@pytest.fixture
def restore_secret() -> Iterator[None]:
    """Each test ends on the session's secret again (use_secret is process-wide)."""
    yield
    use_secret(None)


def made_before_the_table(sessions: sessionmaker[Session], count: int) -> dict[int, dict[str, Any]]:
    """count referrals and a bare draft, as they were before migration 0012: no figures rows. Their rows as they would be."""
    with sessions.begin() as session:
        add_staff(session)
        made = [submit(session, now=NOW + timedelta(hours=i)) for i in range(count)]
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        made.append(referrals.create_draft(session, staff_id=els.id, channel="telegram", mode="full", actor=ELS, now=NOW))
    with sessions.begin() as session:
        expected = {r.id: row_of(session, r) for r in made if figures.figures_of(session, r.id)}
        session.execute(text("DELETE FROM referral_figure_problems"))
        session.execute(text("DELETE FROM referral_figures"))
    return expected


def test_the_backfill_gives_every_older_referral_its_row_with_progress(session_factory: sessionmaker[Session]) -> None:
    expected = made_before_the_table(session_factory, 5)
    seen: list[tuple[int, int]] = []
    with session_factory.begin() as session:
        assert figures.backfill_figures(session, LATER, progress=lambda done, total: seen.append((done, total)), every=2) == 6
    assert seen == [(2, 6), (4, 6), (6, 6)]
    with session_factory() as session:
        for referral_id, before in expected.items():
            assert row_of(session, session.get_one(Referral, referral_id)) == {**before, "updated_at": LATER}
        draft = session.scalars(select(ReferralFigures).where(ReferralFigures.referral_id.not_in(expected))).one()
        assert (draft.status, draft.submitted_on, draft.pupil_key) == ("draft", None, None)
    with session_factory.begin() as session:
        assert figures.backfill_figures(session, LATER, progress=lambda done, total: seen.append((done, total))) == 0, "once"
    assert len(seen) == 3


def test_db_upgrade_fills_the_figures_and_says_so_in_dutch(session_factory: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    made_before_the_table(session_factory, 2)
    env = {**os.environ, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var")}
    first = subprocess.run([sys.executable, "-m", "meldpunt", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "Cijfers aangevuld: 3 van 3 aanmeldingen" in first.stdout
    again = subprocess.run([sys.executable, "-m", "meldpunt", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "Cijfers" not in again.stdout, "nothing left to fill"
    with session_factory() as session:
        assert session.query(ReferralFigures).count() == 3


def test_a_fresh_install_makes_the_secret_file_private_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", rapport_sleutel=None, rapport_sleutel_file=None)
    with umask(0o022):
        secret = settings.rapport_secret()
    path = tmp_path / "var" / "rapport.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(secret) >= 40 and settings.rapport_secret() == secret, "made once, then read"
    assert Settings(var_dir=tmp_path / "elders", rapport_sleutel=None).rapport_secret() != secret, "each install its own"


def test_a_secret_file_others_may_read_is_warned_about(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", rapport_sleutel=None, rapport_sleutel_file=None)
    settings.rapport_secret()
    assert not [line for line in permission_warnings(settings) if "rapport.key" in line]
    settings.effective_rapport_key_file.chmod(0o644)
    (warning,) = [line for line in permission_warnings(settings) if "rapport.key" in line]
    assert "0644" in warning


def test_a_configured_secret_file_that_is_missing_is_not_made(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rapport_sleutel=None, rapport_sleutel_file=tmp_path / "elders" / "rapport.key")
    with pytest.raises(FiguresSecretError) as missing:
        settings.rapport_secret()
    assert missing.value.missing and not (tmp_path / "elders").exists()
    assert Settings(var_dir=tmp_path, rapport_sleutel="").rapport_sleutel is None, "a blank line in meldpunt.env is unset"


@pytest.mark.usefixtures("restore_secret")
def test_with_another_secret_the_school_cannot_be_read(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        referral_id = submit(session).id
    use_secret("een ander geheim, van een gekopieerde databank")
    with session_factory() as session, pytest.raises(FiguresSecretError) as wrong:
        figures.figures_of(session, referral_id)
    assert not wrong.value.missing


def test_a_missing_secret_file_is_one_dutch_sentence(database_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MELDPUNT_RAPPORT_SLEUTEL"}
    env.update(MELDPUNT_DATABASE_URL=database_url, MELDPUNT_VAR_DIR=str(tmp_path / "var"),
               MELDPUNT_RAPPORT_SLEUTEL_FILE=str(tmp_path / "weg" / "rapport.key"))
    result = subprocess.run([sys.executable, "-m", "meldpunt", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "FiguresSecretError" not in result.stderr
    assert "Er is geen geheim voor de cijfers" in result.stderr and str(tmp_path / "weg" / "rapport.key") in result.stderr
