"""Inzage and wissen for a data subject (SQLite and PostgreSQL, fake clock for the use cases, the real command for the words).

What the coordinator and the DPO check: the export holds every place the pupil's name was stored; after
`wissen` no table and no column still holds any part of the pupil's identity while another pupil keeps
everything; each provider that received the referral gets an erase request with the reference only;
both commands write their audit row with the reason; a wrong reference or no match is one Dutch sentence.
"""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.privacy_rights import PrivacyRights, PupilNotFound
from desk.retention import Retention
from intake.lifecycle import Status
from intake.questionnaire import load_questionnaire
from intake.retention import RetentionPeriods
from store import questions, referrals, telegram_updates
from store.audit import AuditAction, AuditPurpose, audit_trail
from store.mail_models import MailKind, OutboxMessage, Question
from store.models import AuditEntry, Staff
from tests.mail_harness import DOMAIN
from tests.test_cli_review import Runner
from tests.test_decisions import ARKTOS, eligible_answers, make_referral
from tests.test_retention import PUPIL, T0, live, traces_of_the_pupil

LATER = T0 + timedelta(days=2)
OTHER = ("Lotte", "Maes")
OTHER_ANSWERS = {"pupil_first_name": "Lotte", "pupil_last_name": "Maes", "pupil_birth_date": "2010-05-02",
                 "school_name": "Atheneum Halle", "school_contact_name": "Jan Claes",
                 "school_contact_email": "zorg@atheneum.example"}
COORDINATOR = "cli:coordinator"
# Where the export shows what each table held of the pupil.
SECTION = {"inbound_mail": "ontvangen_mails", "outbox": "verstuurde_mails", "questions": "vragen", "conversations": "gesprekken",
           "referrals": "aanmeldingen", "telegram_updates": "telegramantwoorden", "referral_figures": "aanmeldingen"}


def rights(sessions: sessionmaker[Session]) -> PrivacyRights:
    """The use cases on the fake clock, two days after the pupil's data came in."""
    questionnaire = load_questionnaire()
    retention = Retention(sessions, periods=RetentionPeriods(), questionnaire=questionnaire, domain=DOMAIN, clock=lambda: LATER)
    return PrivacyRights(sessions, retention=retention, questionnaire=questionnaire, domain=DOMAIN, clock=lambda: LATER)


def seed(sessions: sessionmaker[Session]) -> str:
    """The pupil by mail (form mail), by chat (a paused draft), a completed and dispatched referral, questions, a Telegram reply; and another pupil."""
    reference = live(sessions)
    with sessions.begin() as session:
        els = session.scalars(select(Staff)).one()
        questions.open_question(session, asker_email=els.email, staff_id=els.id, channel="telegram", text="Kan dit sneller?",
                                context={"aanmelding": reference}, now=T0)
        telegram_updates.record(session, bot_id=1, update_id=7, answer={"text": "Bedankt, de aanmelding van Zoë Peeters is ontvangen."}, now=T0)
        other = make_referral(session, Status.DISPATCHED, staff=els,
                              answers={**eligible_answers(), **OTHER_ANSWERS}, now=T0)
        questions.open_question(session, asker_email=els.email, staff_id=els.id, channel="email", text="Hoe gaat het met Lotte Maes?",
                                context=None, now=T0)
        assert other.reference is not None
    return reference


