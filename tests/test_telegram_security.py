"""Telegram attacks from issue 10, each as a test: forged webhook calls, forged buttons, revoked staff, code floods."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram_bot import TelegramBot, TelegramConfig, TelegramConfigError
from store import conversations
from store import staff as staff_repo
from store import telegram as telegram_repo
from store.chat_models import LinkCode
from tests.child_process import without_our_settings
from tests.telegram_fake import FakeTelegram
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, ChatHarness, running_chat
from tests.test_mail_crash import free_port
from tests.test_telegram import ELS, ELS_MAIL, MINIMAL_STEPS, STRANGER, staff_with_link, step

SECRET = "Zq8w-3kP_vT9xLm2Rb7nYc4Hd6Jf1GsA0eQo5Ui"  # 40 characters of Telegram's alphabet
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ACCESS_ENDED = "toegang via Telegram is beëindigd"
SECOND_ACCOUNT = 1003


# --- the webhook secret ------------------------------------------------------------------------

def test_webhook_mode_without_a_secret_or_with_a_weak_one_refuses_to_start() -> None:
    hook = {"token": "1:T", "webhook_url": "https://meldpunt.example/telegram"}
    for absent in (None, ""):
        with pytest.raises(TelegramConfigError, match="MELDPUNT_TELEGRAM_WEBHOOK_SECRET") as missing:
            TelegramConfig(**hook, webhook_secret=absent)
        assert "vervalsen" in str(missing.value), "the message says why the secret matters"
    for weak in ("geheim", "a" * 31, "spatie in het geheim-" + "x" * 20, "é" * 40, "x" * 257):
        with pytest.raises(TelegramConfigError, match="32 tot 256 tekens"):
            TelegramConfig(**hook, webhook_secret=weak)
    assert TelegramConfig(**hook, webhook_secret=SECRET).webhook_secret == SECRET
    assert TelegramConfig(token="1:T").webhook_secret is None, "polling needs no secret"


def test_serve_exits_with_the_dutch_reason_when_the_webhook_has_no_secret(tmp_path: Path) -> None:
    env = without_our_settings()
    env.update({
        "MELDPUNT_VAR_DIR": str(tmp_path / "var"), "MELDPUNT_TELEGRAM_TOKEN": "123456:TEST-TOKEN",
        "MELDPUNT_TELEGRAM_WEBHOOK_URL": "https://meldpunt.example/telegram", "MELDPUNT_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
    })
    served = subprocess.run([sys.executable, "-m", "meldpunt", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert served.returncode != 0
    assert "MELDPUNT_TELEGRAM_WEBHOOK_SECRET" in served.stderr and "vervalsen" in served.stderr
    assert not (tmp_path / "var" / "meldpunt.db").exists(), "it stops before touching anything"


def _forged(update_id: int, text: str) -> dict[str, Any]:
    """An update as an attacker would post it: the coordinator's chat asking for the review queue."""
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": int(time.time()), "text": text,
        "chat": {"id": COORDINATOR_CHAT, "type": "supergroup", "title": "Coördinator"},
        "from": {"id": COORDINATOR_USER, "is_bot": False, "first_name": "Nep"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
    }}


async def test_forged_webhook_posts_are_refused_and_change_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h, FakeTelegram() as hooked:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        bot = TelegramBot(TelegramConfig(token=hooked.token, api_url=hooked.base_url, webhook_url=url, webhook_listen=f"127.0.0.1:{port}",
                                         webhook_secret=SECRET), h.desk)
        await bot.start()
        try:
            assert hooked.webhook is not None and hooked.webhook["secret_token"] == SECRET
            attempts = {
                "no header": {}, "empty": {SECRET_HEADER: ""}, "wrong": {SECRET_HEADER: "x" * len(SECRET)},
                "a prefix": {SECRET_HEADER: SECRET[:-1]}, "longer": {SECRET_HEADER: SECRET + "x"},
            }
            async with aiohttp.ClientSession(trust_env=False) as client:
                for number, (name, headers) in enumerate(attempts.items(), 1):
                    async with client.post(url, json=_forged(number, "/nakijken"), headers=headers) as response:
                        assert response.status == 403, name
                async with client.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}) as response:
                    assert response.status == 400, "the right secret with a broken body: refused, nothing queued"
            # The real Bot API (the fake) sends the secret: that update is handled, and it is the only one.
            hooked.send_text(COORDINATOR_USER, "/verzending", chat_id=COORDINATOR_CHAT, chat_type="supergroup")
            await hooked.wait_for_text(COORDINATOR_CHAT, "Volgende batch")
            await bot.wait_idle()
            texts = [m.text for m in hooked.messages_to(COORDINATOR_CHAT)]
            assert len(texts) == 1 and texts[0].startswith("Volgende batch"), texts
        finally:
            await bot.stop()


