"""The Telegram chat reads as a record: chosen answers stay visible, progress is explained, nothing is silent."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue import DialogueState
from intake.lifecycle import Status
from intake.vocabulary import Mode
from store import conversations, questions, referrals
from tests.telegram_harness import COORDINATOR_CHAT, ChatHarness, running_chat
from tests.test_telegram import ELS, ELS_MAIL, MINIMAL_STEPS, TYPED, answer_all, staff_with_link, step

_PROGRESS = re.compile(r"vraag (\d+) van (\d+)")


async def _linked(h: ChatHarness) -> None:
    staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")


def _state(session_factory: sessionmaker[Session]) -> DialogueState | None:
    with session_factory() as session:
        conversation = conversations.get_conversation(session, "telegram", str(ELS))
        return DialogueState.model_validate(conversation.state) if conversation is not None else None


async def test_a_pressed_button_is_written_into_its_question_and_the_buttons_go(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        for how, what in MINIMAL_STEPS[:4]:
            await step(h, ELS, how, what)
        enrolled = h.fake.messages_to(ELS)[-1]
        await h.press(ELS, "Ja", message=enrolled)
        assert enrolled.text.endswith("✔ Ja") and enrolled.buttons() == [], "the question shows what was chosen"
        for how, what in MINIMAL_STEPS[5:9]:
            await step(h, ELS, how, what)
        form = h.fake.messages_to(ELS)[-1]
        label = next(text for text, data in form.buttons() if data == "q|education_form|1")
        await h.press_data(ELS, form, "q|education_form|1")
        assert form.text.endswith(f"✔ {label}") and form.buttons() == []
        for how, what in MINIMAL_STEPS[10:15]:
            await step(h, ELS, how, what)
        areas = h.fake.messages_to(ELS)[-1]
        ticked = [text.removeprefix("▫️ ") for text, data in areas.buttons() if data.startswith("t|")][::2][:2]
        for how, what in MINIMAL_STEPS[15:18]:
            await step(h, ELS, how, what)
        assert areas.text.endswith(f"✔ {ticked[0]}, {ticked[1]}") and areas.buttons() == []
        skipped = None
        for how, what in MINIMAL_STEPS[18:]:
            if what == "Overslaan" and skipped is None:
                skipped = h.fake.messages_to(ELS)[-1]
            await step(h, ELS, how, what)
        assert skipped is not None and skipped.text.endswith("✔ Overgeslagen") and skipped.buttons() == []


async def test_the_question_count_grows_only_with_a_note_saying_why(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        await answer_all(h, ELS)
        asked = [m for m in h.fake.messages_to(ELS) if _PROGRESS.search(m.text)]
        seen = [(int(n), int(t), m.text) for m in asked for n, t in [_PROGRESS.search(m.text).groups()]]  # type: ignore[union-attr]
        first = seen[0][0]  # the staff member's own details are known: the count starts past them
        assert [n for n, _, _ in seen] == list(range(first, first + len(seen))), "one question after the other"
        for (_, before, _), (_, after, text) in pairwise(seen):
            if after != before:
                grown = after - before
                assert grown > 0 and f"{grown} {'vraag' if grown == 1 else 'vragen'} erbij door je vorige antwoord" in text, text
            else:
                assert "erbij door je" not in text, text
        assert seen[-1][0] == seen[-1][1], "the last question asked is the last one counted"


async def test_cancel_on_the_summary_asks_before_wiping_the_answers(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        await answer_all(h, ELS)
        summary = h.fake.messages_to(ELS)[-1]
        asked = await h.press(ELS, "Annuleren", message=summary)
        assert "Alle antwoorden wissen?" in asked[-1].text
        assert [text for text, _ in asked[-1].buttons()] == ["Ja, wissen", "Nee, verder"]
        state = _state(session_factory)
        assert state is not None and state.answers["pupil_initials"] == "Z.P.", "nothing wiped yet"
        kept = await h.press(ELS, "Nee, verder", message=asked[-1])
        assert "Overzicht van je aanmelding" in kept[-1].text and "Z.P." in kept[-1].text
        assert _state(session_factory) is not None
        again = await h.press(ELS, "Annuleren", message=kept[-1])
        await h.press(ELS, "Ja, wissen", message=again[-1])
        assert _state(session_factory) is None
        with session_factory() as session:
            assert [r.status for r in referrals.list_referrals(session)] == [Status.CANCELLED]


async def test_a_tap_on_an_old_summary_after_submitting_names_the_reference(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        for line in TYPED:
            await h.say(ELS, line)
        summary = h.fake.messages_to(ELS)[-1]
        await h.say(ELS, "bevestig")  # typed: the summary keeps its buttons
        late = await h.press(ELS, "Bevestigen", message=summary)
        assert "MSI-2026-0001" in late[-1].text and "ingediend" in late[-1].text
        assert "geen aanmelding" not in late[-1].text


async def test_an_edited_message_is_not_read_and_the_person_is_told(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        await h.say(ELS, "02 123 45 67")
        question = h.last_text(ELS)
        before = len(h.fake.messages_to(ELS))
        h.fake.edit_text(ELS, "02 765 43 21")
        await h.settle()
        replies = h.fake.messages_to(ELS)[before:]
        assert replies and "bewerkte berichten" in replies[0].text and "opnieuw" in replies[0].text
        assert replies[-1].text == question, "the current question follows"
        state = _state(session_factory)
        assert state is not None and state.answers["referrer_phone"] != "02 765 43 21"


async def test_a_question_longer_than_the_limit_says_it_was_cut(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await _linked(h)
        long = ("Hoe lang duurt een traject bij NAFT? " * 120).strip()
        assert len(long) > 4000
        replies = await h.say(ELS, f"/vraag {long}")
        assert "4.000 tekens" in replies[-1].text and "niet doorgestuurd" in replies[-1].text
        with session_factory() as session:
            stored = questions.open_questions(session)
            assert len(stored) == 1 and len(stored[0].text) <= 4000 and long.startswith(stored[0].text)
            cut_after = stored[0].text.split()[-1]
        assert cut_after in replies[-1].text, "it says where the question was cut"
        assert any(m.chat_id == COORDINATOR_CHAT for m in h.fake.sent)


async def test_status_tells_referrals_apart_without_names(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, mode=Mode.FULL) as h:
        await _linked(h)
        await h.say(ELS, "/aanmelden")
        await h.say(ELS, "02 123 45 67")
        for line in ("Zoë", "Peeters", "03/04/2011"):
            await h.say(ELS, line)
        listed = (await h.say(ELS, "/status"))[-1].text
        assert "Z.P." in listed and "Zoë" not in listed and "Peeters" not in listed
        assert "(nog niet ingediend)" in listed and "18/11/2026 11:00" in listed, "Brussels time, with the hour"
        assert "Volgende stap:" in listed and "/aanmelden" in listed
        assert "draft" not in listed
