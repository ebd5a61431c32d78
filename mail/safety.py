"""Mail safety: recognise automatic mail, bounces and forged senders before anything is answered."""

from __future__ import annotations

import email.policy
import re
from collections.abc import Callable
from email.errors import InvalidHeaderDefect, MessageError
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from typing import NamedTuple

from flufl.bounce import all_failures
from pydantic import BaseModel, ConfigDict

# email.policy.default parses a header only when it is read, so a malformed one surfaces there and
# not at message_from_bytes. MessageError covers HeaderParseError and CharsetError; LookupError
# covers IndexError (a known crash on "From: a@") and unknown codecs.
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    MessageError,
    LookupError,
    ValueError,
    TypeError,
    AttributeError,
)

# Local parts of mailboxes no person reads (RFC 3834 §2: never answer them; RFC 2142 names some).
# Separators are optional so no-reply, no_reply, noreply and no.reply all match; a trailing letter
# must not follow, so "bouncken" or "postmasters-team" are people, "noreply123" is not.
_SYSTEM_LOCAL_PART = re.compile(
    r"^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|listserv|majordomo)"
    r"(?![a-z])|(?:^|[-_.+=])bounces?(?![a-z])",
    re.IGNORECASE,
)
# Outlook's client-side out-of-office replies carry no Auto-Submitted; their subject prefix (in the
# sender's language) together with X-Auto-Response-Suppress is what gives them away.
_VACATION_SUBJECT = re.compile(
    r"^\s*(?:automatisch antwoord|automatic reply|automatische antwort|réponse automatique"
    r"|afwezig|out of office(?: autoreply)?|auto[- ]?reply)\s*:",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from")
_LIST_HEADERS = ("list-id", "list-unsubscribe")
_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/disposition-notification", "message/feedback-report"}
)
# Where a DSN returns the original (RFC 3464 §2, RFC 6533 §6 for the "global" variants).
_ORIGINAL_TYPES = frozenset(
    {
        "message/rfc822",
        "message/global",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/global-headers",
    }
)
_INLINE_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


class Bounce(BaseModel):
    """A delivery failure report: who failed, for which of our mails, and whether for good."""

    model_config = ConfigDict(frozen=True)

    failed_addresses: tuple[str, ...]
    original_message_id: str | None
    permanent: bool


