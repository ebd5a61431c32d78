"""The coordinator's `MSI-…: herinneren`: the provider that has the referral gets the dispatch reminder mail now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.texts import compose_mail
from intake.workhours import WorkCalendar
from store import dispatches, outbox
from store.dispatch_models import DispatchItem
from store.mail_models import MailKind
from store.models import Referral


def reminder_target(session: Session, referral: Referral) -> DispatchItem | None:
    """The referral's current dispatch (the provider it was last sent to), or None when it never went out."""
    return dispatches.current_dispatch(session, referral.id)


def remind_now(session: Session, referral: Referral, item: DispatchItem, *, calendar: WorkCalendar, domain: str, now: datetime) -> str:
    """Queue the periodic reminder's mail (mail/provider_reminder.txt.j2) for one referral; the address it goes to.

    The dispatch counts as reminded now: the periodic reminders then wait their working days from here,
    as the coordinator's agenda does, before the referral is late again.
    """
    days = calendar.days_between(item.dispatched_at, now)
    composed = compose_mail("mail/provider_reminder.txt.j2", late=[(referral.reference, item.dispatched_at.astimezone(BRUSSELS).date())],
                            days=days, today=now.astimezone(BRUSSELS).date(), by_coordinator=True)
    outbox.enqueue_mail(session, composed, kind=MailKind.PROVIDER_REMINDER, to=item.provider_address, domain=domain, now=now,
                        referral_id=referral.id)
    item.reminded_at = now
    session.flush()
    return item.provider_address
