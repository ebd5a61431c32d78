"""The fake Bot API server against a real PTB Application: polling, buttons, 429, commands, webhook."""

from __future__ import annotations

import os

# Set before anything imports httpx: it honours proxy variables, and these tests only talk to loopback.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, InvalidToken
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.telegram_fake import FakeTelegram
from tests.test_runners import until

USER = 4242
GUARD = 60.0  # seconds: a guard against a hang, never a speed limit (the waits end on events)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A started fake server, stopped after the test."""
    async with FakeTelegram() as server:
        yield server


def build(
    fake: FakeTelegram, *, token: str | None = None, rate_limiter: bool = False
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB Application pointed at the fake."""
    builder = (
        ApplicationBuilder()
        .token(token or fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    return builder.build()


@asynccontextmanager
async def polling(
    fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any], rate_limiter: bool = False
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A running Application that long-polls the fake, with the explicit lifecycle."""
    app = build(fake, rate_limiter=rate_limiter)
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=2)  # type: ignore[union-attr]
    try:
        yield app
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer with the user's own text."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def hallo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet."""
    assert update.message is not None
    await update.message.reply_text("hallo")


ECHO = MessageHandler(filters.TEXT & ~filters.COMMAND, echo)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_echo_keeps_strings_raw_and_commands_reach_command_handler(fake: FakeTelegram) -> None:
    async with polling(fake, CommandHandler("start", hallo), ECHO):
        for number, text in enumerate(["123", "null", "007", '"quoted"', "true"]):
            fake.send_text(USER, text)
            reply = await fake.wait_for(USER, after=number)
            assert reply.text == text and isinstance(reply.text, str)
        fake.send_text(USER, "/start")
        assert (await fake.wait_for(USER, after=5)).text == "hallo"
    sends = [params for method, params in fake.calls if method == "sendMessage"]
    assert sends[0]["chat_id"] == USER and sends[0]["text"] == "123"
    assert [m.message_id for m in fake.messages_to(USER)] == [1, 2, 3, 4, 5, 6]
    assert fake.messages_to(USER + 1) == []


