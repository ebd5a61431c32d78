"""A fake Telegram Bot API server on loopback: PTB polls it (or gets webhooks), tests play the users."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

# Parameters PTB JSON-encodes (non-string values). Every other one arrives as a raw string and stays one.
JSON_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "reply_markup",
        "reply_parameters",
        "commands",
        "scope",
        "offset",
        "limit",
        "timeout",
        "allowed_updates",
        "show_alert",
        "cache_time",
        "disable_notification",
        "link_preview_options",
        "entities",
        "drop_pending_updates",
        "max_connections",
        "reply_to_message_id",
        "protect_content",
        "allow_sending_without_reply",
        "message_thread_id",
        "menu_button",
        "revoke_messages",
    }
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
USER_MESSAGE_IDS_FROM = 1_000_001  # user messages get ids of their own, apart from the bot's 1, 2, 3 ...
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre"}
    | {"blockquote", "tg-emoji", "tg-time"}
)
HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
CANT_PARSE = "Bad Request: can't parse entities: "


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class SentMessage:
    """A message the bot sent (or edited), as the fake server keeps it."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JSONDict | None
    reply_to_message_id: int | None
    parse_mode: str | None
    edits: int = 0
    deleted: bool = False

    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button, row by row ("" for buttons without callback_data)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button.get("text", ""), button.get("callback_data", "")) for row in rows for button in row]

    def button(self, text_part: str) -> str:
        """callback_data of the first button whose text contains text_part (AssertionError if none)."""
        for text, data in self.buttons():
            if text_part in text:
                return data
        raise AssertionError(
            f"no button containing {text_part!r} in message {self.message_id}: {self.buttons()}"
        )


@dataclass
class _FailPlan:
    """How the next calls of one method fail."""

    times: int
    status: int
    retry_after: int | None
    description: str


def decode_params(raw: dict[str, Any]) -> JSONDict:
    """Decode parameters as PTB encoded them: JSON for known non-string params, raw strings otherwise."""
    params: JSONDict = {}
    for key, value in raw.items():
        if key in JSON_PARAMS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


