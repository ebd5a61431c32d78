"""Telegram updates are acknowledged only once handled (issue 12, points 1 and 2), checked in-process.

The crash test (tests/test_telegram_crash.py) kills a real bot process; these show the same promises
without processes: a redelivered update is not applied twice, and a press Telegram no longer lets us
answer (older than ~15 s) still moves the conversation on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.chat import chat_text
from tests.telegram_harness import running_chat
from tests.test_telegram import ELS, ELS_MAIL, MINIMAL_STEPS, staff_with_link, step


async def test_a_button_pressed_while_the_bot_was_down_still_brings_the_next_question(
    session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        first = [i for i, (how, _) in enumerate(MINIMAL_STEPS) if how == "press"][0]
        for how, what in MINIMAL_STEPS[:first]:
            await step(h, ELS, how, what)
        question = h.fake.messages_to(ELS)[-1]
        await h.stop_bot()
        before = len(h.fake.messages_to(ELS))
        h.fake.press(ELS, question.message_id, question.button(MINIMAL_STEPS[first][1]))
        h.fake.age_callbacks()  # the service was down longer than Telegram lets a press be answered
        caplog.clear()
        await h.start_bot()
        await h.settle()
        texts = [m.text for m in h.fake.messages_to(ELS)[before:]]
        assert chat_text("failure") not in texts, "a press too old to answer is no failure"
        assert texts and texts[-1] != question.text, f"the next question follows: {texts}"
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("bot")]
        # The conversation goes on from there: the next answer is taken, not called stale.
        _, typed = MINIMAL_STEPS[first + 1]
        after = await h.say(ELS, typed)
        assert after and chat_text("stale") not in [m.text for m in after]
        assert after[-1].text != texts[-1], "the typed answer moved on to the question after"