class AuthVerdict(BaseModel):
    """Whether our own mail server vouched for the From domain, with a Dutch reason."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    reason: str


class _Context(NamedTuple):
    """What the automatic-mail checks need besides the message itself."""

    envelope_from: str | None
    our_domain: str
    is_our_message_id: Callable[[str], bool]
    trusted_senders: frozenset[str]


class _ResInfo(NamedTuple):
    """One method result of an Authentication-Results header (RFC 8601 §2.2 resinfo)."""

    method: str
    result: str
    properties: dict[str, str]


# --- small header helpers ----------------------------------------------------------------------


def _unfold(value: object) -> str:
    """A header value with its folding removed (RFC 5322 §2.2.3)."""
    return re.sub(r"\r?\n", "", str(value)).strip()


def _raw_values(message: Message, name: str) -> list[str]:
    """Every raw value of one header, in message order; raw values never parse, so never raise."""
    wanted = name.lower()
    return [_unfold(value) for key, value in message.raw_items() if key.lower() == wanted]


def _strip_comments(text: str, *, strict: bool = False) -> str:
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


def _split_unquoted(text: str, separator: str | None) -> list[str]:
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


def _first_token(value: str) -> str:
    """The leading keyword of a header like Auto-Submitted or Precedence, lower-cased."""
    words = _strip_comments(value).split(";")[0].split()
    return words[0].lower() if words else ""


def _normal_message_id(value: str) -> str | None:
    """A Message-ID as `<left@right>`, the form our outbox stores, or None when there is none."""
    text = _strip_comments(value).strip()
    match = re.search(r"<[^<>]+>", text)
    if match:
        return re.sub(r"\s+", "", match.group(0))
    return f"<{text}>" if text and " " not in text else None


def _local_part(address: str) -> str:
    """The part before the last @ of an address (the whole text when there is no @)."""
    return address.strip().strip("<>").rpartition("@")[0] or address.strip().strip("<>")


def _addresses(message: Message, name: str) -> list[str]:
    """Every address in every header of that name; raises a parse error on a broken header."""
    found: list[str] = []
    for header in message.get_all(name) or []:
        parsed = getattr(header, "addresses", None)
        if parsed is None:  # a compat32 Message gives plain strings
            parsed = email.policy.default.header_factory(name, str(header)).addresses
        found.extend(address.addr_spec for address in parsed)
    return found


# --- automatic mail (RFC 3834) -----------------------------------------------------------------


def _auto_submitted(message: Message, _: _Context) -> str | None:
    """RFC 3834 §5: any Auto-Submitted value but "no" (parameters and comments allowed)."""
    for value in _raw_values(message, "auto-submitted"):
        token = _first_token(value)
        if token != "no":
            return f"automatisch verzonden (Auto-Submitted: {token or 'leeg'})"
    return None


def _precedence(message: Message, _: _Context) -> str | None:
    """RFC 3834 §2 practice: Precedence (or X-Precedence) bulk, list, junk or auto_reply."""
    for name in ("precedence", "x-precedence"):
        for value in _raw_values(message, name):
            if _first_token(value) in _BULK_PRECEDENCE:
                return f"massamail of lijst ({name.title()}: {_first_token(value)})"
    return None


def _empty_return_path(message: Message, context: _Context) -> str | None:
    """RFC 3834 §2 and RFC 5321 §4.5.5: a null reverse-path marks a notification; never answer."""
    envelope = context.envelope_from
    # Stripped first: "\s*(<\s*>)?\s*" as one pattern retried its blanks from every split (quadratic).
    if envelope is not None and re.fullmatch(r"(<\s*>)?", envelope.strip()):
        return "leeg retouradres in de envelop (melding of bounce)"
    for value in _raw_values(message, "return-path"):
        if re.fullmatch(r"(<\s*>)?", _strip_comments(value).strip()):
            return "leeg retouradres (Return-Path: <>)"
    return None


def _our_loop(message: Message, context: _Context) -> str | None:
    """RFC 3834 §2: a mail that already carries our X-Loop marker has been through us."""
    marker = f"meldpunt@{context.our_domain}".lower()
    if any(marker in value.lower() for value in _raw_values(message, "x-loop")):
        return "lus: X-Loop met ons eigen merkteken"
    return None


def _system_sender(message: Message, context: _Context) -> str | None:
    """RFC 3834 §2: mailer-daemon, postmaster, noreply, bounce and list robots are not people."""
    candidates = _addresses(message, "From") + _addresses(message, "Sender")
    if context.envelope_from:
        candidates.append(context.envelope_from)
    for address in candidates:
        if match := _SYSTEM_LOCAL_PART.search(_local_part(address)):
            # Only the matched word: a VERP local part can carry a person's address (principle 6).
            return f"afzender is een systeemadres ({match.group(0).strip('-_.+=').lower()})"
    return None


def _our_own(message: Message, context: _Context) -> str | None:
    """Our own mail come back (a forwarder, a loop): never answer ourselves."""
    domain = context.our_domain.lower()
    for value in _raw_values(message, "message-id"):
        message_id = _normal_message_id(value)
        if message_id and context.is_our_message_id(message_id):
            return "eigen bericht teruggekomen (Message-ID van ons)"
        if message_id and message_id.lower().endswith(f"@{domain}>"):
            return "eigen bericht teruggekomen (Message-ID van ons domein)"
    for address in _addresses(message, "From"):
        sender_domain = address.rpartition("@")[2].lower()
        if address.lower() in context.trusted_senders:
            continue  # a person of our own (the coordinator) writes from our domain on purpose
        if sender_domain == domain or sender_domain.endswith(f".{domain}"):
            return "afzender is ons eigen domein"
    return None


def _delivery_report(message: Message, _: _Context) -> str | None:
    """RFC 3462/3464/8098: reports (DSN, read receipt, abuse feedback) are machine mail."""
    if message.get_content_type() == "multipart/report":
        return "afleveringsrapport (multipart/report)"
    for part in message.walk():
        if part.get_content_type() in _REPORT_TYPES:
            return f"afleveringsrapport ({part.get_content_type()})"
    return None


def _autoreply_headers(message: Message, _: _Context) -> str | None:
    """Vendor autoreply markers, and Outlook vacation replies that only show it in the subject."""
    names = {key.lower() for key in message}
    for name in _AUTOREPLY_HEADERS:
        if name in names:
            return f"automatisch antwoord ({name})"
    # X-Auto-Response-Suppress alone is Outlook asking others not to answer it; it is set on
    # ordinary mail too, so it only counts together with an out-of-office subject.
    if "x-auto-response-suppress" in names:
        subject = str(message.get("Subject", ""))
        if _VACATION_SUBJECT.match(subject):
            return "afwezigheidsbericht (onderwerp en X-Auto-Response-Suppress)"
    return None


def _list_or_bulk(message: Message, _: _Context) -> str | None:
    """RFC 2369/2919 list headers and bulk-mailer campaign headers: nobody waits for an answer."""
    names = {key.lower() for key in message}
    for name in _LIST_HEADERS:
        if name in names:
            return f"mailinglijst ({name})"
    if "feedback-id" in names or any(name.startswith("x-campaign") for name in names):
        return "nieuwsbrief of massamail (campagnekopregel)"
    if "x-ms-exchange-inbox-rules-loop" in names:
        return "automatisch doorgestuurd door een Exchange-regel"
    return None


def _bounce_detected(message: Message, _: _Context) -> str | None:
    """Plain-text bounces (qmail, Exim, old Exchange) only show themselves in their body."""
    failures = _failures(message)
    if failures is None:
        return "onleesbaar bericht; voor de zekerheid als automatisch behandeld"
    return "bounce herkend in de tekst" if any(failures) else None


_CHECKS: tuple[Callable[[Message, _Context], str | None], ...] = (
    _auto_submitted,
    _precedence,
    _empty_return_path,
    _our_loop,
    _autoreply_headers,
    _list_or_bulk,
    _system_sender,
    _our_own,
    _delivery_report,
    _bounce_detected,
)


def automatic_reason(
    message: EmailMessage,
    *,
    envelope_from: str | None,
    our_domain: str,
    is_our_message_id: Callable[[str], bool] = lambda _: False,
    trusted_senders: frozenset[str] = frozenset(),
) -> str | None:
    """None when a person sent this and may get an automatic answer, else a Dutch reason why not.

    `trusted_senders` (lower case) may write from our own domain; every other check still applies.
    """
    context = _Context(envelope_from, our_domain, is_our_message_id, trusted_senders)
    for check in _CHECKS:
        try:
            reason = check(message, context)
        except _PARSE_ERRORS:
            # RFC 3834 §2: when in doubt, do not answer; a mail loop costs more than a missed reply.
            return "onleesbare kopregel; voor de zekerheid als automatisch behandeld"
        if reason:
            return reason
    return None


# --- bounces -----------------------------------------------------------------------------------


def _failures(message: Message) -> tuple[frozenset[bytes], frozenset[bytes]] | None:
    """flufl.bounce's (temporary, permanent) failures, or None when its heuristics crash."""
    try:
        return all_failures(message)
    except Exception:  # noqa: BLE001 - third-party heuristics over hostile input; crash = unknown
        return None


