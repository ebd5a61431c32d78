"""SQLAlchemy tables of the yearly under-12 survey: the survey, one invitation per staff member, one answer per invitation.

An answer names no pupil; it is linked to its invitation only so a second answer replaces the first, and the
report counts answers by region, never per person. The token of an invitation is stored only as a hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.encryption import EncryptedText
from store.mail_models import ADDRESS_LENGTH, HEADER_LENGTH
from store.models import Base, Staff, UTCDateTime


class Survey(Base):
    """One year's survey: started once (`meldpunt bevraging start JAAR`)."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    school_year: Mapped[int] = mapped_column(Integer, index=True)  # 2026 for 2026-2027: the school year asked about
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))


class SurveyInvite(Base):
    """One staff member invited to one survey: by mail always, in chat too when her Telegram account is linked."""

    __tablename__ = "survey_invites"
    __table_args__ = (UniqueConstraint("survey_id", "staff_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # SHA-256 of the random token in the survey mail's subject (and of the reminder's own token).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reminder_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # "mail" or "mail+telegram"
    # Our outbox Message-IDs of the survey mail and its reminder: a reply's In-Reply-To/References finds the invitation.
    message_id: Mapped[str | None] = mapped_column(String(HEADER_LENGTH), index=True)
    reminder_message_id: Mapped[str | None] = mapped_column(String(HEADER_LENGTH), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    chat_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None while the chat's first question waits
    # The chat dialogue: the question asked now ("regio", "aantal", "noden", "aanbod"; None when none) and the answers
    # so far (region, count, needs: closed sets and a number; the free text is never kept here, it ends the dialogue).
    chat_step: Mapped[str | None] = mapped_column(String(16))
    chat_draft: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    survey: Mapped[Survey] = relationship()
    staff: Mapped[Staff] = relationship()


class SurveyAnswer(Base):
    """The answer of one invitation; a second answer replaces it. Only closed sets and a number, and one free text."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("survey_invites.id"), unique=True)
    region: Mapped[str] = mapped_column(String(8))  # intake.vocabulary.Region value
    under12_questions: Mapped[int] = mapped_column(Integer)
    # Free text for the coordinator only, never in the report: encrypted at rest, addresses and numbers scrubbed.
    missing_offer: Mapped[str | None] = mapped_column(EncryptedText())
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveyAnswerNeed(Base):
    """One need (intake.survey.SurveyNeed value) an answer named: the report counts them with a GROUP BY."""

    __tablename__ = "survey_answer_needs"
    __table_args__ = (UniqueConstraint("answer_id", "need"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("survey_answers.id", ondelete="CASCADE"), index=True)
    need: Mapped[str] = mapped_column(String(32))
