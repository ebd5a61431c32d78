"""Pupils' names out of free text (a provider's note): every spelling of case, spaces, hyphens and accents."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

PLACEHOLDER = "[naam]"
# The answers that name the pupil: a free-text note written about the referral must not repeat them.
NAME_ANSWERS = ("pupil_first_name", "pupil_last_name")
# Between the words of a name: none ("VanAcker"), or a few spaces, hyphens, apostrophes or dots.
# Bounded, and never a letter, so a match costs at most the pattern's length at each position.
_BETWEEN = r"[\s\-'’.]{0,3}"
_MIN_LETTERS = 2  # an initial alone would blank out every word that starts with it


def scrub_names(text: str, names: Iterable[str]) -> str:
    """The text with each of these names, however written, replaced by [naam]."""
    for name in sorted({n.strip() for n in names if n}, key=len, reverse=True):
        pattern = _pattern(name)
        if pattern is not None:
            text = pattern.sub(PLACEHOLDER, text)
    return text


def redact_note(note: str | None, answers: Mapping[str, Any]) -> str | None:
    """A note about a referral without its pupil's names (it is stored in the history and mailed on); None when empty."""
    if not note:
        return None
    return scrub_names(note, (str(answers.get(key) or "") for key in NAME_ANSWERS))


@lru_cache(maxsize=256)
def _pattern(name: str) -> re.Pattern[str] | None:
    """The pattern for every spelling of a name ("Van Acker": VanAcker, van acker, Van-Acker); None when too short."""
    parts = _parts(name)
    if sum(len(part) for part in parts) < _MIN_LETTERS:
        return None
    body = _BETWEEN.join("".join(_letter(character) for character in part) for part in parts)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _parts(name: str) -> list[str]:
    """The words of a name: split at anything but letters and digits, and where a capital follows a small letter."""
    parts: list[str] = []
    for word in re.findall(r"\w+", name):
        start = 0
        for index in range(1, len(word)):
            if word[index].isupper() and word[index - 1].islower():  # "VanAcker" is "Van Acker" too
                parts.append(word[start:index])
                start = index
        parts.append(word[start:])
    return parts


def _letter(character: str) -> str:
    """One letter of a name; an accented one also matches without its accent ("Zoë", "Zoe")."""
    bare = "".join(c for c in unicodedata.normalize("NFD", character) if not unicodedata.combining(c))
    if len(bare) == 1 and bare != character:
        return f"[{re.escape(character)}{re.escape(bare)}]"
    return re.escape(character)
