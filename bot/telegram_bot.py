"""The Telegram adapter: python-telegram-bot 22 in front of the chat desk, by polling or webhook.

PTB keeps no state of ours (no pickle persistence): every conversation lives in the database, so a
restart continues at the same question, and updates sent while the bot was down arrive after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import traceback
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.chat import Answer, ChatEvent, Reply, chat_text, command_menu
from bot.desk import Desk
from bot.keyboards import Keyboard, label
from bot.polling import Poller
from bot.update_ledger import Decide, UpdateLedger
from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # Telegram's longest text message
# Edited messages too: they are not read, but the person is told so (bot/handlers/referral.py).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
START_RETRY_SECONDS = 30.0
# Telegram allows 1-256 characters of this alphabet; we ask at least 32, so only a generated secret fits
# (a forged webhook call can act as anyone, the coordinator included).
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")


class TelegramConfigError(ValueError):
    """Settings that would make the bot unsafe or unusable; the message says, in Dutch, what to change."""


@dataclass(frozen=True)
class TelegramConfig:
    """How to reach Telegram and how to receive updates."""

    token: str
    api_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret: str | None = None
    coordinator_chat_id: int | None = None
    poll_timeout: int = 30
    reminder_interval: float = 600.0  # seconds between looks for questions to remind and access to revoke

    def __post_init__(self) -> None:
        """Refuse webhook mode without a strong secret: without one, anyone who finds the URL can post updates."""
        if not self.webhook_url:
            return
        if not self.webhook_secret:
            raise TelegramConfigError(chat_text("config_webhook_secret_missing"))
        if not WEBHOOK_SECRET.fullmatch(self.webhook_secret):
            raise TelegramConfigError(chat_text("config_webhook_secret_form"))

    @property
    def file_url(self) -> str:
        """Where files are fetched: the API address with /file before /bot."""
        base, _, _ = self.api_url.rstrip("/").rpartition("/bot")
        return f"{base}/file/bot"


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long text into messages Telegram accepts, at line ends where possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*chunks, text] if text else chunks


def _menu(name: str) -> list[BotCommand]:
    """A command menu as Telegram takes it (the words: templates/telegram/commands.txt.j2)."""
    return [BotCommand(command, description) for command, description in command_menu(name)]


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons])


def _event(update: Update, bot_id: int) -> ChatEvent | None:
    """The desk's view of an update: who, where, and what (command, text or button)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    private = chat.type == chat.PRIVATE
    if update.callback_query is not None:
        query = update.callback_query
        pressed = query.message.text if isinstance(query.message, Message) else None
        return ChatEvent(user_id=user.id, chat_id=chat.id, private=private, button=query.data or "", pressed_text=pressed)
    if update.edited_message is not None:
        return ChatEvent(user_id=user.id, chat_id=chat.id, private=private, edited=True)
    message = update.message
    if message is None or message.text is None:
        return None
    replied = message.reply_to_message
    replied_text = replied.text if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id else None
    if message.text.startswith("/") and any(e.type == e.BOT_COMMAND and e.offset == 0 for e in message.entities):
        word, _, argument = message.text[1:].partition(" ")
        command = word.split("@", 1)[0].lower()
        return ChatEvent(user_id=user.id, chat_id=chat.id, private=private, command=command, argument=argument, reply_to_bot_text=replied_text)
    return ChatEvent(user_id=user.id, chat_id=chat.id, private=private, text=message.text, reply_to_bot_text=replied_text)


def quiet_library_logs() -> None:
    """Keep what people type and the token out of the logs, whatever the log level.

    PTB logs whole updates (with the text) at DEBUG, and httpx logs every request URL at INFO,
    and the URL carries the bot's token.
    """
    for name in ("telegram", "httpx", "httpcore", "apscheduler", "tornado"):
        logging.getLogger(name).setLevel(logging.WARNING)


