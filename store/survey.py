"""The survey in the store: surveys, invitations, answers, reminders due, and the results as plain aggregates.

Functions flush but never commit; the caller owns the transaction. Nothing here renders a text.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from intake.survey import SurveyAnswer as Answer
from intake.vocabulary import Region
from store.chat_models import TelegramLink
from store.outbox import normalise_message_id
from store.survey_models import Survey, SurveyAnswer, SurveyAnswerNeed, SurveyInvite

CHANNEL_MAIL = "mail"
CHANNEL_MAIL_AND_CHAT = "mail+telegram"


def token_hash(token: str) -> str:
    """The SHA-256 of an invitation's token, as stored (the token itself never is)."""
    return hashlib.sha256(token.strip().upper().encode("ascii", "replace")).hexdigest()


def get_survey(session: Session, year: int) -> Survey | None:
    """The survey of this year, or None when it was never started."""
    return session.scalar(select(Survey).where(Survey.year == year))


def create_survey(session: Session, *, year: int, school_year: int, started_by: str, now: datetime) -> Survey:
    """A new survey row (the caller checked there is none for this year)."""
    survey = Survey(year=year, school_year=school_year, started_at=now, started_by=started_by)
    session.add(survey)
    session.flush()
    return survey


def linked_user_ids(session: Session, staff_id: int) -> list[int]:
    """The Telegram accounts linked to this staff member (a private chat's id is its user id)."""
    return list(session.scalars(select(TelegramLink.user_id).where(TelegramLink.staff_id == staff_id).order_by(TelegramLink.id)))


def add_invite(session: Session, survey: Survey, *, staff_id: int, token: str, chat: bool, now: datetime) -> SurveyInvite:
    """Invite one staff member; chat=True when her first question also goes to her linked Telegram account."""
    invite = SurveyInvite(
        survey_id=survey.id, staff_id=staff_id, token_hash=token_hash(token), channel=CHANNEL_MAIL_AND_CHAT if chat else CHANNEL_MAIL,
        sent_at=now,
    )
    session.add(invite)
    session.flush()
    return invite


def invite_by_token(session: Session, year: int, token: str) -> SurveyInvite | None:
    """The invitation of this year whose mail or reminder carried this token."""
    digest = token_hash(token)
    query = select(SurveyInvite).join(Survey).where(
        Survey.year == year, (SurveyInvite.token_hash == digest) | (SurveyInvite.reminder_token_hash == digest),
    )
    return session.scalar(query)


def invite_by_thread(session: Session, message_ids: list[str]) -> SurveyInvite | None:
    """The invitation whose survey mail or reminder one of these Message-IDs (a reply's thread) names."""
    # A real thread names a few; mail/limits.py caps the header, this caps one statement's parameters.
    wanted = sorted({normalise_message_id(m) for m in message_ids if m.strip()})[:1000]
    if not wanted:
        return None
    query = select(SurveyInvite).where(SurveyInvite.message_id.in_(wanted) | SurveyInvite.reminder_message_id.in_(wanted))
    return session.scalar(query.order_by(SurveyInvite.id.desc()).limit(1))


def chat_in_progress(session: Session, staff_id: int) -> SurveyInvite | None:
    """This staff member's invitation whose questions the chat is asking now (the newest survey's), or None."""
    query = select(SurveyInvite).join(Survey).where(SurveyInvite.staff_id == staff_id, SurveyInvite.chat_step.is_not(None))
    return session.scalar(query.order_by(Survey.year.desc()).limit(1))


def newest_invite(session: Session, staff_id: int) -> SurveyInvite | None:
    """This staff member's invitation to the newest survey she was invited to, answered or not."""
    query = select(SurveyInvite).join(Survey).where(SurveyInvite.staff_id == staff_id)
    return session.scalar(query.order_by(Survey.year.desc()).limit(1))


def chats_waiting(session: Session) -> list[SurveyInvite]:
    """Invitations whose first chat question was not sent yet, oldest first."""
    query = select(SurveyInvite).where(SurveyInvite.channel == CHANNEL_MAIL_AND_CHAT, SurveyInvite.chat_sent_at.is_(None))
    return list(session.scalars(query.order_by(SurveyInvite.id)))