async def test_inline_keyboard_round_trip(fake: FakeTelegram) -> None:
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [
            [InlineKeyboardButton("Ja, graag", callback_data="kies:ja")],
            [InlineKeyboardButton("Nee", callback_data="kies:nee")],
        ]
        await update.message.reply_text("Wil je verder?", reply_markup=InlineKeyboardMarkup(keyboard))

    async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Genoteerd")
        await query.edit_message_text(f"Gekozen: {query.data} (bericht {query.message.message_id})")

    async with polling(fake, CommandHandler("menu", menu), CallbackQueryHandler(chosen)) as app:
        fake.send_text(USER, "/menu")
        question = await fake.wait_for_text(USER, "verder")
        assert question.buttons() == [("Ja, graag", "kies:ja"), ("Nee", "kies:nee")]
        with pytest.raises(AssertionError, match="Ja, graag"):
            question.button("Misschien")
        callback_id = fake.press(USER, question.message_id, question.button("Ja"))
        edited = await fake.wait_for(USER, lambda m: m.edits == 1)
        assert edited is question
        assert question.text == f"Gekozen: kies:ja (bericht {question.message_id})"
        assert question.reply_markup is None  # editMessageText without reply_markup drops the keyboard
        assert [a["callback_query_id"] for a in fake.callback_answers] == [callback_id]
        assert fake.callback_answers[0]["text"] == "Genoteerd"
        assert len(fake.messages_to(USER)) == 1
        with pytest.raises(BadRequest, match="not modified"):
            await app.bot.edit_message_text(question.text, chat_id=USER, message_id=question.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await app.bot.edit_message_text("x", chat_id=USER, message_id=99)
        with pytest.raises(AssertionError, match="never sent message 99"):
            fake.press(USER, 99, "kies:ja")


# AIORateLimiter itself reads RetryAfter.retry_after, which PTB 22.2+ flags as deprecated.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_429_is_retried_once_by_the_rate_limiter(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", retry_after=1)
    async with polling(fake, ECHO, rate_limiter=True):
        fake.send_text(USER, "hoi")
        assert (await fake.wait_for(USER, timeout=5)).text == "hoi"
        await asyncio.sleep(0.1)
    assert [m.text for m in fake.sent] == ["hoi"]
    sends = [params for method, params in fake.calls if method == "sendMessage"]
    assert len(sends) == 2 and sends[0] == sends[1]


async def test_set_my_commands_per_scope(fake: FakeTelegram) -> None:
    default = [
        BotCommand("start", "Begin een nieuwe melding"),
        BotCommand("hulp", "Uitleg over het meldpunt"),
    ]
    coordinator = [BotCommand("vragen", "Open vragen van het meldpunt")]
    async with polling(fake) as app:
        await app.bot.set_my_commands(default)
        await app.bot.set_my_commands(coordinator, scope=BotCommandScopeChat(USER))
        assert [c.command for c in await app.bot.get_my_commands(scope=BotCommandScopeChat(USER))] == [
            "vragen"
        ]
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await app.bot.set_my_commands(
                [BotCommand("Nieuwe-Melding", "Hoofdletters en streepjes mogen niet")]
            )
    assert fake.commands["default"] == [
        {"command": "start", "description": "Begin een nieuwe melding"},
        {"command": "hulp", "description": "Uitleg over het meldpunt"},
    ]
    chat_scope = json.dumps({"type": "chat", "chat_id": USER}, sort_keys=True)
    assert fake.commands[chat_scope] == [{"command": "vragen", "description": "Open vragen van het meldpunt"}]


async def test_updates_queued_before_start_arrive_once_in_order_across_restarts(fake: FakeTelegram) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)

    for text in ["een", "twee", "drie"]:
        fake.send_text(USER, text)
    # Leaving polling() stops the Application, which first handles every update it fetched: no sleep.
    async with polling(fake, MessageHandler(filters.TEXT, record)):
        await fake.wait_until_consumed(timeout=GUARD)
    assert seen == ["een", "twee", "drie"]
    fake.send_text(USER, "vier")
    fake.send_text(USER + 1, "vijf")
    async with polling(fake, MessageHandler(filters.TEXT, record)):
        await fake.wait_until_consumed(timeout=GUARD)
    assert seen == ["een", "twee", "drie", "vier", "vijf"]
    assert fake.pending_updates == []


async def test_webhook_delivery_and_get_updates_conflict(fake: FakeTelegram) -> None:
    port = free_port()
    app = build(fake)
    app.add_handler(ECHO)
    await app.initialize()
    await app.start()
    await app.updater.start_webhook(  # type: ignore[union-attr]
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        secret_token="s3cret",
    )
    try:
        assert fake.webhook is not None and fake.webhook["url"] == f"http://127.0.0.1:{port}/hook"
        assert fake.webhook["secret_token"] == "s3cret"  # PTB's handler answers 403 without the header
        fake.send_text(USER, "via webhook")
        assert (await fake.wait_for(USER, timeout=5)).text == "via webhook"
        await fake.wait_until_consumed(timeout=5)
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates(timeout=0)
        assert (await app.bot.get_webhook_info()).url == f"http://127.0.0.1:{port}/hook"
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()