def _original_message_id(message: Message) -> str | None:
    """The Message-ID of the returned mail, from the DSN's attached copy (RFC 3462 §2)."""
    for part in message.walk():
        if part is message:
            continue
        content_type = part.get_content_type()
        if content_type not in _ORIGINAL_TYPES:
            continue
        # The parser nests message/* parts as a Message; text/rfc822-headers stays plain text.
        payload = part.get_payload()
        headers: Message = (
            payload[0]
            if isinstance(payload, list) and payload and isinstance(payload[0], Message)
            else HeaderParser(policy=email.policy.default).parsestr(_body_text(part))
        )
        for value in _raw_values(headers, "message-id"):
            if message_id := _normal_message_id(value):
                return message_id
    # qmail, Exim and friends quote the returned mail inline in the text instead.
    for part in message.walk():
        if part.get_content_type() != "text/plain":
            continue
        if match := _INLINE_MESSAGE_ID.search(_body_text(part)):
            return match.group(1)
    return None


def _body_text(part: Message) -> str:
    """A leaf part's decoded bytes as text, whatever charset it claims."""
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def bounce(message: EmailMessage) -> Bounce | None:
    """The failed addresses and our original Message-ID when this is a bounce, else None."""
    failures = _failures(message)
    if failures is None or not any(failures):
        return None
    temporary, permanent = failures
    # A Bounce carries one verdict: when some addresses failed for good, those are what matter.
    chosen = permanent or temporary
    addresses = sorted({raw.decode("ascii", "replace").lower() for raw in chosen if raw})
    try:
        original = _original_message_id(message)
    except _PARSE_ERRORS:
        original = None
    return Bounce(
        failed_addresses=tuple(addresses), original_message_id=original, permanent=bool(permanent)
    )


