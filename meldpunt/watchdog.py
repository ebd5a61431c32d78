"""The watchdog: mail waiting too long, a stuck outbox or a runner failing again and again alerts the coordinator, once per incident.

An incident is alerted when it starts (an ERROR log line and a mail to the coordinator through the
outbox) and remembered in the database (store.runners.open_alert) until it is over; only a new
incident after that is alerted again. When the database cannot take the alert (locked, full), the
log line is the alarm and the mail follows as soon as it can be queued, even if the incident ended
meanwhile: the coordinator should know the desk stood still.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from intake.texts import brussels_time, compose_mail
from store import outbox, runners
from store.mail_models import MailKind
from store.runners import Backlog, RunnerReport

log = logging.getLogger(__name__)
ALARM_KIND = MailKind.WATCHDOG  # replies to it may act (mail.processor.COORDINATOR_THREADS)


@dataclass(frozen=True)
class Incident:
    """Something the coordinator must hear about; key names it (one alert per key until it is over)."""

    key: str
    kind: str  # "inkomend", "outbox" or "runner"
    since: datetime | None
    count: int
    runner: str | None = None
    failure_type: str | None = None
    failure_place: str | None = None


@dataclass(frozen=True)
class Thresholds:
    """When an incident starts: mail older than minutes, a runner failing this many times in a row."""

    minutes: int = 15
    failures: int = 3


def incidents(backlog: Backlog, reports: list[RunnerReport], *, now: datetime, thresholds: Thresholds) -> list[Incident]:
    """The incidents in this picture of the service, each with what the alarm mail tells."""
    found: list[Incident] = []
    limit = now - timedelta(minutes=thresholds.minutes)
    waiting = backlog.inbound_waiting
    if waiting.oldest is not None and waiting.oldest <= limit:
        found.append(Incident("inkomend", "inkomend", waiting.oldest, waiting.count))
    unsent = backlog.outbox_unsent
    # A mail older than the limit that is still not sent, while nothing at all went out meanwhile:
    # a large batch under the relay's sending rate moves on and is not stuck.
    progressing = backlog.last_sent_at is not None and backlog.last_sent_at > limit
    if unsent.oldest is not None and unsent.oldest <= limit and not progressing:
        found.append(Incident("outbox", "outbox", unsent.oldest, unsent.count))
    for report in reports:
        if report.consecutive_failures >= thresholds.failures:
            found.append(Incident(
                f"runner:{report.name}", "runner", report.last_failure_at, report.consecutive_failures, runner=report.name,
                failure_type=report.last_failure_type, failure_place=report.last_failure_place,
            ))
    return found


def minutes_ago(moment: datetime | None, *, now: datetime) -> int:
    """Whole minutes from moment to now (0 when unknown)."""
    return max(0, int((now - moment).total_seconds() // 60)) if moment is not None else 0


class Watchdog:
    """Looks at the service's health and alerts the coordinator of each new incident, once."""

    def __init__(
        self, sessions: sessionmaker[Session], *, thresholds: Thresholds, coordinator_email: str | None, domain: str,
        clock: Clock,
    ) -> None:
        """Keep where to look, the thresholds, whom to alert and the clock."""
        self.sessions = sessions
        self.thresholds = thresholds
        self.coordinator_email = coordinator_email
        self.domain = domain
        self.clock = clock
        self._logged: set[str] = set()  # incidents this process logged (an ERROR line each), until over
        self._pending: dict[str, Incident] = {}  # noticed, not yet stored with its alarm mail

    def current(self) -> list[Incident]:
        """The incidents right now (what `meldpunt status` reports too)."""
        with self.sessions() as session:
            return incidents(runners.backlog(session), runners.reports(session), now=self.clock(), thresholds=self.thresholds)

    def check(self) -> list[Incident]:
        """One look: log and alert new incidents, close the ones that are over; the incidents found."""
        now = self.clock()
        found = self.current()
        keys = {incident.key for incident in found}
        for incident in found:
            if incident.key not in self._logged:
                # The line is the alarm of last resort: it is written even when no mail can leave.
                log.error("waakhond: %s sinds %s (%d); de coördinator wordt verwittigd", incident.key, brussels_time(incident.since), incident.count)
                self._logged.add(incident.key)
                self._pending.setdefault(incident.key, incident)
        self._logged &= keys
        self._alert(keys, now)
        return found

    def _alert(self, active: set[str], now: datetime) -> None:
        """Queue one alarm mail for the incidents noticed since the last stored look; forget the ones that are over."""
        with self.sessions.begin() as session:
            already = runners.open_alerts(session)
            new = [incident for key, incident in self._pending.items() if key not in already]
            for incident in new:
                if incident.key in active:
                    runners.open_alert(session, incident.key, now=now)
            for key in already - active:
                runners.close_alert(session, key)
            if new:
                self._mail(session, new, now)
        self._pending.clear()

    def _mail(self, session: Session, new: list[Incident], now: datetime) -> None:
        """The alarm mail to the coordinator, through the outbox (when there is a coordinator)."""
        if not self.coordinator_email:
            return
        composed = compose_mail(
            "mail/watchdog_alarm.txt.j2", incidents=new, minutes=self.thresholds.minutes, now=brussels_time(now),
            local_time=brussels_time, minutes_ago=lambda moment: minutes_ago(moment, now=now),
        )
        outbox.enqueue_mail(session, composed, kind=ALARM_KIND, to=self.coordinator_email, domain=self.domain, now=now)
