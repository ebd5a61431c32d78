"""The engine on stored conversations (SQLite and PostgreSQL): submit, route, minimal mode, resume."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import Channel, DetailsRefused, IntakeWorkflow
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.messages import Inbound, OutKind
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from store import referrals
from store import staff as staff_repo
from store.models import Conversation, Staff

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
# Answers after the prefilled staff details, full mode, a pupil in Halle.
FULL = [
    "02 123 45 67", "Zoë", "Peeters", "14/03/2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair",
    "2e jaar", "1", "3", "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten",
    "overslaan", "1", "overslaan", "An Peeters", "an.peeters@school.example", "overslaan", "bevestig",
]
MINIMAL = ["02 123 45 67", "Z.P.", "2011", *FULL[4:]]


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(load_questionnaire(), load_catalogue())


@pytest.fixture
def els(session_factory: sessionmaker[Session]) -> Staff:
    with session_factory.begin() as session:
        member = staff_repo.add_staff(session, email="els@clb-halle.example", name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
    return member


def converse(workflow: IntakeWorkflow, who: Staff, lines: list[str], *, start: datetime = NOW) -> str:
    """Send each line as a message; the last reply's text."""
    text = ""
    for i, line in enumerate(lines):
        turn = workflow.handle(channel=Channel.TERMINAL, external_id=who.email, inbound=Inbound.from_text(line), now=start + timedelta(seconds=i))
        text = "\n".join(o.text for o in turn.outbounds)
    return text


def test_a_full_referral_is_stored_as_queued_with_outcome_and_suggestions(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    workflow = IntakeWorkflow(intake, session_factory)
    opened = workflow.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.FULL, now=NOW)
    assert "telefoonnummer" in opened.outbounds[-1].text, "the staff member's own details are not asked"
    reply = converse(workflow, els, FULL)
    assert "MSI-2026-0001" in reply and "klaar voor de volgende verzending" in reply
    with session_factory() as session:
        referral = referrals.get_referral(session, "MSI-2026-0001")
        assert referral is not None and referral.status is Status.QUEUED
        assert referral.answers["pupil_first_name"] == "Zoë" and referral.answers["referrer_name"] == "Els Janssens"
        assert referral.eligibility["outcome"] == "eligible"
        assert {s["service_id"] for s in referral.suggestions["suggestions"][:2]} == {"naft-arktos-ahv", "naft-groep-intro-ahv"}
        assert [c.to_status for c in referrals.status_history(session, referral)] == [Status.DRAFT, Status.SUBMITTED, Status.QUEUED]
        assert session.query(Conversation).count() == 0, "a finished conversation keeps no copy of the answers"


def test_a_flagged_referral_waits_for_the_coordinator(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    workflow = IntakeWorkflow(intake, session_factory)
    workflow.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.FULL, now=NOW)
    primary = [*FULL[:3], "01/05/2016", *FULL[4:8], "basis", "5e leerjaar", "8", *FULL[11:]]
    reply = converse(workflow, els, primary)
    assert "De coördinator van het Meldpunt bekijkt ze eerst" in reply
    with session_factory() as session:
        (referral,) = referrals.list_referrals(session)
        assert referral.status is Status.NEEDS_REVIEW
        assert "basisonderwijs" in referrals.status_history(session, referral)[-1].note


def test_minimal_mode_waits_for_details_and_completes_later(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    workflow = IntakeWorkflow(intake, session_factory)
    workflow.open(channel=Channel.TELEGRAM, external_id="4242", staff=els, mode=Mode.MINIMAL, now=NOW)
    for i, line in enumerate(MINIMAL):
        turn = workflow.handle(channel=Channel.TELEGRAM, external_id="4242", inbound=Inbound.from_text(line), now=NOW + timedelta(seconds=i))
    assert turn.status is Status.AWAITING_DETAILS and turn.reference == "MSI-2026-0001"
    assert "formulier om die aan te vullen" in turn.outbounds[-1].text
    with session_factory() as session:
        stored = referrals.get_referral(session, "MSI-2026-0001").answers
        assert stored["pupil_initials"] == "Z.P." and "pupil_first_name" not in stored and "pupil_birth_date" not in stored

    # Another channel completes it: only the identifying questions are asked.
    opened = workflow.open_details(channel=Channel.TERMINAL, external_id=els.email, staff=els, reference="MSI-2026-0001", now=NOW)
    assert "voornaam van de leerling" in opened.outbounds[-1].text
    reply = converse(workflow, els, ["Zoë", "Peeters", "14/03/2011", "bevestig"])
    assert "MSI-2026-0001" in reply
    with session_factory() as session:
        referral = referrals.get_referral(session, "MSI-2026-0001")
        assert referral.status is Status.QUEUED
        assert referral.answers["pupil_first_name"] == "Zoë" and referral.answers["pupil_initials"] == "Z.P."


def test_details_of_someone_elses_referral_are_refused(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    workflow = IntakeWorkflow(intake, session_factory)
    workflow.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.MINIMAL, now=NOW)
    converse(workflow, els, MINIMAL)
    with session_factory.begin() as session:
        jan = staff_repo.add_staff(session, email="jan@clb-leuven.example", name="Jan", clb="CLB Leuven", now=NOW)
    with pytest.raises(DetailsRefused, match="niet gevonden"):
        workflow.open_details(channel=Channel.TERMINAL, external_id=jan.email, staff=jan, reference="MSI-2026-0001", now=NOW)


def test_cancel_keeps_no_answers(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    workflow = IntakeWorkflow(intake, session_factory)
    workflow.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.FULL, now=NOW)
    reply = converse(workflow, els, [*FULL[:4], "annuleer"])
    assert "geannuleerd" in reply
    with session_factory() as session:
        (referral,) = referrals.list_referrals(session)
        assert referral.status is Status.CANCELLED and referral.answers == {} and referral.reference is None
        assert session.query(Conversation).count() == 0


def test_a_restarted_service_resumes_at_the_same_question(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> None:
    before = IntakeWorkflow(intake, session_factory)
    before.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.FULL, now=NOW)
    converse(before, els, FULL[:6])  # up to "In welke school ...?"
    after = IntakeWorkflow(Intake(load_questionnaire(), load_catalogue()), session_factory)  # a new process
    resumed = after.open(channel=Channel.TERMINAL, external_id=els.email, staff=els, mode=Mode.FULL, now=NOW + timedelta(days=7))
    assert resumed.outbounds[0].kind is OutKind.INFO and "Welkom terug" in resumed.outbounds[0].text
    assert "In welke school" in resumed.outbounds[-1].text
    reply = converse(after, els, FULL[6:], start=NOW + timedelta(days=7))
    assert "MSI-2026-0001" in reply


def test_a_message_without_conversation_is_explained(intake: Intake, session_factory: sessionmaker[Session]) -> None:
    turn = IntakeWorkflow(intake, session_factory).handle(channel=Channel.TELEGRAM, external_id="1", inbound=Inbound.from_text("hallo"), now=NOW)
    assert "Er loopt geen aanmelding" in turn.outbounds[0].text
