"""Referral references (MSI-2026-0042): the one pattern every channel reads them with, and their format."""

from __future__ import annotations

import re

PREFIX = "MSI"
# The year, then the year's number: four digits at least (0042), more from the ten-thousandth on.
REFERENCE_PATTERN = rf"{PREFIX}-\d{{4}}-\d{{1,9}}"
# Not inside a longer word or number: "XMSI-2026-0042" and "MSI-2026-0042x" name nothing.
REFERENCE = re.compile(rf"(?<![\w-]){REFERENCE_PATTERN}(?![\w])", re.IGNORECASE)


def format_reference(year: int, number: int) -> str:
    """The reference a person reads and quotes: MSI-2026-0001, …, MSI-2026-9999, MSI-2026-10000."""
    return f"{PREFIX}-{year}-{number:04d}"


def find_reference(text: str) -> str | None:
    """The first reference in a text, as stored (upper case), or None."""
    found = REFERENCE.search(text)
    return found[0].upper() if found else None
