"""SQLAlchemy tables of the chat channel: Telegram accounts linked to staff, one-time link codes, handled updates.

Telegram ids exceed 32 bits, hence BigInteger. A link code is stored only as a hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.encryption import EncryptedJSON
from store.mail_models import ADDRESS_LENGTH
from store.models import Base, Staff, UTCDateTime


class TelegramLink(Base):
    """A Telegram account that proved, with a mailed code, to belong to a staff member."""

    __tablename__ = "telegram_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())

    staff: Mapped[Staff] = relationship()


class LinkCode(Base):
    """A one-time code mailed to a work address; single use, short-lived, few attempts."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    email: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramUpdate(Base):
    """An update the bot handled: recorded with its effect, so a redelivery is not applied again.

    `answer` holds the replies until they are all sent (`sent` counts them), then it is cleared.
    """

    __tablename__ = "telegram_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answer: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON())  # may quote what was typed: encrypted
    sent: Mapped[int] = mapped_column(Integer)
