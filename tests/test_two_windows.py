"""Two windows, one staff member: an answer counts only for the question its window last showed.

Each terminal window is a real `run_chat` loop in its own thread, reading from a queue; a typed line
returns once that window asks for the next line, so the turns interleave exactly as scripted.
"""

from __future__ import annotations

import io
import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.terminal import run_chat
from desk.workflow import Channel, IntakeWorkflow
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.messages import Inbound
from intake.questionnaire import load_questionnaire
from intake.vocabulary import Mode
from store import conversations
from store import staff as staff_repo
from store.models import Staff
from tests.telegram_harness import running_chat

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
ELS_MAIL = "els@clb-halle.example"
ELS_TELEGRAM = 4242
MOVED_ON = "in een ander venster beantwoord"
_WAIT = 60  # seconds: a guard against a hang, not a speed limit


class Window:
    """One `meldpunt chat` window: its own input queue and screen, running in a thread."""

    def __init__(self, workflow: IntakeWorkflow, staff: Staff, clock: Callable[[], datetime]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._waiting = threading.Semaphore(0)
        self.screen = io.StringIO()
        self._thread = threading.Thread(
            target=run_chat, args=(workflow, staff),
            kwargs={"mode": Mode.FULL, "details": None, "clock": clock, "stdin": self, "stdout": self.screen},
            daemon=True,
        )
        self._thread.start()
        self._turn_done()

    def readline(self) -> str:
        """What run_chat reads: the next typed line, after saying the previous turn is shown."""
        self._waiting.release()
        return self._lines.get()

    def isatty(self) -> bool:
        """Piped, as a script would drive it: no prompt."""
        return False

    def type(self, line: str) -> str:
        """Type one line; what the window printed in answer."""
        mark = len(self.screen.getvalue())
        self._lines.put(line + "\n")
        self._turn_done()
        return self.screen.getvalue()[mark:]

    def close(self) -> None:
        """End the input; the window pauses and its thread ends."""
        self._lines.put("")  # end of input: the chat pauses
        self._thread.join(_WAIT)
        assert not self._thread.is_alive()

    def _turn_done(self) -> None:
        assert self._waiting.acquire(timeout=_WAIT), "the window did not ask for the next line"


@pytest.fixture
def intake() -> Intake:
    return Intake(load_questionnaire(), load_catalogue())


@pytest.fixture
def els(session_factory: sessionmaker[Session]) -> Staff:
    with session_factory.begin() as session:
        member = staff_repo.add_staff(session, email=ELS_MAIL, name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
        session.expunge(member)
    return member


def _ticking() -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: NOW + timedelta(seconds=next(ticks))


@pytest.fixture
def windows(intake: Intake, session_factory: sessionmaker[Session], els: Staff) -> Iterator[tuple[Window, Window]]:
    workflow, clock = IntakeWorkflow(intake, session_factory), _ticking()
    first = Window(workflow, els, clock)
    second = Window(workflow, els, clock)  # resumes the same conversation
    yield first, second
    first.close()
    second.close()


def answers(sessions: sessionmaker[Session], channel: Channel, external_id: str) -> dict[str, object]:
    with sessions() as session:
        conversation = conversations.get_conversation(session, channel.value, external_id)
        assert conversation is not None
        return dict(conversation.state["answers"])


def test_an_answer_typed_in_a_window_that_is_behind_is_refused(windows: tuple[Window, Window], session_factory: sessionmaker[Session]) -> None:
    first, second = windows
    assert "telefoonnummer" in first.screen.getvalue() and "telefoonnummer" in second.screen.getvalue()
    assert "voornaam van de leerling" in first.type("02 123 45 67")
    shown = second.type("0470 12 34 56")  # meant for the phone question this window still shows
    assert MOVED_ON in shown and "voornaam van de leerling" in shown, shown
    assert "pupil_first_name" not in answers(session_factory, Channel.TERMINAL, ELS_MAIL)
    assert "achternaam" in second.type("Zoë")  # now it shows the first name: the answer counts
    refused = first.type("Peeters")  # the first window still shows the first name
    assert MOVED_ON in refused and "achternaam" in refused
    stored = answers(session_factory, Channel.TERMINAL, ELS_MAIL)
    assert stored["referrer_phone"] == "02 123 45 67" and stored["pupil_first_name"] == "Zoë"
    assert "pupil_last_name" not in stored


def test_back_in_one_window_does_not_let_the_other_answer_a_question_it_did_not_see(windows: tuple[Window, Window],
                                                                                    session_factory: sessionmaker[Session]) -> None:
    first, second = windows
    first.type("02 123 45 67")
    second.type("help")  # help is never refused: this window now shows the first name too
    first.type("terug")  # the first window goes back to the phone question
    shown = second.type("Zoë")
    assert MOVED_ON in shown and "telefoonnummer" in shown
    assert "pupil_first_name" not in answers(session_factory, Channel.TERMINAL, ELS_MAIL)


def test_a_summary_changed_in_another_window_cannot_be_confirmed_unseen(windows: tuple[Window, Window], session_factory: sessionmaker[Session]) -> None:
    first, second = windows
    for line in ["02 123 45 67", "Zoë", "Peeters", "14/03/2011", "1500", "ja", "Sint-Jozefscollege", "1500", "secundair",
                 "2e jaar", "1", "3", "ja", "ja", "ja", "ja", "1, 3", "Komt nog twee dagen per week.", "1", "buiten",
                 "overslaan", "1", "overslaan", "An Peeters", "an.peeters@school.example", "overslaan"]:
        first.type(line)
    assert "Overzicht van je aanmelding" in second.type("overzicht")
    first.type("wijzig 6")  # the pupil's first name, asked again in the first window
    shown = second.type("bevestig")
    assert "in een ander venster gewijzigd" in shown and "voornaam van de leerling" in shown, shown
    assert "MSI-" not in shown


async def test_telegram_and_terminal_of_one_staff_member_keep_their_answers_apart(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, mode=Mode.FULL) as h:
        h.register(ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_TELEGRAM, ELS_MAIL)
        with session_factory() as session:
            els = staff_repo.get_active_staff(session, ELS_MAIL)
            assert els is not None
            session.expunge(els)
        await h.say(ELS_TELEGRAM, "/aanmelden")
        terminal = Window(h.mail.workflow, els, h.mail.clock)
        try:
            assert "telefoonnummer" in h.last_text(ELS_TELEGRAM) and "telefoonnummer" in terminal.screen.getvalue()
            assert "voornaam" in terminal.type("02 123 45 67")
            await h.say(ELS_TELEGRAM, "0470 12 34 56")  # the phone question the chat shows
            assert "voornaam" in h.last_text(ELS_TELEGRAM)
            assert "achternaam" in terminal.type("Zoë")
            await h.say(ELS_TELEGRAM, "Mila")
            assert "achternaam" in h.last_text(ELS_TELEGRAM)
        finally:
            terminal.close()
        in_chat = answers(session_factory, Channel.TELEGRAM, str(ELS_TELEGRAM))
        in_terminal = answers(session_factory, Channel.TERMINAL, ELS_MAIL)
        assert (in_chat["referrer_phone"], in_chat["pupil_first_name"]) == ("0470 12 34 56", "Mila")
        assert (in_terminal["referrer_phone"], in_terminal["pupil_first_name"]) == ("02 123 45 67", "Zoë")


async def test_the_chat_refuses_an_answer_when_its_conversation_moved_on_elsewhere(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path, mode=Mode.FULL) as h:
        h.register(ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        h.link(ELS_TELEGRAM, ELS_MAIL)
        await h.say(ELS_TELEGRAM, "/aanmelden")
        # Another window on the same conversation (as a second device would be) answers the phone question.
        h.mail.workflow.handle(channel=Channel.TELEGRAM, external_id=str(ELS_TELEGRAM), inbound=Inbound.from_text("02 123 45 67"), now=h.mail.clock())
        shown = "\n".join(m.text for m in await h.say(ELS_TELEGRAM, "0470 12 34 56"))
        assert MOVED_ON in shown and "voornaam" in shown
        assert "pupil_first_name" not in answers(session_factory, Channel.TELEGRAM, str(ELS_TELEGRAM))
        await h.say(ELS_TELEGRAM, "Zoë")
        assert answers(session_factory, Channel.TELEGRAM, str(ELS_TELEGRAM))["pupil_first_name"] == "Zoë"
