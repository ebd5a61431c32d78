"""Who sent a mail: the one From address, and whether our own mail server vouched for its domain (RFC 8601, DMARC)."""

from __future__ import annotations

from email.errors import InvalidHeaderDefect
from email.message import EmailMessage, Message
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from mail.headers import PARSE_ERRORS, addresses, raw_values, split_unquoted, strip_comments


class AuthVerdict(BaseModel):
    """Whether our own mail server vouched for the From domain, with a Dutch reason."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    reason: str


class _ResInfo(NamedTuple):
    """One method result of an Authentication-Results header (RFC 8601 §2.2 resinfo)."""

    method: str
    result: str
    properties: dict[str, str]


def _sole_from(message: Message) -> tuple[str | None, str]:
    """The one From address lower-cased, or None with the Dutch reason there is not exactly one."""
    try:
        headers = message.get_all("From") or []
        if len(headers) != 1:
            problem = "geen From-kopregel" if not headers else "meerdere From-kopregels"
            return None, problem
        found = addresses(message, "From")
        defects = getattr(headers[0], "defects", ())
    except PARSE_ERRORS:
        return None, "onleesbare From-kopregel"
    # "a@x.be b@evil.example" parses as one address plus an InvalidHeaderDefect, while a mail
    # program may show the other one: any invalid From is treated as ambiguous.
    if len(found) != 1 or any(isinstance(d, InvalidHeaderDefect) for d in defects):
        return None, "From bevat geen of meerdere adressen of is ongeldig"
    local, _, domain = found[0].rpartition("@")
    if not local or not domain or not found[0].isascii():
        return None, "From-adres is onvolledig"
    return found[0].lower(), ""


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
    words = strip_comments(value).split(";")[0].split()
    return words[0].strip('"').lower() if words else ""


def _parse_results(value: str) -> list[_ResInfo]:
    """The method results of one Authentication-Results value; ValueError when malformed."""
    text = _tight_equals(strip_comments(value, strict=True))
    results: list[_ResInfo] = []
    for resinfo in split_unquoted(text, ";")[1:]:
        words = split_unquoted(resinfo, None)
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
    ours = [v for v in raw_values(message, "authentication-results") if _authserv_id(v) == trusted]
    if not ours:
        return AuthVerdict(passed=False, reason="geen Authentication-Results van onze server")
    try:
        results = _parse_results(ours[0])
    except PARSE_ERRORS:
        return AuthVerdict(passed=False, reason="onleesbare Authentication-Results")
    return _judge(results, sender.rpartition("@")[2])
