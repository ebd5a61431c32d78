"""The rights of a data subject: inzage (export everything held about one pupil) and wissen (erase it everywhere).

A pupil is found by a reference or by name and date of birth; their referrals are every referral with the
same first and last name (and date of birth, where both have one), so a draft or a second referral of the
same pupil is included. A mail, question, conversation or Telegram reply is theirs when it belongs to one
of those referrals, names one of their references, or mentions both the first and the last name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from desk.retention import Retention
from intake.clock import Clock
from intake.lifecycle import Status
from intake.questionnaire import Questionnaire
from intake.texts import brussels_time, compose_mail, message, render
from store import figures, outbox, referrals
from store import privacy_search as search
from store import retention as purge
from store.audit import AuditAction, AuditChannel, AuditPurpose, record_audit
from store.chat_models import TelegramUpdate
from store.dispatch_models import DispatchItem
from store.mail_models import InboundMail, MailKind, OutboxMessage, OutboxStatus, Question
from store.models import Conversation, Referral

TEXTS = "cli/privacy_rights.txt.j2"
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


class PupilNotFound(LookupError):
    """No referral matches: the Dutch sentence that says so is the exception's text."""


@dataclass(frozen=True)
class Pupil:
    """Who the request is about: names and date of birth (ISO) as the referral stores them, and their references."""

    first_name: str | None
    last_name: str | None
    birth_date: str | None
    references: tuple[str, ...] = ()

    def mentioned_in(self, text: str) -> bool:
        """Whether a text names one of the references, or both the first and the last name."""
        seen = search.folded(text)
        if any(search.folded(ref) in seen for ref in self.references):
            return True
        return bool(self.first_name and self.last_name) and all(search.folded(part) in seen for part in (self.first_name or "", self.last_name or ""))


@dataclass
class Holdings:
    """Every row held about one pupil."""

    pupil: Pupil
    referrals: list[Referral]
    dispatches: list[DispatchItem] = field(default_factory=list)
    inbound: list[InboundMail] = field(default_factory=list)
    sent: list[OutboxMessage] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    telegram: list[TelegramUpdate] = field(default_factory=list)

    @property
    def providers(self) -> list[str]:
        """The providers' addresses that received one of the referrals, each once."""
        return sorted({item.provider_address for item in self.dispatches})


@dataclass(frozen=True)
class Exported:
    """Where the export went and which referrals it covers."""

    folder: Path
    html: Path
    json: Path
    references: list[str]


@dataclass(frozen=True)
class Erased:
    """What an erasure touched, as counts and references (no names)."""

    references: list[str]
    counts: dict[str, int]
    providers: int