def as_chat_id(value: object) -> int:
    """A chat_id parameter as int ("4242" too); 400 chat not found otherwise."""
    if isinstance(value, bool):
        raise ApiError(400, "Bad Request: chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ApiError(400, "Bad Request: chat not found")


def as_int(value: object, name: str) -> int:
    """An integer parameter (also from a numeric string); 400 otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ApiError(400, f"Bad Request: invalid {name} specified")


def as_bool(value: object) -> bool:
    """A boolean parameter (true/false, also as string)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return bool(value)


def check_html(text: str) -> None:
    """Reject HTML that parse_mode=HTML refuses: unknown tags (br, p ...), unbalanced tags, a stray '<'."""
    stack: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        match = HTML_TAG.match(text, start)
        offset = len(text[:start].encode())
        if match is None:
            raise ApiError(400, f"{CANT_PARSE}Unexpected '<' at byte offset {offset}")
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in HTML_TAGS:
            kind = "end" if closing else "start"
            raise ApiError(
                400,
                f'{CANT_PARSE}Unsupported {kind} tag "{name}" at byte offset {offset}',
            )
        if closing:
            if not stack or stack[-1] != name:
                raise ApiError(
                    400,
                    f"{CANT_PARSE}Unmatched end tag at byte offset {offset}, "
                    f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"',
                )
            stack.pop()
        else:
            stack.append(name)
        position = match.end()
    if stack:
        raise ApiError(
            400,
            f'{CANT_PARSE}Can\'t find end tag corresponding to start tag "{stack[-1]}"',
        )


def check_reply_markup(markup: object) -> JSONDict | None:
    """Validate reply_markup: a JSON object; inline buttons need text, callback_data of 1-64 bytes."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def update_kind(update: JSONDict) -> str:
    """The update type of an update dict (message, callback_query ...)."""
    return next(key for key in update if key != "update_id")


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that PTB polls; tests inject user messages and read the bot's replies."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        bot_username: str = "meldpunt_test_bot",
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.sent: list[SentMessage] = []
        self.callback_answers: list[JSONDict] = []
        self.commands: dict[str, list[JSONDict]] = {}
        self.calls: list[tuple[str, JSONDict]] = []
        self.webhook: JSONDict | None = None
        self.port: int | None = None
        self._pending: list[JSONDict] = []  # queued updates the bot has not confirmed yet, by update_id
        self._update_ids = itertools.count(10_001)
        self._callback_ids = itertools.count(1)
        # (chat_id, message_id) -> the current Message dict of a bot message
        self._bot_messages: dict[tuple[int, int], JSONDict] = {}
        self._by_key: dict[tuple[int, int], SentMessage] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._next_bot_id: dict[int, int] = {}
        self._next_user_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._first_names: dict[int, str] = {}
        self._callback_queries: set[str] = set()
        self._failures: dict[str, _FailPlan] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[JSONDict], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": lambda params: True,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMessage": self._delete_message,
                "setChatMenuButton": lambda params: True,
                "close": lambda params: True,
                "logOut": lambda params: True,
            }.items()
        }

    # --- lifecycle ---

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port and start the webhook sender."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closing = False
        self._session = aiohttp.ClientSession(trust_env=False)
        self._webhook_task = asyncio.create_task(self._deliver_webhooks(), name="FakeTelegram webhook sender")

    async def stop(self) -> None:
        """Answer every pending long poll with [] at once, then shut the server down."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            try:
                await self._webhook_task
            except asyncio.CancelledError:
                pass
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The base_url for ApplicationBuilder (PTB appends the token)."""
        return f"http://127.0.0.1:{self._port()}/bot"

    @property
    def base_file_url(self) -> str:
        """The base_file_url for ApplicationBuilder."""
        return f"http://127.0.0.1:{self._port()}/file/bot"

    def _port(self) -> int:
        """The listening port; AssertionError before start()."""
        assert self.port is not None, "FakeTelegram is not started"
        return self.port

    # --- the test side: users act ---

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        reply_to: int | None = None,
    ) -> int:
        """Queue an update with a text message from a user; returns its update_id."""
        if chat_id is None:
            if chat_type != "private":
                raise ValueError("a group chat needs chat_id")
            chat_id = user_id
        self._first_names[user_id] = first_name
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = f"Test group {chat_id}"
        self._chats[chat_id] = chat
        message_id = self._next_user_id.get(chat_id, USER_MESSAGE_IDS_FROM)
        self._next_user_id[chat_id] = message_id + 1
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self._user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0] if text.split() else text
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = dict(self._bot_message(chat_id, reply_to))
        self._user_messages[(chat_id, message_id)] = message
        return self._queue({"message": message})

    def edit_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> int:
        """Queue an edited_message update: the user changes the newest message they sent; returns its update_id."""
        chat_id = user_id if chat_id is None else chat_id
        message_id = self._next_user_id.get(chat_id, USER_MESSAGE_IDS_FROM) - 1
        message = self._user_messages.get((chat_id, message_id))
        if message is None:
            raise AssertionError(f"user {user_id} sent no message to chat {chat_id} to edit")
        message.update(text=text, edit_date=int(time.time()))
        return self._queue({"edited_message": _copy(message)})

    def press(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> str:
        """Queue an update with a callback query (a press on a bot message's button); returns its id."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._bot_message(chat_id, message_id)
        callback_id = f"cb{next(self._callback_ids)}-{user_id}"
        self._callback_queries.add(callback_id)
        query: JSONDict = {
            "id": callback_id,
            "from": self._user(user_id),
            "chat_instance": f"instance-{chat_id}",
            "data": data,
            "message": _copy(message),
        }
        self._queue({"callback_query": query})
        return callback_id

    def age_callbacks(self) -> None:
        """Every press so far is now too old to answer: answerCallbackQuery refuses it, as Telegram does after ~15 s."""
        self._callback_queries.clear()

    # --- the test side: what the bot did ---

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """The messages the bot sent to one chat, in order."""
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] = lambda message: True,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> SentMessage:
        """The first message to chat_id (index >= after) satisfying predicate now, waiting up to timeout."""

        def found() -> SentMessage | None:
            return next((m for m in self.messages_to(chat_id)[after:] if predicate(m)), None)

        try:
            async with asyncio.timeout(timeout):
                while (message := found()) is None:
                    await self._changed_event().wait()
        except TimeoutError:
            texts = [m.text for m in self.messages_to(chat_id)]
            raise AssertionError(
                f"no matching message to chat {chat_id} (from index {after}) within {timeout} s; "
                f"sent: {texts}"
            ) from None
        return message

    async def wait_for_text(
        self, chat_id: int, fragment: str, *, timeout: float = 10.0, after: int = 0
    ) -> SentMessage:
        """The first message to chat_id (from index `after` on) whose text contains fragment."""
        return await self.wait_for(
            chat_id, lambda message: fragment in message.text, timeout=timeout, after=after
        )

    async def wait_until_consumed(self, *, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed every queued update (handlers may still be running)."""
        try:
            async with asyncio.timeout(timeout):
                while self._pending:
                    await self._changed_event().wait()
        except TimeoutError:
            ids = [update["update_id"] for update in self._pending]
            raise AssertionError(f"updates {ids} not consumed within {timeout} s") from None

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "a change") -> None:
        """Wait until predicate() holds, re-checked at every change (send, edit, queued or confirmed update)."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._changed_event().wait()
        except TimeoutError:
            raise AssertionError(f"{what}: not within {timeout} s") from None

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        description: str = "Too Many Requests: retry after 1",
    ) -> None:
        """Let the next `times` calls of method fail with status (and parameters.retry_after unless None)."""
        self._failures[method.lower()] = _FailPlan(times, status, retry_after, description)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Queued updates the bot has not confirmed yet."""
        return list(self._pending)

    # --- internals: bookkeeping ---

    def _notify(self) -> None:
        """Wake everyone waiting for a change (sends, edits, queued or confirmed updates, stop)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _changed_event(self) -> asyncio.Event:
        """The event the next change sets."""
        return self._changed

    def _queue(self, payload: JSONDict) -> int:
        """Queue an update and wake long polls; returns its update_id."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def _confirm_below(self, offset: int) -> None:
        """Drop every pending update with update_id < offset (getUpdates offset semantics)."""
        before = len(self._pending)
        self._pending = [update for update in self._pending if update["update_id"] >= offset]
        if len(self._pending) != before:
            self._notify()

    def _drop_unwanted(self, allowed: object) -> None:
        """Drop pending updates of a type missing from a non-empty allowed_updates list."""
        if isinstance(allowed, list) and allowed:
            kept = [update for update in self._pending if update_kind(update) in allowed]
            if len(kept) != len(self._pending):
                self._pending = kept
                self._notify()

    def _user(self, user_id: int) -> JSONDict:
        """A User dict for a test user."""
        return {"id": user_id, "is_bot": False, "first_name": self._first_names.get(user_id, "Test")}

    def _bot_user(self) -> JSONDict:
        """The User dict of the bot."""
        return {"id": self.bot_id, "is_bot": True, "first_name": "Meldpunt", "username": self.bot_username}

    def _chat(self, chat_id: int) -> JSONDict:
        """The Chat dict for a chat id (a private chat unless a user wrote from a group)."""
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": self._first_names.get(chat_id, "Test")}
        return {"id": chat_id, "type": "group", "title": f"Test group {chat_id}"}

    def _bot_message(self, chat_id: int, message_id: int) -> JSONDict:
        """The current dict of a message the bot sent; AssertionError if it never sent it."""
        message = self._bot_messages.get((chat_id, message_id))
        if message is None:
            known = sorted(mid for cid, mid in self._bot_messages if cid == chat_id)
            raise AssertionError(
                f"the bot never sent message {message_id} to chat {chat_id} (it sent {known})"
            )
        return message

    # --- internals: HTTP ---

    async def _handle(self, request: web.Request) -> web.Response:
        """Dispatch one Bot API call."""
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _read_params(request)
        self.calls.append((method, params))
        key = method.lower()
        handler = self._methods.get(key)
        if key == "getupdates":
            handler = None
        elif handler is None:
            return _error(404, "Not Found")
        plan = self._failures.get(key)
        if plan is not None:
            plan.times -= 1
            if plan.times <= 0:
                del self._failures[key]
            parameters = None if plan.retry_after is None else {"retry_after": plan.retry_after}
            return _error(plan.status, plan.description, parameters)
        try:
            if handler is None:
                result: Any = await self._get_updates(params)
            else:
                result = handler(params)
        except ApiError as exc:
            return _error(exc.status, exc.description, exc.parameters)
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """getUpdates: confirm below offset, answer pending updates or long-poll up to timeout."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = as_int(params.get("offset", 0), "offset")
        limit = min(max(as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if offset > 0:
            self._confirm_below(offset)
        self._drop_unwanted(allowed)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
            ready = [update for update in self._pending if update["update_id"] >= offset][:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or self._closing or remaining <= 0:
                return [_copy(update) for update in ready]
            try:
                await asyncio.wait_for(self._changed_event().wait(), remaining)
            except TimeoutError:
                pass

    async def _deliver_webhooks(self) -> None:
        """While a webhook is set, POST each pending update to it until it answers 200, every 0.1 s."""
        while not self._closing:
            webhook = self.webhook
            if webhook is not None:
                self._drop_unwanted(webhook.get("allowed_updates"))
            if webhook is None or not self._pending or self._session is None:
                await self._changed_event().wait()
                continue
            update = self._pending[0]
            headers = {}
            if webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(webhook["secret_token"])
            try:
                async with self._session.post(
                    str(webhook["url"]), json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    delivered = response.status == 200
            except (aiohttp.ClientError, OSError, TimeoutError):
                delivered = False
            if delivered:
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                    self._notify()
            else:
                await asyncio.sleep(0.1)

    # --- internals: methods ---

    def _get_me(self, params: JSONDict) -> JSONDict:
        """getMe."""
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _delete_webhook(self, params: JSONDict) -> bool:
        """deleteWebhook (drop_pending_updates confirms everything queued)."""
        self.webhook = None
        if as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
        self._notify()
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        """setWebhook; an empty url removes the webhook."""
        url = params.get("url", "")
        if not url:
            return self._delete_webhook(params)
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
        self.webhook = {key: value for key, value in params.items() if not isinstance(value, bytes)}
        self._notify()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        """getWebhookInfo."""
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            for key in ("max_connections", "allowed_updates", "ip_address"):
                if self.webhook.get(key) is not None:
                    info[key] = self.webhook[key]
        return info

    def _check_text(self, params: JSONDict) -> tuple[str, str | None]:
        """The text and parse_mode of a send/edit call, validated like Telegram does."""
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        parse_mode = params.get("parse_mode") or None
        if parse_mode is not None and str(parse_mode).lower() == "html":
            check_html(text)
        return text, parse_mode

    def _send_message(self, params: JSONDict) -> JSONDict:
        """sendMessage."""
        chat_id = as_chat_id(params.get("chat_id"))
        text, parse_mode = self._check_text(params)
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        message_id = self._next_bot_id.get(chat_id, 1)
        self._next_bot_id[chat_id] = message_id + 1
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "text": text,
        }
        if reply_to is not None:
            target = self._bot_messages.get((chat_id, reply_to)) or self._user_messages.get(
                (chat_id, reply_to)
            )
            if target is not None:
                message["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards come back in a Message
        self._bot_messages[(chat_id, message_id)] = message
        sent = SentMessage(chat_id, message_id, text, markup, reply_to, parse_mode)
        self._by_key[(chat_id, message_id)] = sent
        self.sent.append(sent)
        self._notify()
        return message

    def _reply_target(self, chat_id: int, params: JSONDict) -> int | None:
        """The message id a send replies to (reply_parameters or reply_to_message_id); 400 if unknown."""
        reply = params.get("reply_parameters")
        allow_missing = as_bool(params.get("allow_sending_without_reply", False))
        if isinstance(reply, dict):
            target = as_int(reply.get("message_id"), "message_id")
            chat_id = as_chat_id(reply.get("chat_id", chat_id))
            allow_missing = allow_missing or as_bool(reply.get("allow_sending_without_reply", False))
        elif params.get("reply_to_message_id") is not None:
            target = as_int(params["reply_to_message_id"], "reply_to_message_id")
        else:
            return None
        key = (chat_id, target)
        if key not in self._bot_messages and key not in self._user_messages and not allow_missing:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _editable(self, params: JSONDict) -> tuple[SentMessage, JSONDict]:
        """The SentMessage and message dict an edit call targets; 400 if there is none."""
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: message to edit not found")
        chat_id = as_chat_id(params.get("chat_id"))
        message_id = as_int(params.get("message_id"), "message_id")
        sent = self._by_key.get((chat_id, message_id))
        if sent is None or sent.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return sent, self._bot_messages[(chat_id, message_id)]

    def _apply_edit(
        self, sent: SentMessage, message: JSONDict, text: str, markup: JSONDict | None
    ) -> JSONDict:
        """Change a message in place (400 if nothing changes); the edited Message dict."""
        if text == sent.text and markup == sent.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        sent.text = text
        sent.reply_markup = markup
        sent.edits += 1
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        self._notify()
        return _copy(message)

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        """editMessageText: without reply_markup the inline keyboard goes away, as on Telegram."""
        sent, message = self._editable(params)
        text, parse_mode = self._check_text(params)
        markup = check_reply_markup(params.get("reply_markup"))
        result = self._apply_edit(sent, message, text, markup)
        sent.parse_mode = parse_mode
        return result

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        """editMessageReplyMarkup: without reply_markup the inline keyboard goes away."""
        sent, message = self._editable(params)
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(sent, message, sent.text, markup)

    def _answer_callback_query(self, params: JSONDict) -> bool:
        """answerCallbackQuery; 400 for an id the fake never issued."""
        query_id = params.get("callback_query_id")
        if query_id not in self._callback_queries:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        answer = {
            "callback_query_id": query_id,
            "text": params.get("text"),
            "show_alert": as_bool(params.get("show_alert", False)),
        }
        answer.update({key: value for key, value in params.items() if key not in answer})
        self.callback_answers.append(answer)
        return True

    def _commands_key(self, params: JSONDict) -> str:
        """The key of self.commands for a scope (+ "|<language_code>" when one is given)."""
        scope = params.get("scope")
        key = (
            "default"
            if not scope or (isinstance(scope, dict) and scope.get("type") == "default")
            else json.dumps(scope, sort_keys=True)
        )
        language = params.get("language_code")
        return f"{key}|{language}" if language else key

    def _set_my_commands(self, params: JSONDict) -> bool:
        """setMyCommands: names 1-32 of a-z0-9_, descriptions 1-256 characters, as Telegram checks."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(
                    400,
                    "Bad Request: command description is empty"
                    if not command.get("description")
                    else "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
                )
        self.commands[self._commands_key(params)] = commands
        return True

    def _delete_my_commands(self, params: JSONDict) -> bool:
        """deleteMyCommands."""
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        """getMyCommands."""
        return self.commands.get(self._commands_key(params), [])

    def _delete_message(self, params: JSONDict) -> bool:
        """deleteMessage: the SentMessage stays in `sent`, marked deleted."""
        chat_id = as_chat_id(params.get("chat_id"))
        message_id = as_int(params.get("message_id"), "message_id")
        sent = self._by_key.get((chat_id, message_id))
        if sent is not None and not sent.deleted:
            sent.deleted = True
            self._bot_messages.pop((chat_id, message_id), None)
            self._notify()
            return True
        if self._user_messages.pop((chat_id, message_id), None) is not None:
            return True
        raise ApiError(400, "Bad Request: message to delete not found")


def _copy(data: JSONDict) -> JSONDict:
    """A deep copy through JSON, so the bot side never shares dicts with the fake's state."""
    copied: JSONDict = json.loads(json.dumps(data))
    return copied


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the way Telegram counts offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _error(status: int, description: str, parameters: JSONDict | None = None) -> web.Response:
    """An error answer: HTTP status and {"ok": false, "error_code", "description"[, "parameters"]}."""
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters is not None:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> JSONDict:
    """The call's parameters: query string plus form, multipart (files as bytes) or JSON body."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                return {**decode_params(raw), **body}
        else:
            form = await request.post()
            for key, value in form.items():
                raw[key] = value if isinstance(value, str | bytes | bytearray) else value.file.read()
    return decode_params(raw)