def test_the_export_holds_every_place_the_pupil_s_name_was_stored(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    reference = seed(session_factory)
    held_in = {trace.split(".")[0] for trace in traces_of_the_pupil(session_factory)}
    assert held_in == set(SECTION), held_in

    done = rights(session_factory).export(reference=reference, reason="vraag van de moeder, mail 02/12", actor=COORDINATOR, folder=tmp_path / "inzage")
    data = json.loads(done.json.read_text(encoding="utf-8"))
    for table in held_in:
        assert data[SECTION[table]] and "Peeters" in json.dumps(data[SECTION[table]], ensure_ascii=False), table
    assert OTHER[1] not in json.dumps(data, ensure_ascii=False), "another pupil stays out"
    (completed,) = data["aanmeldingen"]  # the paused chat holds its answers in the conversation until it is submitted
    assert completed["referentie"] == reference and {"vraag": "Achternaam leerling", "antwoord": "Peeters"} in completed["antwoorden"]
    assert [d["aanbieder"] for d in completed["verzendingen"]] == [ARKTOS]
    assert "Peeters" in data["gesprekken"][0]["inhoud"] and data["gesprekken"][0]["kanaal"] == "terminal"
    assert [c["naar"] for c in completed["geschiedenis"]][-1] == "Afgerond" == completed["status"]
    assert {q["vraag"] for q in data["vragen"]} == {"Wat raden jullie aan voor Zoë Peeters?", "Kan dit sneller?"}
    html = done.html.read_text(encoding="utf-8")
    assert "Achternaam leerling" in html and "Zoë" in html and "18/11/2026 11:00" in html, "Dutch labels, Brussels time"
    assert stat.S_IMODE(done.folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (done.html, done.json)} == {0o600}

    by_name = rights(session_factory).export(name="zoë peeters", birth_date=date(2011, 3, 14), reason="verzoek", actor=COORDINATOR, folder=tmp_path)
    assert json.loads(by_name.json.read_text(encoding="utf-8")) == data
    with session_factory() as session:
        rows = [r for r in audit_trail(session) if r.action == AuditAction.EXPORTED]
    assert len(rows) == 2 and {r.purpose for r in rows} == {AuditPurpose.DATA_SUBJECT.value}
    assert rows[0].detail is not None and "vraag van de moeder" in rows[0].detail and rows[0].actor == COORDINATOR


def test_after_wissen_no_table_holds_the_pupil_and_each_provider_is_asked_to_erase(session_factory: sessionmaker[Session]) -> None:
    reference = seed(session_factory)
    with session_factory() as session:
        audit_before = [(r.id, r.action, r.detail) for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]

    done = rights(session_factory).erase(reference, reason="wisverzoek ouders 02/12", actor=COORDINATOR)
    assert done.references == [reference] and done.providers == 1
    assert traces_of_the_pupil(session_factory) == []
    with session_factory() as session:
        (request,) = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.ERASE_REQUEST))
        assert request.to_address == ARKTOS and reference in request.subject and "wissen" in request.body_text
        assert not any(part in request.body_text + request.subject for part in PUPIL)
        kept = [q.text for q in session.scalars(select(Question).order_by(Question.id))]
        assert "Hoe gaat het met Lotte Maes?" in kept and "Kan dit sneller?" not in kept
        drafts = [r.status for r in session.scalars(select(referrals.Referral)) if r.status in (Status.DRAFT, Status.CANCELLED)]
        assert drafts == [Status.CANCELLED], "the paused chat's draft goes with its conversation"
        others = [r for r in session.scalars(select(referrals.Referral)) if (r.answers or {}).get("pupil_last_name") == OTHER[1]]
        assert len(others) == 1 and others[0].pseudonymised_at is None, "another pupil keeps everything"
        rows = [(r.id, r.action, r.detail) for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        erased = [r for r in audit_trail(session) if r.action == AuditAction.ERASED]
    assert rows[:len(audit_before)] == audit_before, "the audit rows themselves are never changed"
    assert len(erased) == 1 and all(r.detail and "wisverzoek ouders" in r.detail for r in erased)
    with pytest.raises(PupilNotFound, match="al gepseudonimiseerd of gewist"):
        rights(session_factory).erase(reference, reason="nogmaals", actor=COORDINATOR)


def test_a_wrong_reference_or_no_match_is_one_dutch_sentence(session_factory: sessionmaker[Session]) -> None:
    seed(session_factory)
    with pytest.raises(PupilNotFound, match="Er is geen aanmelding met referentie MSI-2099-0001"):
        rights(session_factory).erase("MSI-2099-0001", reason="x", actor=COORDINATOR)
    with pytest.raises(PupilNotFound, match="geboren is op 15/03/2011"):
        rights(session_factory).export(name="Zoë Peeters", birth_date=date(2011, 3, 15), reason="x", actor=COORDINATOR, folder=Path("unused"))


def test_the_commands_print_where_the_export_is_ask_before_erasing_and_refuse_in_dutch(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    reference = seed(session_factory)
    run = Runner(database_url, tmp_path / "var")
    shown = run("privacy", "inzage", "--naam", "Zoë Peeters", "--geboortedatum", "14/03/2011", "--reden", "verzoek moeder")
    assert shown.exit_code == 0, shown.output
    assert str(tmp_path / "var" / "inzage") in shown.output and "inzage.html" in shown.output and "Peeters" not in shown.output
    assert stat.S_IMODE((tmp_path / "var" / "inzage").stat().st_mode) == 0o700

    for args, sentence in (
        (("inzage", "MSI-2099-0001", "--reden", "x"), "Er is geen aanmelding met referentie MSI-2099-0001"),
        (("inzage", "--naam", "Jan Smet", "--geboortedatum", "01/01/2010", "--reden", "x"), "Er is geen aanmelding van een leerling die Jan Smet heet"),
        (("inzage", "--naam", "Zoë Peeters", "--geboortedatum", "2011-03-14", "--reden", "x"), "schrijf dd/mm/jjjj"),
        (("inzage", reference), "--reden"),
    ):
        refused = run("privacy", *args)
        assert refused.exit_code != 0 and sentence in refused.output and "Traceback" not in refused.output, refused.output

    kept = run.cli.invoke(_main(), ["privacy", "wissen", reference, "--reden", "verzoek"], input="nee\n")
    assert "Ben je zeker? (ja/nee)" in kept.output and "Niets gewist." in kept.output
    assert traces_of_the_pupil(session_factory), "nothing erased without a yes"
    erased = run("privacy", "wissen", reference, "--reden", "verzoek ouders", "--ja")
    assert erased.exit_code == 0, erased.output
    assert f"Gewist: {reference}" in erased.output and "wisverzoeken aan aanbieders: 1" in erased.output
    assert traces_of_the_pupil(session_factory) == []
    assert not _maildir_mentions(tmp_path / "var" / "maildir")


def _main() -> Any:
    """The `meldpunt` command group."""
    from meldpunt.cli import main

    return main


def _maildir_mentions(folder: Path) -> list[Path]:
    """Files in the Maildir that hold a part of the pupil's identity."""
    found = []
    for path in folder.rglob("*") if folder.exists() else []:
        if path.is_file() and any(part.encode() in path.read_bytes() for part in PUPIL):
            found.append(path)
    return found