class PrivacyRights:
    """The coordinator's use cases on a data subject's request; every run is one transaction with its audit rows."""

    def __init__(self, sessions: sessionmaker[Session], *, retention: Retention, questionnaire: Questionnaire,
                 domain: str, clock: Clock) -> None:
        """Work in sessions; pseudonymise as retention does; erase requests come from domain's address."""
        self.sessions = sessions
        self.retention = retention
        self.questionnaire = questionnaire
        self.domain = domain
        self.clock = clock

    def export(self, *, reference: str | None = None, name: str | None = None, birth_date: date | None = None,
               reason: str, actor: str, folder: Path) -> Exported:
        """Write everything held about the pupil as HTML and JSON in a new private folder under folder; audited per referral."""
        now = self.clock()
        with self.sessions.begin() as session:
            holdings = self._holdings(session, reference=reference, name=name, birth_date=birth_date)
            data = self._export_data(session, holdings, now=now)
            for referral in holdings.referrals:
                record_audit(session, actor=actor, action=AuditAction.EXPORTED, now=now, referral_id=referral.id,
                             detail=message("audit_detail", source=TEXTS, reason=reason),
                             channel=AuditChannel.CLI, purpose=AuditPurpose.DATA_SUBJECT)
            target = _private_folder(folder, f"inzage-{holdings.referrals[0].reference or 'concept'}-{now:%Y%m%d-%H%M%S}")
            html = _private_file(target / "inzage.html", render("privacy/export.html.j2", data=data))
            raw = _private_file(target / "inzage.json", json.dumps(data, ensure_ascii=False, indent=2))
        return Exported(folder=target, html=html, json=raw, references=list(holdings.pupil.references))

    def erase(self, reference: str, *, reason: str, actor: str) -> Erased:
        """Erase or pseudonymise everything held about the pupil of reference, and ask each provider to erase too."""
        now = self.clock()
        with self.sessions.begin() as session:
            holdings = self._holdings(session, reference=reference)
            for referral in holdings.referrals:
                self.retention.pseudonymise(session, referral, now=now, actor=actor)
                figures.forget_pupil(session, referral)  # nothing in the figures may lead back to the pupil
                record_audit(session, actor=actor, action=AuditAction.ERASED, now=now, referral_id=referral.id,
                             detail=message("audit_detail", source=TEXTS, reason=reason),
                             channel=AuditChannel.CLI, purpose=AuditPurpose.DATA_SUBJECT)
            counts = self._erase_copies(session, holdings, now=now, actor=actor)
            for provider in holdings.providers:
                composed = compose_mail("mail/erase_request.txt.j2", references=holdings.pupil.references)
                outbox.enqueue_mail(session, composed, kind=MailKind.ERASE_REQUEST, to=provider, domain=self.domain, now=now,
                                    referral_id=holdings.referrals[0].id)
            session.flush()
        return Erased(references=list(holdings.pupil.references), counts=counts, providers=len(holdings.providers))

    def _holdings(self, session: Session, *, reference: str | None = None, name: str | None = None,
                  birth_date: date | None = None) -> Holdings:
        """The pupil of the request and every row held about them; PupilNotFound when nothing matches."""
        if reference is not None:
            found = _pupil_by_reference(session, reference)
        else:
            found = _pupils_by_name(session, name or "", birth_date)
        pupil = Pupil(*_identity(found[0]), references=tuple(r.reference for r in found if r.reference))
        ids = [r.id for r in found]
        return Holdings(
            pupil=pupil, referrals=found, dispatches=search.dispatches_of(session, ids),
            inbound=[m for m in search.kept_inbound(session) if pupil.mentioned_in(_mail_text(m.raw))],
            sent=search.outbox_of(session, ids, pupil.mentioned_in),
            questions=search.questions_about(session, pupil.references, pupil.mentioned_in),
            conversations=search.conversations_about(session, ids, pupil.mentioned_in),
            telegram=search.telegram_answers_about(session, pupil.mentioned_in),
        )

    def _erase_copies(self, session: Session, holdings: Holdings, *, now: datetime, actor: str) -> dict[str, int]:
        """Empty the mails, questions and Telegram replies that held the pupil; delete their conversations."""
        for mail in holdings.inbound:
            purge.empty_mail(mail, now=now)
        for sent in holdings.sent:
            purge.empty_outbox(sent, now=now)
            if sent.status in (OutboxStatus.QUEUED, OutboxStatus.RETRY):
                sent.status = OutboxStatus.FAILED  # an emptied mail must never still go out
        gone = message("erased_text", source=TEXTS)
        for question in holdings.questions:
            question.text, question.context = gone, None
            question.answer = gone if question.answer is not None else None
        for conversation in holdings.conversations:
            draft = conversation.referral
            if draft is not None and draft.status is Status.DRAFT:  # as the purge does: a draft without its conversation is cancelled
                referrals.change_status(session, draft, Status.CANCELLED, actor=actor, now=now, note=None)
                referrals.save_answers(session, draft, {}, now=now)
            session.delete(conversation)
        for update in holdings.telegram:
            update.answer = None
        return {"ontvangen mails": len(holdings.inbound), "verstuurde mails": len(holdings.sent), "vragen": len(holdings.questions),
                "gesprekken": len(holdings.conversations), "telegramantwoorden": len(holdings.telegram)}

    def _export_data(self, session: Session, holdings: Holdings, *, now: datetime) -> dict[str, Any]:
        """Everything held, JSON-ready, with Dutch question labels and times in Brussels."""
        return {
            "gemaakt": brussels_time(now),
            "aanmeldingen": [self._referral_data(session, r, holdings.dispatches) for r in holdings.referrals],
            "ontvangen_mails": [{"ontvangen": brussels_time(m.received_at), "tekst": _mail_text(m.raw)} for m in holdings.inbound],
            "verstuurde_mails": [
                {"aan": m.to_address, "aangemaakt": brussels_time(m.created_at), "verstuurd": brussels_time(m.sent_at),
                 "onderwerp": m.subject, "tekst": m.body_text,
                 "bijlagen": [{"naam": a.get("filename", ""), "inhoud": a.get("text", "")} for a in m.attachments or []]}
                for m in holdings.sent],
            "vragen": [{"gesteld": brussels_time(q.created_at), "door": q.asker_email, "vraag": q.text,
                        "antwoord": q.answer, "beantwoord": brussels_time(q.answered_at)} for q in holdings.questions],
            "gesprekken": [{"kanaal": c.channel, "laatst": brussels_time(c.updated_at), "inhoud": search.as_text(c.state)}
                           for c in holdings.conversations],
            "telegramantwoorden": [{"behandeld": brussels_time(u.handled_at), "inhoud": search.as_text(u.answer)} for u in holdings.telegram],
        }

    def _referral_data(self, session: Session, referral: Referral, dispatches: Iterable[DispatchItem]) -> dict[str, Any]:
        """One referral: its answers under their questions' labels, its history and where it was sent."""
        labels = {q.id: q.label for q in self.questionnaire.questions}
        return {
            "referentie": referral.reference or message("no_reference", source=TEXTS),
            "status": referral.status.label, "aangemaakt": brussels_time(referral.created_at),
            "ingediend": brussels_time(referral.submitted_at),
            "antwoorden": [{"vraag": labels.get(key, key), "antwoord": _shown(value)} for key, value in (referral.answers or {}).items()],
            "geschiedenis": [{"wanneer": brussels_time(c.at), "door": c.actor, "van": c.from_status.label if c.from_status else None,
                              "naar": c.to_status.label, "notitie": c.note} for c in referrals.status_history(session, referral)],
            "verzendingen": [{"aanbieder": d.provider_address, "aanbod": d.service_id, "verzonden": brussels_time(d.dispatched_at)}
                             for d in dispatches if d.referral_id == referral.id],
            "cijfers": _figures_data(session, referral),
        }


