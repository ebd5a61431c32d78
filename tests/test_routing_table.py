"""The action verbs in each status (intake/actions.route) and routing after evaluation (intake/dispatch.route_evaluated)."""

from __future__ import annotations

import pytest

from intake.actions import RouteRefusal, Verb, route
from intake.catalogue import Service
from intake.catalogue_loader import load_catalogue
from intake.dispatch import Choice, route_evaluated
from intake.eligibility import Outcome
from intake.lifecycle import CompletionOutcome, Status
from tests.test_permissions import decisions_sentence

S, V, X = Status, Verb, RouteRefusal
SCHOOL = CompletionOutcome.BACK_TO_SCHOOL

# by provider, verb, status → the statuses passed through, or the refusal's reason key
ROWS = [
    (True, V.ACCEPT, S.DISPATCHED, (S.ACCEPTED,)),
    (True, V.ACCEPT, S.ACCEPTED, X.ALREADY),
    (True, V.ACCEPT, S.QUEUED, X.NOT_YET),
    (True, V.ACCEPT, S.COMPLETED, X.NO_LONGER),
    (True, V.DECLINE, S.DISPATCHED, (S.DECLINED,)),
    (True, V.DECLINE, S.QUEUED, X.NOT_YET),  # a provider declines only what it received
    (False, V.DECLINE, S.QUEUED, (S.NEEDS_REVIEW, S.DECLINED)),  # the coordinator's filter before dispatch
    (False, V.DECLINE, S.NEEDS_REVIEW, (S.DECLINED,)),
    (True, V.ROUND_TABLE, S.DISPATCHED, (S.ACCEPTED, S.ROUND_TABLE_PLANNED)),
    (True, V.ROUND_TABLE, S.ROUND_TABLE_PLANNED, ()),  # moved to another day: a note
    (True, V.START, S.DISPATCHED, (S.ACCEPTED, S.IN_PROGRESS)),
    (True, V.START, S.IN_PROGRESS, X.ALREADY),
    (True, V.COMPLETE, S.IN_PROGRESS, (S.COMPLETED,)),
    (True, V.COMPLETE, S.ACCEPTED, X.NOT_YET),
    (False, V.APPROVE, S.NEEDS_REVIEW, (S.QUEUED,)),
    (False, V.APPROVE, S.QUEUED, X.ALREADY),
    (False, V.APPROVE, S.DISPATCHED, X.NO_LONGER),
    (False, V.HOLD, S.QUEUED, (S.NEEDS_REVIEW,)),
    (False, V.HOLD, S.NEEDS_REVIEW, ()),
    (False, V.REDIRECT, S.DECLINED, (S.NEEDS_REVIEW, S.QUEUED)),
    (False, V.REDIRECT, S.QUEUED, ()),
    (False, V.CORRECT, S.SUBMITTED, ()),
    (False, V.CORRECT, S.DECLINED, ()),
    (False, V.CORRECT, S.DISPATCHED, X.TOO_LATE),
    (False, V.CORRECT, S.CANCELLED, X.TOO_LATE),
]


@pytest.mark.parametrize(("by_provider", "verb", "status", "expected"), ROWS)
def test_what_each_verb_does_in_each_status(by_provider: bool, verb: Verb, status: Status, expected: tuple[Status, ...] | RouteRefusal) -> None:
    assert route(verb, status, by_provider=by_provider, outcome=SCHOOL) == expected


def test_a_refusal_the_provider_sent_is_not_corrected() -> None:
    assert route(V.CORRECT, S.DECLINED, by_provider=False, dispatched=True) is X.TOO_LATE
    assert route(V.CORRECT, S.DECLINED, by_provider=False, dispatched=False) == ()


def test_completion_without_an_outcome_is_refused_by_the_lifecycle() -> None:
    with pytest.raises(ValueError):
        route(V.COMPLETE, S.IN_PROGRESS, by_provider=True)


def test_every_route_refusal_names_a_sentence() -> None:
    for refusal in RouteRefusal:
        assert decisions_sentence(refusal.value).startswith("MSI-2026-0001:")


@pytest.fixture(scope="module")
def service() -> Service:
    return next(s for s in load_catalogue().services if s.dispatch_email and s.accepting_referrals)


# outcome, the batch's choice (service, reason) → status, and what the referrer is told
@pytest.mark.parametrize(("outcome", "has_service", "reason", "status", "unplaced"), [
    (Outcome.ELIGIBLE, True, None, S.QUEUED, None),
    (Outcome.ELIGIBLE, True, "X neemt op dit moment geen aanmeldingen aan.", S.NEEDS_REVIEW, "X neemt op dit moment geen aanmeldingen aan."),
    (Outcome.ELIGIBLE, False, "Er is geen voorkeur opgegeven", S.NEEDS_REVIEW, "Er is geen voorkeur opgegeven"),
    (Outcome.FLAGGED, True, None, S.NEEDS_REVIEW, None),  # flagged: the coordinator looks first, whatever the service
    (Outcome.NOT_ELIGIBLE, True, None, S.NEEDS_REVIEW, None),
    (Outcome.NOT_ELIGIBLE, False, "Er is geen voorkeur opgegeven", S.NEEDS_REVIEW, None),
])
def test_routing_after_evaluation(service: Service, outcome: Outcome, has_service: bool, reason: str | None, status: Status,
                                  unplaced: str | None) -> None:
    routing = route_evaluated(outcome, Choice(service=service if has_service else None, reason=reason))
    assert (routing.status, routing.unplaced) == (status, unplaced)
