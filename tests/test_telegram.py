"""Telegram end to end: PTB polling our fake Bot API server, the desk, a real database and a real mail sink."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram_bot import TelegramBot, TelegramConfig
from intake.dialogue import DialogueState
from intake.lifecycle import Status
from intake.vocabulary import Mode
from store import conversations, questions, referrals
from store import staff as staff_repo
from store.mail_models import QuestionStatus
from tests.telegram_fake import FakeTelegram
from tests.telegram_harness import (
    COORDINATOR_CHAT,
    COORDINATOR_USER,
    ChatHarness,
    running_chat,
)
from tests.test_runners import until

ELS, JAN, STRANGER = 1001, 1002, 666
ELS_MAIL, JAN_MAIL = "els@clb-halle.example", "jan@clb-leuven.example"
# The minimal questionnaire after the prefilled staff details, as (how, what): typed text, or a button.
MINIMAL_STEPS: list[tuple[str, str]] = [
    ("type", "02 123 45 67"), ("type", "Z.P."), ("type", "2011"), ("type", "1500"), ("press", "Ja"),
    ("type", "Sint-Jozefscollege"), ("type", "1500"), ("type", "secundair"), ("type", "2e jaar"),
    ("press", "q|education_form|1"), ("press", "q|care_phase|3"), ("press", "Ja"), ("press", "Ja"),
    ("press", "Ja"), ("press", "Ja"), ("toggle", "0"), ("toggle", "2"), ("press", "Klaar"),
    ("type", "Komt nog twee dagen per week."), ("press", "q|desired_form|1"), ("type", "buiten"),
    ("press", "Overslaan"), ("press", "q|urgency|1"), ("press", "Overslaan"), ("type", "An Peeters"),
    ("type", "an.peeters@school.example"), ("press", "Overslaan"),
]
TYPED = [
    "02 123 45 67", "Z.P.", "2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair", "2e jaar", "1", "3",
    "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten", "overslaan", "1", "overslaan",
    "An Peeters", "an.peeters@school.example", "overslaan",
]


async def step(h: ChatHarness, user: int, how: str, what: str) -> None:
    """One answer: typed, or a button pressed on the newest question (by label or by exact data)."""
    if how == "type":
        await h.say(user, what)
        return
    question = h.fake.messages_to(user)[-1]
    if how == "toggle":
        data = next(d for _, d in question.buttons() if d.startswith("t|") and d.endswith(f"|{what}"))
        await h.press_data(user, question, data)
        return
    if "|" in what:
        await h.press_data(user, question, what)
        return
    await h.press(user, what, message=question)


async def answer_all(h: ChatHarness, user: int, steps: list[tuple[str, str]] = MINIMAL_STEPS) -> None:
    """Answer every question of the minimal questionnaire."""
    for how, what in steps:
        await step(h, user, how, what)


def staff_with_link(h: ChatHarness, user: int, email: str, name: str, clb: str) -> None:
    """A registered staff member whose Telegram account is linked."""
    h.register(email, name, clb)
    h.link(user, email)


async def test_a_linked_staff_member_completes_a_minimal_referral_with_keyboards(session_factory: sessionmaker[Session], tmp_path: Path,
                                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        opened = await h.say(ELS, "/aanmelden")
        assert "geen naam of geboortedatum" in opened[0].text, "minimal mode says why it asks initials"
        assert "telefoonnummer" in opened[-1].text.lower()
        await answer_all(h, ELS)
        problems = next(m for m in h.fake.messages_to(ELS) if "een of meer nummers" in m.text)
        assert problems.edits == 3, "two ticks edit the keyboard in place, Klaar takes it away"
        summary = h.fake.messages_to(ELS)[-1]
        assert "Overzicht van je aanmelding" in summary.text and "Z.P." in summary.text
        assert any(label.startswith("✏️") for label, _ in summary.buttons()), "each answer can be corrected"
        done = await h.press(ELS, "Bevestigen", message=summary)
        assert "MSI-2026-0001" in done[-1].text and "e-mail" in done[-1].text
        with session_factory() as session:
            referral = referrals.get_referral(session, "MSI-2026-0001")
            assert referral is not None and referral.status is Status.AWAITING_DETAILS
            assert referral.channel == "telegram" and referral.answers["pupil_initials"] == "Z.P."
            choices = h.mail.workflow.intake.questionnaire.get("problem_areas").choices
            assert referral.answers["problem_areas"] == [choices[0].value, choices[2].value], "the two ticked areas"
            assert "pupil_first_name" not in referral.answers and "pupil_birth_date" not in referral.answers
        await h.deliver_mail()
        details = h.mail.inbox(ELS_MAIL)
        assert details and "MSI-2026-0001" in str(details[-1]["Subject"]), "the details form follows by mail"
    logged = caplog.text
    for secret in ("Z.P.", "Sint-Jozefscollege", "An Peeters", "an.peeters@school.example", "Komt nog twee dagen"):
        assert secret not in logged, f"{secret!r} reached the logs"


async def test_full_mode_asks_the_name_in_chat(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, mode=Mode.FULL) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        opened = await h.say(ELS, "/aanmelden")
        assert not any("geen naam of geboortedatum" in m.text for m in opened)
        await h.say(ELS, "02 123 45 67")
        assert "voornaam" in h.last_text(ELS).lower()


async def test_two_staff_members_interleaved_keep_their_own_referrals(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        staff_with_link(h, JAN, JAN_MAIL, "Jan Peeters", "CLB Leuven")
        h.fake.send_text(ELS, "/aanmelden")
        h.fake.send_text(JAN, "/aanmelden")
        await h.settle()
        jan_lines = [*TYPED[:1], "J.V.", "2010", "3000", *TYPED[4:6], "3000", *TYPED[7:], "bevestig"]
        els_lines = [*TYPED, "bevestig"]
        for els_line, jan_line in zip(els_lines, jan_lines, strict=True):
            h.fake.send_text(ELS, els_line)  # both updates arrive in one getUpdates batch
            h.fake.send_text(JAN, jan_line)
            await h.settle()
        assert "MSI-2026-000" in h.last_text(ELS) and "MSI-2026-000" in h.last_text(JAN)
        with session_factory() as session:
            made = {r.answers["pupil_initials"]: r for r in referrals.list_referrals(session)}
            assert set(made) == {"Z.P.", "J.V."}
            assert made["Z.P."].answers["school_postcode"] == "1500" and made["J.V."].answers["school_postcode"] == "3000"
            owners = {initials: r.staff.email if r.staff else None for initials, r in made.items()}
            assert owners == {"Z.P.": ELS_MAIL, "J.V.": JAN_MAIL}


async def test_going_back_and_correcting_an_answer_from_the_summary(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        await h.say(ELS, "02 123 45 67")
        await h.say(ELS, "Z.P.")
        back = await h.press(ELS, "Terug")
        assert "initialen" in back[-1].text.lower() and "Vorig antwoord" not in back[-1].text
        await h.say(ELS, "/terug")
        assert "telefoon" in h.last_text(ELS).lower()
        await answer_all(h, ELS)
        summary = h.fake.messages_to(ELS)[-1]
        number = next(line for line in summary.text.splitlines() if "Postcode school" in line).strip().split(".")[0]
        asked = await h.press(ELS, f"✏️ {number}", message=summary)
        assert "1500" in asked[-1].text, "the question shows the previous answer"
        corrected = await h.say(ELS, "1700")
        assert "Overzicht van je aanmelding" in corrected[-1].text and "1700" in corrected[-1].text
        await h.press(ELS, "Bevestigen", message=corrected[-1])
        with session_factory() as session:
            referral = referrals.get_referral(session, "MSI-2026-0001")
            assert referral is not None and referral.answers["school_postcode"] == "1700"


async def test_a_stale_button_changes_nothing_and_shows_where_the_referral_stands(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        for how, what in MINIMAL_STEPS[:4]:
            await step(h, ELS, how, what)
        enrolled = h.fake.messages_to(ELS)[-1]
        await h.say(ELS, "ja")  # typed, so the Ja/Nee buttons stay under the old question
        current = h.last_text(ELS)
        replies = await h.press_data(ELS, enrolled, "y|pupil_enrolled|nee")
        assert h.fake.callback_answers[-1].get("text") == "Die knop hoort bij een eerdere vraag."
        assert replies and replies[-1].text == current, "the current question is shown again"
        with session_factory() as session:
            conversation = conversations.get_conversation(session, "telegram", str(ELS))
            assert conversation is not None
            assert DialogueState.model_validate(conversation.state).answers["pupil_enrolled"] is True


async def test_a_restarted_bot_continues_at_the_same_question_and_reads_what_came_meanwhile(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        await h.say(ELS, "02 123 45 67")
        await h.stop_bot()
        h.fake.send_text(ELS, "Z.P.")  # typed while the bot is down
        await h.start_bot()
        await h.settle()
        assert "geboren" in h.last_text(ELS).lower()
        await h.say(ELS, "2011")
        assert "postcode" in h.last_text(ELS).lower()


async def test_an_unlinked_stranger_sees_only_the_public_catalogue(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        for command in ("/aanmelden", "/advies", "/status", "/vraag is er plaats?"):
            reply = await h.say(STRANGER, command)
            assert "geregistreerde CLB-medewerkers" in reply[-1].text, command
        regions = await h.say(STRANGER, "/aanbod")
        kinds = await h.press(STRANGER, "Asse-Halle-Vilvoorde", message=regions[-1])
        listing = await h.press(STRANGER, "NAFT", message=kinds[-1])
        assert "NAFT-traject Arktos" in listing[-1].text and "http://www.groepintro.be/" in listing[-1].text
        with session_factory() as session:
            assert referrals.list_referrals(session) == []


async def test_removing_a_staff_member_revokes_the_chat_at_once(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        with session_factory.begin() as session:
            assert staff_repo.remove_staff(session, ELS_MAIL, now=h.mail.clock())
        reply = await h.say(ELS, "02 123 45 67")
        assert "toegang via Telegram is beëindigd" in reply[-1].text, "told why, not asked to link"
        assert "geregistreerde CLB-medewerkers" in (await h.say(ELS, "/status"))[-1].text


async def test_linking_with_a_mailed_code_wrong_expired_and_reused(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        welcome = await h.say(ELS, "/start")
        assert "e-mailadres" in welcome[-1].text
        await h.say(ELS, ELS_MAIL)
        await h.deliver_mail()
        first = h.code_for(ELS_MAIL)
        # An expired code: 16 minutes later.
        h.mail.clock.advance(timedelta(minutes=16))
        assert "verlopen" in (await h.say(ELS, first))[-1].text
        await h.say(ELS, ELS_MAIL)
        await h.deliver_mail()
        code = h.code_for(ELS_MAIL)
        assert len(h.mail.inbox(ELS_MAIL)) == 2, "a second code was mailed"
        wrong = "000000" if code != "000000" else "111111"
        assert "klopt niet" in (await h.say(ELS, wrong))[-1].text and "4 pogingen" in h.last_text(ELS)
        assert "gekoppeld aan Els Janssens" in (await h.say(ELS, code))[-1].text
        assert "telefoon" in (await h.say(ELS, "/aanmelden"))[-1].text.lower()
        # The same code again, from another account: spent.
        assert "werkt maar één keer" in (await h.say(JAN, code))[-1].text
        await h.say(ELS, "/ontkoppel")
        assert "werkt maar één keer" in (await h.say(ELS, code))[-1].text


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        reply = await h.say(STRANGER, "ouder@gmail.example")
        assert "Als ouder@gmail.example bij een geregistreerde CLB-medewerker hoort" in reply[-1].text
        await h.deliver_mail()
        assert h.mail.inbox("ouder@gmail.example") == []
        # Indistinguishable from a registered address: a code "waits", it just never arrived.
        assert "klopt niet" in (await h.say(STRANGER, "123456"))[-1].text


async def test_an_allowed_clb_domain_links_and_is_asked_name_and_clb(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, allowed_domains=("clb-halle.example",)) as h:
        await h.say(ELS, ELS_MAIL)
        await h.deliver_mail()
        assert "gekoppeld" in (await h.say(ELS, h.code_for(ELS_MAIL)))[-1].text
        opened = await h.say(ELS, "/aanmelden")
        assert "naam" in opened[-1].text.lower(), "name and CLB are not known yet, so they are asked"


async def test_five_wrong_codes_spend_the_code(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, ELS_MAIL)
        await h.deliver_mail()
        code = h.code_for(ELS_MAIL)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            await h.say(ELS, wrong)
        assert "nieuwe code" in h.last_text(ELS)
        assert "werkt maar één keer" in (await h.say(ELS, code))[-1].text


async def test_advice_then_a_referral_with_those_answers_filled_in(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/advies")
        assert "postcode" in h.last_text(ELS).lower()
        await h.say(ELS, "1500")
        await h.say(ELS, "secundair")
        await step(h, ELS, "toggle", "0")
        await h.press(ELS, "Klaar")
        advice = (await h.press_data(ELS, h.fake.messages_to(ELS)[-1], "q|desired_form|1"))[-1]
        assert "Voorgesteld aanbod" in advice.text and "https://" in advice.text and "Waarom" in advice.text
        opened = await h.press(ELS, "Aanmelding starten", message=advice)
        assert "telefoon" in opened[-1].text.lower()
        with session_factory() as session:
            conversation = conversations.get_conversation(session, "telegram", str(ELS))
            assert conversation is not None
            state = DialogueState.model_validate(conversation.state)
            assert state.mode is Mode.MINIMAL and state.answers["school_postcode"] == "1500"
            assert state.answers["desired_form"] and state.answers["referrer_email"] == ELS_MAIL
        await h.say(ELS, "/advies")
        assert "aanmelding aan het invullen" in h.last_text(ELS), "advice never overwrites a referral in progress"


async def test_a_question_reaches_the_coordinator_and_the_answer_comes_back(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        prompt = await h.say(ELS, "/vraag")
        assert prompt[-1].reply_markup and prompt[-1].reply_markup.get("force_reply")
        await h.say(ELS, "Mag een leerling uit het buitengewoon onderwijs naar NAFT?", reply_to=prompt[-1].message_id)
        assert "nr. 1" in h.last_text(ELS)
        asked = await h.fake.wait_for_text(COORDINATOR_CHAT, "Vraag #1")
        assert "Els Janssens" in asked.text and "buitengewoon onderwijs" in asked.text
        listed = await h.say(COORDINATOR_USER, "/vragen", chat_id=COORDINATOR_CHAT, chat_type="supergroup")
        assert "#1" in listed[-1].text
        await h.say(COORDINATOR_USER, "Ja, als de school akkoord is.", chat_id=COORDINATOR_CHAT, chat_type="supergroup", reply_to=asked.message_id)
        relayed = await h.fake.wait_for_text(ELS, "Antwoord van de coördinator")
        assert "als de school akkoord is" in relayed.text
        await h.say(ELS, "/vraag Hoe lang duurt een traject?")
        await h.say(COORDINATOR_USER, "/antwoord 2 Meestal acht weken.", chat_id=COORDINATOR_CHAT, chat_type="supergroup")
        assert "acht weken" in (await h.fake.wait_for_text(ELS, "vraag 2")).text
        again = await h.say(COORDINATOR_USER, "/antwoord 2 Nog iets.", chat_id=COORDINATOR_CHAT, chat_type="supergroup")
        assert "al beantwoord" in again[-1].text
        with session_factory() as session:
            stored = [questions.get_question(session, n) for n in (1, 2)]
            assert all(q is not None and q.status is QuestionStatus.ANSWERED and q.channel == "telegram" for q in stored)


async def test_a_flagged_referral_offers_a_question_with_its_context(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, mode=Mode.MINIMAL) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        steps = list(MINIMAL_STEPS)
        steps[10] = ("press", "q|care_phase|1")  # brede basiszorg: too early, not eligible
        await answer_all(h, ELS, steps)
        done = await h.press(ELS, "Bevestigen", message=h.fake.messages_to(ELS)[-1])
        assert any("Vraag aan de coördinator" in label for label, _ in done[-1].buttons())
        prompt = await h.press(ELS, "Vraag aan de coördinator", message=done[-1])
        await h.say(ELS, "Kan dit toch?", reply_to=prompt[-1].message_id)
        asked = await h.fake.wait_for_text(COORDINATOR_CHAT, "Kan dit toch?")
        assert "MSI-2026-0001" in asked.text and "Z.P." not in asked.text


async def test_an_unanswered_question_is_sent_again_after_working_hours(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, reminder_hours=8, reminder_interval=0.2) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/vraag Is er nog plaats bij NAFT Halle?")
        await h.fake.wait_for_text(COORDINATOR_CHAT, "Vraag #1")
        h.mail.clock.advance(timedelta(hours=26))  # Wednesday 11:00 to Thursday 13:00: 10 working hours
        reminder = await h.fake.wait_for_text(COORDINATOR_CHAT, "Herinnering", timeout=5)
        assert "#1" in reminder.text and "plaats bij NAFT" in reminder.text
        await h.fake.wait_for_text(COORDINATOR_CHAT, "Herinnering", timeout=1, after=len(h.fake.messages_to(COORDINATOR_CHAT)) - 1)
        assert sum("Herinnering" in m.text for m in h.fake.messages_to(COORDINATOR_CHAT)) == 1, "one reminder per period"


async def test_flood_control_is_waited_out_and_the_message_arrives_once(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.fake.fail_next("sendMessage", retry_after=1)
        reply = await h.say(STRANGER, "/start")
        assert len(reply) == 1 and "Koppel daarom eerst" in reply[0].text
        assert sum(1 for method, _ in h.fake.calls if method == "sendMessage") == 2, "one 429, then the retry"


async def test_status_lists_own_referrals_and_commands_are_registered_in_dutch(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        assert "nog geen aanmeldingen" in (await h.say(ELS, "/status"))[-1].text
        await h.say(ELS, "/aanmelden")
        for line in [*TYPED, "bevestig"]:
            await h.say(ELS, line)
        listed = (await h.say(ELS, "/status"))[-1].text
        assert f"MSI-2026-0001 · {Status.AWAITING_DETAILS.label} · 18/11/2026" in listed
        default = h.fake.commands["default"] if "default" in h.fake.commands else next(iter(h.fake.commands.values()))
        assert {"aanmelden", "advies", "aanbod", "vraag", "status", "terug", "overslaan", "annuleer", "help"} <= {c["command"] for c in default}
        assert any(c["description"].startswith("Een leerling aanmelden") for c in default)
        coordinator = [cmds for key, cmds in h.fake.commands.items() if str(COORDINATOR_CHAT) in key]
        assert coordinator and {"vragen", "antwoord"} <= {c["command"] for c in coordinator[0]}


async def test_an_unexpected_error_says_the_answers_are_kept(session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS, "/aanmelden")
        await h.say(ELS, "02 123 45 67")
        with session_factory.begin() as session:  # the database loses a table under the running bot
            session.execute(text("ALTER TABLE conversations RENAME TO conversations_away"))
        failed = await h.say(ELS, "Q.X.")
        assert "Je antwoorden zijn bewaard" in failed[-1].text
        assert "Q.X." not in caplog.text and "fout bij update" in caplog.text
        with session_factory.begin() as session:
            session.execute(text("ALTER TABLE conversations_away RENAME TO conversations"))
        await h.say(ELS, "Q.X.")
        assert "geboren" in h.last_text(ELS).lower()


async def test_groups_other_than_the_coordinators_get_no_referral_data(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        reply = await h.say(ELS, "/aanmelden", chat_id=-555, chat_type="group")
        assert "privégesprek" in reply[-1].text
        assert await h.say(ELS, "gewoon gepraat", chat_id=-555, chat_type="group") == []


async def test_webhook_mode_receives_updates(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h, FakeTelegram() as hooked:
        port = _free_port()
        config = TelegramConfig(
            token=hooked.token, api_url=hooked.base_url, webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_listen=f"127.0.0.1:{port}", webhook_secret="geheim-123-" + "x" * 24,
        )
        bot = TelegramBot(config, h.desk)
        await bot.start()
        try:
            assert hooked.webhook is not None and hooked.webhook["secret_token"] == "geheim-123-" + "x" * 24
            hooked.send_text(STRANGER, "/start")
            welcome = await hooked.wait_for_text(STRANGER, "Koppel daarom eerst")
            assert welcome.chat_id == STRANGER
        finally:
            await bot.stop()


async def test_a_refused_token_leaves_telegram_off_and_an_unreachable_server_is_retried(session_factory: sessionmaker[Session], tmp_path: Path,
                                                                                        caplog: pytest.LogCaptureFixture) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        refused = TelegramBot(TelegramConfig(token="999:WRONG", api_url=h.fake.base_url), h.desk)
        await asyncio.wait_for(refused.run(asyncio.Event()), timeout=10)  # returns by itself
        assert "token wordt geweigerd" in caplog.text
        unreachable = TelegramBot(TelegramConfig(token=h.fake.token, api_url=f"http://127.0.0.1:{_free_port()}/bot"), h.desk)
        stop = asyncio.Event()
        running = asyncio.create_task(unreachable.run(stop))
        await until(lambda: "niet bereikbaar" in caplog.text, what="the unreachable server is logged")
        assert not running.done(), "it keeps trying"
        stop.set()
        await asyncio.wait_for(running, timeout=5)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
