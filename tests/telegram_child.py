"""A Telegram bot process for tests/test_telegram_crash.py: our bot, polling the test's fake Bot API server.

Run: `python -m tests.telegram_child DB_URL API_URL` from the repository root. It imports everything once
(a "zygote"), says `zygote`, then reads commands on stdin: `run` forks a fresh bot process, which says
`ready PID` once it polls, and waits until that process is gone (the parent SIGKILLs it), then says
`ended PID`; `quit` ends. Forking from a process that already imported PTB, SQLAlchemy and the desk
makes a restart cost milliseconds instead of a second and a half, so 20 kills fit in a short test.
The bot is wired as `meldpunt serve` wires it (Desk over IntakeWorkflow, TelegramBot polling), with a
fixed clock and no mail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bot.desk import Desk, DeskConfig
from bot.telegram_bot import TelegramBot, TelegramConfig
from desk.workflow import IntakeWorkflow
from intake.dialogue import Intake
from intake.vocabulary import Mode
from store.db import create_db_engine, make_session_factory
from tests.mail_harness import NOW, shared_intake

TOKEN = "123456:TEST-TOKEN"  # FakeTelegram's default


def say(line: str) -> None:
    """One line for the parent, flushed at once (a fork must not inherit unwritten output)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def serve(database_url: str, api_url: str, intake: Intake) -> None:
    """Run the bot until killed."""
    sessions = make_session_factory(create_db_engine(database_url))
    desk = Desk(
        IntakeWorkflow(intake, sessions), sessions, DeskConfig(mode=Mode.MINIMAL, mail_domain="meldpunt.example"),
        relay_by_mail=lambda *args: None, clock=lambda: NOW,
    )
    bot = TelegramBot(TelegramConfig(token=TOKEN, api_url=api_url, poll_timeout=1), desk, flood_control=False)
    await bot.start()
    say(f"ready {os.getpid()}")
    await asyncio.Event().wait()


def main(argv: list[str]) -> int:
    """The zygote's command loop."""
    database_url, api_url = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    intake = shared_intake()  # loaded before forking, once
    say("zygote")
    for line in sys.stdin:
        if line.strip() != "run":
            break
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(serve(database_url, api_url, intake))
            finally:
                os._exit(1)
        os.waitpid(pid, 0)
        say(f"ended {pid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