# --- sender and authentication (RFC 8601) ------------------------------------------------------


def _sole_from(message: Message) -> tuple[str | None, str]:
    """The one From address lower-cased, or None with the Dutch reason there is not exactly one."""
    try:
        headers = message.get_all("From") or []
        if len(headers) != 1:
            problem = "geen From-kopregel" if not headers else "meerdere From-kopregels"
            return None, problem
        addresses = _addresses(message, "From")
        defects = getattr(headers[0], "defects", ())
    except _PARSE_ERRORS:
        return None, "onleesbare From-kopregel"
    # "a@x.be b@evil.example" parses as one address plus an InvalidHeaderDefect, while a mail
    # program may show the other one: any invalid From is treated as ambiguous.
    if len(addresses) != 1 or any(isinstance(d, InvalidHeaderDefect) for d in defects):
        return None, "From bevat geen of meerdere adressen of is ongeldig"
    local, _, domain = addresses[0].rpartition("@")
    if not local or not domain or not addresses[0].isascii():
        return None, "From-adres is onvolledig"
    return addresses[0].lower(), ""


def sender_address(message: EmailMessage) -> str | None:
    """The single From address, lower-cased; None for zero or several From headers or addresses."""
    return _sole_from(message)[0]


def _organisational_domain(domain: str) -> str:
    """The last two labels, as DMARC relaxed alignment compares (RFC 7489 §3.1.1)."""
    # No Public Suffix List: the senders are Belgian schools and CLBs under flat ".be" names, so
    # "*.co.uk"-like second-level registries, which would need three labels, are not needed here.
    return ".".join(domain.lower().strip(".").split(".")[-2:])


def _authserv_id(value: str) -> str:
    """The authserv-id an Authentication-Results value starts with (RFC 8601 §2.2), lower-cased."""
    words = _strip_comments(value).split(";")[0].split()
    return words[0].strip('"').lower() if words else ""


def _parse_results(value: str) -> list[_ResInfo]:
    """The method results of one Authentication-Results value; ValueError when malformed."""
    text = _tight_equals(_strip_comments(value, strict=True))
    results: list[_ResInfo] = []
    for resinfo in _split_unquoted(text, ";")[1:]:
        words = _split_unquoted(resinfo, None)
        if words == ["none"]:  # RFC 8601 §2.2 no-result
            continue
        method, equals, result = words[0].partition("=")
        pairs = [word.partition("=") for word in words[1:]]
        if not equals or not result or any(not sep for _, sep, _ in pairs):
            raise ValueError("resinfo without method=result or ptype.property=value")
        properties = {key.lower(): val.strip('"').lower() for key, _, val in pairs}
        results.append(_ResInfo(method.split("/")[0].lower(), result.lower(), properties))
    return results


