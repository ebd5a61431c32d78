"""Who may do what with a referral: its referrer (staff), the coordinator, the provider that has it now.

Pure decisions on plain values (addresses, ids, where the referral stands for a provider); the use
cases look those values up and ask here, so every channel applies the same rule.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    """Who acts on a referral."""

    STAFF = "medewerker"
    COORDINATOR = "coordinator"
    PROVIDER = "aanbieder"


class Access(StrEnum):
    """What an actor wants to do with a referral."""

    SEE = "zien"  # its status, its reasons
    CHANGE = "wijzigen"  # correct or complete its answers
    DECIDE = "beslissen"  # approve, hold, redirect: the coordinator's filter
    REPORT = "terugkoppelen"  # accepted, declined, round table, started, completed: the provider's news


class Holding(StrEnum):
    """Where a referral stands for one provider address: only its current provider reports back on it."""

    CURRENT = "huidig"  # the referral's latest dispatch went to this address
    FORMER = "vroeger"  # it went there once, then on to another provider (a refusal and a redirect)
    NEVER = "nooit"  # never sent there, or no such referral


class Refusal(StrEnum):
    """Why an actor may not; each value names the Dutch sentence (templates/decisions.txt.j2) that says so."""

    UNKNOWN = "unknown"  # staff: not their referral, said as if it did not exist
    NOT_YOURS = "not_yours"  # provider: never had it, in words that do not tell whether it exists
    NO_LONGER_YOURS = "no_longer_yours"  # provider: had it, it went on (never where)
    COORDINATOR_ONLY = "coordinator_only"  # provider: a verb of the coordinator's filter


@dataclass(frozen=True)
class Verdict:
    """Allowed, or refused with the reason."""

    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        """Whether the actor may."""
        return self.refusal is None


ALLOWED = Verdict()
# A provider reports on what it received and reads it; changing and deciding are the coordinator's.
_PROVIDER_ACCESS = frozenset({Access.SEE, Access.REPORT})
# The referrer follows and completes their own referral; deciding and reporting are not theirs.
_STAFF_ACCESS = frozenset({Access.SEE, Access.CHANGE})


def owns(*, referrer_staff_id: int | None, referrer_address: str | None, staff_id: int | None, address: str | None) -> bool:
    """Whether this person referred it: the registered staff member, or the address the referral names as referrer."""
    if staff_id is not None and referrer_staff_id == staff_id:
        return True
    if not address or not referrer_address:
        return False
    return _same(address, referrer_address)


def may(actor: ActorKind, access: Access, *, owner: bool = False, holding: Holding = Holding.NEVER) -> Verdict:
    """Whether this actor may have this access; `owner` counts for staff, `holding` for a provider."""
    if actor is ActorKind.COORDINATOR:
        return ALLOWED
    if actor is ActorKind.STAFF:
        return ALLOWED if owner and access in _STAFF_ACCESS else Verdict(Refusal.UNKNOWN)
    if access not in _PROVIDER_ACCESS:
        return Verdict(Refusal.COORDINATOR_ONLY)
    if holding is Holding.CURRENT:
        return ALLOWED
    # A former provider knows the referral: it is told it went on; anyone else learns nothing.
    return Verdict(Refusal.NO_LONGER_YOURS if holding is Holding.FORMER else Refusal.NOT_YOURS)


def may_refer(*, registered: bool, removed: bool, address: str, allowed_domains: Collection[str]) -> bool:
    """Registered staff, or a new address of an allowed CLB domain; never a removed staff member, whatever the domain."""
    if registered:
        return True
    domain = address.rsplit("@", 1)[-1].strip().lower()
    return not removed and domain in allowed_domains


def _same(first: str, second: str) -> bool:
    """Two mail addresses are the same person however they are capitalised or padded."""
    return first.strip().lower() == second.strip().lower()
