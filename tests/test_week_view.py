"""The coordinator's week view (`meldpunt week`, /week): coming batches, what goes per provider, what is held and why.

On SQLite and PostgreSQL, on a fixed clock: a plain week (Monday 30/11/2026) and one with a holiday
(Wapenstilstand, Wednesday 11/11/2026). The lines the view shows are applied as the chat and the
command line apply them (desk.decisions.apply_actions), and the next view shows the change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.decisions import Role, apply_actions
from desk.dispatch import run_batch
from desk.week import build_week, render_week
from desk.workflow import IntakeWorkflow
from intake.actions import parse_actions
from intake.catalogue import Catalogue
from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.questionnaire import load_questionnaire
from intake.schedule import parse_moments
from intake.vocabulary import Mode
from intake.workhours import WorkCalendar, local_day
from store import referrals
from store.models import Referral, Staff
from tests.mail_harness import DOMAIN, shared_intake
from tests.test_decisions import ARKTOS, COORDINATOR_ACTOR, ELS, INTRO, add_staff, eligible_answers

S = Status
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 11:00 in Brussels; batches on Wednesday 02/12 and Friday 04/12
MOMENTS = parse_moments("wo 09:00, vr 09:00")
ARKTOS_AHV, INTRO_AHV = "naft-arktos-ahv", "naft-groep-intro-ahv"


def submit(session: Session, staff: Staff, *, at: datetime, **answers: Any) -> Referral:
    """A referral submitted through the real workflow at `at` (queued or to the coordinator, as its answers decide)."""
    referral = referrals.create_draft(session, staff_id=staff.id, channel="email", mode="full", actor=ELS, now=at)
    IntakeWorkflow(shared_intake(), sessionmaker()).submit_answers(
        session, referral, {**eligible_answers(), **answers}, mode=Mode.FULL, actor=ELS, now=at,
    )
    return referral


def apply_line(session: Session, line: str, *, now: datetime) -> None:
    """Apply one line as the coordinator, exactly as the chat and `meldpunt review record` do."""
    actions, problems = parse_actions(line, today=local_day(now))
    assert not problems and actions, (line, problems)
    results = apply_actions(session, actions, role=Role.COORDINATOR, actor=COORDINATOR_ACTOR, intake=shared_intake(), domain=DOMAIN, now=now)
    assert all(r.applied for r in results), [r.message for r in results]


def week(session: Session, *, now: datetime = MONDAY, closures: frozenset[date] = frozenset(), intake: Intake | None = None) -> str:
    """The week view's text as the coordinator reads it."""
    return render_week(build_week(session, now=now, moments=MOMENTS, calendar=WorkCalendar(closures=closures), intake=intake or shared_intake()))


def going(text: str) -> str:
    """The part of the view with what goes (the first batch)."""
    return text.split("Gaat mee", 1)[1].split("Verzending ", 1)[0] if "Gaat mee (" in text else ""


def held(text: str) -> str:
    """The part of the view with what is held."""
    return text.split("Wordt vastgehouden", 1)[1]


def action_of(text: str, reference: str, label: str) -> str:
    """The action line shown for a referral ("tegenhouden: …" or "vrijgeven: …")."""
    found = [line.strip().removeprefix(f"{label}: ") for line in text.splitlines() if line.strip().startswith(f"{label}: {reference}:")]
    assert len(found) == 1, (reference, label, text)
    return found[0]


def without_intro(intake: Intake) -> Intake:
    """The same intake with Groep Intro gone from the catalogue (as after a catalogue change)."""
    catalogue = intake.catalogue
    services = tuple(s for s in catalogue.services if s.id != INTRO_AHV)
    return Intake(load_questionnaire(), Catalogue(organizations=catalogue.organizations, services=services))