# --- forged button data ------------------------------------------------------------------------

FORGED_BUTTONS = [
    "t|problem_areas|0|1000000000",  # 1 << 10**9 would be 125 MB; asserted first so a regression fails cheaply
    "t|problem_areas|0|10000000000",  # the press from the report: 2.5 GB
    "t|problem_areas|" + "9" * 40 + "|0",  # within 64 bytes: bounded by the mask rule itself
    "t|problem_areas|-1|0", "t|problem_areas|0|-1", "t|problem_areas|²|0", "t|problem_areas|0|9",
    "t|problem_areas|0", "t|problem_areas|0|1|2", "t|care_phase|0|0", "t|nope|0|0",
    "d|problem_areas|99999999999999999999", "d|problem_areas|512", "d|problem_areas|-3", "d|problem_areas|٣",
    "q|problem_areas|1", "q|problem_areas|0", "q|nope|1", "y|problem_areas|ja", "e|problem_areas|1",
    "k|problem_areas", "x|nope", "o|problem_areas", "b|problem_areas|extra",
]
# Data no keyboard of a question carries: only the notice, and the pressed message loses its buttons.
FORGED_OTHER = ["t|problem_areas|" + "0|" * 2000, "v|" + "A" * 60, "a|elders", "", "|||"]


def _state(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    with session_factory() as session:
        conversation = conversations.get_conversation(session, "telegram", str(ELS))
        assert conversation is not None
        return dict(conversation.state)


async def test_forged_button_data_gets_the_stale_answer_in_bounded_memory(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        for how, what in MINIMAL_STEPS[:15]:
            await step(h, ELS, how, what)
        question = h.fake.messages_to(ELS)[-1]
        assert any(data.startswith("t|problem_areas|") for _, data in question.buttons()), "at the multi-select question"
        before = _state(session_factory)
        older = h.fake.messages_to(ELS)[0]
        tracemalloc.start()
        try:
            for forged in [*FORGED_BUTTONS, *FORGED_OTHER]:
                tracemalloc.reset_peak()
                baseline = tracemalloc.get_traced_memory()[0]
                sent_before = len(h.fake.messages_to(ELS))
                await h.press_data(ELS, question if forged in FORGED_BUTTONS else older, forged)
                peak = tracemalloc.get_traced_memory()[1] - baseline
                assert peak < 20_000_000, f"{forged[:40]!r} allocated {peak:,} bytes"
                assert h.fake.callback_answers[-1].get("text") == "Die knop hoort bij een eerdere vraag.", forged[:40]
                if forged in FORGED_BUTTONS:
                    shown = h.fake.messages_to(ELS)[sent_before:]
                    assert shown and "een of meer nummers" in shown[-1].text, f"{forged!r}: the current question again"
                    question = h.with_button(ELS, "Klaar")
        finally:
            tracemalloc.stop()
        assert _state(session_factory) == before, "no forged press changed the referral"
        # The real buttons still work: tick the first area, then Klaar.
        await h.press_data(ELS, question, question.button("▫️"))
        ticked = h.fake.messages_to(ELS)[-1]
        assert ticked.button("Klaar") == "d|problem_areas|1"
        await h.press_data(ELS, ticked, "d|problem_areas|1")
        assert "problem_areas" in _state(session_factory)["answers"]


# --- staff removal -----------------------------------------------------------------------------

async def _link_by_mail(h: ChatHarness, user_id: int, email: str) -> str:
    """Ask a code in chat, deliver it, type it; the bot's last answer."""
    await h.say(user_id, email)
    await h.deliver_mail()
    return (await h.say(user_id, h.code_for(email)))[-1].text


def _meldpunt(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_our_settings()
    env.update({"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "cli-var")})
    return subprocess.run([sys.executable, "-m", "meldpunt", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)


async def test_staff_remove_ends_chat_access_voids_codes_and_re_adding_needs_a_new_code(database_url: str, session_factory: sessionmaker[Session],
                                                                                        tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        await h.say(SECOND_ACCOUNT, ELS_MAIL)  # a code for a second account, mailed before the removal
        await h.deliver_mail()
        pending = h.code_for(ELS_MAIL)
        removed = _meldpunt(database_url, tmp_path, "staff", "remove", ELS_MAIL)
        assert removed.returncode == 0, removed.stderr
        ended = await h.say(ELS, "02 123 45 67")
        assert len(ended) == 1 and ACCESS_ENDED in ended[0].text
        assert "geregistreerde CLB-medewerkers" in (await h.say(ELS, "/aanmelden"))[-1].text, "she is a stranger now"
        assert "werkt maar één keer" in (await h.say(SECOND_ACCOUNT, pending))[-1].text, "the pending code was voided"
        with session_factory() as session:
            assert staff_repo.get_active_staff(session, ELS_MAIL) is None, "typing the old code did not re-add her"
        added = _meldpunt(database_url, tmp_path, "staff", "add", ELS_MAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
        assert added.returncode == 0, added.stderr
        assert "geregistreerde CLB-medewerkers" in (await h.say(ELS, "/aanmelden"))[-1].text, "the old link stays dead"
        assert "gekoppeld aan Els Janssens" in await _link_by_mail(h, ELS, ELS_MAIL), "a new code by mail links her again"
        assert "telefoon" in (await h.say(ELS, "/aanmelden"))[-1].text.lower()


async def test_a_removed_member_is_told_without_writing_first(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, reminder_interval=0.2) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        with session_factory.begin() as session:
            assert staff_repo.remove_staff(session, ELS_MAIL, now=h.mail.clock())
        told = await h.fake.wait_for_text(ELS, ACCESS_ENDED)
        assert "coördinator" in told.text
        assert "geregistreerde CLB-medewerkers" in (await h.say(ELS, "/status"))[-1].text, "told once, then a stranger"
        assert sum(ACCESS_ENDED in m.text for m in h.fake.messages_to(ELS)) == 1


async def test_a_removed_address_in_an_allowed_domain_cannot_link_itself_back(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, allowed_domains=("clb-halle.example",)) as h:
        assert "gekoppeld" in await _link_by_mail(h, ELS, ELS_MAIL)
        with session_factory.begin() as session:
            assert staff_repo.remove_staff(session, ELS_MAIL, now=h.mail.clock())
        await h.say(ELS, "hallo")
        mailed = len(h.mail.inbox(ELS_MAIL))
        reply = await h.say(ELS, ELS_MAIL)
        assert "Als els@clb-halle.example bij een geregistreerde CLB-medewerker hoort" in reply[-1].text, "the usual answer"
        await h.deliver_mail()
        assert len(h.mail.inbox(ELS_MAIL)) == mailed, "no code for a removed address, allowed domain or not"
        with session_factory() as session:
            assert staff_repo.get_active_staff(session, ELS_MAIL) is None


def _code_of(session_factory: sessionmaker[Session], user_id: int) -> str:
    """Recover a code that was never mailed from its hash (what a lucky guess would type)."""
    with session_factory() as session:
        wanted = session.scalars(select(LinkCode.code_hash).where(LinkCode.user_id == user_id, LinkCode.used_at.is_(None))).one()
    return next(code for code in (f"{n:06d}" for n in range(10**6)) if hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest() == wanted)


async def test_a_guessed_code_for_an_address_that_may_not_link_never_links(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        await h.say(STRANGER, "aanvaller@gmail.example")
        reply = await h.say(STRANGER, _code_of(session_factory, STRANGER))
        assert "gekoppeld" not in reply[-1].text
        assert "geregistreerde CLB-medewerkers" in (await h.say(STRANGER, "/aanmelden"))[-1].text
        with session_factory() as session:
            assert staff_repo.get_active_staff(session, "aanvaller@gmail.example") is None
            assert telegram_repo.linked_staff(session, STRANGER) is None


# --- link-code limits --------------------------------------------------------------------------

async def test_many_telegram_accounts_cannot_mail_bomb_one_address(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        attackers = range(5001, 5001 + telegram_repo.MAX_CODES_PER_ADDRESS + 3)
        answers = [(await h.say(attacker, ELS_MAIL))[-1].text for attacker in attackers]
        await h.deliver_mail()
        assert len(h.mail.inbox(ELS_MAIL)) == telegram_repo.MAX_CODES_PER_ADDRESS
        refused = answers[telegram_repo.MAX_CODES_PER_ADDRESS:]
        assert refused and all("voor dit e-mailadres" in text for text in refused)
        # An unknown address is limited the same way, so the answers reveal nothing about who is registered.
        unknown = [(await h.say(attacker, "niemand@clb-halle.example"))[-1].text for attacker in attackers]
        assert unknown[telegram_repo.MAX_CODES_PER_ADDRESS:] == refused
        h.mail.clock.advance(timedelta(hours=1, minutes=1))
        assert "code van 6 cijfers" in (await h.say(ELS, ELS_MAIL))[-1].text, "after an hour she can link again"
        await h.deliver_mail()
        assert len(h.mail.inbox(ELS_MAIL)) == telegram_repo.MAX_CODES_PER_ADDRESS + 1
