"""The questionnaire engine in chat: run a message through the workflow and show its turn with buttons."""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.keyboards import ask_keyboard, keyboard_for
from desk.workflow import Turn, audit_summary
from intake.dialogue import DialogueState
from intake.eligibility import Outcome
from intake.messages import Inbound, Outbound, OutKind, last_seen
from store import conversations


def showing(scope: Scope, event: ChatEvent, turn: Turn) -> Turn:
    """Remember the question or summary this turn shows in the chat (kept when it shows none)."""
    seen = last_seen(turn.outbounds)
    if seen is not None:
        scope.seen[event.chat_id] = seen
    return turn


def reshow(scope: Scope, event: ChatEvent, shown: Outbound) -> Turn:
    """Show the current question or summary again."""
    audit_shown(scope, event, (shown,))
    return showing(scope, event, Turn(outbounds=(shown,)))


def audit_shown(scope: Scope, event: ChatEvent, outbounds: Sequence[Outbound]) -> None:
    """A summary shown again outside the workflow: its answers are read again, so that is recorded."""
    conversation = conversations.get_conversation(scope.session, scope.channel.value, scope.external_id(event))
    if conversation is not None:
        audit_summary(scope.session, conversation, scope.channel, outbounds, scope.clock())


def turn_answer(turn: Turn, *, notice: bool = False) -> Answer:
    """The engine's messages with their buttons; a referral that needs review offers a question."""
    replies = [Reply(o.text, buttons=keyboard_for(o)) for o in turn.outbounds]
    if notice and len(turn.outbounds) == 1 and turn.outbounds[0].kind is OutKind.QUESTION:
        replies.insert(0, Reply(chat_text("minimal_notice")))  # a fresh referral, not a resumed one
    if turn.reference and turn.outcome in (Outcome.FLAGGED, Outcome.NOT_ELIGIBLE):
        replies[-1] = Reply(replies[-1].text, buttons=ask_keyboard(turn.reference))
    return Answer(replies)


def step(scope: Scope, event: ChatEvent, inbound: Inbound, *, expect: str | None = None) -> Answer:
    """One message to the conversation of this chat; a stale button gets the notice on its toast."""
    turn = scope.workflow.handle(channel=scope.channel, external_id=scope.external_id(event), inbound=inbound, now=scope.clock(), expect=expect)
    answer = turn_answer(showing(scope, event, turn))
    if turn.stale:
        answer.toast = chat_text("stale")
    return answer


def has_conversation(scope: Scope, event: ChatEvent) -> bool:
    """Whether this chat is in the middle of a referral or an advice."""
    return scope.workflow.has_conversation(channel=scope.channel, external_id=scope.external_id(event))


def state(scope: Scope, event: ChatEvent) -> DialogueState | None:
    """The conversation of this chat, if one is going on."""
    conversation = conversations.get_conversation(scope.session, scope.channel.value, scope.external_id(event))
    return DialogueState.model_validate(conversation.state) if conversation is not None else None


def shown(scope: Scope, dialogue: DialogueState) -> Outbound | None:
    """The question or summary this conversation shows now, whose buttons may be pressed."""
    return next((o for o in reversed(scope.workflow.intake.resume(dialogue)) if o.token is not None), None)
