"""The morning digest: the coordinator's agenda by mail on working days, at most once a Brussels day, none when nothing waits.

One transaction claims the day in `coordinator_digests` (its primary key) and queues the mail in the
outbox: a crash before the commit leaves neither, so the next round sends it; after the commit the
outbox delivers it. A second service claiming the same day fails on the key and sends nothing. A day
with nothing waiting is claimed too, so nothing comes later that day; a day already past is never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from desk.agenda import build_agenda, record_agenda_view
from intake.agenda import AgendaRules
from intake.brussels import BRUSSELS
from intake.clock import Clock
from intake.dialogue import Intake
from intake.schedule import describe
from intake.texts import compose_mail
from intake.workhours import WorkCalendar, local_day
from store import outbox
from store.audit import AuditChannel
from store.digest_models import CoordinatorDigest
from store.mail_models import MailKind

log = logging.getLogger(__name__)


class DigestOutcome(StrEnum):
    """What one round of the digest job did."""

    NO_ADDRESS = "geen adres"
    CLOSED = "geen werkdag"
    NOT_YET = "nog niet"
    ALREADY = "al gedaan"
    EMPTY = "niets wacht"
    SENT = "verstuurd"


@dataclass(frozen=True)
class DigestConfig:
    """Where and when the digest goes, and what the agenda counts with."""

    coordinator_email: str | None
    domain: str
    at: time  # MELDPUNT_DIGEST_TIME, Brussels
    calendar: WorkCalendar
    rules: AgendaRules


def send_digest(session: Session, config: DigestConfig, intake: Intake, *, now: datetime) -> DigestOutcome:
    """Today's digest if it is due and not yet done; flushes, the caller commits (IntegrityError: another took the day)."""
    day = local_day(now)
    if not config.calendar.is_working_day(day):
        return DigestOutcome.CLOSED
    if now.astimezone(BRUSSELS).time() < config.at:
        return DigestOutcome.NOT_YET
    if session.get(CoordinatorDigest, day) is not None:
        return DigestOutcome.ALREADY
    address = config.coordinator_email
    if not address:
        return DigestOutcome.NO_ADDRESS
    ledger = CoordinatorDigest(day=day, checked_at=now, items=0)
    session.add(ledger)
    session.flush()  # claim the day first: a second service now waits on this row, then fails on the key
    agenda = build_agenda(session, now=now, calendar=config.calendar, rules=config.rules, intake=intake)
    ledger.items = len(agenda.items)
    if agenda.empty:
        session.flush()
        return DigestOutcome.EMPTY
    mail = outbox.enqueue_mail(session, compose_mail("coordinator/digest.txt.j2", agenda=agenda, describe=describe),
                               kind=MailKind.DIGEST, to=address, domain=config.domain, now=now)
    ledger.outbox_id = mail.id
    record_agenda_view(session, agenda, actor=address, channel=AuditChannel.EMAIL, now=now)
    session.flush()
    return DigestOutcome.SENT


class MorningDigest:
    """The periodic job "ochtendoverzicht": each round sends today's digest when it is due."""

    def __init__(self, sessions: sessionmaker[Session], intake: Callable[[], Intake], config: DigestConfig, *, clock: Clock) -> None:
        """Keep the session factory, where to find the current intake, the configuration and the clock."""
        self.sessions = sessions
        self.intake = intake
        self.config = config
        self.clock = clock
        self.said_no_address = False

    def run(self) -> DigestOutcome:
        """One round in its own transaction; without a coordinator address it says so once in the log."""
        try:
            with self.sessions.begin() as session:
                outcome = send_digest(session, self.config, self.intake(), now=self.clock())
        except IntegrityError:
            log.info("ochtendoverzicht: een andere dienst verstuurde het overzicht van vandaag al")
            return DigestOutcome.ALREADY
        if outcome is DigestOutcome.NO_ADDRESS and not self.said_no_address:
            log.warning("ochtendoverzicht: er is geen adres van de coördinator ingesteld (MELDPUNT_COORDINATOR_EMAIL); er gaat geen overzicht")
            self.said_no_address = True
        elif outcome is DigestOutcome.SENT:
            log.info("ochtendoverzicht: verstuurd")
        return outcome
