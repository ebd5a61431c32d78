"""Telegram wired for real on loopback: our fake Bot API server, PTB polling it, the desk, and the mail harness.

The mail harness supplies the database, clock, processor and an outbox that delivers to an aiosmtpd
sink, so a linking code really travels by mail. Helpers drive one person's chat turn by turn: a turn
ends when the fake server has handed out every update and the bot has no handler running.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.desk import Desk, DeskConfig
from bot.telegram_bot import TelegramBot, TelegramConfig
from intake.vocabulary import Mode
from meldpunt.periodic import Periodic
from meldpunt.service import register_bot_jobs
from meldpunt.supervisor import Supervisor
from store import staff as staff_repo
from store import telegram as telegram_repo
from tests.mail_harness import COORDINATOR, MailHarness, running_harness
from tests.telegram_fake import FakeTelegram, SentMessage

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

COORDINATOR_CHAT = -1001234567890
COORDINATOR_USER = 7000
_CODE = re.compile(r"Je code: (\d{6})")


@dataclass
class ChatHarness:
    """A running bot against the fake server, with the mail parts behind it."""

    fake: FakeTelegram
    mail: MailHarness
    desk: Desk
    config: TelegramConfig
    bot: TelegramBot
    started: list[TelegramBot] = field(default_factory=list)

    # --- people --------------------------------------------------------------------------------
    def register(self, email: str, name: str, clb: str) -> None:
        """Register a CLB staff member (no Telegram link yet)."""
        self.mail.add_staff(email, name, clb)

    def link(self, user_id: int, email: str) -> None:
        """Link a Telegram account to a registered staff member directly, for tests not about linking."""
        with self.mail.sessions.begin() as session:
            member = staff_repo.get_active_staff(session, email)
            assert member is not None, f"{email} is not registered"
            telegram_repo.link(session, user_id, member, now=self.mail.clock())

    # --- turns -----------------------------------------------------------------------------------
    async def settle(self) -> None:
        """Wait until every queued update is fetched and every handler has finished."""
        await self.fake.wait_until_consumed()
        await self.bot.wait_idle()

    async def say(self, user_id: int, text: str, *, chat_id: int | None = None, chat_type: str = "private", reply_to: int | None = None) -> list[SentMessage]:
        """The person types text; the bot's new messages in that chat after the turn."""
        chat = chat_id if chat_id is not None else user_id
        before = len(self.fake.messages_to(chat))
        self.fake.send_text(user_id, text, chat_id=chat, chat_type=chat_type, reply_to=reply_to)
        await self.settle()
        return self.fake.messages_to(chat)[before:]

    async def press(self, user_id: int, label: str, *, message: SentMessage | None = None) -> list[SentMessage]:
        """The person presses the button whose text contains label, on the newest message that has it."""
        target = message or self.with_button(user_id, label)
        before = len(self.fake.messages_to(user_id))
        self.fake.press(user_id, target.message_id, target.button(label))
        await self.settle()
        return self.fake.messages_to(user_id)[before:]

    async def press_data(self, user_id: int, message: SentMessage, data: str) -> list[SentMessage]:
        """Press a button by its exact data, on a given (maybe old) message."""
        before = len(self.fake.messages_to(user_id))
        self.fake.press(user_id, message.message_id, data)
        await self.settle()
        return self.fake.messages_to(user_id)[before:]

    def with_button(self, chat_id: int, label: str) -> SentMessage:
        """The newest message in the chat that still shows a button containing label."""
        for sent in reversed(self.fake.messages_to(chat_id)):
            if any(label in text for text, _ in sent.buttons()):
                return sent
        texts = [m.text[:60] for m in self.fake.messages_to(chat_id)[-3:]]
        raise AssertionError(f"no button with {label!r} in chat {chat_id}; last messages: {texts}")

    def last_text(self, chat_id: int) -> str:
        """The text of the newest bot message in a chat."""
        return self.fake.messages_to(chat_id)[-1].text

    # --- mail --------------------------------------------------------------------------------------
    async def deliver_mail(self) -> None:
        """Process stored mail and deliver the outbox to the sink."""
        await self.mail.process()

    def code_for(self, email: str) -> str:
        """The linking code in the newest mail to this address."""
        mails = self.mail.inbox(email)
        assert mails, f"no mail reached {email}"
        body = mails[-1].get_body(preferencelist=("plain",))
        assert body is not None
        found = _CODE.search(str(body.get_content()))
        assert found, "the mail carries no code"
        return found[1]

    # --- restarts --------------------------------------------------------------------------------
    async def stop_bot(self) -> None:
        """Stop the bot (as a crash or a deploy would); updates sent now wait at the server."""
        await self.bot.stop()

    async def start_bot(self) -> None:
        """Start a fresh bot process on the same database: nothing of the old one is kept in memory."""
        self.bot = TelegramBot(self.config, self.desk)
        await self.bot.start()
        self.started.append(self.bot)


@asynccontextmanager
async def running_chat(
    sessions: sessionmaker[Session], tmp_path: Path, *, mode: Mode = Mode.MINIMAL, coordinator_chat: int | None = COORDINATOR_CHAT,
    allowed_domains: tuple[str, ...] = (), reminder_hours: float = 8, reminder_interval: float = 600.0,
) -> AsyncIterator[ChatHarness]:
    """The fake Bot API server, the mail harness and a polling bot; all stopped afterwards."""
    async with running_harness(sessions, tmp_path, allowed_domains=allowed_domains) as mail, FakeTelegram() as fake:
        desk_config = DeskConfig(
            mode=mode, coordinator_chat_id=coordinator_chat, coordinator_email=COORDINATOR,
            allowed_domains=allowed_domains, mail_domain=mail.config.domain, reminder_hours=reminder_hours,
        )
        processor = mail.processor
        desk = Desk(
            mail.workflow, sessions, desk_config, clock=mail.clock,
            relay_by_mail=lambda session, question, answer, by, now: processor.relay_answer(session, question, answer=answer, by=by, now=now),
        )
        config = TelegramConfig(
            token=fake.token, api_url=fake.base_url, coordinator_chat_id=coordinator_chat, poll_timeout=1,
            reminder_interval=reminder_interval,
        )
        harness = ChatHarness(fake=fake, mail=mail, desk=desk, config=config, bot=TelegramBot(config, desk))
        await harness.bot.start()
        # The bot's reminders and access-ended notices run on the service's periodic runner, here as in serve.
        stop = asyncio.Event()
        periodic = Periodic(Supervisor(sessions, stop, clock=mail.clock))
        register_bot_jobs(periodic, harness.bot)
        jobs = asyncio.create_task(periodic.run())
        try:
            yield harness
        finally:
            stop.set()
            await jobs
            await harness.bot.stop()
