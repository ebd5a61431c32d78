"""The audit log: who read, created or changed which referral, how, why and when (never personal data).

Append-only: this module only adds and reads rows; the database refuses UPDATE and early DELETE
(migration 0009). Only the retention purge removes rows, once older than MELDPUNT_RETENTION_AUDIT_DAYS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.vocabulary import Channel
from store.models import AuditEntry, Referral

if TYPE_CHECKING:
    from store.mail_models import Question


class AuditAction(StrEnum):
    """What an audit row records (stored as the Dutch word, so the values never change)."""

    READ = "gelezen"
    LIST_READ = "lijst-gelezen"
    CREATED = "aangemaakt"
    STATUS = "status"
    CHANGED = "gewijzigd"
    STAFF_ADDED = "medewerker-toegevoegd"
    STAFF_REMOVED = "medewerker-verwijderd"
    OFFER_APPROVED = "aanbod-goedgekeurd"
    OFFER_REFUSED = "aanbod-geweigerd"
    PURGED = "opgeschoond"  # the retention purge: counts per kind, never what was removed
    EXPORTED = "inzage"  # `meldpunt privacy inzage`: everything about a pupil exported on request, with the reason
    ERASED = "gewist"  # `meldpunt privacy wissen`: a pupil's data erased on request, with the reason
    IMPORTED = "ingelezen"  # `meldpunt import groene-zorg`: how many trajectories were new, never their values
    SURVEY_STARTED = "bevraging-gestart"  # `meldpunt bevraging start`: detail is the year and how many were invited
    SURVEY_READ = "bevraging-gelezen"  # `meldpunt bevraging stand --ontbrekend-aanbod`: the free texts were shown
    REPORT = "rapport"  # `meldpunt rapport`: the figures report was made; detail names the period and audience, no figures
    DECLARATION_SIGNED = "intentieverklaring-getekend"  # `meldpunt intentieverklaring teken`: detail is the signature's number
    DECLARATION_WITHDRAWN = "intentieverklaring-ingetrokken"  # `meldpunt intentieverklaring intrekken`: detail is the signature's number


class AuditChannel(StrEnum):
    """Through which channel the data was seen (stored as the Dutch word)."""

    CLI = "opdrachtregel"
    TERMINAL = "terminal-chat"
    TELEGRAM = "telegram"
    EMAIL = "e-mail"


# The audit's word for each channel of a conversation or referral (intake.vocabulary.Channel).
_CHANNELS = {Channel.TERMINAL: AuditChannel.TERMINAL, Channel.TELEGRAM: AuditChannel.TELEGRAM, Channel.EMAIL: AuditChannel.EMAIL}


def audit_channel(channel: str) -> AuditChannel:
    """The audit channel of a conversation channel ("telegram", "terminal", "email")."""
    return _CHANNELS[Channel(channel)]


class AuditPurpose(StrEnum):
    """Why the data was shown (stored as the Dutch words)."""

    FOLLOW_UP = "opvolging"
    REVIEW = "beoordeling"
    QUESTION = "vraag beantwoorden"
    INTAKE = "aanmelding invullen"
    QUARANTINE = "quarantaine nakijken"
    DISPATCH = "verzending naar aanbieder"
    DATA_SUBJECT = "verzoek betrokkene"  # inzage or wissen asked by the pupil or their parents


@dataclass(frozen=True)
class Viewer:
    """A real person looking at identifying data, the channel they use and why."""

    actor: str
    channel: AuditChannel
    purpose: AuditPurpose


def record_audit(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    now: datetime,
    referral_id: int | None = None,
    detail: str | None = None,
    channel: AuditChannel | None = None,
    purpose: AuditPurpose | None = None,
) -> AuditEntry:
    """Add an audit row; detail is for codes, statuses and what was seen ("antwoorden"), never names or answers."""
    entry = AuditEntry(
        at=now, actor=actor, action=str(action), referral_id=referral_id, detail=detail,
        channel=str(channel) if channel else None, purpose=str(purpose) if purpose else None,
    )
    session.add(entry)
    return entry


def record_view(session: Session, viewer: Viewer, *, seen: str, now: datetime, referral_ids: Iterable[int | None] = (None,)) -> None:
    """One row per referral whose identifying data the viewer saw; seen names what, never the data itself."""
    for referral_id in dict.fromkeys(referral_ids):
        record_audit(session, actor=viewer.actor, action=AuditAction.READ, now=now, referral_id=referral_id,
                     detail=seen, channel=viewer.channel, purpose=viewer.purpose)


def record_questions_view(session: Session, viewer: Viewer, shown: Iterable[Question], *, now: datetime) -> None:
    """One row per question shown ("vraag 12"), under the referral the question is about, if it names one."""
    for question in shown:
        reference = (question.context or {}).get("aanmelding")
        referral_id = session.scalar(select(Referral.id).where(Referral.reference == reference)) if isinstance(reference, str) else None
        record_view(session, viewer, seen=f"vraag {question.id}", now=now, referral_ids=(referral_id,))


def audit_trail(session: Session, *, referral_id: int | None = None) -> list[AuditEntry]:
    """Audit rows in the order they were written, all of them or one referral's."""
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if referral_id is not None:
        query = query.where(AuditEntry.referral_id == referral_id)
    return list(session.scalars(query))


def search_audit(
    session: Session, *, reference: str | None = None, actor: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[tuple[AuditEntry, str | None]]:
    """Audit rows with their referral's reference, oldest first; filtered by referral, part of the actor and [since, until)."""
    query = select(AuditEntry, Referral.reference).outerjoin(Referral, AuditEntry.referral_id == Referral.id)
    if reference is not None:
        query = query.where(Referral.reference == reference)
    if actor is not None:
        query = query.where(func.lower(AuditEntry.actor).contains(actor.lower(), autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return [(entry, ref) for entry, ref in session.execute(query.order_by(AuditEntry.at, AuditEntry.id))]
