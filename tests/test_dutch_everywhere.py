"""One language to people: Dutch labels instead of codes and keys, and one form of address, "je" (issue 12, point 10)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import Channel, IntakeWorkflow
from intake.dialogue import ADVICE_QUESTIONS
from intake.eligibility import Outcome
from intake.lifecycle import Status
from intake.texts import TEMPLATES_DIR
from intake.vocabulary import Mode, ProblemArea, Region
from store import questions, referrals
from store.models import Referral, Staff
from store.views import CHANNEL_LABELS, MODE_LABELS
from tests.mail_harness import NOW, shared_intake
from tests.telegram_harness import COORDINATOR_CHAT, running_chat
from tests.test_cli_review import Runner, run  # noqa: F401 — `run` is a fixture
from tests.test_decisions import ELS, add_staff, eligible_answers, make_referral
from tests.test_telegram import ELS as ELS_USER
from tests.test_telegram import staff_with_link, step

# Codes a person must never read: outcomes, regions, rule codes and answer keys.
CODES = re.compile(r"\b(eligible|flagged|not_eligible|ahv|oost|needs_review|queued|aanmelder-geen-clb|school-niet-akkoord|"
                   r"problem_areas|school_level|school_postcode|full|minimal|email)\b|\['")


def _flagged(session: Session, staff: Staff) -> Referral:
    """A referral a parent asked for and the school does not agree with: flagged, so it waits for the coordinator."""
    referral = referrals.create_draft(session, staff_id=staff.id, channel="email", mode="full", actor=ELS, now=staff.created_at)
    answers = {**eligible_answers(), "referrer_role": "ouder", "school_agrees": False}
    IntakeWorkflow(shared_intake(), sessionmaker()).submit_answers(session, referral, answers, mode=Mode.FULL, actor=ELS, now=staff.created_at)
    assert referral.status is Status.NEEDS_REVIEW
    return referral


def test_referrals_list_shows_dutch_labels_not_codes(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        staff = add_staff(session)
        make_referral(session, Status.QUEUED, staff=staff)
        _flagged(session, staff)
    listed = run("referrals", "list").output
    assert Region.AHV.label in listed and Outcome.ELIGIBLE.label in listed and Outcome.FLAGGED.label in listed, listed
    assert not CODES.search(listed), listed
    as_json = json.loads(run("referrals", "list", "--json").output)
    assert {r["eligibility"] for r in as_json} == {"eligible", "flagged"}, "scripts keep the codes"


def test_the_status_filter_takes_the_dutch_words_and_the_codes(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        staff = add_staff(session)
        queued = make_referral(session, Status.QUEUED, staff=staff).reference
        waiting = _flagged(session, staff).reference
    for words, expected in (("Klaar voor verzending", queued), ("klaar voor verzending", queued), ("queued", queued),
                            ("Wacht op de coördinator", waiting), ("wacht op de coordinator", waiting), ("needs_review", waiting)):
        listed = run("referrals", "list", "--status", words, "--json")
        assert listed.exit_code == 0, listed.output
        assert [r["reference"] for r in json.loads(listed.output)] == [expected], words
    unknown = run("referrals", "list", "--status", "zoek")
    assert unknown.exit_code != 0 and "Klaar voor verzending" in unknown.output and "needs_review" not in unknown.output


def test_referrals_show_names_channel_and_mode_in_dutch(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        reference = make_referral(session, Status.QUEUED, staff=add_staff(session)).reference or ""
    first_lines = "\n".join(run("referrals", "show", reference).output.splitlines()[:2])
    assert "Kanaal: e-mail" in first_lines and "volledig" in first_lines and not CODES.search(first_lines), first_lines


def test_every_channel_and_referral_mode_has_a_dutch_label() -> None:
    assert set(CHANNEL_LABELS) == {c.value for c in Channel}
    assert set(MODE_LABELS) == {Mode.FULL.value, Mode.MINIMAL.value}, "the modes a referral is stored in"


def test_questions_list_names_the_channel_in_dutch(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        questions.open_question(session, asker_email=ELS, staff_id=None, channel="email", text="Is er plaats?", context=None, now=NOW)
    listed = run("questions", "list").output
    assert "via e-mail" in listed and not CODES.search(listed.replace(ELS, "")), listed


def test_a_flagged_referrals_note_gives_the_reasons_not_rule_codes(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        referral = _flagged(session, add_staff(session))
        note = referrals.status_history(session, referral)[-1].note or ""
        reasons = [f["reason"] for f in (referral.eligibility or {})["findings"] if f["severity"] != "note"]
        reference = referral.reference or ""
    assert not CODES.search(note) and all(reason in note for reason in reasons), note
    for shown in (run("review").output, run("referrals", "show", reference).output):
        assert not CODES.search(shown), shown


async def test_the_coordinators_chat_gets_labels_not_answer_keys(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    questionnaire = shared_intake().questionnaire
    async with running_chat(session_factory, tmp_path) as h:
        staff_with_link(h, ELS_USER, ELS, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS_USER, "/advies")
        await h.say(ELS_USER, "1500")
        await h.say(ELS_USER, "secundair")
        await step(h, ELS_USER, "toggle", "0")
        await h.press(ELS_USER, "Klaar")
        await h.say(ELS_USER, "/vraag Wat raden jullie aan?")
        advice = await h.fake.wait_for_text(COORDINATOR_CHAT, "Wat raden jullie aan?")
        with h.mail.sessions.begin() as session:
            els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
            reference = _flagged(session, els).reference or ""
            reasons = [f["reason"] for f in (referrals.get_referral(session, reference).eligibility or {})["findings"]]  # type: ignore[union-attr]
        prompt = await h.press_data(ELS_USER, h.fake.messages_to(ELS_USER)[-1], f"v|{reference}")
        await h.say(ELS_USER, "Kan dit toch?", reply_to=prompt[-1].message_id)
        about = await h.fake.wait_for_text(COORDINATOR_CHAT, "Kan dit toch?")
    labels: dict[str, Any] = {q.id: q.label for q in questionnaire.questions if q.id in ADVICE_QUESTIONS}
    assert labels["problem_areas"] in advice.text and ProblemArea.ABSENTEEISM.label in advice.text, advice.text
    assert not CODES.search(advice.text), advice.text
    assert reference in about.text and all(reason in about.text for reason in reasons), about.text
    assert not CODES.search(about.text), about.text


# The polite form as a word: "u", "uw", "U", "Uw" and "uzelf" (not inside a word such as "uur" or a code such as "u-bocht").
POLITE = re.compile(r"(?<![\w-])(u|uw|uzelf)(?![\w-])", re.IGNORECASE)
# Where such a word is no address: template comments ({# … #}), which people never read.
COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def _polite_lines(text: str) -> list[str]:
    """The lines that address the reader as "u"."""
    return [line.strip() for line in COMMENT.sub("", text).splitlines() if POLITE.search(line)]


def test_the_polite_check_finds_u_and_uw_but_not_words_that_contain_them() -> None:
    assert _polite_lines("Kan u dit nakijken?\nUw aanmelding is binnen.\nDank U.")
    assert not _polite_lines("Binnen het uur, in de u-bocht, je uurrooster.\n{# u in a comment #}")


def test_every_template_says_je_never_u() -> None:
    found = {
        str(path.relative_to(TEMPLATES_DIR)): lines
        for path in sorted(TEMPLATES_DIR.rglob("*"))
        if path.is_file() and path.suffix in {".j2", ".yaml"} and (lines := _polite_lines(path.read_text(encoding="utf-8")))
    }
    assert found == {}, found
    assert len(list(TEMPLATES_DIR.rglob("*.j2"))) > 50, "the check reads the templates"