def _tight_equals(text: str) -> str:
    """White space around every '=' removed, as re.sub(r"\\s*=\\s*", "=") did, in linear time."""
    pieces = text.split("=")
    if len(pieces) == 1:
        return text
    inner = [piece.strip() for piece in pieces[1:-1]]
    return "=".join([pieces[0].rstrip(), *inner, pieces[-1].lstrip()])


def _dkim_domain(result: _ResInfo) -> str:
    """The signing domain of a DKIM result: header.d, else the domain of header.i."""
    identity = result.properties.get("header.i", "")
    return result.properties.get("header.d") or identity.rpartition("@")[2]


def _judge(results: list[_ResInfo], from_domain: str) -> AuthVerdict:
    """Pass on DMARC pass for the From domain, or, without DMARC, an aligned passing DKIM."""
    dmarc = [result for result in results if result.method == "dmarc"]
    if dmarc:
        for result in dmarc:
            if result.result != "pass":
                # none (no policy), fail, temperror, permerror: the brief's conservative choice.
                return AuthVerdict(passed=False, reason=f"DMARC: {result.result}")
        if any(result.properties.get("header.from") == from_domain for result in dmarc):
            return AuthVerdict(passed=True, reason=f"DMARC geslaagd voor {from_domain}")
        return AuthVerdict(passed=False, reason="DMARC geslaagd voor een ander domein dan From")
    dkim = [result for result in results if result.method == "dkim" and result.result == "pass"]
    wanted = _organisational_domain(from_domain)
    for result in dkim:
        if _organisational_domain(_dkim_domain(result)) == wanted:
            return AuthVerdict(passed=True, reason=f"DKIM geldig en in lijn met {from_domain}")
    if dkim:
        return AuthVerdict(passed=False, reason="DKIM geldig maar niet in lijn met het From-domein")
    return AuthVerdict(passed=False, reason="geen geslaagde DMARC- of DKIM-controle")


def authentication_verdict(message: EmailMessage, *, trusted_authserv_id: str, trusted_client: bool = True) -> AuthVerdict:
    """Whether the topmost Authentication-Results of our own server vouches for the From domain.

    `trusted_client` is False when the SMTP client that handed us the mail is not one of our relays:
    then every header bearing our authserv-id was written by that client, and RFC 8601 §5 says to
    remove it. We keep the raw mail intact (the coordinator may need it) and ignore them instead.
    """
    if not trusted_client:
        return AuthVerdict(passed=False, reason="rechtstreeks afgeleverd, niet via onze mailserver: de afzender is niet nagekeken")
    sender, problem = _sole_from(message)
    if sender is None:
        return AuthVerdict(passed=False, reason=problem)
    trusted = trusted_authserv_id.strip().lower()
    if not trusted:  # an empty id would match any header that lacks one
        return AuthVerdict(passed=False, reason="geen vertrouwde authserv-id ingesteld")
    # RFC 8601 §5: our border MTA adds its header on top and should delete look-alikes from
    # outside; anything of "ours" lower down may be forged upstream, so only the first one counts.
    # Headers of other servers are ignored entirely (§7.1: only trusted authserv-ids count).
    ours = [v for v in _raw_values(message, "authentication-results") if _authserv_id(v) == trusted]
    if not ours:
        return AuthVerdict(passed=False, reason="geen Authentication-Results van onze server")
    try:
        results = _parse_results(ours[0])
    except _PARSE_ERRORS:
        return AuthVerdict(passed=False, reason="onleesbare Authentication-Results")
    return _judge(results, sender.rpartition("@")[2])
