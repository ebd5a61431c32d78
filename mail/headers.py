"""Reading mail headers that may be hostile: raw values, RFC 5322 comments and quotes, Message-IDs, addresses."""

from __future__ import annotations

import email.policy
import re
from email.errors import MessageError
from email.message import Message

# email.policy.default parses a header only when it is read, so a malformed one surfaces there and
# not at message_from_bytes. MessageError covers HeaderParseError and CharsetError; LookupError
# covers IndexError (a known crash on "From: a@") and unknown codecs.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    MessageError,
    LookupError,
    ValueError,
    TypeError,
    AttributeError,
)


def unfold(value: object) -> str:
    """A header value with its folding removed (RFC 5322 §2.2.3)."""
    return re.sub(r"\r?\n", "", str(value)).strip()


def raw_values(message: Message, name: str) -> list[str]:
    """Every raw value of one header, in message order; raw values never parse, so never raise."""
    wanted = name.lower()
    return [unfold(value) for key, value in message.raw_items() if key.lower() == wanted]


def strip_comments(text: str, *, strict: bool = False) -> str:
    """The text with RFC 5322 comments (nested parentheses) replaced by a space, quotes kept."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"' and not depth:
            quoted = True
        elif char == "(":
            depth += 1
            continue
        elif char == ")" and depth:
            depth -= 1
            out.append(" " if not depth else "")
            continue
        if not depth:
            out.append(char)
    if strict and (depth or quoted or escaped):
        raise ValueError("unbalanced comment or quoted string")
    return "".join(out)


def split_unquoted(text: str, separator: str | None) -> list[str]:
    """Split on a separator (None: whitespace) outside quoted strings; empty pieces dropped."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        is_separator = char.isspace() if separator is None else char == separator
        if is_separator and not quoted:
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    pieces.append("".join(current).strip())
    return [piece for piece in pieces if piece]


def first_token(value: str) -> str:
    """The leading keyword of a header like Auto-Submitted or Precedence, lower-cased."""
    words = strip_comments(value).split(";")[0].split()
    return words[0].lower() if words else ""


def normal_message_id(value: str) -> str | None:
    """A Message-ID as `<left@right>`, the form our outbox stores, or None when there is none."""
    text = strip_comments(value).strip()
    match = re.search(r"<[^<>]+>", text)
    if match:
        return re.sub(r"\s+", "", match.group(0))
    return f"<{text}>" if text and " " not in text else None


def local_part(address: str) -> str:
    """The part before the last @ of an address (the whole text when there is no @)."""
    return address.strip().strip("<>").rpartition("@")[0] or address.strip().strip("<>")


def addresses(message: Message, name: str) -> list[str]:
    """Every address in every header of that name; raises a parse error on a broken header."""
    found: list[str] = []
    for header in message.get_all(name) or []:
        parsed = getattr(header, "addresses", None)
        if parsed is None:  # a compat32 Message gives plain strings
            parsed = email.policy.default.header_factory(name, str(header)).addresses
        found.extend(address.addr_spec for address in parsed)
    return found
