"""Providers' proposed catalogue changes: propose, approve or reject, history, and applying the approved ones.

The YAML file stays the coordinator's base; approved changes live in the database and are laid over it
on every load. Each change records the values the provider saw (`old`): a field is only overwritten
while it still has that value, so a later hand edit of the file wins over an older approved change.
Functions flush but never commit; the caller owns the transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.catalogue import Catalogue, Service
from intake.offer_form import change_rows
from intake.offer_update import updated_service, validation_problems
from intake.texts import compose_mail, message
from store import outbox
from store.audit import AuditAction, record_audit
from store.dispatch_models import CatalogueChange, ChangeStatus
from store.mail_models import MailKind
from store.models import normalise_email

log = logging.getLogger(__name__)
MESSAGES = "cli/catalogue_messages.txt.j2"


class ChangeRefused(ValueError):
    """The change cannot be decided (unknown, or no longer pending); the text is Dutch, for the coordinator."""


def propose(session: Session, *, service: Service, updates: dict[str, Any], submitted_by: str, now: datetime) -> CatalogueChange:
    """Store a pending change: `old` holds the current values of exactly the changed fields."""
    if not updates:
        raise ValueError("a change needs at least one field")
    # Validating first keeps an impossible change out of the coordinator's queue; the dump makes it JSON.
    proposed = updated_service(service, to_jsonable_python(updates)).model_dump(mode="json")
    current = service.model_dump(mode="json")
    change = CatalogueChange(
        service_id=service.id, submitted_by=normalise_email(submitted_by), submitted_at=now,
        old={name: current[name] for name in updates}, new={name: proposed[name] for name in updates},
        status=ChangeStatus.PENDING,
    )
    session.add(change)
    session.flush()
    return change


def get(session: Session, change_id: int) -> CatalogueChange | None:
    """The change with this number, or None."""
    return session.get(CatalogueChange, change_id)


def pending(session: Session, service_id: str | None = None) -> list[CatalogueChange]:
    """The changes waiting for the coordinator, oldest first (the order they came in)."""
    query = select(CatalogueChange).where(CatalogueChange.status == ChangeStatus.PENDING)
    if service_id is not None:
        query = query.where(CatalogueChange.service_id == service_id)
    return list(session.scalars(query.order_by(CatalogueChange.submitted_at, CatalogueChange.id)))


def history(session: Session, service_id: str | None = None) -> list[CatalogueChange]:
    """Every change, whatever its status, newest first; only one service's when service_id is given."""
    query = select(CatalogueChange)
    if service_id is not None:
        query = query.where(CatalogueChange.service_id == service_id)
    return list(session.scalars(query.order_by(CatalogueChange.submitted_at.desc(), CatalogueChange.id.desc())))


def decidable(session: Session, change_id: int) -> CatalogueChange:
    """The change if it can still be decided, else ChangeRefused with the Dutch reason."""
    change = get(session, change_id)
    if change is None:
        raise ChangeRefused(message("change_unknown", source=MESSAGES, number=change_id))
    if change.status is not ChangeStatus.PENDING:
        raise ChangeRefused(message("change_decided", source=MESSAGES, number=change_id, status=change.status.value,
                                    by=change.decided_by or "?"))
    return change


def approve(session: Session, change_id: int, *, by: str, now: datetime, current: Service | None = None) -> CatalogueChange:
    """Approve a pending change; with `current`, `old` is re-read from it so the change applies over what was approved."""
    change = decidable(session, change_id)
    if current is not None:
        # The provider may have seen older values (another change was approved since): the history
        # should show what the catalogue really held when this one took effect.
        values = current.model_dump(mode="json")
        change.old = {name: values[name] for name in change.new}
    change.status, change.decided_by, change.decided_at = ChangeStatus.APPROVED, by, now
    session.flush()
    return change


def reject(session: Session, change_id: int, *, by: str, reason: str, now: datetime) -> CatalogueChange:
    """Reject a pending change, with the reason the provider is told."""
    change = decidable(session, change_id)
    change.status, change.decided_by, change.decided_at = ChangeStatus.REJECTED, by, now
    change.note = reason.strip() or None
    session.flush()
    return change


