"""Closed sets are enums written once: outbox kinds, audit actions, mail outcomes, channels; one reference pattern; one note filter."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from intake.eligibility import Finding, Severity
from intake.findings import weighing_reasons
from intake.scrub import redact_note
from store.audit import AuditAction
from store.mail_models import MailKind
from tests.test_architecture import ROOT

APPLICATION = ("intake", "store", "desk", "bot", "mail", "meldpunt")


def application_modules() -> list[Path]:
    """Every Python file of the application (not the tests)."""
    return sorted(path for room in APPLICATION for path in (ROOT / room).rglob("*.py") if "migrations" not in path.parts)


def keyword_literals(keyword: str) -> list[str]:
    """'file:line' of each call in the application passing `keyword=` a string literal."""
    found = []
    for path in application_modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                for argument in node.keywords:
                    if argument.arg == keyword and isinstance(argument.value, ast.Constant) and isinstance(argument.value.value, str):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_outbox_kinds_keep_their_stored_values() -> None:
    # Stored in every outbox row, and a reply's token is bound to them: a renamed value would strand old replies.
    assert {kind.name: kind.value for kind in MailKind} == {
        "REPLY": "antwoord", "ESCALATION": "escalatie", "DETAILS": "gegevens", "LINK_CODE": "koppelcode", "DISPATCH": "verzending",
        "DISPATCH_NOTICE": "verzonden", "PROVIDER_REMINDER": "herinnering-aanbieder", "DECISION_NOTICE": "terugkoppeling",
        "OFFER_CHANGE": "aanbod-wijziging", "OFFER_DECISION": "aanbod-besluit", "ALARM": "alarm", "WATCHDOG": "waakhond",
        "RETENTION_WARNING": "bewaartermijn", "ERASE_REQUEST": "wisverzoek", "SURVEY": "bevraging", "SURVEY_REMINDER": "bevraging-herinnering",
        "REPORT": "rapport", "DIGEST": "digest", "ALERT": "alert",
    }


def test_audit_actions_keep_their_stored_values() -> None:
    # Stored in every audit row, which is kept five years and searched by `meldpunt audit`: a renamed value would split the log.
    assert {action.name: action.value for action in AuditAction} == {
        "READ": "gelezen", "LIST_READ": "lijst-gelezen", "CREATED": "aangemaakt", "STATUS": "status", "CHANGED": "gewijzigd",
        "STAFF_ADDED": "medewerker-toegevoegd", "STAFF_REMOVED": "medewerker-verwijderd", "OFFER_APPROVED": "aanbod-goedgekeurd",
        "OFFER_REFUSED": "aanbod-geweigerd", "PURGED": "opgeschoond", "EXPORTED": "inzage", "ERASED": "gewist", "IMPORTED": "ingelezen",
        "SURVEY_STARTED": "bevraging-gestart", "SURVEY_READ": "bevraging-gelezen", "REPORT": "rapport",
        "DECLARATION_SIGNED": "intentieverklaring-getekend", "DECLARATION_WITHDRAWN": "intentieverklaring-ingetrokken",
    }
    assert max(len(action.value) for action in AuditAction) <= 32  # audit_log.action is a VARCHAR(32)


@pytest.mark.parametrize("keyword", ["action"])
def test_no_loose_strings_for_closed_sets(keyword: str) -> None:
    # record_audit(action=...) takes an AuditAction; a string literal is a new, unlisted value.
    assert keyword_literals(keyword) == []


def test_outbox_kinds_come_from_the_enum_outside_the_chat() -> None:
    # The chat desk is being split into handlers (bot/); its kinds move to MailKind with it.
    loose = [where for where in keyword_literals("kind") if not where.startswith("bot/")]
    assert loose == []


def test_one_reference_pattern() -> None:
    # intake/references.py is the one place that knows how "MSI-2026-0001" is written.
    defining = [
        str(path.relative_to(ROOT)) for path in application_modules()
        if re.search(r"MSI-(\\d|\(|\[)|\{PREFIX\}-\\d", path.read_text("utf-8"))
    ]
    assert defining == ["intake/references.py"]


def finding(severity: Severity, reason: str) -> Finding:
    return Finding(rule="r", severity=severity, reason=reason, advice="")


# findings (live or as stored in JSON) → the reasons that weigh on a decision
@pytest.mark.parametrize(("findings", "reasons"), [
    ([], []),
    ([finding(Severity.NOTE, "a")], []),
    ([finding(Severity.FLAG, "b"), finding(Severity.NOTE, "a"), finding(Severity.BLOCK, "c")], ["b", "c"]),
    ([{"severity": "note", "reason": "a"}, {"severity": "flag", "reason": "b"}], ["b"]),
    ([{"severity": "block", "reason": "c", "rule": "code_never_shown"}], ["c"]),
])
def test_note_level_findings_never_weigh(findings: list[object], reasons: list[str]) -> None:
    assert weighing_reasons(findings) == reasons  # type: ignore[arg-type]


# note, the pupil's name answers → the note as stored and mailed
@pytest.mark.parametrize(("note", "answers", "redacted"), [
    (None, {"pupil_first_name": "Zoë"}, None),
    ("", {"pupil_first_name": "Zoë"}, None),
    ("Zoe Van Acker start maandag", {"pupil_first_name": "Zoë", "pupil_last_name": "Van Acker"}, "[naam] [naam] start maandag"),
    ("vanacker belde", {"pupil_last_name": "Van Acker"}, "[naam] belde"),
    ("geen plaats", {}, "geen plaats"),  # minimal mode: no names known, nothing to hide
])
def test_notes_lose_the_pupils_names(note: str | None, answers: dict[str, str], redacted: str | None) -> None:
    assert redact_note(note, answers) == redacted