def save_answer(session: Session, invite: SurveyInvite, answer: Answer, *, now: datetime) -> bool:
    """Store the answer of an invitation; True when it replaced an earlier one."""
    existing = session.scalar(select(SurveyAnswer).where(SurveyAnswer.invite_id == invite.id))
    replaced = existing is not None
    if existing is not None:  # replaced whole: a need left out now must not stay counted
        session.execute(delete(SurveyAnswerNeed).where(SurveyAnswerNeed.answer_id == existing.id))
        session.delete(existing)
        session.flush()
    row = SurveyAnswer(invite_id=invite.id, region=answer.region.value, under12_questions=answer.under12_questions,
                       missing_offer=answer.missing_offer, answered_at=now)
    session.add(row)
    session.flush()
    session.add_all(SurveyAnswerNeed(answer_id=row.id, need=need.value) for need in answer.needs)
    invite.answered_at = now
    session.flush()
    return replaced


def due_reminders(session: Session, *, now: datetime, after: timedelta) -> list[SurveyInvite]:
    """Unanswered invitations sent at least `after` ago that had no reminder yet (one reminder, never two)."""
    query = select(SurveyInvite).where(
        SurveyInvite.answered_at.is_(None), SurveyInvite.reminded_at.is_(None), SurveyInvite.sent_at <= now - after,
    )
    return list(session.scalars(query.order_by(SurveyInvite.id)))


@dataclass
class RegionResult:
    """The survey's figures of one region (or of all answers): counts and sums only, never a person."""

    answered: int = 0
    questions_sum: int = 0
    questions_median: float | None = None
    needs: dict[str, int] = field(default_factory=dict)  # SurveyNeed value → answers naming it


@dataclass
class SurveyResults:
    """A survey's aggregates: invited and answered in all, and per region (Region value) what the answers say."""

    year: int
    school_year: int
    invited: int
    answered: int
    regions: dict[str, RegionResult]


def survey_results(session: Session, school_year: int) -> SurveyResults | None:
    """The aggregates of the survey about this school year (2026 for 2026-2027), or None when there was none.

    Invitations carry no region (she names it in her answer), so `invited` is a total only.
    """
    survey = session.scalar(select(Survey).where(Survey.school_year == school_year).order_by(Survey.year.desc()).limit(1))
    return None if survey is None else results_of(session, survey)


def results_of(session: Session, survey: Survey) -> SurveyResults:
    """The aggregates of one survey (see survey_results)."""
    invited = int(session.scalar(select(func.count()).select_from(SurveyInvite).where(SurveyInvite.survey_id == survey.id)) or 0)
    answers = select(SurveyAnswer.id).join(SurveyInvite).where(SurveyInvite.survey_id == survey.id)
    regions = {region.value: RegionResult() for region in Region}
    counts = session.execute(
        select(SurveyAnswer.region, SurveyAnswer.under12_questions).where(SurveyAnswer.id.in_(answers)).order_by(SurveyAnswer.region)
    ).all()
    per_region: dict[str, list[int]] = {}
    for region, questions in counts:
        per_region.setdefault(region, []).append(int(questions))
    for region, values in per_region.items():
        result = regions.setdefault(region, RegionResult())
        result.answered, result.questions_sum, result.questions_median = len(values), sum(values), float(statistics.median(values))
    needs = session.execute(
        select(SurveyAnswer.region, SurveyAnswerNeed.need, func.count()).join(SurveyAnswerNeed, SurveyAnswerNeed.answer_id == SurveyAnswer.id)
        .where(SurveyAnswer.id.in_(answers)).group_by(SurveyAnswer.region, SurveyAnswerNeed.need)
    ).all()
    for region, need, count in needs:
        regions.setdefault(region, RegionResult()).needs[need] = int(count)
    return SurveyResults(year=survey.year, school_year=survey.school_year, invited=invited, answered=len(counts), regions=regions)


def missing_offers(session: Session, survey: Survey) -> list[str]:
    """The free texts on missing offer of one survey, for the coordinator only; in no particular person's order."""
    query = select(SurveyAnswer.missing_offer).join(SurveyInvite).where(
        SurveyInvite.survey_id == survey.id, SurveyAnswer.missing_offer.is_not(None),
    )
    return sorted(str(text) for text in session.scalars(query))
