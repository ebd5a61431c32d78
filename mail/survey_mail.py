"""A staff member's reply to the survey mail: found by its thread or its subject's token, read, recorded or sent back.

Only the invited staff member's own address may answer for her invitation; the processor has already
checked the sender's authentication (mail.processor._check_authentication) before it asks us.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from desk import survey as survey_desk
from intake.survey import find_token, read_form
from mail.body import all_text
from mail.outcomes import MailOutcome
from mail.replies import Mail
from store import survey as survey_repo
from store.models import Staff
from store.survey_models import SurveyInvite

# The processor's _reply: queue an automatic reply to this mail from a template, or say why it did not.
Reply = Callable[..., str | None]


def find_invite(session: Session, mail: Mail) -> SurveyInvite | None:
    """The invitation this mail answers: by its In-Reply-To/References, else by the token in its subject."""
    invite = survey_repo.invite_by_thread(session, mail.thread_ids)
    if invite is not None:
        return invite
    found = find_token(mail.subject)
    return survey_repo.invite_by_token(session, *found) if found else None


def handle(session: Session, mail: Mail, staff: Staff, now: datetime, reply: Reply) -> tuple[MailOutcome, str | None] | None:
    """Record a survey answer (or send the form back with the reasons); None when the mail is no survey reply."""
    invite = find_invite(session, mail)
    if invite is None:
        return None
    if invite.staff_id != staff.id:  # a forwarded survey: the colleague is told, nothing is recorded
        return MailOutcome.SURVEY_NOT_INVITED, reply(session, mail, "survey/not_invited.txt.j2", now)
    form = read_form(mail.text)
    if form.labels_found == 0:
        form = read_form(all_text(mail.message))
    context: dict[str, Any] = {"tag": survey_desk.reply_tag(invite)}
    if form.answer is None:
        blank = survey_desk.form_text(invite.survey.school_year, form.values)
        return MailOutcome.SURVEY_INCOMPLETE, reply(session, mail, "survey/problems.txt.j2", now, problems=form.problems, form=blank, **context)
    replaced = survey_desk.record(session, invite, form.answer, now=now)
    return MailOutcome.SURVEY_RECORDED, reply(session, mail, "survey/confirmation.txt.j2", now, answer=form.answer, replaced=replaced, **context)
