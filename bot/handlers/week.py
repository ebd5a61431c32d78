"""/week in the coordinator's chat: the batches of the next seven days, what goes, what is held (a dry run)."""

from __future__ import annotations

from bot.chat import Scope
from desk.week import build_week, render_week
from store import audit


def week_view(scope: Scope, user_id: int) -> str:
    """The week view as of now, the same text as `meldpunt week`; the reading is audited as that command's is."""
    now = scope.clock()
    view = build_week(scope.session, now=now, moments=scope.config.dispatch_moments, calendar=scope.config.calendar,
                      intake=scope.workflow.intake)
    audit.record_audit(scope.session, actor=f"coördinator (telegram {user_id})", action=audit.AuditAction.LIST_READ, now=now,
                       detail=f"week: {len(view.referral_ids)} aanmeldingen", channel=audit.AuditChannel.TELEGRAM,
                       purpose=audit.AuditPurpose.REVIEW)
    return render_week(view)
