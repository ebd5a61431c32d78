"""/status in chat: a staff member's referrals, told apart by initials and intervention, never the pupil's name."""

from __future__ import annotations

from typing import Any

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from store import audit, conversations, referrals
from store.models import Referral, Staff

_STATUS_LIMIT = 20


def show(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """The newest referrals of this staff member with their status and next step."""
    # A draft's answers live in its conversation until it is submitted.
    conversation = conversations.get_conversation(scope.session, scope.channel.value, scope.external_id(event))
    drafts = {conversation.referral_id: conversation.state.get("answers", {})} if conversation is not None else {}
    listed = referrals.list_referrals(scope.session, staff_id=staff.id)[:_STATUS_LIMIT]
    items = [_status_row(scope, r, drafts.get(r.id) or r.answers or {}) for r in listed]
    # The initials identify a pupil to whoever knows the class: who saw them is recorded.
    seen = [r.id for r, item in zip(listed, items, strict=True) if item["initials"]]
    if seen:
        viewer = audit.Viewer(staff.email, audit.audit_channel(scope.channel.value), audit.AuditPurpose.FOLLOW_UP)
        audit.record_view(scope.session, viewer, seen="initialen van de leerling", now=scope.clock(), referral_ids=seen)
    return Answer([Reply(chat_text("status", items=items))])


def _status_row(scope: Scope, referral: Referral, answers: dict[str, Any]) -> dict[str, Any]:
    """One line of /status: reference, status, moment, initials, intervention."""
    catalogue = scope.workflow.intake.catalogue
    proposed = (referral.suggestions or {}).get("proposed") if isinstance(referral.suggestions, dict) else None
    service_id = referral.assigned_service_id or proposed or answers.get("preferred_intervention")
    service = catalogue.service(service_id) if isinstance(service_id, str) else None
    return {
        "reference": referral.reference, "status": referral.status, "initials": pupil_initials(answers),
        "intervention": service.name if service else None, "assigned": referral.assigned_service_id is not None,
        "at": referral.submitted_at or referral.created_at,
    }


def pupil_initials(answers: dict[str, Any]) -> str | None:
    """The pupil's initials as given, or made from the first and last name ("Zoë Peeters" → "Z.P.")."""
    if answers.get("pupil_initials"):
        return str(answers["pupil_initials"])
    names = [str(answers.get(key) or "").strip() for key in ("pupil_first_name", "pupil_last_name")]
    letters = [name[0].upper() + "." for name in names if name]
    return "".join(letters) or None
