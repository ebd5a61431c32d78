"""The chat desk: everything the assistant answers in chat, as plain data, without Telegram's types.

The Telegram adapter (bot/telegram_bot.py) turns an update into a `ChatEvent`, runs `Desk.handle` in
a worker thread (it talks to the database), and sends the `Reply`s. Who may do what is decided here:
the coordinator's chat, linked CLB staff in a private chat, and everyone else (public catalogue only).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.keyboards import (
    KEEP,
    WIPE,
    Button,
    Keyboard,
    Press,
    accepts,
    data,
    keyboard_for,
    multi_keyboard,
    selected_numbers,
    selection,
    wipe_keyboard,
)
from desk import dispatch
from desk.decisions import Role, apply_actions, review_row, waiting_for_coordinator
from desk.workflow import Busy, Channel, IntakeWorkflow, Turn
from intake.actions import parse_actions
from intake.dialogue import ADVICE_QUESTIONS, DialogueState, Inbound, Mode, Outbound, OutKind, Seen, last_seen
from intake.eligibility import Outcome
from intake.lifecycle import Status
from intake.references import REFERENCE, REFERENCE_PATTERN, find_reference
from intake.schedule import WeeklyMoment, describe, next_slot, parse_moments
from intake.texts import compose_mail, message
from intake.vocabulary import OfferKind, ReferralRoute, Region
from intake.workhours import WorkCalendar, local_day
from store import conversations, outbox, questions, referrals, telegram
from store import staff as staff_repo
from store.mail_models import Question
from store.models import Referral, Staff
from store.views import answer_rows

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_CODE = re.compile(r"^\d{6}$")
_QUESTION_NUMBER = re.compile(r"[Vv]raag #(\d+)")
# A line for the coordinator starts with a reference and a separator; the reference alone is chatter.
_ACTION_LINE = re.compile(rf"^\s*{REFERENCE_PATTERN}\s*[:\-–]", re.IGNORECASE | re.MULTILINE)
_ASK_PROMPT = "Je vraag aan de coördinator"  # the start of ask_prompt: a reply to it is a question
_ENGINE_COMMANDS = {"terug", "overslaan", "annuleer", "help", "overzicht", "bevestig", "wijzig", "pauze"}
_CONVERSATION_BUTTONS = {"q", "y", "d", "o", "b", "k", "e", "x", "t", WIPE, KEEP}
_STATUS_LIMIT = 20
MAX_QUESTION_LENGTH = 4000  # a question to the coordinator; with its header it still fits one Telegram message

RelayByMail = Callable[[Session, Question, str, str, datetime], object]


def chat_text(name: str, /, **context: Any) -> str:
    """A bot message: the macro `name` of templates/telegram/messages.txt.j2."""
    return message(name, source="telegram/messages.txt.j2", **context)


@dataclass(frozen=True)
class ChatEvent:
    """One thing a person did in a chat: a command, a text, or a pressed button."""

    user_id: int
    chat_id: int
    private: bool
    command: str | None = None
    argument: str = ""
    text: str | None = None
    button: str | None = None
    reply_to_bot_text: str | None = None  # the bot message this text replies to, if any
    pressed_text: str | None = None  # the text of the message whose button was pressed, if Telegram still has it
    edited: bool = False  # the person edited an earlier message (its new text is not read)


@dataclass(frozen=True)
class Reply:
    """A message to send: to the chat of the event, or to another chat (the coordinator, an asker)."""

    text: str
    buttons: Keyboard = ()
    chat_id: int | None = None
    force_reply: bool = False
    edit_keyboard: bool = False  # replace the pressed message's buttons instead of sending


@dataclass
class Answer:
    """What the desk does in response: replies, a short notice on the pressed button, tidy up its buttons."""

    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    clear_pressed: bool = False
    # The pressed message's new text: the question with what was chosen, so the chat reads as a record.
    record: str | None = None


@dataclass(frozen=True)
class DeskConfig:
    """The desk's settings."""

    mode: Mode = Mode.MINIMAL
    coordinator_chat_id: int | None = None
    coordinator_email: str | None = None
    allowed_domains: tuple[str, ...] = ()
    mail_domain: str = "localhost"
    reminder_hours: float = 8
    calendar: WorkCalendar = WorkCalendar()  # counts the reminder's working hours and moves batches past closure days
    dispatch_moments: tuple[WeeklyMoment, ...] = parse_moments("wo 09:00, vr 09:00")


