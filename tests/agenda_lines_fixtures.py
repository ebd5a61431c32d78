"""The agenda's waiting items, made in the store as the program makes them: a question, an offer change,
a quarantined mail, a failed mail and a referral with a provider. Shared by the mail, chat and CLI tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import catalogue_changes
from intake.lifecycle import Status
from store import inbound, outbox, questions
from store.dispatch_models import CatalogueChange, ChangeStatus
from store.mail_models import InboundMail, OutboxMessage, OutboxStatus, Question
from store.models import AuditEntry, Staff
from tests.mail_harness import shared_intake
from tests.test_decisions import ELS, make_referral

PROFO = "aanmeldingen@profo.example"  # dispatch address of naft-profo-oost
QUESTION_TEXT = "Mag een leerling van 11 jaar ook naar een NAFT-traject?"
FAILED_SUBJECT = "Meldpunt: je aanmeldingen zijn verzonden"


@dataclass(frozen=True)
class Waiting:
    """The numbers the agenda shows, and the referral whose provider may be reminded."""

    question: int
    offer: int
    quarantined: int
    failed: int
    referral: str


def make_waiting(session: Session, now: datetime, *, referral_status: Status = Status.ACCEPTED, asker_chat_id: int | None = None) -> Waiting:
    """One item of each kind, waiting for the coordinator."""
    els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
    question = questions.open_question(session, asker_email=ELS, staff_id=els.id, channel="telegram" if asker_chat_id else "email",
                                       text=QUESTION_TEXT, context=None, now=now, asker_chat_id=asker_chat_id)
    service = shared_intake().catalogue.service("naft-profo-oost")
    assert service is not None
    offer = catalogue_changes.propose(session, service=service, updates={"capacity": 3}, submitted_by=PROFO, now=now)
    raw = b"From: onbekend@elders.example\r\nSubject: hallo\r\nMessage-ID: <q1@elders.example>\r\n\r\nEen mail die niemand kon lezen.\r\n"
    mail, _ = inbound.accept(session, raw, source="smtp", envelope_from="onbekend@elders.example", envelope_to=["meldpunt@x"], now=now)
    inbound.quarantine(session, mail, reason="Geen afzender.", now=now)
    failed = outbox.enqueue(session, kind="verzonden", to_address=ELS, subject=FAILED_SUBJECT, body_text="Dag,\n\nVerzonden.",
                            domain="meldpunt.example", now=now)
    outbox.mark_failed(session, failed, error="550 mailbox vol", now=now)
    referral = make_referral(session, referral_status, staff=els, now=now)
    return Waiting(question=question.id, offer=offer.id, quarantined=mail.id, failed=failed.id, referral=referral.reference or "")


def question_of(session: Session, number: int) -> Question:
    """A question as stored now."""
    return session.get_one(Question, number)


def offer_status(session: Session, number: int) -> ChangeStatus:
    """An offer change's status now."""
    return session.get_one(CatalogueChange, number).status


def quarantine_open(session: Session, number: int) -> bool:
    """Whether the quarantined mail still waits for the coordinator (the agenda lists it)."""
    row = session.get_one(InboundMail, number)
    return row.handled_at is None


def outbox_row(session: Session, number: int) -> OutboxMessage:
    """An outgoing mail as stored now."""
    return session.get_one(OutboxMessage, number)


def audit_details(session: Session, action: str) -> list[str]:
    """The details of the audit rows of one action."""
    return [e.detail or "" for e in session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


FAILED = OutboxStatus.FAILED