async def test_webhook_is_retried_until_the_receiver_answers_200(fake: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=200 if len(received) >= 3 else 500)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"{fake.base_url}{fake.token}/setWebhook"
            async with session.post(
                url, data={"url": f"http://127.0.0.1:{port}/hook", "secret_token": "geheim"}
            ) as response:
                assert (await response.json())["result"] is True
        update_id = fake.send_text(USER, "hallo")
        await fake.wait_until_consumed(timeout=3)
    finally:
        await runner.cleanup()
    assert [(secret, body["update_id"]) for secret, body in received] == [("geheim", update_id)] * 3
    assert received[0][1]["message"]["text"] == "hallo"


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    app = build(fake, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await app.initialize()
    await app.bot.request.shutdown()


async def test_stop_releases_a_pending_long_poll_at_once(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/getUpdates"
        # An hour's long poll: only stop() can answer it within the guard.
        poll = asyncio.ensure_future(session.post(url, data={"offset": "0", "timeout": "3600"}))
        await until(lambda: any(method == "getUpdates" for method, _ in fake.calls), timeout=GUARD, what="the long poll arrived")
        await fake.stop()
        response = await asyncio.wait_for(poll, timeout=GUARD)
        assert (await response.json()) == {"ok": True, "result": []}


async def test_errors_on_the_wire(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:

        async def call(method: str, token: str = fake.token, **params: str) -> tuple[int, dict[str, Any]]:
            async with session.post(f"{fake.base_url}{token}/{method}", data=params) as response:
                return response.status, await response.json()

        assert await call("getMe", token="1:nope") == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        assert (await call("sendSomething"))[0] == 404
        assert (await call("sendMessage", chat_id="7", text="<b>fout<br></b>", parse_mode="HTML"))[0] == 400
        assert (await call("sendMessage", chat_id="7", text="3 < 4", parse_mode="HTML"))[0] == 400
        assert (await call("sendMessage", chat_id="7", text="<b>x", parse_mode="HTML"))[0] == 400
        assert (await call("sendMessage", chat_id="7", text="x" * 4097))[0] == 400
        html = '<b>Vet</b> &amp; <a href="https://example.org/?a=1&amp;b=2">link</a> 3 &lt; 4'
        assert (await call("sendMessage", chat_id="7", text=html, parse_mode="HTML"))[0] == 200
        assert fake.sent[-1].text == html and fake.sent[-1].parse_mode == "HTML"
        status, body = await call("sendMessage", chat_id="7", text="ok", reply_markup='{"force_reply": true}')
        assert status == 200 and "reply_markup" not in body["result"]  # only inline keyboards come back
        assert fake.sent[-1].reply_markup == {"force_reply": True} and fake.sent[-1].chat_id == 7
        fake.fail_next("getMe", status=500, retry_after=None, description="Internal Server Error")
        assert await call("getMe") == (
            500,
            {"ok": False, "error_code": 500, "description": "Internal Server Error"},
        )
        assert (await call("getMe"))[0] == 200
        assert [m.message_id for m in fake.sent] == [1, 2]


async def test_injected_updates_parse_as_ptb_updates(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/sendMessage"
        markup = json.dumps({"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]})
        async with session.post(
            url, data={"chat_id": "-100", "text": "Vraag", "reply_markup": markup}
        ) as response:
            assert response.status == 200
    fake.send_text(USER, "/start@meldpunt_test_bot extra", chat_id=-100, chat_type="group", first_name="An")
    fake.send_text(USER, "Mijn antwoord", chat_id=-100, chat_type="group", reply_to=1)
    callback_id = fake.press(USER, 1, "ok", chat_id=-100)
    command, reply, press = (Update.de_json(update, None) for update in fake.pending_updates)
    assert command.message is not None and command.effective_chat is not None
    assert command.effective_chat.title and command.message.from_user is not None
    assert command.message.from_user.first_name == "An"
    assert command.message.parse_entities() == {command.message.entities[0]: "/start@meldpunt_test_bot"}
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert (
        reply.message.reply_to_message.text == "Vraag"
        and reply.message.reply_to_message.from_user is not None
    )
    assert reply.message.reply_to_message.from_user.is_bot
    assert press.callback_query is not None and press.callback_query.id == callback_id
    assert isinstance(press.callback_query.message, Message)
    assert press.callback_query.message.reply_markup is not None
    assert press.callback_query.message.chat.id == -100
    with pytest.raises(ValueError, match="chat_id"):
        fake.send_text(USER, "x", chat_type="group")