def _figures_data(session: Session, referral: Referral) -> dict[str, Any]:
    """What the referral's row in the figures holds from the pupil's answers; the rest of it is counted from what is shown above."""
    row = figures.figures_of(session, referral.id)
    if row is None:
        return {}
    return {"school": row.school, "clb": row.clb, "gemeente": row.municipality, "leeftijd": row.age, "leerjaar": row.school_grade,
            "leerlingsleutel": row.pupil_key is not None}


def _pupil_by_reference(session: Session, reference: str) -> list[Referral]:
    """The referral of reference and every other referral of the same pupil."""
    referral = referrals.get_referral(session, reference.strip().upper())
    if referral is None:
        raise PupilNotFound(message("no_such_reference", source=TEXTS, reference=reference))
    if referral.pseudonymised_at is not None:
        raise PupilNotFound(message("already_erased", source=TEXTS, reference=referral.reference))
    first, last, born = _identity(referral)
    if not (first and last):
        return [referral]  # a minimal referral names nobody: it is its own pupil
    same = search.referrals_of_pupil(session, first_name=first, last_name=last, birth_date=born)
    return [referral, *(r for r in same if r.id != referral.id)]


def _pupils_by_name(session: Session, name: str, birth_date: date | None) -> list[Referral]:
    """Referrals of the pupil called name born on birth_date; a name of several words is tried at every split."""
    words = name.split()
    born = birth_date.isoformat() if birth_date else None
    found: dict[int, Referral] = {}
    for cut in range(1, len(words)):
        for referral in search.referrals_of_pupil(session, first_name=" ".join(words[:cut]), last_name=" ".join(words[cut:]), birth_date=born):
            found.setdefault(referral.id, referral)
    if not found:
        raise PupilNotFound(message("no_such_pupil", source=TEXTS, name=name, birth_date=birth_date))
    return [found[key] for key in sorted(found)]


def _identity(referral: Referral) -> tuple[str | None, str | None, str | None]:
    """First name, last name and date of birth (ISO) as the referral's answers hold them."""
    answers = referral.answers or {}
    values = (answers.get(search.FIRST_NAME), answers.get(search.LAST_NAME), answers.get(search.BIRTH_DATE))
    first, last, born = (str(v) if v is not None else None for v in values)
    return first, last, born


def _mail_text(raw: bytes) -> str:
    """A received mail's headers and every text part decoded (quoted-printable, base64, any charset), for reading and matching."""
    if not raw:
        return ""
    parsed = message_from_bytes(raw, policy=default)
    parts = [f"{key}: {value}" for key, value in parsed.items()]
    for part in parsed.walk():
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "text":
            try:
                parts.append(str(part.get_content()))
            except (LookupError, ValueError):  # an unknown charset: the raw bytes still count
                parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))  # type: ignore[union-attr]
    return "\n".join(parts)


def _shown(value: Any) -> str:
    """An answer as a person reads it: lists joined, dates and texts as typed."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _private_folder(parent: Path, name: str) -> Path:
    """A new folder only the service's user can open (0700), under a parent made private too."""
    parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    target = parent / name
    target.mkdir(mode=PRIVATE_DIR)
    os.chmod(target, PRIVATE_DIR)  # mkdir's mode passes through the umask
    return target


def _private_file(path: Path, text: str) -> Path:
    """Write a new file only the service's user can read (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path
