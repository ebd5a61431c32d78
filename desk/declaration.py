"""The coordinator records who signed the joint declaration of intent, or withdraws a signature; every change is audited.

Seed 001 ("4. Gezamenlijke intentieverklaring"): all partners sign it (schools via their scholengemeenschap,
CLBs as referrers, providers of school-external interventions); new providers are asked to agree. Refusals
are DeclarationRefused with one Dutch sentence; functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.catalogue import Catalogue, Organization
from intake.declaration import (
    DECLARATION_DATE,
    PartnerKind,
    Signature,
    partner_name,
    signing_date_problem,
    unsigned_providers,
)
from intake.hygiene import clean_name
from intake.texts import message
from store import declaration as store
from store.audit import AuditAction, AuditChannel, record_audit
from store.declaration_models import DeclarationSignature

MESSAGES = "cli/declaration_messages.txt.j2"


class DeclarationRefused(ValueError):
    """Nothing was changed; the text is one Dutch sentence for the coordinator."""


@dataclass(frozen=True)
class Partner:
    """Who signs: a scholengemeenschap or CLB by its name, a provider by its catalogue organisation (id and name)."""

    kind: PartnerKind
    name: str
    organization_id: str | None = None

    @property
    def shown(self) -> str:
        """The partner as the coordinator reads it: "Vrij CLB Halle" (CLB)."""
        return message("partner", source=MESSAGES, name=self.name, label=self.kind.label)


@dataclass(frozen=True)
class Overview:
    """Who signed (active signatures, in the declaration's order) and which catalogue providers did not yet."""

    signed: list[Signature]
    unsigned: list[Organization]


def shown(signature: Signature | DeclarationSignature) -> str:
    """A signature's partner as recorded, the way the coordinator reads it."""
    return Partner(signature.kind, signature.name, signature.organization_id).shown


def find_partner(kind: PartnerKind, typed: str, *, catalogue: Catalogue, recorded: list[Signature] | None = None) -> Partner:
    """The partner the coordinator typed; a provider must be in the catalogue (by id or name), or among `recorded`."""
    name = partner_name(typed)
    if name is None:
        raise DeclarationRefused(message("name_invalid", source=MESSAGES))
    if kind is not PartnerKind.PROVIDER:
        return Partner(kind, name)
    wanted = " ".join(name.casefold().split())
    known = [Partner(kind, o.name, o.id) for o in catalogue.organizations]
    # A provider that signed and then left the catalogue can still have its signature withdrawn.
    known += [Partner(kind, s.name, s.organization_id) for s in recorded or () if s.kind is PartnerKind.PROVIDER]
    for partner in known:
        if wanted in (partner.organization_id, " ".join(partner.name.casefold().split())):
            return partner
    names = sorted({o.name for o in catalogue.organizations}, key=str.casefold)
    raise DeclarationRefused(message("provider_unknown", source=MESSAGES, typed=clean_name(typed, limit=120), names=names))


def sign(
    session: Session, *, kind: PartnerKind, name: str, signed_on: date, by: str, now: datetime, catalogue: Catalogue,
    channel: AuditChannel | None = None,
) -> Signature:
    """Record that the partner signed on `signed_on` (not in the future, not before the declaration); audited."""
    partner = find_partner(kind, name, catalogue=catalogue)
    today = now.astimezone(BRUSSELS).date()
    problem = signing_date_problem(signed_on, today=today)
    if problem is not None:
        raise DeclarationRefused(message(f"date_{problem.name.lower()}", source=MESSAGES, on=signed_on, today=today,
                                         declaration=DECLARATION_DATE))
    try:
        row = store.record_signature(session, kind=kind, name=partner.name, organization_id=partner.organization_id,
                                     signed_on=signed_on, by=by, now=now)
    except store.AlreadySigned as already:
        raise DeclarationRefused(message("already_signed", source=MESSAGES, who=shown(already.existing), on=already.existing.signed_on)) from None
    record_audit(session, actor=by, action=AuditAction.DECLARATION_SIGNED, now=now, detail=f"ondertekening:{row.id}", channel=channel)
    return store.as_signature(row)


def withdraw(
    session: Session, *, kind: PartnerKind, name: str, by: str, now: datetime, catalogue: Catalogue, channel: AuditChannel | None = None,
) -> Signature:
    """Withdraw the partner's active signature (the row is kept, marked withdrawn); audited. The signature as it was."""
    partner = find_partner(kind, name, catalogue=catalogue, recorded=store.signatures(session))
    row = store.active_signature(session, kind, name=partner.name, organization_id=partner.organization_id)
    if row is None:
        earlier = store.last_withdrawn(session, kind, name=partner.name, organization_id=partner.organization_id)
        if earlier is not None:
            raise DeclarationRefused(message("already_withdrawn", source=MESSAGES, who=shown(earlier), at=earlier.withdrawn_at))
        raise DeclarationRefused(message("not_signed", source=MESSAGES, who=partner.shown))
    store.withdraw_signature(session, row, by=by, now=now)
    record_audit(session, actor=by, action=AuditAction.DECLARATION_WITHDRAWN, now=now, detail=f"ondertekening:{row.id}", channel=channel)
    return store.as_signature(row)


def overview(session: Session, *, catalogue: Catalogue) -> Overview:
    """Every active signature, and the catalogue's providers that did not sign yet (the site says the same)."""
    signed = store.signatures(session)
    return Overview(signed=signed, unsigned=unsigned_providers(signed, catalogue))
