"""Providers' catalogue changes in the store (SQLite and PostgreSQL) and the offer mail handled end to end."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk import catalogue_changes as changes
from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.consult import consult
from intake.facts import ReferralFacts
from intake.texts import compose_mail
from intake.vocabulary import DesiredForm, SchoolLevel
from mail.offer_mail import handle_offer_mail, is_provider_address, looks_like_offer_update
from store.dispatch_models import CatalogueChange, ChangeStatus
from store.mail_models import OutboxMessage

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
PROFO = "aanmeldingen@profo.example"
ARKTOS = "aanmeldingen@arktos.example"
COORDINATOR = "coordinator@meldpunt.example"
DOMAIN = "meldpunt.example"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The bundled catalogue, as the file holds it."""
    return load_catalogue()


def _mail(session: Session, catalogue: Catalogue, text: str, *, sender: str = PROFO,
          coordinator: str | None = COORDINATOR) -> tuple[str, str, dict]:
    return handle_offer_mail(session, sender=sender, subject="Ons aanbod", text=text, catalogue=catalogue,
                             domain=DOMAIN, coordinator_email=coordinator, now=NOW)


def _outbox(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_propose_keeps_old_and_new_of_exactly_the_changed_fields(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None
    with session_factory.begin() as session:
        change = changes.propose(session, service=profo, updates={"capacity": 3, "levels": (SchoolLevel.SECONDARY, SchoolLevel.PRIMARY)},
                                 submitted_by=" Aanmeldingen@Profo.example ", now=NOW)
        number = change.id
    with session_factory() as session:
        stored = changes.get(session, number)
        assert stored is not None
        assert stored.old == {"capacity": None, "levels": ["secundair"]}
        assert stored.new == {"capacity": 3, "levels": ["secundair", "basis"]}
        assert (stored.status, stored.submitted_by, stored.submitted_at) == (ChangeStatus.PENDING, PROFO, NOW)
        assert [c.id for c in changes.pending(session)] == [number]


def test_propose_refuses_an_invalid_or_empty_change(session: Session, catalogue: Catalogue) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None
    with pytest.raises(ValueError):
        changes.propose(session, service=profo, updates={"capacity": -1}, submitted_by=PROFO, now=NOW)
    with pytest.raises(ValueError):
        changes.propose(session, service=profo, updates={}, submitted_by=PROFO, now=NOW)
    assert changes.history(session) == []


def test_approve_reject_and_history(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    profo, tako = catalogue.service("naft-profo-oost"), catalogue.service("tako")
    assert profo is not None and tako is not None
    with session_factory.begin() as session:
        first = changes.propose(session, service=profo, updates={"capacity": 3}, submitted_by=PROFO, now=NOW).id
        second = changes.propose(session, service=tako, updates={"accepting_referrals": False}, submitted_by="a@tako.example",
                                 now=NOW + timedelta(hours=1)).id
        third = changes.propose(session, service=profo, updates={"on_site": False}, submitted_by=PROFO, now=NOW + timedelta(hours=2)).id
        changes.approve(session, first, by="cli:coordinator", now=NOW + timedelta(days=1))
        rejected = changes.reject(session, second, by="cli:coordinator", reason="  Klopt niet.  ", now=NOW + timedelta(days=1))
        assert rejected.note == "Klopt niet."
    with session_factory() as session:
        assert [c.id for c in changes.history(session)] == [third, second, first]
        assert [c.id for c in changes.history(session, "naft-profo-oost")] == [third, first]
        assert [c.id for c in changes.pending(session)] == [third]
        approved = changes.get(session, first)
        assert approved is not None and approved.status is ChangeStatus.APPROVED
        assert (approved.decided_by, approved.decided_at) == ("cli:coordinator", NOW + timedelta(days=1))
        with pytest.raises(changes.ChangeRefused, match="al goedgekeurd"):
            changes.approve(session, first, by="cli:x", now=NOW)
        with pytest.raises(changes.ChangeRefused, match="al geweigerd"):
            changes.reject(session, second, by="cli:x", reason="nee", now=NOW)
        with pytest.raises(changes.ChangeRefused, match="geen wijziging aan het aanbod met nummer 99"):
            changes.approve(session, 99, by="cli:x", now=NOW)


def test_apply_approved_changes_what_catalogue_and_consult_return(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None and profo.accepting_referrals
    ask = ReferralFacts(school_postcode=3000, school_level=SchoolLevel.SECONDARY, desired_form=DesiredForm.INDIVIDUAL)
    before = consult(ask, catalogue, today=NOW.date())
    assert "naft-profo-oost" in {s.service_id for s in before.suggestions}
    with session_factory.begin() as session:
        paused = changes.propose(session, service=profo, updates={"accepting_referrals": False}, submitted_by=PROFO, now=NOW).id
        changes.propose(session, service=profo, updates={"capacity": 8}, submitted_by=PROFO, now=NOW)  # stays pending
        assert changes.apply_approved(session, catalogue) is catalogue, "nothing approved: the file as it is"
        changes.approve(session, paused, by="cli:coordinator", now=NOW)
    with session_factory() as session:
        current = changes.apply_approved(session, catalogue)
    service = current.service("naft-profo-oost")
    assert service is not None and not service.accepting_referrals and service.capacity is None
    after = consult(ask, current, today=NOW.date())
    assert {e.service_id: e.reason for e in after.excluded}["naft-profo-oost"] == "neemt momenteel geen aanmeldingen aan"
    assert [s.id for s in current.services] == [s.id for s in catalogue.services]


def test_approved_changes_apply_in_order_of_decision(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None
    with session_factory.begin() as session:
        to_five = changes.propose(session, service=profo, updates={"capacity": 5}, submitted_by=PROFO, now=NOW).id
        to_two = changes.propose(session, service=profo, updates={"capacity": 2}, submitted_by=PROFO, now=NOW).id
        # Approved the other way round: the later decision is the one that holds.
        changes.approve(session, to_two, by="cli:c", now=NOW + timedelta(minutes=1),
                        current=changes.apply_approved(session, catalogue).service(profo.id))
        changes.approve(session, to_five, by="cli:c", now=NOW + timedelta(minutes=2),
                        current=changes.apply_approved(session, catalogue).service(profo.id))
        assert changes.get(session, to_five).old == {"capacity": 2}  # type: ignore[union-attr]
    with session_factory() as session:
        assert changes.apply_approved(session, catalogue).service(profo.id).capacity == 5  # type: ignore[union-attr]


def test_a_later_edit_of_the_file_wins_over_an_older_approved_change(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None
    with session_factory.begin() as session:
        number = changes.propose(session, service=profo, updates={"capacity": 5, "on_site": False}, submitted_by=PROFO, now=NOW).id
        changes.approve(session, number, by="cli:c", now=NOW)
    edited = catalogue.model_copy(update={"services": tuple(
        s.model_copy(update={"capacity": 9}) if s.id == profo.id else s for s in catalogue.services)})
    with session_factory() as session:
        service = changes.apply_approved(session, edited).service(profo.id)
    assert service is not None and (service.capacity, service.on_site) == (9, False)


def test_a_change_that_no_longer_validates_is_skipped_with_a_warning(session_factory: sessionmaker[Session], catalogue: Catalogue,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    profo = catalogue.service("naft-profo-oost")
    assert profo is not None
    with session_factory.begin() as session:
        # Stored by hand as an older version might have: a value the catalogue now refuses.
        session.add(CatalogueChange(service_id=profo.id, submitted_by=PROFO, submitted_at=NOW, old={"capacity": None},
                                    new={"capacity": -4}, status=ChangeStatus.APPROVED, decided_by="cli:c", decided_at=NOW))
        session.add(CatalogueChange(service_id="bestaat-niet", submitted_by=PROFO, submitted_at=NOW, old={}, new={"capacity": 1},
                                    status=ChangeStatus.APPROVED, decided_by="cli:c", decided_at=NOW))
    with session_factory() as session, caplog.at_level(logging.WARNING, logger="desk.catalogue_changes"):
        current = changes.apply_approved(session, catalogue)
    assert current.service(profo.id) == profo
    assert len(caplog.records) == 2 and all("skipped" in r.getMessage() for r in caplog.records)
    assert PROFO not in caplog.text


def test_offer_mail_stores_a_pending_change_and_queues_the_coordinator_mail(session_factory: sessionmaker[Session], catalogue: Catalogue) -> None:
    text = "Dag,\n\nVrije plaatsen: 4\nNeemt aanmeldingen aan: ja\n\nGroeten,\nAn\n\n> Op 1 dec. schreef het Meldpunt:\n> Vrije plaatsen: 99"
    with session_factory.begin() as session:
        outcome, template, context = _mail(session, catalogue, text)
        assert (outcome, template) == ("aanbod-voorgesteld", "mail/offer_received.txt.j2")
        reply = compose_mail(template, subject_of_mail="Ons aanbod", **context)
    assert reply.subject == "Re: Ons aanbod"
    assert "Vrije plaatsen: niet gekend → 4" in reply.text and "coördinator" in reply.text
    with session_factory() as session:
        (change,) = changes.pending(session)
        assert (change.service_id, change.submitted_by, change.new) == ("naft-profo-oost", PROFO, {"capacity": 4})
        (mail,) = _outbox(session)
        assert (mail.kind, mail.to_address) == ("aanbod-wijziging", COORDINATOR)
        assert mail.subject == f"[Aanbod {change.id}] Wijziging voorgesteld: NAFT-traject Profo (Vlaams-Brabant Oost)"
        assert "Vrije plaatsen: niet gekend → 4" in mail.body_text
        assert f"meldpunt catalogue approve {change.id}" in mail.body_text


def test_offer_mail_with_problems_stores_nothing_and_returns_the_form(session: Session, catalogue: Catalogue) -> None:
    outcome, template, context = _mail(session, catalogue, "Vrije plaatsen: veel\nOp school mogelijk: nee")
    assert (outcome, template) == ("aanbod-problemen", "mail/offer_problems.txt.j2")
    reply = compose_mail(template, subject_of_mail="Ons aanbod", **context)
    assert 'Bij "Vrije plaatsen" kunnen we "veel" niet gebruiken. Geef een geheel getal' in reply.text
    assert "Dienst: naft-profo-oost" in reply.text and "Vrije plaatsen: niet gekend" in reply.text
    assert changes.history(session) == [] and _outbox(session) == []


def test_offer_mail_from_an_address_with_several_services_asks_which(session: Session, catalogue: Catalogue) -> None:
    outcome, template, context = _mail(session, catalogue, "Vrije plaatsen: 2", sender=ARKTOS.upper())
    assert outcome == "aanbod-welke-dienst"
    reply = compose_mail(template, subject_of_mail=None, **context)
    assert "- naft-arktos-ahv: NAFT-traject Arktos (Asse-Halle-Vilvoorde)" in reply.text
    assert "- naft-arktos-oost: NAFT-traject Arktos (Vlaams-Brabant Oost)" in reply.text
    assert changes.history(session) == []
    outcome, _, _ = _mail(session, catalogue, "Dienst: naft-arktos-oost\nVrije plaatsen: 2", sender=ARKTOS)
    assert outcome == "aanbod-voorgesteld"
    assert [c.service_id for c in changes.pending(session)] == ["naft-arktos-oost"]


def test_offer_mail_without_form_lines_gets_the_prefilled_form(session: Session, catalogue: Catalogue) -> None:
    outcome, template, context = _mail(session, catalogue, "Hoe passen we ons aanbod aan?")
    assert outcome == "aanbod-formulier"
    reply = compose_mail(template, subject_of_mail="Aanbod", **context)
    assert "Dienst: naft-profo-oost" in reply.text and "Neemt aanmeldingen aan: ja" in reply.text
    outcome, _, _ = _mail(session, catalogue, "Dienst: naft-arktos-ahv", sender=ARKTOS)
    assert outcome == "aanbod-formulier"


def test_offer_mail_unchanged_or_from_a_stranger(session: Session, catalogue: Catalogue) -> None:
    assert _mail(session, catalogue, "Op school mogelijk: ja")[0] == "aanbod-ongewijzigd"
    assert _mail(session, catalogue, "Vrije plaatsen: 3", sender="iemand@elders.example")[0] == "aanbod-geen-aanbieder"
    assert not is_provider_address(catalogue, "iemand@elders.example") and is_provider_address(catalogue, PROFO)
    assert changes.history(session) == []


def test_offer_mail_records_old_values_of_today_and_works_without_coordinator(session_factory: sessionmaker[Session],
                                                                              catalogue: Catalogue) -> None:
    with session_factory.begin() as session:
        _mail(session, catalogue, "Vrije plaatsen: 4", coordinator=None)
        (first,) = changes.pending(session)
        changes.approve(session, first.id, by="cli:c", now=NOW)
        assert _outbox(session) == []
    with session_factory.begin() as session:
        # `catalogue` is the file as loaded at start: the approval since must still be the old value.
        _mail(session, catalogue, "Vrije plaatsen: 6")
        (second,) = changes.pending(session)
        assert (second.old, second.new) == ({"capacity": 4}, {"capacity": 6})


def test_an_offer_update_is_recognised_by_its_lines_not_by_quoted_history() -> None:
    assert looks_like_offer_update("Dag,\n\nvrije plaatsen: 2\n\nGroeten")
    assert looks_like_offer_update("Dienst: tako")
    assert not looks_like_offer_update("Dag, een vraag over ons aanbod.\n\n> Vrije plaatsen: niet gekend")