def test_the_week_names_its_batches_and_shows_what_goes_per_provider_and_what_is_held(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        els = add_staff(session)
        # Friday 27/11 09:00 a batch ran while Groep Intro was out of the catalogue: it set this one aside.
        set_aside = submit(session, els, at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), preferred_intervention=INTRO_AHV)
        run_batch(session, without_intro(shared_intake()), slot_key="2026-11-27 09:00", actor="planning", domain=DOMAIN, coordinator_email=None,
                  now=datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
        old = submit(session, els, at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), preferred_intervention=ARKTOS_AHV)
        crisis = submit(session, els, at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC), preferred_intervention=ARKTOS_AHV, urgency="zeer-dringend")
        urgent = submit(session, els, at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC), preferred_intervention=INTRO_AHV, urgency="dringend")
        flagged = submit(session, els, at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC), school_agrees=False)
        not_eligible = submit(session, els, at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), care_phase="verhoogde-zorg", urgency="zeer-dringend")
        kept = submit(session, els, at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), preferred_intervention=ARKTOS_AHV)
        apply_line(session, f"{kept.reference}: vasthouden - wacht op het verslag van de school", now=datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
        refs = {name: r.reference or "" for name, r in locals().items() if isinstance(r, Referral)}
    with session_factory() as session:
        text = week(session)
    assert text.startswith("Weekoverzicht verzendingen – stand van 30/11/2026 11:00"), "made at, in Brussels time"
    assert "Dit is de stand van nu" in text
    wednesday, friday = "Verzending woensdag 02/12/2026 om 09:00", "Verzending vrijdag 04/12/2026 om 09:00"
    assert wednesday in text and friday in text and text.index(wednesday) < text.index(friday)
    assert text.count("Verzending ") == 2, "only the batches of the next seven days"
    first = going(text)
    assert "Gaat mee (3)" in text and "wat na de vorige verzending klaar komt" in text.split(friday)[1], "the second batch cannot be foreseen"
    assert f"({ARKTOS}): 2" in first and f"({INTRO}): 1" in first, first
    assert first.index(f"({ARKTOS})") < first.index(f"({INTRO})"), "the provider with a zeer dringend referral first"
    # Per provider, zeer dringend first, marked; each with its age in working days and its hold line, exactly.
    arktos_part = first.split(f"({ARKTOS})")[1].split("Naar ")[0]
    assert arktos_part.index(refs["crisis"]) < arktos_part.index(refs["old"])
    assert f"‼ zeer dringend · {refs['crisis']} · vandaag ingediend" in arktos_part
    assert f"    {refs['old']} · 3 werkdagen\n      tegenhouden: {refs['old']}: vasthouden - reden" in arktos_part
    assert f"! dringend · {refs['urgent']} · 1 werkdag" in first.split(f"({INTRO})")[1]
    assert f"tegenhouden: {refs['crisis']}: vasthouden - reden" in arktos_part
    # Held, with why; zeer dringend first; each with the line that releases it.
    waiting = held(text)
    assert waiting.startswith(" – wacht op jou (4):")
    assert waiting.index(refs["not_eligible"]) < waiting.index(refs["kept"]), "zeer dringend first, even though younger"
    assert f"‼ zeer dringend · {refs['not_eligible']} · 2 werkdagen · niet ontvankelijk bij het indienen" in waiting
    assert f"{refs['flagged']} · 4 werkdagen · gemarkeerd bij het indienen" in waiting
    assert f"{refs['kept']} · 5 werkdagen · vastgehouden: wacht op het verslag van de school" in waiting
    assert f"{refs['set_aside']} · 2 werkdagen · apart gezet door een verzending: Het aanbod '{INTRO_AHV}' staat niet (meer) in de catalogus" in waiting
    for name in ("not_eligible", "flagged", "kept", "set_aside"):
        assert f"      vrijgeven: {refs[name]}: goedkeuren" in waiting
    for name in ("crisis", "old", "urgent"):
        assert refs[name] not in waiting
    assert "Zoë" not in text and "Peeters" not in text, "never the pupil's name"


def test_applying_the_shown_line_moves_a_referral_between_going_and_held(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        els = add_staff(session)
        reference = submit(session, els, at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), preferred_intervention=ARKTOS_AHV).reference or ""
    with session_factory.begin() as session:
        before = week(session)
        line = action_of(before, reference, "tegenhouden")
        assert line == f"{reference}: vasthouden - reden" and reference in going(before) and reference not in held(before)
        apply_line(session, line.replace("reden", "eerst het CLB bellen"), now=MONDAY)
    with session_factory.begin() as session:
        after = week(session)
        assert reference not in going(after) and "Gaat mee: niets" in after
        assert f"{reference} · 2 werkdagen · vastgehouden: eerst het CLB bellen" in held(after)
        release = action_of(after, reference, "vrijgeven")
        assert release == f"{reference}: goedkeuren"
        apply_line(session, release, now=MONDAY)
    with session_factory() as session:
        again = week(session)
        assert reference in going(again) and reference not in held(again) and "Wordt vastgehouden: niets" in again
        referral = referrals.get_referral(session, reference)
        assert referral is not None and referral.status is S.QUEUED, "the view itself changed nothing but the lines did"


def test_a_holiday_and_a_closure_day_move_the_batches_as_the_dispatch_does(session_factory: sessionmaker[Session]) -> None:
    monday = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)  # Wednesday 11/11 is Wapenstilstand
    with session_factory.begin() as session:
        reference = submit(session, add_staff(session), at=datetime(2026, 11, 6, 9, 0, tzinfo=UTC), preferred_intervention=ARKTOS_AHV).reference or ""
    with session_factory() as session:
        text = week(session, now=monday)
        closed = week(session, now=monday, closures=frozenset({date(2026, 11, 13)}))
        status = session.scalar(select(Referral.status).where(Referral.reference == reference))
    assert "stand van 09/11/2026 11:00" in text
    moved = "Verzending donderdag 12/11/2026 om 09:00 (verschoven van woensdag 11/11/2026 om 09:00: feestdag of sluitingsdag)"
    assert moved in text and "Verzending vrijdag 13/11/2026 om 09:00\n" in text
    assert reference in going(text) and text.index(reference) > text.index(moved), "it goes with the moved Thursday batch"
    assert "Verzending maandag 16/11/2026 om 09:00 (verschoven van vrijdag 13/11/2026 om 09:00: feestdag of sluitingsdag)" in closed
    assert status is S.QUEUED


def test_what_the_coming_batch_would_set_aside_is_shown_under_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        reference = submit(session, add_staff(session), at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC), preferred_intervention=INTRO_AHV).reference or ""
    with session_factory() as session:
        text = week(session, intake=without_intro(shared_intake()))
    assert "Gaat mee: niets" in text
    assert f"Wordt bij deze verzending apart gezet (1):\n    {reference} · 1 werkdag · Het aanbod '{INTRO_AHV}' staat niet (meer)" in text


def test_no_batch_in_the_next_seven_days_says_when_the_next_one_is(session_factory: sessionmaker[Session]) -> None:
    closures = frozenset(date(2026, 12, day) for day in range(1, 9))
    with session_factory() as session:
        text = week(session, closures=closures)
    assert "Er is geen verzending in de komende zeven dagen; de volgende is woensdag 09/12/2026 om 09:00." in text
