"""A provider mails an update of its offer: store it as a pending change, tell the coordinator, say what to reply."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from desk import catalogue_changes
from intake.catalogue import Catalogue, Service
from intake.offer_form import change_rows, render_offer_form
from intake.offer_update import (
    OfferMail,
    has_offer_lines,
    parse_offer_mail,
    services_for_address,
)
from intake.texts import compose_mail
from mail.body import strip_history
from mail.outcomes import MailOutcome
from store import outbox
from store.dispatch_models import CatalogueChange
from store.mail_models import MailKind

log = logging.getLogger(__name__)


Reply = tuple[MailOutcome, str, dict[str, Any]]


def is_provider_address(catalogue: Catalogue, sender: str) -> bool:
    """Whether referrals are dispatched to this address (so its mail may update an offer)."""
    return bool(services_for_address(catalogue.services, sender))


def looks_like_offer_update(text: str) -> bool:
    """Whether a mail's own text (quoted history aside) holds a line of the offer update form."""
    return has_offer_lines(strip_history(text))


def _listing(services: Sequence[Service]) -> list[dict[str, str]]:
    """Id and name of each service, for a reply that lists them."""
    return [{"id": s.id, "name": s.name} for s in services]


def _forms(services: Sequence[Service]) -> list[str]:
    """The prefilled update form of each service."""
    return [render_offer_form(s) for s in services]


def _problems_reply(parsed: OfferMail, catalogue: Catalogue, candidates: Sequence[Service]) -> Reply:
    """Each problem, and a form per concerned service with the values that were fine already filled in."""
    forms = []
    for proposal in parsed.proposals:
        service = catalogue.service(proposal.service_id) if proposal.service_id else None
        if service is not None:
            forms.append(render_offer_form(service, proposal.updates))
    problems = [p.model_dump() for p in parsed.problems]
    return MailOutcome.OFFER_PROBLEMS, "mail/offer_problems.txt.j2", {"problems": problems, "forms": forms or _forms(candidates)}


def _tell_coordinator(session: Session, change: CatalogueChange, service: Service, *, coordinator_email: str | None,
                      domain: str, now: datetime) -> None:
    """Queue the mail that asks the coordinator to approve or reject the change."""
    if not coordinator_email:
        # The change still waits in `meldpunt catalogue changes`; nobody is mailed about it.
        log.warning("catalogue change %s stored, but no coordinator address is configured", change.id)
        return
    earlier = [c.id for c in catalogue_changes.pending(session, service.id) if c.id != change.id]
    composed = compose_mail("mail/offer_coordinator.txt.j2", change_id=change.id, service=service,
                            submitted_by=change.submitted_by, rows=change_rows(change.old, change.new), earlier=earlier)
    outbox.enqueue_mail(session, composed, kind=MailKind.OFFER_CHANGE, to=coordinator_email, domain=domain, now=now)


def _propose_all(session: Session, parsed: OfferMail, catalogue: Catalogue, *, sender: str, coordinator_email: str | None,
                 domain: str, now: datetime) -> Reply:
    """Store every proposed change as pending and tell the coordinator about each."""
    stored = []
    for proposal in parsed.proposals:
        service = catalogue.service(proposal.service_id) if proposal.service_id else None
        if service is None or not proposal.updates:
            continue
        change = catalogue_changes.propose(session, service=service, updates=proposal.updates, submitted_by=sender, now=now)
        _tell_coordinator(session, change, service, coordinator_email=coordinator_email, domain=domain, now=now)
        stored.append({"number": change.id, "service": service.name, "rows": change_rows(change.old, change.new)})
        log.info("catalogue change %s proposed for service %s (%d fields)", change.id, service.id, len(change.new))
    ignored = sorted({name for p in parsed.proposals for name in p.ignored})
    return MailOutcome.OFFER_PROPOSED, "mail/offer_received.txt.j2", {"changes": stored, "ignored": ignored}


def handle_offer_mail(
    session: Session,
    *,
    sender: str,
    subject: str,
    text: str,
    catalogue: Catalogue,
    domain: str,
    coordinator_email: str | None,
    now: datetime,
    may_propose: bool = True,
) -> Reply:
    """Read a provider's offer update; return (outcome, reply template, its context) for the processor to send.

    `catalogue` may be the one loaded at start: approved changes are laid over it again here, so the
    `old` values a change records are those of today even when `meldpunt serve` has not restarted.
    `subject` is not read yet: the processor builds the reply's subject from it (`subject_of_mail`).
    `may_propose` is False when the mail is no reply to a mail we sent this provider: then no change
    is stored, and the reply is a blank form (never the proposed values, which may be someone else's).
    """
    current = catalogue_changes.apply_approved(session, catalogue)
    candidates = services_for_address(current.services, sender)
    if not candidates:
        return MailOutcome.OFFER_NOT_PROVIDER, "mail/offer_not_provider.txt.j2", {}
    parsed = parse_offer_mail(strip_history(text), candidates)
    if not parsed.recognised:
        return MailOutcome.OFFER_FORM, "mail/offer_form_request.txt.j2", {"forms": _forms(candidates), "services": _listing(candidates)}
    if parsed.needs_service:
        return MailOutcome.OFFER_WHICH_SERVICE, "mail/offer_which_service.txt.j2", {"services": _listing(candidates), "forms": _forms(candidates)}
    if parsed.problems:
        return _problems_reply(parsed, current, candidates)
    if not any(p.updates for p in parsed.proposals):
        named = [s for s in candidates if any(p.service_id == s.id for p in parsed.proposals)]
        if not any(p.fields_found for p in parsed.proposals):
            # Only "Dienst: …" came back: the answer to "which service?"; send that service's form.
            return MailOutcome.OFFER_FORM, "mail/offer_form_request.txt.j2", {"forms": _forms(named), "services": _listing(named)}
        return MailOutcome.OFFER_UNCHANGED, "mail/offer_no_change.txt.j2", {"services": _listing(named)}
    if not may_propose:
        named = [s for s in candidates if any(p.service_id == s.id for p in parsed.proposals)] or list(candidates)
        return MailOutcome.OFFER_REPLY_NEEDED, "mail/offer_form_request.txt.j2", {"forms": _forms(named), "services": _listing(named), "reply_needed": True}
    return _propose_all(session, parsed, current, sender=sender, coordinator_email=coordinator_email, domain=domain, now=now)
