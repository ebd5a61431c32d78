"""The coordinator's immediate alerts: what cannot wait until tomorrow, found in durable rows and told once.

Three events (issue 16, point 3): a "zeer dringend" referral entering needs_review without the coordinator
having acted (at submission, set aside by a batch, after a provider's refusal; never after her own hold), a
provider declining a "dringend" or "zeer dringend" one, and a batch's mail to a provider failing for good.
The scan reads what is already committed (status changes after a mark, failed outbox rows), so a crash
anywhere loses nothing, and the UNIQUE (kind, event_key) makes a second scan add nothing (store/alerts.py).
Delivery is by chat when the coordinator's chat is set and the bot runs (bot/telegram_bot.py `send_alerts`),
else by mail through the outbox, one mail per alert so a reply with its one line settles it. Never a pupil's
name: reference, urgency, provider, time and the action line only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from desk.agenda import first_other_service
from intake.catalogue import Catalogue
from intake.clock import Clock
from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.scrub import redact_note
from intake.texts import Composed, brussels_time, compose_mail, message
from intake.urgency import urgency_of
from store import agenda as agenda_rows
from store import alerts as repo
from store import dispatches
from store.alert_models import AlertKind, CoordinatorAlert, ScanSource
from store.mail_models import MailKind, OutboxMessage
from store.models import Referral, StatusChange
from store.outbox import enqueue_mail

log = logging.getLogger(__name__)

TEXTS = "coordinator/alert.txt.j2"
MAIL = "coordinator/alert_mail.txt.j2"
# With a chat, the chat has this long; an alert still pending after it goes by mail (the bot may be down).
CHAT_GRACE = timedelta(minutes=30)
CHAT, BY_MAIL = "chat", "mail"


def _urgency_rank(value: str | None) -> int:
    """0 zeer dringend, 1 dringend, 2 anything else."""  # replaced by intake.urgency at merge
    return {"zeer-dringend": 0, "dringend": 1}.get(value or "", 2)


# --- finding events -----------------------------------------------------------------------------
def scan(session: Session, *, now: datetime) -> int:
    """Add an alert for every new event; returns how many were added (0 on a second run)."""
    return _scan_changes(session, now=now) + _scan_failed_mails(session, now=now)


def _scan_changes(session: Session, *, now: datetime) -> int:
    """Status changes after the mark: decisions waiting on a zeer dringend referral, refusals of urgent ones."""
    mark = repo.scan_mark(session, ScanSource.STATUS_CHANGES)
    added = 0
    for change, referral in repo.watched_changes(session, mark.last_id):
        alert = _change_alert(session, change, referral)
        added += alert is not None and repo.add_alert(session, alert, now=now)
    mark.last_id = repo.settled_mark(session, mark.last_id, now=now)
    session.flush()
    return added


def _change_alert(session: Session, change: StatusChange, referral: Referral) -> repo.NewAlert | None:
    """The alert a status change calls for, or None; a referral already moved on needs none."""
    urgency, key = urgency_of(referral.answers), str(change.id)
    rank = _urgency_rank(urgency)
    if rank == 0 and referral.status is Status.NEEDS_REVIEW and _waits_unasked(session, change):
        return repo.NewAlert(AlertKind.DECISION, key, change.at, referral_id=referral.id, reference=referral.reference, urgency=urgency)
    declined_by_provider = change.to_status is Status.DECLINED and change.from_status is Status.DISPATCHED
    if declined_by_provider and rank <= 1 and referral.status is Status.DECLINED:
        item = repo.last_dispatch(session, referral.id)
        service = item.service_id if item is not None else referral.assigned_service_id
        return repo.NewAlert(AlertKind.PROVIDER_DECLINED, key, change.at, referral_id=referral.id, reference=referral.reference,
                             urgency=urgency, service_id=service)
    return None


def _waits_unasked(session: Session, change: StatusChange) -> bool:
    """Whether the change put the referral before the coordinator without her acting: a hold is her own decision, no news to her."""
    if change.to_status is not Status.NEEDS_REVIEW:
        return False
    # Submission (flagged, not eligible, no service) and a provider's refusal sent on; from queued only a batch setting it aside.
    return change.from_status in (Status.SUBMITTED, Status.DECLINED) or dispatches.set_aside_by_batch(session, change)


def _scan_failed_mails(session: Session, *, now: datetime) -> int:
    """Provider mails failed in the last day: one alert per failure (a mail sent again and failing again is a new one)."""
    since_upgrade = repo.scan_mark(session, ScanSource.OUTBOX).last_id
    added = 0
    for mail in repo.failed_dispatch_mails(session, since_upgrade, now=now):
        carried = sorted(repo.dispatched_in(session, mail.id), key=lambda pair: (_urgency_rank(urgency_of(pair[1].answers)), pair[1].id))
        item, referral = carried[0] if carried else (None, None)
        alert = repo.NewAlert(
            AlertKind.MAIL_FAILED, f"{mail.id}@{mail.next_attempt_at:%Y%m%dT%H%M%S}", mail.next_attempt_at, outbox_id=mail.id,
            referral_id=referral.id if referral else None, reference=referral.reference if referral else None,
            urgency=urgency_of(referral.answers) if referral else None, service_id=item.service_id if item else None,
        )
        added += repo.add_alert(session, alert, now=now)
    return added


# --- telling the coordinator ---------------------------------------------------------------------
def render(session: Session, alert: CoordinatorAlert, catalogue: Catalogue) -> str:
    """The alert as the coordinator reads it, in chat and in the mail's body."""
    context: dict[str, Any] = {"reference": alert.reference or "-", "urgency": alert.urgency, "at": brussels_time(alert.occurred_at)}
    referral = session.get(Referral, alert.referral_id) if alert.referral_id is not None else None
    answers = referral.answers if referral is not None else {}
    if alert.kind is AlertKind.DECISION:
        change = session.get(StatusChange, int(alert.event_key))
        from_status = change.from_status.value if change is not None and change.from_status is not None else ""
        context |= {"why": message("why", source=TEXTS, from_status=from_status), "note": redact_note(change.note if change else None, answers)}
    else:
        context["provider"] = _provider(catalogue, alert.service_id)
    if alert.kind is AlertKind.PROVIDER_DECLINED:
        change = session.get(StatusChange, int(alert.event_key))
        context |= {"note": redact_note(change.note if change else None, answers),
                    "next_service": first_other_service(referral, set(agenda_rows.services_sent(session, [referral.id]).get(referral.id, [])), catalogue)
                    if referral is not None else None}
    if alert.kind is AlertKind.MAIL_FAILED:
        mail = session.get(OutboxMessage, alert.outbox_id)
        carried = repo.dispatched_in(session, alert.outbox_id) if alert.outbox_id is not None else []
        context |= {"references": [(r.reference, urgency_of(r.answers)) for _, r in carried], "mail_id": alert.outbox_id,
                    "error": (mail.last_error if mail is not None else None) or "onbekend"}
    return message(alert.kind.value.replace("-", "_"), source=TEXTS, **context)


