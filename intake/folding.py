"""Text folded for matching what a person typed: lower case, no accents, single spaces."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents or extra spaces, for matching what a person typed."""
    if text.isascii():  # no accents to take off: the common case, several times faster
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())
