"""The under-12 survey (issue 15, point 5): reading answers, start with chat invitations, one reminder, results by region, CLI.

Store tests run on SQLite and PostgreSQL; time is a fixed moment moved by hand; the CLI runs as a subprocess.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import survey
from intake.survey import SurveyAnswer, SurveyNeed, find_token, parse_count, parse_missing, parse_needs, parse_region, read_form
from intake.vocabulary import Region
from meldpunt.app import App
from meldpunt.periodic import Periodic
from meldpunt.service import Timing, register_jobs
from meldpunt.settings import Settings
from meldpunt.supervisor import Supervisor
from store import staff as staff_repo
from store import survey as survey_repo
from store import telegram
from store.mail_models import MailKind, OutboxMessage
from store.survey_models import SurveyInvite
from tests.test_cli import env, meldpunt  # noqa: F401 — env is the fixture: an embedded installation, migrated

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DOMAIN = "meldpunt.example"


@dataclass
class FixedClock:
    """A clock standing still where the test puts it."""

    now: datetime

    def __call__(self) -> datetime:
        """The current fixed time."""
        return self.now


PEOPLE = [("an@clb.be", "An"), ("bert@clb.be", "Bert"), ("cis@clb.be", "Cis"), ("dirk@clb.be", "Dirk")]


# --- reading answers (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "region"), [("AHV", Region.AHV), ("asse-halle-vilvoorde", Region.AHV), ("1", Region.AHV),
                                               ("Oost", Region.OOST), ("Vlaams-Brabant Oost.", Region.OOST), ("2", Region.OOST)])
def test_a_region_is_read_however_written(typed: str, region: Region) -> None:
    assert parse_region(typed) is region


def test_wrong_answers_get_a_dutch_reason() -> None:
    assert parse_region("Antwerpen") == "Kies AHV (Asse-Halle-Vilvoorde) of Oost (Vlaams-Brabant Oost)."
    assert parse_count("-3") == "Schrijf enkel een getal, bijvoorbeeld 3 (of 0 als je er geen kreeg)."
    assert parse_count("") == "Vul een getal in, ook als het 0 is."
    assert "tikfout" in str(parse_count("250000"))
    assert str(parse_needs("gedrag, honger")).startswith("'honger' is geen keuze. Kies uit: 1 gedrag, 2 schoolverzuim")
    assert str(parse_needs("")).startswith("Kies minstens één nood.")
    assert parse_count("0") == 0


def test_needs_by_number_word_or_label_each_once() -> None:
    assert parse_needs("1, gedrag; 5 en Moeilijke thuissituatie") == (SurveyNeed.GEDRAG, SurveyNeed.LEERPROBLEMEN, SurveyNeed.THUISSITUATIE)


def test_the_missing_offer_is_cleaned_and_may_be_skipped() -> None:
    assert parse_missing("overslaan") is None and parse_missing("  -  ") is None
    assert parse_missing("Mail juf@school.be of bel 016 12 34 56\x1b[31m") == "Mail [adres] of bel [nummer]"


def test_a_form_with_quotes_and_notes_is_read() -> None:
    form = read_form("> Regio: oost\n> ↳ In welke regio werk je vooral? Antwoord AHV of Oost.\n> vragen JONGER dan 12 : 4\n> Noden: 3\n")
    assert form.answer == SurveyAnswer(region=Region.OOST, under12_questions=4, needs=(SurveyNeed.SOCIO_EMOTIONEEL,), missing_offer=None)
    assert form.labels_found == 3


def test_the_subject_token_is_found_in_a_reply() -> None:
    assert find_token("RE: Antw: Korte bevraging [bevraging 2026 k7qx2m9d]") == (2026, "K7QX2M9D")
    assert find_token("Re: Aanmelding") is None


# --- start, record, remind, results (store) ---------------------------------------------------------


def people(session: Session, *, linked: int = 0) -> list[int]:
    """Register the four people; the first `linked` of them link a Telegram account. Their ids."""
    ids = []
    for number, (email, name) in enumerate(PEOPLE):
        member = staff_repo.add_staff(session, email=email, name=name, clb="CLB", now=NOW)
        if number < linked:
            telegram.link(session, 1000 + number, member, now=NOW)
        ids.append(member.id)
    return ids


def survey_mails(session: Session, kind: MailKind = MailKind.SURVEY) -> list[str]:
    """The addresses the survey mails of this kind were queued to."""
    return sorted(session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == kind)))


def test_start_mails_everyone_and_marks_linked_staff_for_the_chat(session: Session) -> None:
    people(session, linked=2)
    staff_repo.remove_staff(session, "dirk@clb.be", now=NOW)
    result = survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
    assert (result.already, result.mailed, result.chat) == (False, 3, 2)
    assert survey_mails(session) == ["an@clb.be", "bert@clb.be", "cis@clb.be"]
    assert [i.staff.email for i in survey_repo.chats_waiting(session)] == ["an@clb.be", "bert@clb.be"]
    again = survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW + timedelta(days=1))
    assert again.already and again.survey.started_at == NOW
    assert len(survey_mails(session)) == 3, "starting twice sends nothing more"
    tokens = session.scalars(select(SurveyInvite.token_hash)).all()
    assert all(len(t) == 64 for t in tokens), "only the hash of a token is stored"


def answer(region: Region, count: int, *needs: SurveyNeed) -> SurveyAnswer:
    """An answer without free text."""
    return SurveyAnswer(region=region, under12_questions=count, needs=needs, missing_offer=None)


def test_one_reminder_after_the_days_only_to_those_who_did_not_answer(session: Session) -> None:
    people(session)
    survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
    invites = {i.staff.email: i for i in session.scalars(select(SurveyInvite))}
    survey.record(session, invites["an@clb.be"], answer(Region.AHV, 1, SurveyNeed.GEDRAG), now=NOW + timedelta(days=2))
    staff_repo.remove_staff(session, "dirk@clb.be", now=NOW + timedelta(days=3))
    assert survey.remind(session, now=NOW + timedelta(days=13, hours=23), after_days=14, domain=DOMAIN) == 0
    assert survey.remind(session, now=NOW + timedelta(days=14), after_days=14, domain=DOMAIN) == 2
    assert survey_mails(session, MailKind.SURVEY_REMINDER) == ["bert@clb.be", "cis@clb.be"]
    assert survey.remind(session, now=NOW + timedelta(days=40), after_days=14, domain=DOMAIN) == 0, "one reminder, not two"
    reminder = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.SURVEY_REMINDER)).first()
    assert reminder is not None and reminder.in_reply_to == invites[reminder.to_address].message_id, "threaded under the survey mail"
    found = find_token(reminder.subject)
    assert found is not None and survey_repo.invite_by_token(session, *found) is invites[reminder.to_address]
    assert "01/12/2026 10:00" in reminder.body_text, "when the survey went out, Brussels time"


def test_results_count_by_region_without_naming_anyone(session: Session) -> None:
    people(session)
    survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
    invites = list(session.scalars(select(SurveyInvite).order_by(SurveyInvite.id)))
    survey.record(session, invites[0], answer(Region.AHV, 3, SurveyNeed.GEDRAG, SurveyNeed.THUISSITUATIE), now=NOW)
    survey.record(session, invites[1], answer(Region.AHV, 10, SurveyNeed.GEDRAG), now=NOW)
    survey.record(session, invites[2], answer(Region.OOST, 0, SurveyNeed.ANDERS), now=NOW)
    assert survey.record(session, invites[2], answer(Region.OOST, 4, SurveyNeed.LEERPROBLEMEN), now=NOW) is True
    results = survey_repo.survey_results(session, 2026)
    assert results is not None
    assert (results.year, results.invited, results.answered) == (2026, 4, 3)
    ahv, oost = results.regions["ahv"], results.regions["oost"]
    assert (ahv.answered, ahv.questions_sum, ahv.questions_median, ahv.needs) == (2, 13, 6.5, {"gedrag": 2, "thuissituatie": 1})
    assert (oost.answered, oost.questions_sum, oost.questions_median, oost.needs) == (1, 4, 4.0, {"leerproblemen": 1})
    assert survey_repo.survey_results(session, 2025) is None


def test_the_missing_offer_is_encrypted_at_rest(session: Session) -> None:
    people(session)
    started = survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
    invite = session.scalars(select(SurveyInvite)).first()
    assert invite is not None
    survey.record(session, invite, SurveyAnswer(Region.AHV, 2, (SurveyNeed.GEDRAG,), "Een dagbesteding in Halle"), now=NOW)
    session.commit()
    stored = session.connection().exec_driver_sql("SELECT missing_offer FROM survey_answers").scalar()
    assert stored is not None and "Halle" not in str(stored)
    assert survey_repo.missing_offers(session, started.survey) == ["Een dagbesteding in Halle"]


async def test_the_service_job_reminds_after_the_configured_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no meldpunt.env of the machine is read
    app = App(Settings(var_dir=tmp_path / "var", database_url=None, telegram_token=None, imap_host=None, bevraging_herinnering_dagen=3))
    clock = FixedClock(NOW)
    periodic = Periodic(Supervisor(app.sessions, asyncio.Event(), clock=clock))
    register_jobs(periodic, app, timing=Timing(), wake=asyncio.Event(), clock=clock, bot=None)
    (job,) = [job for job in periodic.jobs if job.name == "bevraging"]
    with app.sessions.begin() as session:
        people(session)
        survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
    clock.now = NOW + timedelta(days=2, hours=23)
    await job.run()
    clock.now = NOW + timedelta(days=3)
    await job.run()
    await job.run()
    with app.sessions() as session:
        assert len(survey_mails(session, MailKind.SURVEY_REMINDER)) == 4, "one each, after three days"
    app.engine.dispose()


# --- the command line ---------------------------------------------------------------------------------


def test_the_command_starts_once_and_shows_the_standing(env: dict[str, str]) -> None:  # noqa: F811 — the fixture
    unknown = meldpunt(env, "bevraging", "stand", "2026")
    assert unknown.returncode == 1 and "Er is geen bevraging 2026" in unknown.stderr
    empty = meldpunt(env, "bevraging", "start", "2026")
    assert empty.returncode == 1 and "geen actieve medewerkers" in empty.stderr
    for email, name in PEOPLE[:2]:
        assert meldpunt(env, "staff", "add", email, "--name", name, "--clb", "CLB").returncode == 0
    first = meldpunt(env, "bevraging", "start", "2026")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Bevraging 2026 verstuurd naar 2 medewerkers (0 ook via Telegram)."
    second = meldpunt(env, "bevraging", "start", "2026")
    assert second.returncode == 0 and "loopt al sinds" in second.stdout and "niets opnieuw verstuurd" in second.stdout
    stand = meldpunt(env, "bevraging", "stand", "2026")
    assert stand.returncode == 0, stand.stderr
    assert "Uitgenodigd: 2 medewerkers; geantwoord: 0 (0%)." in stand.stdout
    assert "Asse-Halle-Vilvoorde: 0 antwoorden" in stand.stdout and "Vlaams-Brabant Oost: 0 antwoorden" in stand.stdout
    assert "Ontbrekend aanbod" not in stand.stdout, "the free texts only when asked"
    asked = meldpunt(env, "bevraging", "stand", "2026", "--ontbrekend-aanbod")
    assert "Nog geen antwoorden met ontbrekend aanbod." in asked.stdout
    audit = meldpunt(env, "audit").stdout
    assert audit.count("bevraging-gestart") == 1 and "wat: bevraging 2026: 2 uitgenodigd" in audit, "the start, once"
    assert audit.count("bevraging-gelezen") == 1, "showing the free texts is a read of personal data; the plain standing is not"
    assert meldpunt(env, "bevraging", "start", "12").returncode == 1
