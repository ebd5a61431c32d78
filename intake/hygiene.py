"""Input hygiene for every name and free text from outside: no terminal escapes, control or bidi characters.

A staff name with `\\x1b]0;…` would retitle the coordinator's terminal, and U+202E reverses how a name
reads; neither has a place in a referral. Everything here runs in linear time: the input is cut to a
hard limit first, every pattern is bounded by the next ESC, and the rest is one `str.translate`.
"""

from __future__ import annotations

import re

MAX_INPUT = 100_000  # characters looked at, whatever the caller's own limit: a pasted megabyte stays cheap
MAX_NAME = 200

# ECMA-48: CSI (ESC [ params final), OSC/DCS/SOS/PM/APC strings (ended by BEL or ESC \), and any other
# two-character escape. The bodies exclude ESC, so no match attempt reads past the next ESC: linear.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -~]?"
)
_BIDI = "\u061c\u200e\u200f" + "".join(map(chr, range(0x202A, 0x202F))) + "".join(map(chr, range(0x2066, 0x206A)))
_C0 = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n")
_C1 = "".join(map(chr, range(0x7F, 0xA0)))
_DROP = str.maketrans("", "", _C0 + _C1 + _BIDI)


def clean_text(text: str, *, limit: int = MAX_INPUT) -> str:
    """Free text without escape sequences, control or bidi characters; lines kept, at most `limit` characters."""
    text = text[:MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _ESCAPE.sub("", text).translate(_DROP).strip()[:limit]


def clean_name(text: str, *, limit: int = MAX_NAME) -> str:
    """A name or one-line value: clean text on one line with single spaces, at most `limit` characters."""
    return " ".join(clean_text(text).split())[:limit]


def has_letter(text: str) -> bool:
    """Whether the text holds at least one letter (of any script)."""
    return any(character.isalpha() for character in text)
