"""/vandaag in the coordinator's chat: the agenda (desk/agenda.py), the same text as `meldpunt vandaag` and the morning digest."""

from __future__ import annotations

from bot.chat import Scope
from desk.agenda import build_agenda, record_agenda_view
from intake.agenda import AgendaRules
from intake.schedule import describe
from intake.texts import render
from store.audit import AuditChannel


def today(scope: Scope, user_id: int) -> str:
    """What waits for the coordinator now, its view in the audit log like /vragen's; never a pupil's identity."""
    now, config = scope.clock(), scope.config
    rules = AgendaRules(accept_within_days=config.accept_within_days, dispatch_moments=config.dispatch_moments)
    agenda = build_agenda(scope.session, now=now, calendar=config.calendar, rules=rules, intake=scope.workflow.intake)
    record_agenda_view(scope.session, agenda, actor=f"coördinator (telegram {user_id})", channel=AuditChannel.TELEGRAM, now=now)
    return render("coordinator/agenda.txt.j2", agenda=agenda, describe=describe)