class Desk:
    """Answers chat events: linking, referrals, advice, catalogue, questions and the coordinator."""

    def __init__(self, workflow: IntakeWorkflow, sessions: sessionmaker[Session], config: DeskConfig, *,
                 relay_by_mail: RelayByMail, clock: Callable[[], datetime]) -> None:
        self.workflow = workflow
        self.sessions = sessions
        self.config = config
        self.relay_by_mail = relay_by_mail
        self.clock = clock
        # Per chat, the question or summary it last showed: a typed answer counts only for that one.
        self._seen: dict[int, Seen] = {}

    # --- routing -------------------------------------------------------------------------------
    def handle(self, event: ChatEvent) -> Answer:
        """Decide who is asking and answer; the database is committed before anything is sent."""
        if self.config.coordinator_chat_id is not None and event.chat_id == self.config.coordinator_chat_id:
            return self._coordinator(event)
        if event.button is not None and Press.parse(event.button).action == "c":
            return self._catalogue(Press.parse(event.button))  # public, also in groups
        if not event.private:
            return Answer([Reply(chat_text("only_private"))] if event.command else [])
        with self.sessions.begin() as session:
            staff = telegram.linked_staff(session, event.user_id)
            staff_id = staff.id if staff else None
            revoked = staff_id is None and telegram.revoked_account(session, event.user_id)
        if revoked:
            log.info("telegram-account losgekoppeld: de medewerker is verwijderd")
            return Answer([Reply(chat_text("access_ended"))], clear_pressed=event.button is not None)
        if staff_id is None:
            return self._stranger(event)
        return self._staff(event, staff_id)

    # --- strangers: linking and the public catalogue -------------------------------------------
    def _stranger(self, event: ChatEvent) -> Answer:
        if event.edited:
            return Answer([Reply(chat_text("edit_not_read"))])
        if event.command == "start":
            return Answer([Reply(chat_text("welcome_unlinked"))])
        if event.command == "aanbod":
            return self._catalogue(Press("c", ()))
        if event.command == "help":
            return Answer([Reply(chat_text("help_unlinked"))])
        if event.button is not None:
            return Answer([Reply(chat_text("link_first"))], toast=chat_text("stale"), clear_pressed=True)
        text = (event.text or "").strip()
        if _EMAIL.match(text):
            return Answer([Reply(self._send_code(event.user_id, text))])
        if _CODE.match(text.replace(" ", "")):
            return Answer([Reply(self._check_code(event.user_id, text.replace(" ", "")))])
        return Answer([Reply(chat_text("link_first" if event.command else "help_unlinked"))])

    def _send_code(self, user_id: int, email: str) -> str:
        """Mail a code when the address may link; the answer is the same either way (no address probing)."""
        now = self.clock()
        with self.sessions.begin() as session:
            if telegram.codes_last_hour(session, user_id, now=now) >= telegram.MAX_CODES_PER_HOUR:
                return chat_text("too_many_codes")
            # Counted for unknown addresses too, so this answer says nothing about who is registered.
            if telegram.codes_last_hour_for_address(session, email, now=now) >= telegram.MAX_CODES_PER_ADDRESS:
                log.info("koppelcode geweigerd: te veel codes voor één adres in het voorbije uur")
                return chat_text("too_many_codes_address")
            if not self._may_link(session, email):
                telegram.new_code(session, user_id, email, now=now)  # counts towards the limits; never mailed
                log.info("koppelcode gevraagd voor een adres dat niet mag koppelen")
                return chat_text("code_sent", email=email)
            code = telegram.new_code(session, user_id, email, now=now)
            mail = compose_mail("mail/link_code.txt.j2", code=code)
            outbox.enqueue(session, kind="koppelcode", to_address=email, subject=mail.subject, body_text=mail.text, body_html=mail.html,
                           domain=self.config.mail_domain, now=now)
            log.info("koppelcode gemaild")
            return chat_text("code_sent", email=email)

    def _check_code(self, user_id: int, typed: str) -> str:
        now = self.clock()
        with self.sessions.begin() as session:
            if not telegram.has_pending_code(session, user_id):
                return chat_text("code_none")
            outcome, email = telegram.check_code(session, user_id, typed, now=now)
            if outcome is telegram.CodeCheck.EXPIRED:
                return chat_text("code_expired")
            if outcome is telegram.CodeCheck.WRONG:
                return chat_text("code_wrong", left=telegram.attempts_left(session, user_id))
            if outcome is telegram.CodeCheck.NONE or email is None:
                return chat_text("code_none")
            if not self._may_link(session, email):
                # A code that was never mailed (unknown or removed address) was guessed: it links nothing.
                log.warning("geraden koppelcode voor een adres dat niet mag koppelen")
                return chat_text("code_none")
            staff = staff_repo.get_active_staff(session, email)
            if staff is None:
                # An allowed CLB domain: registered now; name and CLB are asked in the first referral.
                staff = staff_repo.add_staff(session, email=email, name="", clb="", now=now)
            telegram.link(session, user_id, staff, now=now)
            log.info("telegram-account gekoppeld aan medewerker %s", staff.id)
            return chat_text("code_linked", name=staff.name)

    def _may_link(self, session: Session, email: str) -> bool:
        """Registered staff, or a new address of an allowed CLB domain; never a removed member."""
        if staff_repo.get_active_staff(session, email) is not None:
            return True
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in self.config.allowed_domains and not staff_repo.was_removed(session, email)

    def revocations(self) -> list[Reply]:
        """The access-ended message for each account of a removed staff member, unlinked now."""
        with self.sessions.begin() as session:
            accounts = telegram.revoked_accounts(session)
        if accounts:
            log.info("%s telegram-account(s) losgekoppeld: medewerker verwijderd", len(accounts))
        # A revoked link is a private chat with that account: the chat id is the user id.
        return [Reply(chat_text("access_ended"), chat_id=user_id) for user_id in accounts]

    # --- staff ---------------------------------------------------------------------------------
    def _staff(self, event: ChatEvent, staff_id: int) -> Answer:
        if event.edited:
            return self._edited(event)
        if event.button is not None:
            return self._staff_button(event, staff_id, Press.parse(event.button))
        command = event.command
        if command is None:
            return self._staff_text(event, staff_id)
        if command == "start":
            return Answer([Reply(chat_text("welcome_linked", name=self._staff_name(staff_id)))])
        if command == "aanmelden":
            return self._turn(self._open(event, staff_id), notice=self.config.mode is Mode.MINIMAL)
        if command == "advies":
            try:
                return self._turn(self._showing(event.chat_id, self.workflow.open_advice(channel=Channel.TELEGRAM, external_id=str(event.chat_id),
                                                                                         staff=self._staff_row(staff_id), now=self.clock())))
            except Busy as busy:
                return Answer([Reply(str(busy))])
        if command == "aanbod":
            return self._catalogue(Press("c", ()))
        if command == "vraag":
            if event.argument.strip():
                return self._ask(event, staff_id, event.argument.strip(), reference=None)
            return Answer([Reply(chat_text("ask_prompt"), force_reply=True)])
        if command == "status":
            return Answer([Reply(self._status(event, staff_id))])
        if command == "ontkoppel":
            with self.sessions.begin() as session:
                telegram.unlink_user(session, event.user_id)
            return Answer([Reply(chat_text("unlinked_done"))])
        if command in _ENGINE_COMMANDS:
            if self.workflow.has_conversation(channel=Channel.TELEGRAM, external_id=str(event.chat_id)):
                return self._handle(event, Inbound.from_text(f"/{command} {event.argument}".strip()))
            if command == "help":
                return Answer([Reply(chat_text("welcome_linked", name=self._staff_name(staff_id)))])
            return Answer([Reply(chat_text("no_conversation"))])
        return Answer([Reply(chat_text("hint_linked"))])

    def _staff_text(self, event: ChatEvent, staff_id: int) -> Answer:
        text = (event.text or "").strip()
        if event.reply_to_bot_text and event.reply_to_bot_text.startswith(_ASK_PROMPT) and text:
            return self._ask(event, staff_id, text, reference=find_reference(event.reply_to_bot_text))
        if not self.workflow.has_conversation(channel=Channel.TELEGRAM, external_id=str(event.chat_id)):
            return Answer([Reply(chat_text("hint_linked"))])
        return self._handle(event, Inbound.from_text(text, seen=self._seen.get(event.chat_id)))

    def _staff_button(self, event: ChatEvent, staff_id: int, press: Press) -> Answer:
        action, args = press.action, press.args
        if action == "a" and args == ("start",):
            turn = self._showing(event.chat_id, self.workflow.open_from_advice(channel=Channel.TELEGRAM, external_id=str(event.chat_id),
                                                                               staff=self._staff_row(staff_id), mode=self.config.mode, now=self.clock()))
            answer = self._turn(turn, notice=self.config.mode is Mode.MINIMAL)
            answer.clear_pressed = True
            return answer
        if action == "a" and args == ("vraag",):
            return Answer([Reply(chat_text("ask_prompt"), force_reply=True)])
        if action == "v" and len(args) == 1 and REFERENCE.fullmatch(args[0]):
            return Answer([Reply(chat_text("ask_prompt", reference=args[0]), force_reply=True)])
        if action not in _CONVERSATION_BUTTONS or not args:
            return Answer(toast=chat_text("stale"), clear_pressed=True)
        return self._conversation_button(event, staff_id, press)

    def _conversation_button(self, event: ChatEvent, staff_id: int, press: Press) -> Answer:
        """A button of a question or summary: it counts only when it belongs to the one shown now."""
        state = self._state(event)
        if state is None:
            return Answer([Reply(self._finished(staff_id))], toast=chat_text("stale"), clear_pressed=True)
        shown = self._shown(state)
        if shown is None or not accepts(shown, press):
            # An older question's button, or data no keyboard of ours carries: nothing changes.
            stale = self._turn(Turn(outbounds=tuple(self.workflow.intake.resume(state, notice="dialogue/stale_button.txt.j2"))))
            return Answer(stale.replies, toast=chat_text("stale"), clear_pressed=True)
        if press.action == "t":
            return self._toggle(shown, press)
        if press.action == "x":  # wiping every answer is asked once; the summary keeps its buttons meanwhile
            return Answer([Reply(chat_text("wipe_question"), buttons=wipe_keyboard(press.args[0]))])
        if press.action == KEEP:
            self._showing(event.chat_id, Turn(outbounds=(shown,)))
            return Answer([Reply(shown.text, buttons=keyboard_for(shown))], record=self._record(event, shown, press=press), clear_pressed=True)
        inbound = _button_inbound(press, shown)
        if inbound is None:
            return Answer(toast=chat_text("choose_one"))
        answer = self._handle(event, inbound, expect=press.args[0])
        answer.clear_pressed = True
        if answer.toast is None:  # not stale: the press counted
            answer.record = self._record(event, shown, press=press)
        return answer

    def _state(self, event: ChatEvent) -> DialogueState | None:
        """The conversation of this chat, if one is going on."""
        with self.sessions() as session:
            conversation = conversations.get_conversation(session, Channel.TELEGRAM.value, str(event.chat_id))
            return DialogueState.model_validate(conversation.state) if conversation is not None else None

    def _record(self, event: ChatEvent, shown: Outbound, *, press: Press) -> str | None:
        """The pressed message with what was chosen under it; None when Telegram did not send its text."""
        if not event.pressed_text:
            return None
        return chat_text("chosen", text=event.pressed_text, choice=_chosen(press, shown))

    def _finished(self, staff_id: int) -> str:
        """Why a button of a conversation that ended does nothing: its referral was submitted, or cancelled."""
        with self.sessions() as session:
            latest = next((r for r in referrals.list_referrals(session, staff_id=staff_id) if r.channel == Channel.TELEGRAM.value), None)
            if latest is not None and latest.reference is not None and latest.status is not Status.CANCELLED:
                return chat_text("already_submitted", reference=latest.reference, status=latest.status.label)
            if latest is not None and latest.status is Status.CANCELLED:
                return chat_text("already_cancelled")
        return chat_text("no_conversation")

    def _edited(self, event: ChatEvent) -> Answer:
        """An edited message is not read (its first version may already count): say so and ask again."""
        replies = [Reply(chat_text("edit_not_read"))]
        state = self._state(event)
        shown = self._shown(state) if state is not None else None
        if shown is not None:
            self._showing(event.chat_id, Turn(outbounds=(shown,)))
            replies.append(Reply(shown.text, buttons=keyboard_for(shown)))
        return Answer(replies)

    def _shown(self, state: DialogueState) -> Outbound | None:
        """The question or summary this conversation shows now, whose buttons may be pressed."""
        return next((o for o in reversed(self.workflow.intake.resume(state)) if o.token is not None), None)

    def _toggle(self, shown: Outbound, press: Press) -> Answer:
        """Tick or untick one choice of a multi-select question: only the buttons change."""
        mask, index = selection(press)
        selected = mask ^ (1 << (index or 0))  # both bounded by the question's choices (accepts)
        buttons = multi_keyboard(shown.token or "", shown.choices, selected=selected, optional=shown.optional)
        return Answer([Reply("", buttons=buttons, edit_keyboard=True)])

    # --- the engine ----------------------------------------------------------------------------
    def _open(self, event: ChatEvent, staff_id: int) -> Turn:
        return self._showing(event.chat_id, self.workflow.open(channel=Channel.TELEGRAM, external_id=str(event.chat_id), staff=self._staff_row(staff_id),
                                                               mode=self.config.mode, now=self.clock()))

    def _showing(self, chat_id: int, turn: Turn) -> Turn:
        """Remember the question or summary this turn shows in the chat (kept when it shows none)."""
        seen = last_seen(turn.outbounds)
        if seen is not None:
            self._seen[chat_id] = seen
        return turn

    def _handle(self, event: ChatEvent, inbound: Inbound, *, expect: str | None = None) -> Answer:
        turn = self._showing(event.chat_id, self.workflow.handle(channel=Channel.TELEGRAM, external_id=str(event.chat_id), inbound=inbound, now=self.clock(),
                                                                 expect=expect))
        answer = self._turn(turn)
        if turn.stale:
            answer.toast = chat_text("stale")
        return answer

    def _turn(self, turn: Turn, *, notice: bool = False) -> Answer:
        """The engine's messages with their buttons; a referral that needs review offers a question."""
        replies = [Reply(o.text, buttons=keyboard_for(o)) for o in turn.outbounds]
        if notice and len(turn.outbounds) == 1 and turn.outbounds[0].kind is OutKind.QUESTION:
            replies.insert(0, Reply(chat_text("minimal_notice")))  # a fresh referral, not a resumed one
        if turn.reference and turn.outcome in (Outcome.FLAGGED, Outcome.NOT_ELIGIBLE):
            replies[-1] = Reply(replies[-1].text, buttons=((Button("❓ Vraag aan de coördinator", data("v", turn.reference)),),))
        return Answer(replies)

    # --- questions to the coordinator ----------------------------------------------------------
    def _ask(self, event: ChatEvent, staff_id: int, text: str, *, reference: str | None) -> Answer:
        """Store the question, pass it to the coordinator's chat (or mail), and tell the asker."""
        now = self.clock()
        kept = _cut(text, MAX_QUESTION_LENGTH)
        with self.sessions.begin() as session:
            staff = session.get_one(Staff, staff_id)
            context = self._context(session, event, staff, reference)
            question = questions.open_question(
                session, asker_email=staff.email, staff_id=staff.id, channel="telegram", text=kept,
                context=context, now=now, asker_chat_id=event.chat_id,
            )
            replies = [Reply(chat_text("question_sent", number=question.id, coordinator=self.config.coordinator_chat_id is not None))]
            if kept != text:  # said, never cut silently: the person knows what the coordinator did not get
                replies.append(Reply(chat_text("question_cut", limit=MAX_QUESTION_LENGTH, tail=" ".join(kept.split()[-6:]), left=len(text) - len(kept))))
            if self.config.coordinator_chat_id is not None:
                replies.append(self._to_coordinator(question, staff))
            elif self.config.coordinator_email:
                mail = compose_mail("mail/escalation.txt.j2", question=question, sender=staff.email, subject=None)
                row = outbox.enqueue(session, kind="escalatie", to_address=self.config.coordinator_email, subject=mail.subject, body_text=mail.text,
                                     body_html=mail.html, domain=self.config.mail_domain, now=now)
                question.escalation_message_id = row.message_id
            log.info("vraag %s doorgestuurd naar de coördinator", question.id)
        return Answer(replies)

    def _context(self, session: Session, event: ChatEvent, staff: Staff, reference: str | None) -> dict[str, Any] | None:
        """What the coordinator needs to answer, without anything that identifies the pupil."""
        if reference is not None:
            referral = referrals.get_referral(session, reference)
            if referral is None or referral.staff_id != staff.id:
                return None
            findings = (referral.eligibility or {}).get("findings", [])
            reasons = " ".join(f["reason"] for f in findings if f.get("severity") != "note")  # never the rules' codes
            return {"aanmelding": reference, "status": referral.status.label, "aandachtspunten": reasons or "geen"}
        conversation = conversations.get_conversation(session, Channel.TELEGRAM.value, str(event.chat_id))
        if conversation is None:
            return None
        state = DialogueState.model_validate(conversation.state)
        if state.mode is not Mode.ADVICE:
            return None
        advice = {key: state.answers[key] for key in ADVICE_QUESTIONS if key in state.answers}
        # Stored as the coordinator reads it: the questions' labels and the chosen answers' labels, not keys and codes.
        return {label: value for _, label, value in answer_rows(self.workflow.intake.questionnaire, advice)} or None

    def _to_coordinator(self, question: Question, staff: Staff | None, *, reminder: bool = False) -> Reply:
        text = chat_text(
            "question_to_coordinator", number=question.id, asker=(staff.name or staff.email) if staff else question.asker_email,
            clb=staff.clb if staff else None, text=question.text, context=question.context, reminder=reminder,
        )
        return Reply(text, chat_id=self.config.coordinator_chat_id)

    def _coordinator(self, event: ChatEvent) -> Answer:
        """The coordinator's chat: questions, the review queue, the next batch, and decisions line by line."""
        if event.command == "nakijken":
            return Answer([Reply(self._review_queue())])
        if event.command == "verzending":
            return Answer([Reply(self._next_batch())])
        if event.command == "beslis":
            return Answer([Reply(self._decide(event.argument, event.user_id))])
        if event.command == "vragen":
            with self.sessions.begin() as session:
                return Answer([Reply(chat_text("open_questions", items=questions.open_questions(session)))])
        if event.command == "antwoord":
            number, _, text = event.argument.strip().partition(" ")
            if not number.lstrip("#").isdigit() or not text.strip():
                return Answer([Reply(chat_text("answer_usage"))])
            return Answer(self._answer(int(number.lstrip("#")), text.strip(), event.user_id))
        if event.text and event.reply_to_bot_text:
            found = _QUESTION_NUMBER.search(event.reply_to_bot_text)
            if found:
                return Answer(self._answer(int(found[1]), event.text.strip(), event.user_id))
        if event.text and _ACTION_LINE.search(event.text):
            return Answer([Reply(self._decide(event.text, event.user_id))])
        if event.command is not None or event.button is not None:
            return Answer([Reply(chat_text("coordinator_help"))])
        return Answer()  # the coordinator's own chatter in their chat is none of our business

    def _review_queue(self) -> str:
        """Referrals waiting for the coordinator, with their reasons; never the pupil's identity."""
        with self.sessions() as session:
            rows = [review_row(session, referral) for referral in waiting_for_coordinator(session)]
        return chat_text("review_queue", rows=rows)

    def _next_batch(self) -> str:
        """What the next batch will send to whom (a dry run: nothing changes)."""
        slot = next_slot(self.clock(), self.config.dispatch_moments, self.config.calendar.closures)
        with self.sessions() as session:
            plan = dispatch.make_plan(session, self.workflow.intake)
        return chat_text("next_batch", plan=plan, next=describe(slot.runs_at))

    def _decide(self, text: str, user_id: int) -> str:
        """Apply the coordinator's lines ("MSI-2026-0042: goedkeuren"); the result of each, in Dutch."""
        actions, problems = parse_actions(text, today=local_day(self.clock()))
        if not actions and not problems:
            return chat_text("decide_usage")
        try:
            with self.sessions.begin() as session:
                results = apply_actions(session, actions, role=Role.COORDINATOR, actor=f"coördinator (telegram {user_id})",
                                        intake=self.workflow.intake, domain=self.config.mail_domain, now=self.clock())
        except StaleDataError:
            return chat_text("decide_concurrent")
        return chat_text("decisions", results=results, problems=problems)

    def _answer(self, number: int, text: str, user_id: int) -> list[Reply]:
        """Store the answer and pass it on: in chat to a chat question, else by mail."""
        now, by = self.clock(), f"coördinator (telegram {user_id})"
        with self.sessions.begin() as session:
            question = questions.get_question(session, number)
            if question is None or question.answered_at is not None:
                return [Reply(chat_text("question_unknown", number=number))]
            asker_still_linked = question.asker_chat_id is not None and telegram.linked_staff(session, question.asker_chat_id) is not None
            if asker_still_linked:
                questions.answer_question(session, question, answer=text, by=by, now=now)
                relay = Reply(chat_text("answer_to_asker", number=number, question=question.text, answer=text), chat_id=question.asker_chat_id)
                return [relay, Reply(chat_text("answer_relayed", number=number, how="in de chat"))]
            self.relay_by_mail(session, question, text, by, now)
            return [Reply(chat_text("answer_relayed", number=number, how="per e-mail"))]

    def reminders(self) -> list[Reply]:
        """Questions unanswered for the configured working hours, sent again to the coordinator's chat."""
        if self.config.coordinator_chat_id is None:
            return []
        with self.sessions.begin() as session:
            due = questions.due_for_reminder(session, now=self.clock(), after_hours=self.config.reminder_hours, calendar=self.config.calendar)
            return [self._to_coordinator(q, session.get(Staff, q.asker_staff_id) if q.asker_staff_id else None, reminder=True) for q in due]

    # --- public information --------------------------------------------------------------------
    def _catalogue(self, press: Press) -> Answer:
        """Browse the catalogue: region, then kind of offer, then the services with their websites."""
        catalogue = self.workflow.intake.catalogue
        if not press.args:
            rows = tuple((Button(r.label, data("c", r.value)),) for r in Region)
            return Answer([Reply(chat_text("catalogue_regions"), buttons=(*rows, (Button("Alle regio's", data("c", "*")),)))])
        region = press.args[0]
        in_region = [s for s in catalogue.services if region == "*" or s.service_areas is None or region in s.service_areas]
        region_label = "alle regio's" if region == "*" else Region.parse(region).label if region in set(Region) else None
        if region_label is None:
            return Answer(toast=chat_text("stale"))
        if len(press.args) == 1:
            kinds = [k for k in OfferKind if any(s.kind is k for s in in_region)]
            rows = tuple((Button(k.label, data("c", region, k.value)),) for k in kinds)
            return Answer([Reply(chat_text("catalogue_kinds", region=region_label.capitalize()), buttons=rows)])
        kind = press.args[1]
        if kind not in set(OfferKind):
            return Answer(toast=chat_text("stale"))
        services = [_service_card(catalogue, s) for s in in_region if s.kind.value == kind]
        back = ((Button("⬅️ Andere soort", data("c", region)), Button("Andere regio", data("c"))),)
        return Answer([Reply(chat_text("catalogue_list", region=region_label, kind=OfferKind.parse(kind).label, services=services), buttons=back)])

    # --- small helpers ---------------------------------------------------------------------------
    def _status(self, event: ChatEvent, staff_id: int) -> str:
        """The staff member's referrals, told apart by initials and intervention; never the pupil's name."""
        with self.sessions.begin() as session:
            # A draft's answers live in its conversation until it is submitted.
            conversation = conversations.get_conversation(session, Channel.TELEGRAM.value, str(event.chat_id))
            drafts = {conversation.referral_id: conversation.state.get("answers", {})} if conversation is not None else {}
            listed = referrals.list_referrals(session, staff_id=staff_id)[:_STATUS_LIMIT]
            items = [self._status_row(r, drafts.get(r.id) or r.answers or {}) for r in listed]
        return chat_text("status", items=items)

    def _status_row(self, referral: Referral, answers: dict[str, Any]) -> dict[str, Any]:
        """One line of /status: reference, status, moment, initials, intervention."""
        catalogue = self.workflow.intake.catalogue
        proposed = (referral.suggestions or {}).get("proposed") if isinstance(referral.suggestions, dict) else None
        service_id = referral.assigned_service_id or proposed or answers.get("preferred_intervention")
        service = catalogue.service(service_id) if isinstance(service_id, str) else None
        return {
            "reference": referral.reference, "status": referral.status, "initials": pupil_initials(answers),
            "intervention": service.name if service else None, "assigned": referral.assigned_service_id is not None,
            "at": referral.submitted_at or referral.created_at,
        }

    def _staff_row(self, staff_id: int) -> Staff:
        with self.sessions.begin() as session:
            staff = session.get_one(Staff, staff_id)
            session.expunge(staff)
            return staff

    def _staff_name(self, staff_id: int) -> str:
        return self._staff_row(staff_id).name


