"""End to end: `meldpunt` as a subprocess, the way a newcomer and a script use it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.test_workflow import FULL

EMAIL = "els@clb-halle.example"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An embedded installation in a fresh folder: its own SQLite file under var/."""
    # MELDPUNT_OUTBOX=maildir, as `make serve` chooses: without it no mail goes anywhere.
    env = {**os.environ, "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_OUTBOX": "maildir", "PYTHONUNBUFFERED": "1"}
    # As `make serve` does first: only `db upgrade` and `serve` make a database.
    assert meldpunt(env, "db", "upgrade").returncode == 0
    return env


def meldpunt(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one command and return what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "meldpunt", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def test_staff_member_completes_a_referral_and_finds_it_listed(env: dict[str, str]) -> None:
    added = meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    assert added.returncode == 0 and "geregistreerd" in added.stdout
    chat = meldpunt(env, "chat", "--as", EMAIL, stdin="\n".join(FULL) + "\n")
    assert chat.returncode == 0, chat.stderr
    assert "referentie MSI-2026-0001" in chat.stdout
    listed = json.loads(meldpunt(env, "referrals", "list", "--json").stdout)
    assert [(r["reference"], r["status"], r["eligibility"]) for r in listed] == [("MSI-2026-0001", "queued", "eligible")]
    assert listed[0]["suggestions"][0]["service_id"] in {"naft-arktos-ahv", "naft-groep-intro-ahv"}
    assert "Zoë" not in json.dumps(listed), "a listing holds nothing that identifies the pupil"
    queued = json.loads(meldpunt(env, "referrals", "list", "--status", "needs_review", "--json").stdout)
    assert queued == []
    shown = meldpunt(env, "referrals", "show", "MSI-2026-0001")
    assert "Voornaam leerling: Zoë" in shown.stdout and "Klaar voor verzending" in shown.stdout


def test_unregistered_email_is_refused_in_dutch(env: dict[str, str]) -> None:
    chat = meldpunt(env, "chat", "--as", "iemand@gmail.example", stdin="1\n")
    assert chat.returncode != 0
    assert "niet geregistreerd als CLB-medewerker" in chat.stderr


def test_minimal_mode_then_details_completes_the_referral(env: dict[str, str]) -> None:
    meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    minimal = ["02 123 45 67", "Z.P.", "2011", *FULL[4:]]
    chat = meldpunt(env, "chat", "--as", EMAIL, "--minimal", stdin="\n".join(minimal) + "\n")
    assert "initialen" in chat.stdout and "Voornaam" not in chat.stdout
    assert "wacht nog op de naam en de geboortedatum" in chat.stdout
    listed = json.loads(meldpunt(env, "referrals", "list", "--json").stdout)
    assert listed[0]["status"] == "awaiting_details"
    details = meldpunt(env, "chat", "--as", EMAIL, "--details", "MSI-2026-0001", stdin="Zoë\nPeeters\n14/03/2011\nbevestig\n")
    assert details.returncode == 0, details.stderr
    assert json.loads(meldpunt(env, "referrals", "list", "--json").stdout)[0]["status"] == "queued"


def _reader(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def test_killed_mid_conversation_resumes_at_the_same_question(env: dict[str, str]) -> None:
    meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    process = subprocess.Popen(
        [sys.executable, "-m", "meldpunt", "chat", "--as", EMAIL], env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    assert process.stdin is not None
    process.stdin.write("\n".join(FULL[:10]) + "\n")  # up to the school year
    process.stdin.flush()
    seen = ""
    while "Welke onderwijsvorm" not in seen:
        seen += lines.get(timeout=30)
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.wait(timeout=10)

    resumed = meldpunt(env, "chat", "--as", EMAIL, stdin="\n".join(FULL[10:]) + "\n")
    assert "Welkom terug" in resumed.stdout
    assert resumed.stdout.index("Welke onderwijsvorm") < resumed.stdout.index("fase van het zorgcontinuüm")
    assert "referentie MSI-2026-0001" in resumed.stdout


def test_catalogue_check_reports_in_dutch(env: dict[str, str], tmp_path: Path) -> None:
    bundled = meldpunt(env, "catalogue", "check")
    assert bundled.returncode == 0 and "niet gekend" in bundled.stdout
    broken = tmp_path / "aanbod.yaml"
    broken.write_text("organizations: []\nservices:\n  - id: x\n", encoding="utf-8")
    checked = meldpunt(env, "catalogue", "check", str(broken))
    assert checked.returncode == 1 and "ontbreekt" in checked.stdout


def test_staff_remove_revokes_access(env: dict[str, str]) -> None:
    meldpunt(env, "staff", "add", EMAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
    assert "verwijderd" in meldpunt(env, "staff", "remove", EMAIL).stdout
    assert "niet geregistreerd" in meldpunt(env, "chat", "--as", EMAIL, stdin="x\n").stderr
    assert "Er zijn nog geen medewerkers" in meldpunt(env, "staff", "list").stdout


def test_coordinator_answers_a_question_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    from datetime import datetime, timezone
    from email import message_from_bytes
    from email.policy import default

    from store import inbound, questions
    from store.db import create_db_engine, make_session_factory

    assert "geen open vragen" in meldpunt(env, "questions", "list").stdout
    assert "geen mails in quarantaine" in meldpunt(env, "mail", "quarantine").stdout
    sessions = make_session_factory(create_db_engine(f"sqlite:///{tmp_path / 'var' / 'meldpunt.db'}"))
    now = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
    with sessions.begin() as session:
        questions.open_question(session, asker_email="els@clb-halle.example", staff_id=None, channel="email",
                                text="Welk aanbod voor een leerling van 15 in Halle?", context=None, now=now)
        mail, _ = inbound.accept(session, b"From: a@b.example\r\n\r\nx", source="smtp", envelope_from=None, envelope_to=[], now=now)
        inbound.quarantine(session, mail, reason="Geen afzender of meerdere afzenders.", now=now)
    assert "Vraag 1 van els@clb-halle.example" in meldpunt(env, "questions", "list").stdout
    assert "Geen afzender of meerdere afzenders." in meldpunt(env, "mail", "quarantine").stdout
    answered = meldpunt(env, "questions", "answer", "1", "Neem contact op met Arktos of Groep Intro.")
    assert answered.returncode == 0 and "verstuurd naar els@clb-halle.example" in answered.stdout
    (delivered,) = (tmp_path / "var" / "maildir" / "new").iterdir()
    relayed = message_from_bytes(delivered.read_bytes(), policy=default)
    assert relayed["To"] == "els@clb-halle.example" and "Neem contact op met Arktos" in relayed.get_body(("plain",)).get_content()
    assert "al beantwoord" in meldpunt(env, "questions", "answer", "1", "nogmaals").stderr
