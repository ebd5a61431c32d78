"""`meldpunt dispatch` as a subprocess: the dry run changes nothing, --now sends with progress."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from tests.test_cli import EMAIL, env, meldpunt  # noqa: F401 — `env` is a fixture
from tests.test_workflow import FULL


def test_dry_run_shows_what_goes_to_whom_and_now_sends_it(env: dict[str, str], tmp_path: Path) -> None:
    meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    assert meldpunt(env, "chat", "--as", EMAIL, stdin="\n".join(FULL) + "\n").returncode == 0
    dry = meldpunt(env, "dispatch", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Proefdraai: er wordt niets verstuurd" in dry.stdout and "Volgende geplande batch:" in dry.stdout
    assert "Naar aanmeldingen@arktos.example" in dry.stdout and "MSI-2026-0001  NAFT-traject Arktos" in dry.stdout
    assert "voorbeeldadres op .example" in dry.stdout, "the coordinator is warned the bundled addresses are examples"
    assert "Zoë" not in dry.stdout, "the overview names no pupil"
    listed = json.loads(meldpunt(env, "referrals", "list", "--json").stdout)
    assert listed[0]["status"] == "queued", "a dry run changes nothing"

    sent = meldpunt(env, "dispatch", "--now")
    assert sent.returncode == 0, sent.stderr
    assert "Batch klaar: 1 aanmelding(en) in 1 mail(s)" in sent.stdout and "2 mail(s) verstuurd." in sent.stdout
    assert json.loads(meldpunt(env, "referrals", "list", "--json").stdout)[0]["status"] == "dispatched"
    box = mailbox.Maildir(Path(env["MELDPUNT_VAR_DIR"]) / "maildir", create=False)
    recipients = sorted(str(m["To"]) for m in box)
    assert recipients == ["aanmeldingen@arktos.example", EMAIL]
    assert "Er staan geen aanmeldingen klaar" in meldpunt(env, "dispatch").stdout


def test_both_flags_are_refused_in_dutch(env: dict[str, str]) -> None:
    both = meldpunt(env, "dispatch", "--dry-run", "--now")
    assert both.returncode == 2 and "Kies --dry-run of --now, niet allebei." in both.stderr