def _provider(catalogue: Catalogue, service_id: str | None) -> str:
    """The service's name as the catalogue has it (its id when it left the catalogue)."""
    service = catalogue.service(service_id) if service_id else None
    return service.name if service is not None else (service_id or "de aanbieder")


def compose(session: Session, alert: CoordinatorAlert, catalogue: Catalogue) -> Composed:
    """The alert as one mail to the coordinator; its subject is the alert's first line."""
    text = render(session, alert, catalogue)
    return compose_mail(MAIL, text=text, title=text.splitlines()[0])


def mail_pending(session: Session, *, now: datetime, catalogue: Catalogue, to: str, domain: str, chat: bool) -> int:
    """Queue one mail per pending alert (with a chat: only those it did not carry within CHAT_GRACE) and mark each delivered.

    One transaction: the mail is queued if and only if the alert is marked, so it goes exactly once.
    """
    sent = 0
    for alert in repo.pending(session, created_before=now - CHAT_GRACE if chat else None):
        if repo.mark_delivered(session, alert.id, channel=BY_MAIL, now=now):
            enqueue_mail(session, compose(session, alert, catalogue), kind=MailKind.ALERT, to=to, domain=domain, now=now,
                         referral_id=alert.referral_id)
            sent += 1
    return sent


def for_chat(session: Session, *, now: datetime, catalogue: Catalogue, mail_after_grace: bool) -> list[tuple[int, str]]:
    """(alert id, text) of each pending alert the chat may still carry; nothing is marked here.

    With a coordinator address, an alert older than CHAT_GRACE is the mail's (mail_pending); without one the chat
    carries every pending alert, however long Telegram was away.
    """
    pending = repo.pending(session, created_after=now - CHAT_GRACE if mail_after_grace else None)
    return [(alert.id, render(session, alert, catalogue)) for alert in pending]


def delivered_by_chat(session: Session, alert_id: int, *, now: datetime) -> bool:
    """Mark an alert delivered after the chat message went out."""
    return repo.mark_delivered(session, alert_id, channel=CHAT, now=now)


@dataclass
class AlertJob:
    """The periodic job "alarmen": scan for new events, then mail what the chat will not carry."""

    sessions: sessionmaker[Session]
    intake: Callable[[], Intake]
    clock: Clock
    coordinator_email: str | None
    domain: str
    chat: bool  # the coordinator's chat is set and the bot is part of this service
    _said_nowhere: bool = False

    def run(self) -> int:
        """One round; the scan commits before any delivery, so a crash between them leaves the alerts pending."""
        with self.sessions.begin() as session:
            added = scan(session, now=self.clock())
        if added:
            log.info("alarmen: %d nieuw(e) alarm(en) voor de coördinator", added)
        if self.coordinator_email:
            with self.sessions.begin() as session:
                catalogue = self.intake().catalogue
                sent = mail_pending(session, now=self.clock(), catalogue=catalogue, to=self.coordinator_email, domain=self.domain, chat=self.chat)
            if sent:
                log.info("alarmen: %d alarm(en) per mail naar de coördinator", sent)
        elif not self.chat and not self._said_nowhere:
            log.warning(message("nowhere", source=TEXTS))
            self._said_nowhere = True
        return added
