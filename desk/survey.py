"""The yearly under-12 survey: start it (a mail to every active staff member, a chat to linked ones), record answers, remind once.

The mail and the chat are two ways to one invitation; the last answer of either counts. Texts come from
templates/survey/; the store keeps only the token's hash, so the reminder carries a token of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.retention import school_year_of
from intake.survey import SurveyAnswer, SurveyNeed, new_token, subject_tag
from intake.texts import Composed, compose_mail, render
from store import outbox
from store import staff as staff_repo
from store import survey as survey_repo
from store.audit import AuditAction, record_audit
from store.mail_models import MailKind
from store.survey_models import Survey, SurveyInvite

DEFAULT_REMINDER_DAYS = 14


@dataclass(frozen=True)
class StartResult:
    """What starting a survey did: nothing when it already ran, else how many were mailed and how many also chat."""

    survey: Survey
    already: bool
    mailed: int = 0
    chat: int = 0


def form_text(school_year: int, values: dict[str, str] | None = None) -> str:
    """The survey form as the mail shows it, prefilled with what a person already typed."""
    return render("survey/form.txt.j2", school_year=school_year, values=values or {}, needs=list(SurveyNeed))


def start(session: Session, *, year: int, actor: str, domain: str, now: datetime) -> StartResult:
    """Start this year's survey once: an invitation and a mail per active staff member; a second start sends nothing."""
    existing = survey_repo.get_survey(session, year)
    if existing is not None:
        return StartResult(survey=existing, already=True)
    school_year = school_year_of(now.astimezone(BRUSSELS).date())
    survey = survey_repo.create_survey(session, year=year, school_year=school_year, started_by=actor, now=now)
    mailed = chat = 0
    for member in staff_repo.list_staff(session):
        linked = bool(survey_repo.linked_user_ids(session, member.id))
        token = new_token()
        invite = survey_repo.add_invite(session, survey, staff_id=member.id, token=token, chat=linked, now=now)
        composed = compose_mail("survey/invite.txt.j2", person=member.name, tag=subject_tag(year, token), chat=linked,
                                form=form_text(school_year))
        invite.message_id = _enqueue(session, composed, MailKind.SURVEY, member.email, domain, now)
        mailed, chat = mailed + 1, chat + linked
    record_audit(session, actor=actor, action=AuditAction.SURVEY_STARTED, now=now, detail=f"bevraging {year}: {mailed} uitgenodigd")
    return StartResult(survey=survey, already=False, mailed=mailed, chat=chat)


def record(session: Session, invite: SurveyInvite, answer: SurveyAnswer, *, now: datetime) -> bool:
    """Store an invitation's answer; True when it replaced an earlier one (the person is told so)."""
    return survey_repo.save_answer(session, invite, answer, now=now)


def remind(session: Session, *, now: datetime, after_days: int, domain: str) -> int:
    """One reminder by mail to each invited staff member still active who did not answer after `after_days` days."""
    sent = 0
    for invite in survey_repo.due_reminders(session, now=now, after=timedelta(days=after_days)):
        invite.reminded_at = now  # also for a removed member: she is not reminded later either
        if invite.staff.removed_at is not None:
            continue
        token = new_token()
        invite.reminder_token_hash = survey_repo.token_hash(token)
        composed = compose_mail("survey/reminder.txt.j2", person=invite.staff.name, tag=subject_tag(invite.survey.year, token),
                                sent_at=invite.sent_at, form=form_text(invite.survey.school_year))
        invite.reminder_message_id = _enqueue(session, composed, MailKind.SURVEY_REMINDER, invite.staff.email, domain, now,
                                              thread=invite.message_id)
        sent += 1
    session.flush()
    return sent


def reply_tag(invite: SurveyInvite) -> str:
    """The subject tag of replies about this invitation: the year only, so a reply carries no token of its own."""
    return f"[bevraging {invite.survey.year}]"


def standing(session: Session, year: int) -> dict[str, Any] | None:
    """What `meldpunt bevraging stand` shows: the survey's aggregates and when it started; None when never started."""
    survey = survey_repo.get_survey(session, year)
    if survey is None:
        return None
    return {"results": survey_repo.results_of(session, survey), "started_at": survey.started_at,
            "missing": survey_repo.missing_offers(session, survey)}


def _enqueue(session: Session, composed: Composed, kind: MailKind, to: str, domain: str, now: datetime, *, thread: str | None = None) -> str:
    """Queue one survey mail (threaded under the first when a reminder); its Message-ID finds the invitation back."""
    row = outbox.enqueue_mail(session, composed, kind=kind, to=to, domain=domain, now=now, in_reply_to=thread, references=thread)
    return row.message_id
