"""Kill the Telegram bot 20 times during a referral, 0–200 ms after an update: every update takes effect once.

The bot runs as a real process (tests/telegram_child.py, forked from a process that imported everything)
polling our fake Bot API server on 127.0.0.1, on the test's database. Two staff members make the same
minimal referral, typed and pressed as in tests/test_telegram.py: Els without interruption, Jan while the
test SIGKILLs the bot at 20 seeded random steps (`MELDPUNT_TEST_SEED` picks another seed), a uniform
0–200 ms after the step's update was queued, and starts it again. The kill moments are random; the
assertions are about outcomes only:
- every update of Jan's got its answer (a new or edited message) after the restart: none was lost;
- Jan's chat reads as Els's (repeats of one message aside, at most one per kill: a message sent just
  before the kill, whose sending was not yet recorded, is sent again) and both referrals were submitted
  with the same answers: no update was applied twice, none skipped.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store import staff as staff_repo
from store import telegram as telegram_repo
from store.db import create_db_engine, make_session_factory
from store.models import Referral
from tests.child_process import ChildProcess
from tests.mail_harness import NOW
from tests.telegram_fake import FakeTelegram
from tests.test_telegram import MINIMAL_STEPS

SEED = int(os.environ.get("MELDPUNT_TEST_SEED", "20261130"))
KILLS = 20
KILL_WINDOW = 0.2  # seconds after an update is queued
STEP_TIMEOUT = 20.0  # seconds any one wait may take before the test fails (never hangs)
ELS, JAN = 2001, 2002
MAILS = {ELS: "els@clb-halle.example", JAN: "jan@clb-halle.example"}
# The whole referral: open it, answer every question, confirm the summary.
SCRIPT: list[tuple[str, str]] = [("type", "/aanmelden"), *MINIMAL_STEPS, ("press", "Bevestigen")]


class Zygote(ChildProcess):
    """`python -m tests.telegram_child`: forks bot processes on demand; its output read line by line in a thread."""

    def __init__(self, database_url: str, api_url: str) -> None:
        """Start it and wait until it imported everything."""
        super().__init__("tests.telegram_child", database_url, api_url, stdin=True)
        self.bot: int | None = None

    async def line(self, prefix: str) -> str:
        """The next line starting with prefix (other lines, such as warnings, are kept for the failure text)."""
        while True:
            try:
                line = await asyncio.to_thread(self.lines.get, timeout=STEP_TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no '{prefix}' within {STEP_TIMEOUT} s:\n{self.tail()}") from None
            if line is None:
                raise AssertionError(f"the zygote ended before '{prefix}':\n{self.tail()}")
            if line.startswith(prefix):
                return line.strip()

    async def start_bot(self) -> None:
        """Fork a bot process and wait until it polls."""
        assert self.process.stdin is not None
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        self.bot = int((await self.line("ready ")).split()[1])

    async def kill_bot(self) -> None:
        """SIGKILL the bot process: no cleanup, no last commit, like a power cut."""
        assert self.bot is not None
        os.kill(self.bot, signal.SIGKILL)
        await self.line(f"ended {self.bot}")
        self.bot = None

    def close(self) -> None:
        """Kill the bot, then end the zygote."""
        if self.bot is not None:
            os.kill(self.bot, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@contextmanager
def zygote(database_url: str, api_url: str) -> Iterator[Zygote]:
    """A zygote, closed (with its bot) afterwards."""
    started = Zygote(database_url, api_url)
    try:
        yield started
    finally:
        started.close()


def link_staff(sessions: sessionmaker[Session]) -> None:
    """Els and Jan: same name and CLB (so their chats read alike), each with a linked Telegram account."""
    with sessions.begin() as session:
        for user, email in MAILS.items():
            member = staff_repo.add_staff(session, email=email, name="Medewerker Test", clb="Vrij CLB Halle", now=NOW)
            telegram_repo.link(session, user, member, now=NOW)


def progress(fake: FakeTelegram, user: int) -> int:
    """Messages to the user plus their edits: grows with every answer the bot gives."""
    messages = fake.messages_to(user)
    return len(messages) + sum(message.edits for message in messages)


def queue_step(fake: FakeTelegram, user: int, how: str, what: str) -> None:
    """Queue one update: typed text, or a press on the newest message (by label, exact data or toggle index)."""
    if how == "type":
        fake.send_text(user, what)
        return
    question = fake.messages_to(user)[-1]
    if how == "toggle":
        data = next(d for _, d in question.buttons() if d.startswith("t|") and d.endswith(f"|{what}"))
    else:
        data = what if "|" in what else question.button(what)
    fake.press(user, question.message_id, data)


async def answered(fake: FakeTelegram, user: int, before: int, number: int) -> None:
    """Wait until the bot took the update (confirmed it) and answered it (a new or edited message)."""
    await fake.wait_until(
        lambda: not fake.pending_updates and progress(fake, user) > before, timeout=STEP_TIMEOUT,
        what=f"seed {SEED}: step {number} ({SCRIPT[number]}) got no answer, the update was lost",
    )


def read(fake: FakeTelegram, user: int) -> list[str]:
    """The chat as the person reads it, repeats of one message once; addresses and references made alike.

    A repeat is the same text, or the start of the next message's text: a question sent again whose
    second copy was pressed and then edited to show the choice.
    """
    texts = [message.text for message in fake.messages_to(user)]
    texts = [re.sub(r"MSI-\d{4}-\d{4}", "MSI-…", text).replace(MAILS[user], "…") for text in texts]
    return [text for text, after in zip(texts, [*texts[1:], None], strict=True) if after is None or not after.startswith(text)]


def referral_answers(sessions: sessionmaker[Session]) -> dict[str, dict[str, object]]:
    """Each submitted referral's answers, by the referrer's address (which is left out)."""
    with sessions() as session:
        found = list(session.scalars(select(Referral)))
    assert all(r.status is not Status.DRAFT for r in found), [r.status for r in found]
    return {str(r.answers.get("referrer_email")): {k: v for k, v in r.answers.items() if k != "referrer_email"} for r in found}


async def test_a_killed_bot_handles_every_update_of_a_referral_exactly_once(database_url: str) -> None:
    """20 SIGKILLs within 200 ms of an update: after each restart the update took effect, once."""
    engine = create_db_engine(database_url)
    sessions = make_session_factory(engine)
    link_staff(sessions)
    rng = random.Random(SEED)
    kill_steps = set(rng.sample(range(len(SCRIPT)), KILLS))
    try:
        async with FakeTelegram() as fake:
            with zygote(database_url, fake.base_url) as child:
                await child.line("zygote")
                await child.start_bot()
                for number, (how, what) in enumerate(SCRIPT):
                    before = progress(fake, ELS)
                    queue_step(fake, ELS, how, what)
                    await answered(fake, ELS, before, number)
                for number, (how, what) in enumerate(SCRIPT):
                    before = progress(fake, JAN)
                    queue_step(fake, JAN, how, what)
                    if number in kill_steps:
                        await asyncio.sleep(rng.uniform(0.0, KILL_WINDOW))
                        await child.kill_bot()
                        await child.start_bot()
                    await answered(fake, JAN, before, number)
        els, jan = read(fake, ELS), read(fake, JAN)
        repeats = len(fake.messages_to(JAN)) - len(jan)
        print(f"seed {SEED}: {KILLS} kills, {len(jan)} messages, {repeats} sent again")  # shown with -s
        assert jan == els, f"seed {SEED}: Jan's chat differs from Els's"
        assert repeats <= KILLS, f"seed {SEED}: {repeats} messages sent again after {KILLS} kills"
        answers = referral_answers(sessions)
        assert set(answers) == set(MAILS.values()), f"both referrals submitted: {sorted(answers)}"
        assert answers[MAILS[JAN]] == answers[MAILS[ELS]], f"seed {SEED}: Jan's answers differ from Els's"
    finally:
        engine.dispose()