class TelegramBot:
    """Runs the desk on Telegram: receives updates, one chat at a time, and sends the desk's replies."""

    def __init__(self, config: TelegramConfig, desk: Desk, *, flood_control: bool = True, concurrent_updates: int = 64) -> None:
        quiet_library_logs()
        self.config = config
        self.desk = desk
        builder = (
            ApplicationBuilder().token(config.token).base_url(config.api_url).base_file_url(config.file_url)
            .concurrent_updates(concurrent_updates).updater(None)  # bot/polling.py confirms only handled updates
        )
        if flood_control:
            # Stays under Telegram's limits (30 messages/s, 20/min per group) and waits out a 429's
            # retry_after before sending again. Off only in the benchmark, to measure our own cost.
            builder = builder.rate_limiter(AIORateLimiter(max_retries=5))  # type: ignore[arg-type]  # PTB types the builder per limiter
        self.application: Application = builder.build()  # type: ignore[type-arg]
        # One update at a time per chat: a fast second tap must not race the first on the same state.
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._webhook: WebhookServer | None = None
        self._poller: Poller | None = None
        self._ledger = UpdateLedger(desk)
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message))
        self.application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_message))
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT, self._on_other))
        self.application.add_error_handler(self._on_error)

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect, register the commands, and start receiving updates."""
        app = self.application
        await app.initialize()
        await app.start()
        await self._register_commands()
        if self.config.webhook_url and self.config.webhook_secret:  # TelegramConfig refuses one without the other
            host, _, port = self.config.webhook_listen.rpartition(":")
            self._webhook = WebhookServer(
                self._process, app.bot, host=host, port=int(port), path=urlsplit(self.config.webhook_url).path, secret=self.config.webhook_secret,
            )
            await self._webhook.start()  # listening before Telegram is told where to post
            await app.bot.set_webhook(
                url=self.config.webhook_url, secret_token=self.config.webhook_secret, allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("Telegram: webhook actief op %s", self.config.webhook_listen)
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused while one is set
            self._poller = Poller(app.bot, self._process, timeout=self.config.poll_timeout, allowed_updates=ALLOWED_UPDATES)
            self._poller.start()
            log.info("Telegram: polling actief")

    async def stop(self) -> None:
        """Stop receiving, finish running handlers, and close the connection."""
        app = self.application
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if app.running:
            await app.stop()
        await app.shutdown()

    async def run(self, stop: asyncio.Event) -> None:
        """Start (retrying while Telegram is unreachable) and run until stop is set."""
        while not stop.is_set():
            try:
                await self.start()
                break
            except InvalidToken:
                log.error("Telegram: het token wordt geweigerd; Telegram blijft uit (kijk MELDPUNT_TELEGRAM_TOKEN na)")
                return
            except OSError as error:
                log.error("Telegram: de webhook kan niet luisteren op %s (%s); Telegram blijft uit", self.config.webhook_listen, type(error).__name__)
                with contextlib.suppress(Exception):
                    await self.stop()
                return
            except TelegramError as error:
                log.warning("Telegram: niet bereikbaar (%s); nieuwe poging binnen %s s", type(error).__name__, START_RETRY_SECONDS)
                with contextlib.suppress(Exception):
                    await self.stop()  # a half-started application starts cleanly next time
                try:
                    await asyncio.wait_for(stop.wait(), timeout=START_RETRY_SECONDS)
                except TimeoutError:
                    pass
        else:
            return
        await stop.wait()
        await self.stop()

    async def wait_idle(self) -> None:
        """Wait until every received update has been handled (tests and the benchmark use this)."""
        await self._idle.wait()

    async def _process(self, update: Update) -> None:
        """Handle one update (polling and webhook alike); when this returns, Telegram may be told it is done."""
        self._handling += 1
        self._idle.clear()
        try:
            await self.application.process_update(update)
        finally:
            self._handling -= 1
            if not self._handling:
                self._idle.set()

    async def _register_commands(self) -> None:
        bot = self.application.bot
        await bot.set_my_commands(_menu("staff_menu"), scope=BotCommandScopeDefault())
        if self.config.coordinator_chat_id is not None:
            try:
                await bot.set_my_commands(_menu("coordinator_menu"), scope=BotCommandScopeChat(self.config.coordinator_chat_id))
            except BadRequest as error:
                log.warning("Telegram: commando's voor de chat van de coördinator niet gezet (%s)", error.message)

    # --- updates -------------------------------------------------------------------------------
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = _event(update, context.bot.id)
        if event is None:
            return
        async with self._locks[event.chat_id]:
            answer, sent = await self._decide(update, lambda sessions: self.desk.answer(sessions, event))
            await self._send(update, event.chat_id, answer, pressed=None, sent=sent)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        event = _event(update, context.bot.id)
        if query is None or event is None:
            return
        pressed = query.message if isinstance(query.message, Message) else None
        async with self._locks[event.chat_id]:
            answer, sent = await self._decide(update, lambda sessions: self.desk.answer(sessions, event))
            try:
                await query.answer(answer.toast)
            except TelegramError as error:
                # Telegram refuses a press older than ~15 s (the bot was down): it still counts, only the notice is lost.
                log.info("Telegram: knop van update %s niet meer te beantwoorden (%s)", update.update_id, type(error).__name__)
            if answer.clear_pressed and pressed is not None and pressed.reply_markup is not None:
                try:
                    if answer.record is not None and len(answer.record) <= MESSAGE_LIMIT:
                        await pressed.edit_text(answer.record, reply_markup=None)  # the choice stays visible
                    else:
                        await pressed.edit_reply_markup(reply_markup=None)
                except BadRequest:
                    pass  # already without buttons, or too old to edit: nothing to tidy
            await self._send(update, event.chat_id, answer, pressed=pressed, sent=sent)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, files, voice: not read and not kept (they may show a pupil)."""
        chat = update.effective_chat
        if chat is None:
            return
        async with self._locks[chat.id]:
            answer, sent = await self._decide(update, lambda sessions: Answer([Reply(chat_text("text_only"))]))
            await self._send(update, chat.id, answer, pressed=None, sent=sent)

    async def _decide(self, update: Update, decide: Decide) -> tuple[Answer, int]:
        """The update's answer, decided once (see bot/update_ledger.py), and how many replies already went out."""
        return await asyncio.to_thread(self._ledger.decide, bot_id=self.application.bot.id, update_id=update.update_id, decide=decide)

    async def _send(self, update: Update, chat_id: int, answer: Answer, *, pressed: Message | None, sent: int = 0) -> None:
        """Send the replies not sent yet, noting each: after a crash only the rest goes out."""
        bot_id, total = self.application.bot.id, len(answer.replies)
        for number in range(sent, total):
            await self._send_reply(chat_id, answer.replies[number], pressed)
            await asyncio.to_thread(self._ledger.sent, bot_id=bot_id, update_id=update.update_id, sent=number + 1, done=number + 1 == total)
        if sent >= total:
            await asyncio.to_thread(self._ledger.sent, bot_id=bot_id, update_id=update.update_id, sent=total, done=True)

    async def _send_reply(self, chat_id: int, reply: Reply, pressed: Message | None) -> None:
        bot = self.application.bot
        if reply.edit_keyboard:
            if pressed is not None:
                try:
                    await pressed.edit_reply_markup(reply_markup=_markup(reply.buttons))
                except BadRequest:
                    pass  # the same keyboard pressed twice quickly: nothing changed
            return
        chunks = split_text(reply.text)
        for number, chunk in enumerate(chunks, 1):
            last = number == len(chunks)
            markup = (ForceReply(input_field_placeholder=label("question_placeholder")) if reply.force_reply else _markup(reply.buttons)) if last else None
            await bot.send_message(reply.chat_id or chat_id, chunk, reply_markup=markup)

    # --- periodic jobs (meldpunt/service.py runs them every config.reminder_interval) --------------
    async def remind(self) -> None:
        """Send the coordinator's chat the questions unanswered too long; nothing while the bot is not running."""
        if not self.application.running:
            return  # marking them reminded without sending would lose the reminder
        for reply in await asyncio.to_thread(self.desk.reminders):
            await self._send_reply(reply.chat_id or 0, reply, None)

    async def ask_survey(self) -> None:
        """Open the survey in the chat of each linked staff member invited and not asked yet; nothing while not running."""
        if not self.application.running:
            return  # marking them asked without sending would lose the question
        for reply in await asyncio.to_thread(self.desk.survey_questions):
            try:
                await self._send_reply(reply.chat_id or 0, reply, None)
            except TelegramError as error:  # blocked the bot, say: she still has the mail, the others are still asked
                log.warning("Telegram: vraag van de bevraging niet verstuurd (%s)", type(error).__name__)

    async def send_alerts(self) -> None:
        """Send the coordinator's chat each urgent alert, marking each delivered only once it was sent."""
        if not self.application.running:
            return  # they stay pending: the chat later, or the mail after desk.alerts.CHAT_GRACE
        for alert_id, reply in await asyncio.to_thread(self.desk.alerts):
            try:
                await self._send_reply(reply.chat_id or 0, reply, None)
            except TelegramError as error:  # the rest waits for the next round, in order
                log.warning("Telegram: alarm voor de coördinator niet verstuurd (%s)", type(error).__name__)
                return
            await asyncio.to_thread(self.desk.alert_sent, alert_id)

    async def tell_revoked(self) -> None:
        """Tell each account whose staff member was removed that its access ended (the link is gone first).

        Whoever writes first after a removal is told at once (Desk.handle); this tells the others.
        """
        if not self.application.running:
            return
        for reply in await asyncio.to_thread(self.desk.revocations):
            try:
                await self._send_reply(reply.chat_id or 0, reply, None)
            except TelegramError as error:  # blocked the bot, say: the others are still told
                log.warning("Telegram: melding van ingetrokken toegang niet verstuurd (%s)", type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log where it failed, never what was typed, and tell the person their answers are kept."""
        error = context.error
        frames = traceback.extract_tb(error.__traceback__) if error is not None else []
        where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-6:]))
        update_id = update.update_id if isinstance(update, Update) else None
        # Exception messages can quote the input (a parse error, a database value): type and place only.
        log.error("Telegram: fout bij update %s: %s bij %s", update_id, type(error).__name__, where)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await context.bot.send_message(update.effective_chat.id, chat_text("failure"))
            except TelegramError:
                log.warning("Telegram: ook de foutmelding kon niet verstuurd worden")
