"""The dispatch runner: runs the batch a slot asks for (once), a batch on demand, and provider reminders.

The database is the truth: every tick asks which slot should have run by now and whether its batch
exists, so a service that was down runs the missed batch when it comes back, and two instances
cannot both run it (the batch's slot is unique; the loser rolls back). The outbox sends the mails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from desk import dispatch
from desk.dispatch import BatchReport, Plan
from intake.clock import Clock
from intake.dialogue import Intake
from intake.schedule import Slot, WeeklyMoment, due_slot, next_slot
from intake.workhours import WorkCalendar
from store import dispatches

log = logging.getLogger(__name__)

SCHEDULE_ACTOR = "planning"


class DispatchConfig(BaseModel):
    """When batches run, how long providers get before a reminder, and who is told."""

    model_config = ConfigDict(frozen=True)

    moments: tuple[WeeklyMoment, ...]
    calendar: WorkCalendar = WorkCalendar()  # moves batches past closure days and counts the reminders' working days
    reminder_days: int = 10
    domain: str
    coordinator_email: str | None = None


class Dispatcher:
    """Runs batches and reminders against the store; the intake is read anew each time (catalogue changes)."""

    def __init__(self, sessions: sessionmaker[Session], intake: Callable[[], Intake], config: DispatchConfig, *, clock: Clock) -> None:
        """Keep the session factory, where to find the current intake, the configuration and the clock."""
        self.sessions = sessions
        self.intake = intake
        self.config = config
        self.clock = clock

    def due(self) -> Slot | None:
        """The slot whose batch should run now (not yet run), or None."""
        slot = due_slot(self.clock(), self.config.moments, self.config.calendar.closures)
        if slot is None:
            return None
        with self.sessions() as session:
            return None if dispatches.batch_exists(session, slot.key) else slot

    def next_slot(self) -> Slot:
        """When the next scheduled batch runs."""
        return next_slot(self.clock(), self.config.moments, self.config.calendar.closures)

    def tick(self) -> BatchReport | None:
        """Run the due batch if there is one (even an empty one: the slot is then done), then remind late providers."""
        slot = self.due()
        report = self._run(slot.key, SCHEDULE_ACTOR, submitted_before=slot.runs_at) if slot is not None else None
        self.remind()
        return report

    def run_now(self, actor: str) -> BatchReport:
        """A batch at once, outside the schedule (`meldpunt dispatch --now`)."""
        now = self.clock()
        report = self._run(f"handmatig {now.isoformat(timespec='seconds')}", actor)
        if report is None:
            raise RuntimeError("Er liep net op hetzelfde moment een andere batch; probeer opnieuw.")
        return report

    def preview(self) -> Plan:
        """What a batch would send now, without changing anything (`--dry-run`)."""
        with self.sessions() as session:
            return dispatch.make_plan(session, self.intake())

    def remind(self) -> tuple[int, int]:
        """Remind providers without news, and tell the coordinator about the ones still silent."""
        config = self.config
        with self.sessions.begin() as session:
            return dispatch.remind_late_providers(session, days=config.reminder_days, calendar=config.calendar, domain=config.domain,
                                                  coordinator_email=config.coordinator_email, now=self.clock())

    def _run(self, slot_key: str, actor: str, *, submitted_before: datetime | None = None) -> BatchReport | None:
        """One batch in one transaction; None when another run took the same slot first."""
        try:
            with self.sessions.begin() as session:
                return dispatch.run_batch(session, self.intake(), slot_key=slot_key, actor=actor, domain=self.config.domain,
                                          coordinator_email=self.config.coordinator_email, now=self.clock(), submitted_before=submitted_before)
        except IntegrityError:
            log.info("batch %s liep al", slot_key)
            return None
