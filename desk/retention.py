"""The retention purge: keep each kind of data only as long as intake.retention.RetentionPeriods says, warn before a pause ends.

One run is one transaction: a plan (what is due at now), then, unless it is a dry run, the plan carried
out with one audit row of counts (never what was removed). The plan is the same for both, so
`meldpunt privacy opschonen --proef` shows exactly what the daily job would do at that moment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake.brussels import BRUSSELS
from intake.clock import Clock
from intake.lifecycle import Status
from intake.questionnaire import Questionnaire
from intake.retention import PurgeKind, RetentionPeriods, closed_before, pseudonymised
from intake.texts import compose_mail, message
from store import figures, outbox, referrals, retention
from store.audit import AuditAction, record_audit
from store.mail_models import InboundMail, MailKind, OutboxMessage, Question
from store.models import AuditEntry, Conversation, Referral

log = logging.getLogger(__name__)
TEXTS = "cli/privacy.txt.j2"
ACTOR = "bewaartermijn"  # the purge's name in the status history and the audit of the daily job
# What a pseudonymised referral keeps of each suggestion (store/views.py shows these).
SUGGESTION_KEYS = ("service_id", "service_name", "certain")


@dataclass
class PurgePlan:
    """What is due at one moment, per kind, and which paused conversations get their warning now."""

    mails: list[InboundMail] = field(default_factory=list)
    sent: list[OutboxMessage] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    drafts: list[Referral] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    referrals: list[tuple[Referral, datetime]] = field(default_factory=list)
    warn: list[Conversation] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)


@dataclass(frozen=True)
class PurgeReport:
    """What a run removed (or, in a dry run, would remove): counts and the references per kind; no names."""

    dry_run: bool
    counts: dict[PurgeKind, int]
    references: dict[PurgeKind, list[str]]
    warned: int

    @property
    def total(self) -> int:
        """How many things in all."""
        return sum(self.counts.values())

    def audit_detail(self) -> str:
        """The counts as one line for the audit: kind=number, nothing else."""
        return " ".join(f"{kind.value}={self.counts[kind]}" for kind in PurgeKind) + f" waarschuwingen={self.warned}"


class Retention:
    """The purge use case: plan, carry out, warn; shared by the daily job and `meldpunt privacy opschonen`."""

    def __init__(self, sessions: sessionmaker[Session], *, periods: RetentionPeriods, questionnaire: Questionnaire,
                 domain: str, clock: Clock) -> None:
        """Purge in sessions by periods; warnings come from domain's address; time from clock."""
        self.sessions = sessions
        self.periods = periods
        self.questionnaire = questionnaire
        self.domain = domain
        self.clock = clock

    def run(self, *, dry_run: bool = False, actor: str = ACTOR) -> PurgeReport:
        """One purge at the clock's now; a dry run changes nothing (no warning either) and only reports."""
        now = self.clock()
        if dry_run:
            with self.sessions() as session:
                return _report(self.plan(session, now=now), dry_run=True)
        with self.sessions.begin() as session:
            plan = self.plan(session, now=now)
            report = _report(plan, dry_run=False)
            self._carry_out(session, plan, now=now, actor=actor)
            record_audit(session, actor=actor, action=AuditAction.PURGED, now=now, detail=report.audit_detail())
        if report.total or report.warned:
            log.info("bewaartermijn: %s", report.audit_detail())
        return report

    async def daily(self) -> None:
        """The periodic job: one run in a worker thread; a failure escapes to the supervisor."""
        await asyncio.to_thread(self.run)

    def plan(self, session: Session, *, now: datetime) -> PurgePlan:
        """Everything due at now, read only."""
        days = self.periods
        idle = retention.idle_conversations(session, before=now - timedelta(days=days.draft_days - days.draft_warning_days))
        gone, warn = _split_idle(idle, now=now, periods=days)
        orphans = [d for d in retention.idle_drafts(session, before=now - timedelta(days=days.draft_days))
                   if not any(c.referral_id == d.id for c in idle)]
        drafts = orphans + [c.referral for c in gone if c.referral is not None and c.referral.status is Status.DRAFT]
        return PurgePlan(
            mails=retention.handled_mails(session, before=now - timedelta(days=days.inbound_days)),
            sent=retention.finished_outbox(session, before=now - timedelta(days=days.outbox_days)),
            conversations=gone, drafts=drafts, warn=warn,
            questions=retention.answered_questions(session, before=now - timedelta(days=days.question_days)),
            referrals=retention.closed_referrals(session, before=closed_before(now, school_years=days.referral_school_years)),
            audit=retention.old_audit(session, before=now - timedelta(days=days.audit_days)),
        )

    def _carry_out(self, session: Session, plan: PurgePlan, *, now: datetime, actor: str) -> None:
        """Empty, delete, cancel and pseudonymise what the plan holds; then send this run's warnings."""
        for mail in plan.mails:
            retention.empty_mail(mail, now=now)
        for sent in plan.sent:
            retention.empty_outbox(sent, now=now)
        for draft in plan.drafts:
            referrals.change_status(session, draft, Status.CANCELLED, actor=actor, now=now, note="bewaartermijn verlopen")
            referrals.save_answers(session, draft, {}, now=now)
        for conversation in plan.conversations:
            session.delete(conversation)
        for question in plan.questions:
            session.delete(question)
        for referral, _closed_at in plan.referrals:
            self.pseudonymise(session, referral, now=now, actor=actor)
        for conversation in plan.warn:
            self._warn(session, conversation, now=now)
        for entry in plan.audit:
            session.delete(entry)
        session.flush()

    def pseudonymise(self, session: Session, referral: Referral, *, now: datetime, actor: str) -> None:
        """Keep what the figures need (intake.retention.pseudonymised); suggestions and findings keep their codes only."""
        day = (referral.submitted_at or referral.created_at).astimezone(BRUSSELS).date()
        referrals.save_answers(session, referral, pseudonymised(referral.answers or {}, self.questionnaire, on=day), now=now)
        referral.eligibility = _codes_of_eligibility(referral.eligibility)
        referral.suggestions = _codes_of_suggestions(referral.suggestions)
        referral.pseudonymised_at = now
        figures.refresh_figures(session, referral, now=now)  # the figures stay, the pupil key goes
        retention.forget_notes(session, referral)
        record_audit(session, actor=actor, action=AuditAction.PURGED, now=now, referral_id=referral.id, detail="gepseudonimiseerd")

    def _warn(self, session: Session, conversation: Conversation, *, now: datetime) -> None:
        """Mail the staff member once that the paused referral goes in draft_warning_days, and how to go on."""
        staff = conversation.staff
        assert staff is not None, "only conversations of a staff member are warned"
        until = conversation.updated_at + timedelta(days=self.periods.draft_days)
        composed = compose_mail(
            "mail/retention_warning.txt.j2", staff_name=staff.name, channel=conversation.channel, email=staff.email,
            last=conversation.updated_at, until=max(until, now + timedelta(days=self.periods.draft_warning_days)),
        )
        outbox.enqueue_mail(session, composed, kind=MailKind.RETENTION_WARNING, to=staff.email, domain=self.domain, now=now,
                            referral_id=conversation.referral_id)
        conversation.warned_at = now


