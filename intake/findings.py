"""The findings of an assessment that weigh on a decision: flags and blocks, not notes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from intake.eligibility import Finding, Severity


def weighing_reasons(findings: Iterable[Finding | Mapping[str, Any]]) -> list[str]:
    """The Dutch reasons of the findings that weigh, as live findings or as stored (JSON) ones; never the rules' codes.

    A note is worth saying to the referrer, not worth the coordinator's attention.
    """
    reasons: list[str] = []
    for finding in findings:
        if isinstance(finding, Mapping):
            if finding.get("severity") != Severity.NOTE:
                reasons.append(str(finding["reason"]))
        elif finding.severity is not Severity.NOTE:
            reasons.append(finding.reason)
    return reasons
