"""The readable text of a received mail: best body part, any charset, quoted history and signature removed."""

from __future__ import annotations

import re
from email.message import EmailMessage, Message

from mail.html_text import html_text

# Charsets senders mislabel: browsers decode ISO-8859-1 as Windows-1252 (WHATWG Encoding),
# and Outlook's curly quotes and euro sign only survive that way.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "l1": "cp1252"}
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]*>)+[ \t]?")
# An attribution line: "Op … schreef …:". Tested as three linear searches: the single pattern
# "^(?:op|on|am)\b.*\b(?:schreef|…)\b.*:$" backtracks over every "schreef" of a long line (34 s for 256 KB).
_ATTRIBUTION_START = re.compile(r"(?:op|on|am)\b")
_ATTRIBUTION_VERB = re.compile(r"\b(?:schreef|wrote|schrieb|geschreven)\b")
# A clock time or an address tells an attribution line from a sentence like "Op school schreef hij:".
_ATTRIBUTION_DETAIL = re.compile(r"\d{1,2}[:.h]\d{2}|@")
_SEPARATOR = re.compile(
    r"^-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|"
    r"forwarded message|doorgestuurd bericht)\s*-{2,}$"
)
_FORWARD_START = re.compile(r"^(?:begin (?:doorgestuurd bericht|forwarded message)):?$")
_HEADER_FROM = re.compile(r"^(?:van|from)\s*:")
_HEADER_NEXT = re.compile(r"^(?:verzonden|sent|datum|date|aan|to|onderwerp|subject)\s*:")
# Outlook's &nbsp; and the zero-width characters of web mail would end up inside stored answers.
_INVISIBLE = str.maketrans({"\xa0": " ", "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None})
_RULE = re.compile(r"^[_\-=\s]*$")


def body_text(message: Message) -> str:
    """The new text of a mail: no quoted history, no forwarded part, no signature."""
    return strip_history(message_text(message))


def all_text(message: Message) -> str:
    """The whole text of a mail, quoted history included, with the `>` quote prefixes removed."""
    texts = [message_text(message), *(all_text(inner) for inner in _attached_messages(message))]
    return "\n\n".join(unquote(text) for text in texts if text.strip())


def message_text(message: Message) -> str:
    """The body of a mail as text: text/plain if it says something, else text/html converted."""
    for part in _body_parts(message):
        text = decode_part(part)
        if part.get_content_type() == "text/html":
            text = html_to_text(text)
        if text.strip():
            return text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    return ""


def _body_parts(message: Message) -> list[Message]:
    """The parts a reader may see as the body, plain first; never attachments or attached mails."""
    if isinstance(message, EmailMessage):
        # Some mobile clients send an empty text/plain beside the HTML that holds the text.
        found = [part for kind in ("plain", "html") if (part := _stdlib_body(message, kind)) is not None]
        if found:
            return found
    candidates = [p for p in _own_parts(message) if p.get_content_type() in ("text/plain", "text/html")]
    return sorted(candidates, key=lambda p: p.get_content_type() != "text/plain")


def _stdlib_body(message: EmailMessage, kind: str) -> Message | None:
    """The stdlib's choice of body of this kind, or None when a broken MIME tree makes its search fail."""
    try:
        return message.get_body(preferencelist=(kind,))
    except Exception:  # noqa: BLE001 - any malformed structure falls back to our own walk
        return None


def _own_parts(message: Message) -> list[Message]:
    """The leaf parts of this mail that are not attachments, without descending into attached mails."""
    if message.get_content_maintype() == "message":
        return []
    if not message.is_multipart():
        return [] if _is_attachment(message) else [message]
    payload = message.get_payload()
    parts = payload if isinstance(payload, list) else []
    return [leaf for part in parts if isinstance(part, Message) for leaf in _own_parts(part)]


def _attached_messages(message: Message) -> list[Message]:
    """Mails attached to this one (Outlook's "forward as attachment"), without those attached to them."""
    if message.get_content_type() == "message/rfc822":
        payload = message.get_payload()
        return [p for p in (payload if isinstance(payload, list) else []) if isinstance(p, Message)]
    if not message.is_multipart():
        return []
    payload = message.get_payload()
    parts = payload if isinstance(payload, list) else []
    return [inner for part in parts if isinstance(part, Message) for inner in _attached_messages(part)]


def _is_attachment(part: Message) -> bool:
    """Whether a part is an attachment rather than body text."""
    try:
        return (part.get_content_disposition() or "") == "attachment"
    except Exception:  # noqa: BLE001 - a garbled header is no reason to drop the text
        return False


def decode_part(part: Message) -> str:
    """A leaf part's text, whatever its transfer encoding and charset, never raising."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding: use the raw payload
        payload = str(part.get_payload()).encode("utf-8", "replace")
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, _charset(part))


def _charset(part: Message) -> str:
    """The declared charset, or utf-8 when none is declared or the header is garbled."""
    try:
        declared = part.get_content_charset() or "utf-8"
    except Exception:  # noqa: BLE001
        declared = "utf-8"
    return _CHARSET_ALIASES.get(declared.lower(), declared.lower())


def decode_bytes(data: bytes, charset: str) -> str:
    """Decode with the declared charset, then UTF-8, then replace what still does not decode."""
    for candidate in (charset, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        # An unknown charset name: Windows-1252 is what most mislabelled Belgian mail is.
        return data.decode("cp1252", errors="replace")


def html_to_text(markup: str) -> str:
    """HTML as plain text lines: no wrapping, no links or images, Outlook's paragraphs as lines (linear)."""
    return "\n".join(line.rstrip() for line in html_text(markup).splitlines())


def unquote(text: str) -> str:
    """The text with `>` quote prefixes removed from every line."""
    return "\n".join(_QUOTE_PREFIX.sub("", line) for line in text.splitlines())


def strip_history(text: str) -> str:
    """The text up to quoted history or a signature, without `>` lines and trailing rules."""
    lines = text.splitlines()
    cut = history_start(lines)
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    while kept and _RULE.match(kept[-1]):
        kept.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept)).strip("\n")


def history_start(lines: list[str]) -> int:
    """Index of the first line of quoted history, a forwarded part or a signature (len when none)."""
    return next((index for index in range(len(lines)) if starts_history(lines, index)), len(lines))


def starts_history(lines: list[str], index: int) -> bool:
    """Whether a signature, quoted history or a forwarded mail begins at this line."""
    if lines[index].rstrip() == "--":
        return True
    folded = " ".join(lines[index].split()).lower().strip("*_ ")
    if _SEPARATOR.match(folded) or _FORWARD_START.match(folded):
        return True
    if folded.startswith(("op ", "on ", "am ")):
        # Gmail wraps a long attribution ("Op ... schreef Naam <adres>:") over two lines.
        wrapped = not folded.endswith(":") and any(c.isdigit() for c in folded)
        joined = " ".join([folded, *lines[index + 1:index + 2]]).lower().strip() if wrapped else folded
        return any(_is_attribution(text) for text in (folded, joined))
    if _HEADER_FROM.match(folded):
        following = [" ".join(line.split()).lower().strip("*_ ") for line in lines[index + 1:index + 6]]
        return any(_HEADER_NEXT.match(line) for line in following if line)
    return False


def _is_attribution(text: str) -> bool:
    """Whether a folded line reads "Op <datum> om <tijd> schreef <naam> <adres>:" in some language."""
    start = _ATTRIBUTION_START.match(text)
    return (
        start is not None
        and text.endswith(":")
        and _ATTRIBUTION_VERB.search(text, start.end()) is not None
        and _ATTRIBUTION_DETAIL.search(text) is not None
    )