def approve_and_tell(session: Session, change_id: int, *, by: str, catalogue: Catalogue, domain: str, now: datetime) -> str:
    """Approve a pending change over `catalogue` (the file's), record it and mail the provider; the service's name.

    Every channel of the coordinator (`meldpunt catalogue approve`, the agenda's `Aanbod #3: goedkeuren`) comes here.
    """
    change = decidable(session, change_id)
    service = apply_approved(session, catalogue).service(change.service_id)
    if service is None:
        raise ChangeRefused(message("change_service_gone", source=MESSAGES, number=change_id, service_id=change.service_id))
    # The catalogue may have moved on since the provider wrote: approve only what still validates.
    problems = validation_problems(service, change.new)
    if problems:
        raise ChangeRefused(message("change_invalid", source=MESSAGES, number=change_id, problems=problems))
    approve(session, change_id, by=by, now=now, current=service)
    record_audit(session, actor=by, action=AuditAction.OFFER_APPROVED, now=now, detail=f"wijziging:{change_id}")
    tell_provider(session, change, service.name, domain=domain, now=now)
    return service.name


def reject_and_tell(session: Session, change_id: int, *, by: str, reason: str, catalogue: Catalogue, domain: str, now: datetime) -> str:
    """Reject a pending change with its reason, record it and mail the provider; the service's name (or id)."""
    change = reject(session, change_id, by=by, reason=reason, now=now)
    service = catalogue.service(change.service_id)
    name = service.name if service else change.service_id
    record_audit(session, actor=by, action=AuditAction.OFFER_REFUSED, now=now, detail=f"wijziging:{change_id}")
    tell_provider(session, change, name, domain=domain, now=now)
    return name


def tell_provider(session: Session, change: CatalogueChange, service_name: str, *, domain: str, now: datetime) -> None:
    """Queue the mail that tells the provider what was decided."""
    composed = compose_mail(
        "mail/offer_decided.txt.j2", approved=change.status is ChangeStatus.APPROVED, number=change.id,
        service_name=service_name, rows=change_rows(change.old, change.new), reason=change.note,
    )
    outbox.enqueue_mail(session, composed, kind=MailKind.OFFER_DECISION, to=change.submitted_by, domain=domain, now=now)


def _apply(service: Service, change: CatalogueChange) -> Service:
    """The service with the change's fields that still hold the value the change replaced."""
    values = service.model_dump(mode="json")
    fresh = {name: value for name, value in change.new.items() if values.get(name) == change.old.get(name)}
    # A field that already holds the new value was laid over before (a catalogue already refreshed).
    stale = sorted(name for name in set(change.new) - set(fresh) if values.get(name) != change.new[name])
    if stale:
        # Ids and field names only: the values are the provider's text.
        log.info("catalogue change %s: fields %s were edited in the file since; the file wins", change.id, stale)
    return updated_service(service, fresh) if fresh else service


def apply_approved(session: Session, catalogue: Catalogue) -> Catalogue:
    """The catalogue with every approved change laid over it, in the order they were approved."""
    query = select(CatalogueChange).where(CatalogueChange.status == ChangeStatus.APPROVED)
    changes = session.scalars(query.order_by(CatalogueChange.decided_at, CatalogueChange.id)).all()
    if not changes:
        return catalogue
    services = {s.id: s for s in catalogue.services}
    for change in changes:
        service = services.get(change.service_id)
        if service is None:
            log.warning("catalogue change %s skipped: service %s is no longer in the catalogue", change.id, change.service_id)
            continue
        try:
            services[service.id] = _apply(service, change)
        except (ValidationError, ValueError) as error:
            kinds = sorted({e["type"] for e in error.errors()}) if isinstance(error, ValidationError) else ["not-editable"]
            log.warning("catalogue change %s skipped: no longer valid for service %s (%s)", change.id, service.id, ", ".join(kinds))
    return catalogue.model_copy(update={"services": tuple(services[s.id] for s in catalogue.services)})