def _split_idle(idle: list[Conversation], *, now: datetime, periods: RetentionPeriods) -> tuple[list[Conversation], list[Conversation]]:
    """Of the idle conversations: those that go now, and those whose staff member is warned now.

    One goes once it was idle draft_days and its staff member was warned at least draft_warning_days ago
    (a service that was down on the warning day delays the removal, never the warning); one without a
    staff member has nobody to warn.
    """
    gone: list[Conversation] = []
    warn: list[Conversation] = []
    notice = timedelta(days=periods.draft_warning_days)
    expired = now - timedelta(days=periods.draft_days)
    for conversation in idle:
        warned = conversation.warned_at is not None and conversation.warned_at >= conversation.updated_at
        if conversation.staff is None or conversation.staff.removed_at is not None:
            if conversation.updated_at < expired:
                gone.append(conversation)
        elif not warned:
            warn.append(conversation)
        elif conversation.updated_at < expired and conversation.warned_at is not None and conversation.warned_at <= now - notice:
            gone.append(conversation)
    return gone, warn


def _report(plan: PurgePlan, *, dry_run: bool) -> PurgeReport:
    """Counts per kind and the references a person can look up; a mail or a draft without one only counts."""
    found: dict[PurgeKind, list[str | None]] = {
        PurgeKind.INBOUND: [None for _ in plan.mails],
        PurgeKind.OUTBOX: [None for _ in plan.sent],
        PurgeKind.CONVERSATION: [c.referral.reference if c.referral else None for c in plan.conversations],
        PurgeKind.DRAFT: [d.reference for d in plan.drafts],
        PurgeKind.QUESTION: [f"vraag {q.id}" for q in plan.questions],
        PurgeKind.REFERRAL: [r.reference for r, _ in plan.referrals],
        PurgeKind.AUDIT: [None for _ in plan.audit],
    }
    return PurgeReport(
        dry_run=dry_run, counts={kind: len(items) for kind, items in found.items()},
        references={kind: sorted({i for i in items if i}) for kind, items in found.items()}, warned=len(plan.warn),
    )


def _codes_of_eligibility(eligibility: dict[str, Any] | None) -> dict[str, Any] | None:
    """The outcome and each finding's rule and severity; the reasons quote answers (an age, a place)."""
    if eligibility is None:
        return None
    gone = message("reason_pseudonymised", source=TEXTS)
    findings = [{"rule": f.get("rule"), "severity": f.get("severity"), "reason": gone} for f in eligibility.get("findings") or []]
    return {"outcome": eligibility.get("outcome"), "findings": findings}


def _codes_of_suggestions(suggestions: Any) -> Any:
    """The suggested services and the proposal; their reasons and the advice quote answers."""
    if not isinstance(suggestions, dict):
        return suggestions
    kept = [{key: s.get(key) for key in SUGGESTION_KEYS} for s in suggestions.get("suggestions") or []]
    return {"proposed": suggestions.get("proposed"), "suggestions": kept}
