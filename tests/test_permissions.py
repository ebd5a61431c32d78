"""Who may see, change, decide and report on a referral (intake/permissions.py), as one table per rule."""

from __future__ import annotations

import pytest

from intake.actions import Verb, access_of
from intake.permissions import Access, ActorKind, Holding, Refusal, may, may_refer, owns
from intake.texts import environment

A, K, H, R = Access, ActorKind, Holding, Refusal

# actor, owner (staff), holding (provider), access → None (allowed) or the refusal's reason key
ROWS = [
    (K.COORDINATOR, False, H.NEVER, A.SEE, None),
    (K.COORDINATOR, False, H.NEVER, A.CHANGE, None),
    (K.COORDINATOR, False, H.NEVER, A.DECIDE, None),
    (K.COORDINATOR, False, H.NEVER, A.REPORT, None),  # a provider's news by phone, written down by the coordinator
    (K.STAFF, True, H.NEVER, A.SEE, None),
    (K.STAFF, True, H.NEVER, A.CHANGE, None),
    (K.STAFF, True, H.NEVER, A.DECIDE, R.UNKNOWN),
    (K.STAFF, True, H.NEVER, A.REPORT, R.UNKNOWN),
    (K.STAFF, False, H.NEVER, A.SEE, R.UNKNOWN),
    (K.STAFF, False, H.NEVER, A.CHANGE, R.UNKNOWN),
    (K.STAFF, False, H.CURRENT, A.SEE, R.UNKNOWN),  # holding is a provider's matter
    (K.PROVIDER, False, H.CURRENT, A.SEE, None),
    (K.PROVIDER, False, H.CURRENT, A.REPORT, None),
    (K.PROVIDER, False, H.CURRENT, A.DECIDE, R.COORDINATOR_ONLY),
    (K.PROVIDER, False, H.CURRENT, A.CHANGE, R.COORDINATOR_ONLY),
    (K.PROVIDER, False, H.FORMER, A.REPORT, R.NO_LONGER_YOURS),
    (K.PROVIDER, False, H.FORMER, A.SEE, R.NO_LONGER_YOURS),
    (K.PROVIDER, False, H.NEVER, A.REPORT, R.NOT_YOURS),
    (K.PROVIDER, False, H.NEVER, A.DECIDE, R.COORDINATOR_ONLY),  # the verb is refused before the referral is looked at
    (K.PROVIDER, True, H.NEVER, A.SEE, R.NOT_YOURS),  # owning is a referrer's matter
]


@pytest.mark.parametrize(("actor", "owner", "holding", "access", "refusal"), ROWS)
def test_who_may_do_what(actor: ActorKind, owner: bool, holding: Holding, access: Access, refusal: Refusal | None) -> None:
    verdict = may(actor, access, owner=owner, holding=holding)
    assert verdict.refusal is refusal
    assert verdict.allowed is (refusal is None)


def decisions_sentence(name: str) -> str:
    """The Dutch sentence of templates/decisions.txt.j2 named `name`, with a value for each of its arguments."""
    module = environment().get_template("decisions.txt.j2").make_module()
    macro = getattr(module, name)
    return str(macro(**{argument: "MSI-2026-0001" if argument == "reference" else "x" for argument in macro.arguments})).strip()


def test_every_refusal_names_a_sentence_of_the_decisions_texts() -> None:
    for refusal in Refusal:
        assert decisions_sentence(refusal.value).startswith("MSI-2026-0001:")


# verb → what it does to a referral
@pytest.mark.parametrize(("verb", "access"), [
    (Verb.ACCEPT, A.REPORT), (Verb.DECLINE, A.REPORT), (Verb.ROUND_TABLE, A.REPORT), (Verb.START, A.REPORT), (Verb.COMPLETE, A.REPORT),
    (Verb.APPROVE, A.DECIDE), (Verb.HOLD, A.DECIDE), (Verb.REDIRECT, A.DECIDE), (Verb.CORRECT, A.CHANGE),
])
def test_each_verb_is_one_kind_of_access(verb: Verb, access: Access) -> None:
    assert access_of(verb) is access


# referrer's staff id and address, the person's staff id and address → owner
@pytest.mark.parametrize(("referrer_staff_id", "referrer_address", "staff_id", "address", "owner"), [
    (7, "els@clb.example", 7, "els@clb.example", True),
    (7, None, 7, None, True),  # the registered referrer, whatever address the answers hold
    (7, "els@clb.example", 8, "an@clb.example", False),  # a colleague of the same CLB
    (None, "els@clb.example", None, "Els@CLB.example ", True),  # referred by mail, unregistered: the address counts
    (None, "els@clb.example", 8, "an@clb.example", False),
    (None, None, None, "els@clb.example", False),
    (None, "", None, "", False),  # no address on either side is nobody's referral
    (None, None, None, None, False),
])
def test_who_owns_a_referral(referrer_staff_id: int | None, referrer_address: str | None, staff_id: int | None, address: str | None,
                             owner: bool) -> None:
    assert owns(referrer_staff_id=referrer_staff_id, referrer_address=referrer_address, staff_id=staff_id, address=address) is owner


# registered, removed, address → may refer (and link a chat)
@pytest.mark.parametrize(("registered", "removed", "address", "allowed"), [
    (True, False, "els@elders.example", True),  # registered staff of any domain
    (False, False, "nieuw@clb-halle.example", True),  # a new address of an allowed CLB domain
    (False, False, "nieuw@CLB-Halle.example", True),
    (False, True, "els@clb-halle.example", False),  # removed: the domain opens no path back
    (False, False, "ouder@gmail.example", False),
    (False, False, "clb-halle.example@gmail.example", False),  # the domain is what follows the last @
])
def test_who_may_refer(registered: bool, removed: bool, address: str, allowed: bool) -> None:
    assert may_refer(registered=registered, removed=removed, address=address, allowed_domains=("clb-halle.example",)) is allowed
