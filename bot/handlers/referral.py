"""A staff member's referral in chat: open it, type answers, press its buttons, edit a message."""

from __future__ import annotations

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import engine
from bot.keyboards import Action, Press, accepts, keyboard_for, multi_keyboard, selected_numbers, selection, wipe_keyboard
from desk.workflow import Turn
from intake.lifecycle import Status
from intake.messages import Inbound, Outbound
from intake.vocabulary import Mode
from store import referrals
from store.models import Staff

# The buttons of a question or summary: each counts only for the one shown now.
CONVERSATION_BUTTONS = frozenset({
    Action.CHOICE, Action.YES_NO, Action.DONE, Action.SKIP, Action.BACK, Action.CONFIRM, Action.EDIT, Action.CANCEL,
    Action.TOGGLE, Action.WIPE, Action.KEEP,
})
_WORDS = {Action.SKIP: "overslaan", Action.BACK: "terug", Action.CONFIRM: "bevestig", Action.WIPE: "annuleer"}


def open_referral(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/aanmelden: resume the referral of this chat, or start one."""
    turn = scope.workflow.open(channel=scope.channel, external_id=scope.external_id(event), staff=staff, mode=scope.config.mode, now=scope.clock())
    return engine.turn_answer(engine.showing(scope, event, turn), notice=scope.config.mode is Mode.MINIMAL)


def engine_command(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/terug, /overslaan, /help and the like: for the conversation going on, if there is one."""
    if engine.has_conversation(scope, event):
        return engine.step(scope, event, Inbound.from_text(f"/{event.command} {event.argument}".strip()))
    if event.command == "help":
        return Answer([Reply(chat_text("welcome_linked", name=staff.name))])
    return Answer([Reply(chat_text("no_conversation"))])


def typed(scope: Scope, event: ChatEvent) -> Answer:
    """A typed answer: it counts for the question this chat showed last."""
    if not engine.has_conversation(scope, event):
        return Answer([Reply(chat_text("hint_linked"))])
    return engine.step(scope, event, Inbound.from_text((event.text or "").strip(), seen=scope.seen.get(event.chat_id)))


def pressed(scope: Scope, event: ChatEvent, staff: Staff, press: Press) -> Answer:
    """A button of a question or summary: it counts only when it belongs to the one shown now."""
    dialogue = engine.state(scope, event)
    if dialogue is None:
        return Answer([Reply(_finished(scope, staff))], toast=chat_text("stale"), clear_pressed=True)
    shown = engine.shown(scope, dialogue)
    if shown is None or not accepts(shown, press):
        # An older question's button, or data no keyboard of ours carries: nothing changes.
        resumed = tuple(scope.workflow.intake.resume(dialogue, notice="dialogue/stale_button.txt.j2"))
        engine.audit_shown(scope, event, resumed)
        stale = engine.turn_answer(Turn(outbounds=resumed))
        return Answer(stale.replies, toast=chat_text("stale"), clear_pressed=True)
    if press.action is Action.TOGGLE:
        return _toggle(shown, press)
    if press.action is Action.CANCEL:  # wiping every answer is asked once; the summary keeps its buttons meanwhile
        return Answer([Reply(chat_text("wipe_question"), buttons=wipe_keyboard(press.args[0]))])
    if press.action is Action.KEEP:
        engine.reshow(scope, event, shown)
        return Answer([Reply(shown.text, buttons=keyboard_for(shown))], record=_record(event, shown, press=press), clear_pressed=True)
    inbound = _button_inbound(press, shown)
    if inbound is None:
        return Answer(toast=chat_text("choose_one"))
    answer = engine.step(scope, event, inbound, expect=press.args[0])
    answer.clear_pressed = True
    if answer.toast is None:  # not stale: the press counted
        answer.record = _record(event, shown, press=press)
    return answer


def edited(scope: Scope, event: ChatEvent) -> Answer:
    """An edited message is not read (its first version may already count): say so and ask again."""
    replies = [Reply(chat_text("edit_not_read"))]
    dialogue = engine.state(scope, event)
    shown = engine.shown(scope, dialogue) if dialogue is not None else None
    if shown is not None:
        engine.reshow(scope, event, shown)
        replies.append(Reply(shown.text, buttons=keyboard_for(shown)))
    return Answer(replies)


def _finished(scope: Scope, staff: Staff) -> str:
    """Why a button of a conversation that ended does nothing: its referral was submitted, or cancelled."""
    listed = referrals.list_referrals(scope.session, staff_id=staff.id)
    latest = next((r for r in listed if r.channel == scope.channel.value), None)
    if latest is not None and latest.reference is not None and latest.status is not Status.CANCELLED:
        return chat_text("already_submitted", reference=latest.reference, status=latest.status.label)
    if latest is not None and latest.status is Status.CANCELLED:
        return chat_text("already_cancelled")
    return chat_text("no_conversation")


def _toggle(shown: Outbound, press: Press) -> Answer:
    """Tick or untick one choice of a multi-select question: only the buttons change."""
    mask, index = selection(press)
    selected = mask ^ (1 << (index or 0))  # both bounded by the question's choices (accepts)
    buttons = multi_keyboard(shown.token or "", shown.choices, selected=selected, optional=shown.optional)
    return Answer([Reply("", buttons=buttons, edit_keyboard=True)])


def _record(event: ChatEvent, shown: Outbound, *, press: Press) -> str | None:
    """The pressed message with what was chosen under it; None when Telegram did not send its text."""
    if not event.pressed_text:
        return None
    return chat_text("chosen", text=event.pressed_text, choice=_chosen(press, shown))


def _button_inbound(press: Press, shown: Outbound) -> Inbound | None:
    """The engine message an accepted conversation button stands for; None when a multi-select is empty."""
    action, args = press.action, press.args
    if action in (Action.CHOICE, Action.YES_NO) and len(args) == 2:
        return Inbound(text=args[1])
    if action is Action.DONE:
        numbers = selected_numbers(selection(press)[0], len(shown.choices))
        return Inbound(text=", ".join(str(n) for n in numbers)) if numbers else None
    if action is Action.EDIT and len(args) == 2:
        return Inbound.from_text(f"wijzig {args[1]}")
    return Inbound.from_text(_WORDS[action]) if action in _WORDS else None


def _chosen(press: Press, shown: Outbound) -> str:
    """What a pressed button chose, as the person read it (the press was accepted for shown)."""
    action, args = press.action, press.args
    if action is Action.CHOICE:
        return shown.choices[int(args[1]) - 1].label
    if action is Action.DONE:
        numbers = selected_numbers(selection(press)[0], len(shown.choices))
        return ", ".join(shown.choices[n - 1].label for n in numbers)
    if action is Action.EDIT:
        return chat_text("chosen_edit", number=args[1])
    return chat_text("chosen_word", action=str(action), answer=args[-1])