def _button_inbound(press: Press, shown: Outbound) -> Inbound | None:
    """The engine message an accepted conversation button stands for; None when a multi-select is empty."""
    action, args = press.action, press.args
    if action == "q" and len(args) == 2:
        return Inbound(text=args[1])
    if action == "y" and len(args) == 2:
        return Inbound(text=args[1])
    if action == "d":
        numbers = selected_numbers(selection(press)[0], len(shown.choices))
        return Inbound(text=", ".join(str(n) for n in numbers)) if numbers else None
    if action == "e" and len(args) == 2:
        return Inbound.from_text(f"wijzig {args[1]}")
    words = {"o": "overslaan", "b": "terug", "k": "bevestig", WIPE: "annuleer"}
    return Inbound.from_text(words[action]) if action in words else None


def pupil_initials(answers: dict[str, Any]) -> str | None:
    """The pupil's initials as given, or made from the first and last name ("Zoë Peeters" → "Z.P.")."""
    if answers.get("pupil_initials"):
        return str(answers["pupil_initials"])
    names = [str(answers.get(key) or "").strip() for key in ("pupil_first_name", "pupil_last_name")]
    letters = [name[0].upper() + "." for name in names if name]
    return "".join(letters) or None


def _cut(text: str, limit: int) -> str:
    """The text up to limit characters, cut after a whole word when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if not text[limit].isspace() and len(head.split()) > 1:
        head = head.rsplit(maxsplit=1)[0]  # the last word was cut through: leave it out whole
    return head.rstrip()


def _chosen(press: Press, shown: Outbound) -> str:
    """What a pressed button chose, as the person read it (the press was accepted for shown)."""
    action, args = press.action, press.args
    if action == "q":
        return shown.choices[int(args[1]) - 1].label
    if action == "d":
        numbers = selected_numbers(selection(press)[0], len(shown.choices))
        return ", ".join(shown.choices[n - 1].label for n in numbers)
    if action == "e":
        return chat_text("chosen_edit", number=args[1])
    return chat_text("chosen_word", action=action, answer=args[-1])


def _service_card(catalogue: Any, service: Any) -> dict[str, Any]:
    """What a person reads of one service in the catalogue browser."""
    organization = catalogue.organization(service.organization_id)
    return {
        "name": service.name, "organization": organization.name if organization else "",
        "description": service.description,
        "route": "rechtstreeks bij de aanbieder" if service.referral_route is ReferralRoute.DIRECT else "via het Meldpunt",
        "levels": ", ".join(level.label for level in service.levels) if service.levels else None,
        "areas": ", ".join(area.label for area in service.service_areas) if service.service_areas else None,
        "website": service.website or (organization.website if organization else None),
    }
