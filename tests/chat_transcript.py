"""The chat desk without Telegram: what a person sends in, what the assistant answers, on a real database.

Modelled on Zulip's bot tests (zulip_bots/test_lib.py `verify_dialog`): a transcript is a list of
(what the person sends, a piece of what the assistant answers). A line is typed text; "/command
argument" a command; "[label]" presses the button whose label contains it, or whose data matches it as a
glob ("[t|*|0]"), on the newest message of that chat showing one; "↩ text" replies to the bot's newest
message in that chat. The chat keeps each message's buttons as Telegram would: a press edits or clears them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.chat import Answer, ChatEvent
from bot.desk import Desk, DeskConfig
from bot.keyboards import Keyboard
from desk.workflow import IntakeWorkflow
from intake.vocabulary import Mode
from store import staff as staff_repo
from store import telegram as telegram_repo
from store.mail_models import OutboxMessage, Question
from tests.mail_harness import Clock, shared_intake

COORDINATOR_CHAT, COORDINATOR_USER = -100555, 7000
_CODE = re.compile(r"Je code: (\d{6})")


@dataclass
class Shown:
    """A message the bot sent into a chat, with the buttons it shows now."""

    text: str
    buttons: Keyboard


@dataclass
class Relayed:
    """An answer the desk handed to the mail side, because the asker is no longer in chat."""

    question: int
    answer: str
    by: str


@dataclass
class Transcript:
    """One desk on a real database; chats as lists of shown messages; commits counted per turn."""

    desk: Desk
    engine: Engine
    chats: dict[int, list[Shown]] = field(default_factory=dict)
    relayed: list[Relayed] = field(default_factory=list)
    commits: list[int] = field(default_factory=list)  # real (not savepoint) commits of each turn

    # --- people ----------------------------------------------------------------------------------
    def staff(self, user: int, email: str, name: str, *, linked: bool = True) -> None:
        """A registered CLB staff member, with this Telegram account linked unless said otherwise."""
        now = self.desk.clock()
        with self.desk.sessions.begin() as session:
            member = staff_repo.add_staff(session, email=email, name=name, clb="Vrij CLB Halle", now=now)
            if linked:
                telegram_repo.link(session, user, member, now=now)

    def code_mailed_to(self, email: str) -> str:
        """The linking code in the newest mail to this address."""
        with self.desk.sessions() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == email).order_by(OutboxMessage.id)).all()
        assert rows, f"no mail to {email}"
        found = _CODE.search(rows[-1].body_text)
        assert found, "the mail carries no code"
        return found[1]

    # --- turns -----------------------------------------------------------------------------------
    def send(self, user: int, line: str, *, chat: int | None = None) -> Answer:
        """One turn: the line as Telegram would deliver it, the desk's answer shown in the chats."""
        chat_id = user if chat is None else chat
        chat_event, pressed = self._event(user, chat_id, line)
        commits = _Commits()
        event.listen(self.engine, "commit", commits)
        try:
            answer = self.desk.handle(chat_event)
        finally:
            event.remove(self.engine, "commit", commits)
        self.commits.append(commits.count)
        self._show(chat_id, answer, pressed)
        return answer

    def verify(self, user: int, script: list[tuple[str, str]], *, chat: int | None = None) -> None:
        """Each line in turn; the answer (replies anywhere and the button notice) must contain the expected piece."""
        for line, expected in script:
            answer = self.send(user, line, chat=chat)
            said = "\n---\n".join([*(r.text for r in answer.replies), answer.toast or ""])
            assert expected in said, f"after {line!r} expected {expected!r}, the assistant said:\n{said}"

    def last(self, chat: int) -> str:
        """The newest message in a chat."""
        return self.chats[chat][-1].text

    def _event(self, user: int, chat: int, line: str) -> tuple[ChatEvent, Shown | None]:
        private = chat == user
        if line.startswith("/"):
            word, _, argument = line[1:].partition(" ")
            return ChatEvent(user_id=user, chat_id=chat, private=private, command=word, argument=argument), None
        if line.startswith("[") and line.endswith("]"):
            shown, data = self._button(chat, line[1:-1])
            return ChatEvent(user_id=user, chat_id=chat, private=private, button=data, pressed_text=shown.text), shown
        if line.startswith("↩ "):
            return ChatEvent(user_id=user, chat_id=chat, private=private, text=line[2:], reply_to_bot_text=self.last(chat)), None
        return ChatEvent(user_id=user, chat_id=chat, private=private, text=line), None

    def _button(self, chat: int, needle: str) -> tuple[Shown, str]:
        for shown in reversed(self.chats.get(chat, [])):
            for row in shown.buttons:
                for button in row:
                    if needle in button.text or fnmatchcase(button.data, needle):
                        return shown, button.data
        raise AssertionError(f"no button {needle!r} in chat {chat}")

    def _show(self, chat: int, answer: Answer, pressed: Shown | None) -> None:
        """What Telegram would show after the answer: pressed buttons tidied, new messages added."""
        if pressed is not None and answer.clear_pressed:
            pressed.buttons = ()
            pressed.text = answer.record or pressed.text
        for reply in answer.replies:
            if reply.edit_keyboard:
                if pressed is not None:
                    pressed.buttons = reply.buttons
                continue
            self.chats.setdefault(reply.chat_id or chat, []).append(Shown(reply.text, reply.buttons))



class _Commits:
    """Counts the engine's real commits (a savepoint's release is no commit)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, connection: object) -> None:
        self.count += 1


def transcript(sessions: sessionmaker[Session], *, mode: Mode = Mode.MINIMAL, coordinator_chat: int | None = COORDINATOR_CHAT) -> Transcript:
    """A desk wired as `meldpunt serve` wires it, on the test's database and a fixed clock."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    config = DeskConfig(mode=mode, coordinator_chat_id=coordinator_chat, mail_domain="meldpunt.example")
    relayed: list[Relayed] = []

    def relay_by_mail(session: Session, question: Question, answer: str, by: str, now: datetime) -> None:
        """The mail side's relay, as the desk calls it: noted."""
        relayed.append(Relayed(question.id, answer, by))

    desk = Desk(IntakeWorkflow(shared_intake(), sessions), sessions, config, clock=Clock(), relay_by_mail=relay_by_mail)
    return Transcript(desk=desk, engine=engine, relayed=relayed)
