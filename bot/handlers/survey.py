"""The under-12 survey in chat: the first question to linked staff, then region, count, needs and missing offer, step by step.

The dialogue's state is the invitation itself (store.survey_models.SurveyInvite.chat_step and chat_draft): no
conversation of the referral engine is touched, so a referral in progress waits unharmed. The free text ends
the dialogue at once, so it is never kept in a draft.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.chat import Answer, ChatEvent, Reply, Scope
from bot.handlers import engine
from bot.keyboards import Action, Button, Keyboard, Press, label
from desk import survey as survey_desk
from intake.survey import SurveyAnswer, SurveyNeed, parse_count, parse_missing, parse_needs, parse_region
from intake.texts import message
from intake.vocabulary import Region
from store import survey as survey_repo
from store.models import Staff
from store.survey_models import SurveyInvite

REGION, COUNT, NEEDS, MISSING = "regio", "aantal", "noden", "aanbod"
COMMANDS = frozenset({"overslaan", "annuleer"})
_PICK, _TOGGLE, _DONE, _SKIP = "r", "n", "k", "o"  # the second field of a survey button's data


def say(name: str, /, **context: Any) -> str:
    """A line of the survey dialogue: the macro `name` of templates/survey/chat.txt.j2."""
    return message(name, source="survey/chat.txt.j2", **context)


def first_questions(session: Session, *, now: datetime) -> list[Reply]:
    """The survey's opening and first question for each linked staff member not asked yet (marked asked now)."""
    replies: list[Reply] = []
    for invite in survey_repo.chats_waiting(session):
        invite.chat_sent_at = now
        if invite.answered_at is not None or invite.staff.removed_at is not None:
            continue  # answered by mail already, or gone: nothing to ask
        invite.chat_step, invite.chat_draft = REGION, {}
        for user_id in survey_repo.linked_user_ids(session, invite.staff_id):
            replies.append(Reply(say("intro", year=invite.survey.year) + "\n\n" + say("ask_region"), buttons=_regions(), chat_id=user_id))
    session.flush()
    return replies


def command(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/bevraging: answer the newest survey in chat (again): linked after the start, stopped, or to change an answer."""
    invite = survey_repo.newest_invite(scope.session, staff.id)
    if invite is None:
        return Answer([Reply(say("no_survey"))])
    invite.chat_sent_at = invite.chat_sent_at or scope.clock()  # the job need not open it again
    invite.chat_step, invite.chat_draft = REGION, {}
    return Answer([Reply(say("ask_region"), buttons=_regions())])


def active(scope: Scope, event: ChatEvent, staff: Staff) -> SurveyInvite | None:
    """The invitation whose questions this staff member's chat is answering now, or None.

    A survey nobody has answered anything of yet waits behind a referral in progress in this chat: what she types
    still answers the referral, until she presses a region and so chooses the survey.
    """
    invite = survey_repo.chat_in_progress(scope.session, staff.id)
    if invite is not None and invite.chat_step == REGION and engine.has_conversation(scope, event):
        return None
    return invite


def typed(scope: Scope, event: ChatEvent, staff: Staff, invite: SurveyInvite) -> Answer:
    """A typed answer, /overslaan or /annuleer while the survey asks its questions."""
    if event.command == "annuleer":
        invite.chat_step, invite.chat_draft = None, None
        return Answer([Reply(say("stopped"))])
    if event.command == "overslaan":
        return _finish(scope, invite, None) if invite.chat_step == MISSING else Answer([Reply(say("cannot_skip"))])
    text = event.text or ""
    if invite.chat_step == REGION:
        region = parse_region(text)
        return _region(invite, region) if isinstance(region, Region) else _again(str(region), say("ask_region"), _regions())
    if invite.chat_step == COUNT:
        count = parse_count(text)
        if isinstance(count, str):
            return _again(count, say("ask_count"), ())
        _advance(invite, NEEDS, count=count)
        return Answer([Reply(say("ask_needs"), buttons=_needs(()))])
    if invite.chat_step == NEEDS:
        needs = parse_needs(text)
        if isinstance(needs, str):
            return _again(needs, say("ask_needs"), _needs(_chosen(invite)))
        _advance(invite, MISSING, needs=[need.value for need in needs])
        return Answer([Reply(say("ask_missing"), buttons=_skip())])
    return _finish(scope, invite, parse_missing(text))


def pressed(scope: Scope, event: ChatEvent, staff: Staff, press: Press) -> Answer:
    """A survey button: a region, a need ticked, Klaar, or Overslaan; one of an earlier question is stale."""
    invite = survey_repo.chat_in_progress(scope.session, staff.id)  # a press is a choice: it never waits behind a referral
    kind, *args = press.args
    step = {_PICK: REGION, _TOGGLE: NEEDS, _DONE: NEEDS, _SKIP: MISSING}.get(kind)
    if invite is None or step is None or invite.chat_step != step:
        return Answer(toast=say("use_buttons") if invite is not None else None, clear_pressed=True)
    if kind == _PICK:
        region = parse_region(args[0] if args else "")
        return _region(invite, region, pressed_text=event.pressed_text) if isinstance(region, Region) else Answer(clear_pressed=True)
    if kind == _SKIP:
        return _finish(scope, invite, None, record=say("chosen", text=event.pressed_text or say("ask_missing"), choice=label("skip")))
    chosen = _chosen(invite)
    if kind == _DONE:
        if not chosen:
            return Answer(toast=say("choose_need"))
        choice = ", ".join(need.label for need in chosen)
        _advance(invite, MISSING, needs=[need.value for need in chosen])
        return Answer([Reply(say("ask_missing"), buttons=_skip())], clear_pressed=True,
                      record=say("chosen", text=event.pressed_text or say("ask_needs"), choice=choice))
    need = next((n for n in SurveyNeed if args and n.value == args[0]), None)
    if need is None:
        return Answer(toast=say("use_buttons"))
    chosen = tuple(n for n in SurveyNeed if (n in chosen) != (n is need))  # ticked or unticked, in the set's order
    invite.chat_draft = {**(invite.chat_draft or {}), "needs": [n.value for n in chosen]}
    return Answer([Reply("", buttons=_needs(chosen), edit_keyboard=True)])


def _region(invite: SurveyInvite, region: Region, *, pressed_text: str | None = None) -> Answer:
    """The region is known: ask the count (and show the choice under the pressed question)."""
    _advance(invite, COUNT, region=region.value)
    record = say("chosen", text=pressed_text or say("ask_region"), choice=region.label)
    return Answer([Reply(say("ask_count"))], clear_pressed=True, record=record)


def _finish(scope: Scope, invite: SurveyInvite, missing: str | None, *, record: str | None = None) -> Answer:
    """Record the answer from the draft and the missing offer; thank, and say when it replaced an earlier one."""
    draft = invite.chat_draft or {}
    answer = SurveyAnswer(region=Region.parse(draft["region"]), under12_questions=int(draft["count"]),
                          needs=tuple(SurveyNeed.parse(value) for value in draft["needs"]), missing_offer=missing)
    replaced = survey_desk.record(scope.session, invite, answer, now=scope.clock())
    invite.chat_step, invite.chat_draft = None, None
    return Answer([Reply(say("thanks", replaced=replaced))], clear_pressed=record is not None, record=record)


def _advance(invite: SurveyInvite, step: str, **values: Any) -> None:
    """Go to the next question with these answers added (a new dict: the column sees only assignments)."""
    invite.chat_step, invite.chat_draft = step, {**(invite.chat_draft or {}), **values}


def _again(reason: str, question: str, buttons: Keyboard) -> Answer:
    """The reason, then the same question again."""
    return Answer([Reply(say("wrong", reason=reason)), Reply(question, buttons=buttons)])


def _chosen(invite: SurveyInvite) -> tuple[SurveyNeed, ...]:
    """The needs ticked so far."""
    values = set((invite.chat_draft or {}).get("needs", []))
    return tuple(need for need in SurveyNeed if need.value in values)


def _data(*args: str) -> str:
    """A survey button's callback data."""
    return "|".join([Action.SURVEY, *args])


def _regions() -> Keyboard:
    """One button per region."""
    return tuple((Button(region.label, _data(_PICK, region.value)),) for region in Region)


def _needs(chosen: tuple[SurveyNeed, ...]) -> Keyboard:
    """A button per need, ticked or not, and Klaar."""
    rows = tuple((Button(label("toggle", label=need.label, on=need in chosen), _data(_TOGGLE, need.value)),) for need in SurveyNeed)
    return (*rows, (Button(label("done"), _data(_DONE)),))


def _skip() -> Keyboard:
    """Overslaan under the last question."""
    return ((Button(label("skip"), _data(_SKIP)),),)
