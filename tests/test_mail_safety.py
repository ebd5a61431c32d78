"""Mail safety: automatic mail is never answered, bounces are traced, forged senders fail."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.safety import (
    AuthVerdict,
    Bounce,
    authentication_verdict,
    automatic_reason,
    bounce,
    sender_address,
)

CORPUS = Path(__file__).parent / "mail_corpus"
AUTOMATIC = sorted((CORPUS / "automatic").glob("*.eml"))
HUMAN = sorted((CORPUS / "human").glob("*.eml"))
OUR_DOMAIN = "meldpunt-si.example"
OUR_MESSAGE_IDS = {"<c0ffee42.outbox@mail.meldpunt-si.example>"}
AUTHSERV = "mx.meldpunt-si.example"

# The SMTP envelope a few corpus mails arrived with (an .eml file cannot carry it).
ENVELOPES = {
    "envelope_empty.eml": "",
    "envelope_angle.eml": "<>",
    "envelope_mailman_bounces.eml": "clb-netwerk-bounces@lists.clb-netwerk.example",
    "envelope_mailer_daemon_without_domain.eml": "MAILER-DAEMON",
}

# Mails with a single tell-tale sign, and the words the reason must contain: each check is hit.
EXPECTED_REASONS = {
    "auto_submitted_auto_replied.eml": "Auto-Submitted: auto-replied",
    "auto_submitted_with_parameters.eml": "Auto-Submitted: auto-replied",
    "auto_submitted_uppercase_comment.eml": "Auto-Submitted: auto-generated",
    "auto_submitted_empty.eml": "Auto-Submitted: leeg",
    "precedence_bulk.eml": "Precedence: bulk",
    "precedence_list.eml": "Precedence: list",
    "precedence_junk.eml": "Precedence: junk",
    "x_precedence_bulk.eml": "X-Precedence: bulk",
    "return_path_empty.eml": "retouradres",
    "return_path_empty_spaces.eml": "retouradres",
    "envelope_empty.eml": "retouradres in de envelop",
    "envelope_angle.eml": "retouradres in de envelop",
    "envelope_mailman_bounces.eml": "systeemadres (bounces)",
    "envelope_mailer_daemon_without_domain.eml": "systeemadres (mailer-daemon)",
    "x_loop_ours.eml": "X-Loop",
    "x_loop_ours_among_others.eml": "X-Loop",
    "from_mailer_daemon.eml": "systeemadres (mailer-daemon)",
    "from_postmaster.eml": "systeemadres (postmaster)",
    "from_noreply.eml": "systeemadres (noreply)",
    "from_no_reply.eml": "systeemadres (no-reply)",
    "from_no_underscore_reply.eml": "systeemadres (no_reply)",
    "from_noreply_numbered.eml": "systeemadres (noreply)",
    "from_donotreply.eml": "systeemadres (donotreply)",
    "from_do_not_reply.eml": "systeemadres (do-not-reply)",
    "from_bounces.eml": "systeemadres (bounces)",
    "from_bounce_verp.eml": "systeemadres (bounce)",
    "from_listserv.eml": "systeemadres (listserv)",
    "from_majordomo.eml": "systeemadres (majordomo)",
    "sender_header_noreply.eml": "systeemadres (noreply)",
    "message_id_ours.eml": "Message-ID van ons)",
    "message_id_our_domain.eml": "Message-ID van ons domein",
    "from_our_domain.eml": "eigen domein",
    "from_our_subdomain.eml": "eigen domein",
    "x_autoreply.eml": "x-autoreply",
    "x_autorespond.eml": "x-autorespond",
    "x_autoreply_from.eml": "x-autoreply-from",
    "outlook_automatisch_antwoord.eml": "afwezigheidsbericht",
    "outlook_automatisch_antwoord_encoded.eml": "afwezigheidsbericht",
    "outlook_automatic_reply.eml": "afwezigheidsbericht",
    "outlook_afwezig.eml": "afwezigheidsbericht",
    "outlook_out_of_office.eml": "afwezigheidsbericht",
    "outlook_reponse_automatique.eml": "afwezigheidsbericht",
    "list_id.eml": "mailinglijst (list-id)",
    "list_unsubscribe.eml": "mailinglijst (list-unsubscribe)",
    "feedback_id.eml": "massamail",
    "x_campaign.eml": "massamail",
    "x_campaign_id.eml": "massamail",
    "exchange_inbox_rules_loop.eml": "Exchange-regel",
    "delivery_status_in_mixed.eml": "message/delivery-status",
    "read_receipt_mdn.eml": "multipart/report",
    "bounce_plain_text_only.eml": "bounce herkend",
    "bounce_exchange_legacy_ndr.eml": "bounce herkend",
    "broken_from_header.eml": "onleesbare kopregel",
}

AN = "an.peeters@vrijclb-leuven.example"
ID_0142 = "<msi-20240917-0142.4f9c2a1e@meldpunt-si.example>"
ID_0150 = "<msi-20240918-0150.77b01c3d@meldpunt-si.example>"
ID_0161 = "<msi-20240919-0161.0a9e55f2@meldpunt-si.example>"
BOUNCES = {
    "bounce_postfix_dsn.eml": ((AN,), ID_0142, True),
    "bounce_postfix_headers_only.eml": ((AN,), ID_0161, True),
    "bounce_postfix_delayed.eml": (("karel.wouters@clb-noordrand.example",), ID_0150, False),
    "bounce_gmail_failure.eml": (("sofie.wouters.clb@gmail.com",), ID_0142, True),
    "bounce_gmail_delay.eml": (("karel.wouters@clb-noordrand.example",), ID_0150, False),
    "bounce_exchange_online_ndr.eml": ((AN,), ID_0142, True),
    "bounce_exchange_legacy_ndr.eml": (("karel.wouters@clb-noordrand.example",), None, True),
    "bounce_exim.eml": (("jan.desmet@vrijclb-leuven.example",), ID_0161, True),
    "bounce_qmail.eml": (("lies.vermeulen@scholengroep-brabant.example",), ID_0142, True),
    "bounce_sendmail_dsn.eml": (("tom.claes@go-clb-vilvoorde.example",), ID_0142, True),
    "bounce_plain_text_only.eml": (("mieke.goossens@oudprovider.example",), ID_0142, True),
    "amazon_ses_bounce.eml": (("bram.jacobs@clb-noordrand.example",), ID_0142, True),
}


def parse(data: bytes | str) -> EmailMessage:
    """A message parsed the way the intake parses it."""
    raw = data.encode() if isinstance(data, str) else data
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def reason_for(path: Path, *, envelope_from: str | None = None) -> str | None:
    """automatic_reason of one corpus file, with our domain and our outbox's Message-IDs."""
    return automatic_reason(
        parse(path.read_bytes()),
        envelope_from=ENVELOPES.get(path.name, envelope_from),
        our_domain=OUR_DOMAIN,
        is_our_message_id=OUR_MESSAGE_IDS.__contains__,
    )


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_is_large_enough() -> None:
    assert len(AUTOMATIC) >= 60
    assert len(HUMAN) >= 15
    assert set(EXPECTED_REASONS) | set(BOUNCES) <= {path.name for path in AUTOMATIC}


@pytest.mark.parametrize("path", AUTOMATIC, ids=lambda path: path.stem)
def test_automatic_mail_gets_a_reason(path: Path) -> None:
    reason = reason_for(path)
    assert reason
    assert reason == reason.strip() and len(reason) < 100
    if path.name in EXPECTED_REASONS:
        assert EXPECTED_REASONS[path.name] in reason


@pytest.mark.parametrize("path", HUMAN, ids=lambda path: path.stem)
def test_human_mail_may_be_answered(path: Path) -> None:
    message = parse(path.read_bytes())
    sender = sender_address(message)
    assert sender
    assert reason_for(path) is None
    assert reason_for(path, envelope_from=sender) is None
    assert reason_for(path, envelope_from=f"<{sender}>") is None
    assert bounce(message) is None


def test_our_message_id_is_only_recognised_through_the_outbox() -> None:
    path = CORPUS / "automatic" / "message_id_ours.eml"
    message = parse(path.read_bytes())
    seen: list[str] = []

    def is_ours(message_id: str) -> bool:
        seen.append(message_id)
        return False

    assert automatic_reason(message, envelope_from=None, our_domain=OUR_DOMAIN) is None
    assert (
        automatic_reason(
            message, envelope_from=None, our_domain=OUR_DOMAIN, is_our_message_id=is_ours
        )
        is None
    )
    assert seen == ["<c0ffee42.outbox@mail.meldpunt-si.example>"]


def test_envelope_cases_need_their_envelope() -> None:
    path = CORPUS / "automatic" / "envelope_empty.eml"
    message = parse(path.read_bytes())
    assert automatic_reason(message, envelope_from=None, our_domain=OUR_DOMAIN) is None
    sender = "els.janssens@clb-noordrand.example"
    assert automatic_reason(message, envelope_from=sender, our_domain=OUR_DOMAIN) is None


@pytest.mark.parametrize(
    ("header", "automatic"),
    [
        ("Auto-Submitted: no", False),
        ("Auto-Submitted: No (ingetypt door een mens)", False),
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: Auto-Replied; owner-email=x@y.example", True),
        ("Precedence: normal", False),
        ("Precedence: BULK", True),
        ("X-Auto-Response-Suppress: All", False),
        ("X-Loop: tickets@clb-noordrand.example", False),
        ("X-Loop: meldpunt@meldpunt-si.example", True),
        ("Return-Path: <els.janssens@clb-noordrand.example>", False),
        ("Return-Path: <>", True),
        ("Sender: Postmaster <POSTMASTER@clb-noordrand.example>", True),
        ("List-Id: <zorg.lists.example>", True),
        ("X-MS-Exchange-Inbox-Rules-Loop: els.janssens@clb-noordrand.example", True),
    ],
)
def test_single_headers(header: str, automatic: bool) -> None:
    message = parse(
        "From: Els Janssens <els.janssens@clb-noordrand.example>\n"
        f"To: meldpunt@{OUR_DOMAIN}\nSubject: Vraag\nMessage-ID: <x1@clb-noordrand.example>\n"
        f"{header}\n\nDag, een vraag.\n"
    )
    reason = automatic_reason(message, envelope_from=None, our_domain=OUR_DOMAIN)
    assert (reason is not None) is automatic


# --- bounces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_bounce_gives_failed_address_and_original(name: str) -> None:
    addresses, original, permanent = BOUNCES[name]
    found = bounce(parse((CORPUS / "automatic" / name).read_bytes()))
    assert found == Bounce(
        failed_addresses=addresses, original_message_id=original, permanent=permanent
    )


@pytest.mark.parametrize(
    "name", ["gmail_vacation.eml", "outlook_automatisch_antwoord.eml", "mailman_digest.eml"]
)
def test_other_automatic_mail_is_no_bounce(name: str) -> None:
    assert bounce(parse((CORPUS / "automatic" / name).read_bytes())) is None


# --- sender and authentication -------------------------------------------------------------------

VL = "vrijclb-leuven.example"
OURS = f"Authentication-Results: {AUTHSERV};"
FROM_AN = "From: An Peeters <An.Peeters@VrijCLB-Leuven.example>\n"
REST = "To: meldpunt@meldpunt-si.example\nSubject: Aanmelding\n\nDag.\n"
DMARC_PASS = (
    f"{OURS}\n"
    f"\tdkim=pass (2048-bit key; unprotected) header.d={VL}\n"
    f'\t header.i=@{VL} header.a=rsa-sha256 header.s=sel1 header.b="Xk3f9aQ1";\n'
    f"\tspf=pass (mx.meldpunt-si.example: domain of an.peeters@{VL} designates\n"
    f"\t 192.0.2.25 as permitted sender) smtp.mailfrom=an.peeters@{VL};\n"
    f"\tdmarc=pass (p=QUARANTINE sp=NONE dis=NONE) header.from={VL}\n"
)
RECEIVED = (
    f"Received: from mail.{VL} (mail.{VL} [192.0.2.25])\n"
    f"\tby {AUTHSERV} (Postfix) with ESMTPS id 4X7Yk21ZxLz9sTQ; Tue, 17 Sep 2024 10:15:02 +0200\n"
)


def verdict(text: str) -> AuthVerdict:
    """authentication_verdict of a message given as text, for our authserv-id."""
    return authentication_verdict(parse(text), trusted_authserv_id=AUTHSERV)


@pytest.mark.parametrize(
    "header",
    [
        DMARC_PASS,
        f"Authentication-Results: MX.Meldpunt-SI.example 1; dmarc=pass header.from={VL}\n",
        f'Authentication-Results: "{AUTHSERV}"; dmarc = pass header.from = {VL}\n',
    ],
    ids=["full", "version-and-case", "quoted-id-and-spaces"],
)
def test_pass_via_dmarc(header: str) -> None:
    result = verdict(header + RECEIVED + FROM_AN + REST)
    assert result.passed, result.reason
    assert "DMARC" in result.reason


@pytest.mark.parametrize(
    ("sender", "dkim"),
    [
        (FROM_AN, f"header.d=mail.{VL}"),
        (FROM_AN, f"header.d={VL}"),
        (f"From: an@leerlingen.{VL}\n", f"header.i=@{VL}"),
        (FROM_AN, f"header.i=nieuwsbrief@mail.{VL}"),
    ],
)
def test_pass_via_aligned_dkim(sender: str, dkim: str) -> None:
    header = f"{OURS} dkim=pass (1024-bit key) {dkim}; spf=none\n"
    result = verdict(header + sender + REST)
    assert result.passed, result.reason
    assert "DKIM" in result.reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        # Only a lower header of our authserv-id says pass: that one was forged upstream.
        (
            f"{OURS} dkim=none; spf=softfail smtp.mailfrom=evil.example\n" + RECEIVED + DMARC_PASS,
            "geen geslaagde",
        ),
        (f"{OURS} none\n" + RECEIVED + DMARC_PASS, "geen geslaagde"),
        # The top one of ours says fail, a lower one of ours says pass.
        (
            f"{OURS} dkim=fail header.d={VL};\n"
            f" dmarc=fail (p=REJECT) header.from={VL}\n" + RECEIVED + DMARC_PASS,
            "DMARC: fail",
        ),
        # Another server's word does not count, however good it sounds.
        (DMARC_PASS.replace(AUTHSERV, "mx.google.com"), "geen Authentication-Results"),
        (
            DMARC_PASS.replace(AUTHSERV, "mx.google.com") + f"{OURS} dmarc=fail header.from={VL}\n",
            "DMARC: fail",
        ),
        ("", "geen Authentication-Results"),
        (
            f"{OURS} dmarc=none header.from={VL}\n",
            "DMARC: none",
        ),
        (
            f"{OURS} dkim=pass header.d={VL}; dmarc=temperror header.from={VL}\n",
            "DMARC: temperror",
        ),
        (
            f"{OURS} dmarc=pass header.from=evil.example\n",
            "ander domein",
        ),
        (
            f"{OURS} dkim=pass header.d=mailer.example\n",
            "niet in lijn",
        ),
        (
            f"{OURS} dkim=pass header.d={VL}.evil.example\n",
            "niet in lijn",
        ),
        (
            f"{OURS} spf=pass smtp.mailfrom={VL}\n",
            "geen geslaagde",
        ),
        # Malformed: an unclosed comment, a result without "=", a property without "=".
        (
            f"{OURS} dmarc=pass (p=none header.from={VL}\n",
            "onleesbare",
        ),
        (
            f"{OURS} dmarc pass header.from={VL}\n",
            "onleesbare",
        ),
        (
            f"{OURS} dmarc=pass header.from {VL}\n",
            "onleesbare",
        ),
    ],
    ids=[
        "only-lower-ours-passes",
        "top-ours-says-none",
        "top-ours-fails-lower-passes",
        "other-server-only",
        "other-server-above-ours",
        "no-header",
        "dmarc-none",
        "dmarc-temperror-despite-dkim",
        "dmarc-other-domain",
        "dkim-not-aligned",
        "dkim-lookalike-domain",
        "spf-only",
        "unclosed-comment",
        "result-without-equals",
        "property-without-equals",
    ],
)
def test_fail(headers: str, reason: str) -> None:
    result = verdict(headers + FROM_AN + REST)
    assert not result.passed
    assert reason in result.reason


@pytest.mark.parametrize(
    ("sender_lines", "reason"),
    [
        (FROM_AN + f"From: Evil <ceo@{VL}>\n", "meerdere From"),
        (f"From: an.peeters@{VL}, ceo@evil.example\n", "meerdere adressen"),
        (f"From: an.peeters@{VL} ceo@evil.example\n", "ongeldig"),
        (f"From: Peeters, An <an.peeters@{VL}>\n", "meerdere adressen"),
        ("From: undisclosed-recipients:;\n", "geen of meerdere"),
        ("From: an.peeters@\n", "onleesbare From"),
        ("", "geen From"),
    ],
    ids=[
        "two-headers",
        "two-addresses",
        "two-without-comma",
        "unquoted-comma",
        "group",
        "broken",
        "missing",
    ],
)
def test_sender_must_be_one_address(sender_lines: str, reason: str) -> None:
    message = parse(DMARC_PASS + sender_lines + REST)
    assert sender_address(message) is None
    result = authentication_verdict(message, trusted_authserv_id=AUTHSERV)
    assert not result.passed
    assert reason in result.reason


def test_sender_address_is_lower_case() -> None:
    assert sender_address(parse(FROM_AN + REST)) == f"an.peeters@{VL}"
    encoded = f"From: =?utf-8?q?Peeters=2C_An?= <an.peeters@{VL}>\n"
    assert sender_address(parse(encoded + REST)) == f"an.peeters@{VL}"


def test_empty_trusted_authserv_id_trusts_nothing() -> None:
    message = parse(
        "Authentication-Results: ; dmarc=pass header.from=vrijclb-leuven.example\n" + FROM_AN + REST
    )
    assert not authentication_verdict(message, trusted_authserv_id=" ").passed


# --- never crash ---------------------------------------------------------------------------------

HEADER_NAMES = [
    "From", "Sender", "To", "Subject", "Message-ID", "Return-Path", "Auto-Submitted", "Precedence",
    "X-Loop", "Authentication-Results", "Content-Type", "Content-Transfer-Encoding", "List-Id",
    "X-Auto-Response-Suppress", "MIME-Version",
]  # fmt: skip
FRAGMENTS = [
    "<>", "@", "a@", "<a@b>", ",", ";", "(", ")", '"', "\\", "=?utf-8?q?", "?=", "=?x?b?@@?=",
    "multipart/report; boundary=b", "message/delivery-status", "message/rfc822",
    "text/rfc822-headers", f"{AUTHSERV};", "dmarc=pass", "header.from=", "dkim=pass header.d=",
    "\n ", "\r\n", "\x00", "é",
    "auto-replied", "bulk", "noreply@x", "undisclosed:;", "base64", "--b", "\nAction: failed\n",
]  # fmt: skip


def exercise(message: EmailMessage) -> None:
    """Call every public function; none may raise."""
    reason = automatic_reason(message, envelope_from="<>", our_domain=OUR_DOMAIN)
    assert reason is None or isinstance(reason, str)
    automatic_reason(message, envelope_from=None, our_domain=OUR_DOMAIN, is_our_message_id=bool)
    found = bounce(message)
    assert found is None or isinstance(found, Bounce)
    assert isinstance(authentication_verdict(message, trusted_authserv_id=AUTHSERV), AuthVerdict)
    sender_address(message)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    exercise(parse(data))


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(HEADER_NAMES),
            st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=8),
        ),
        max_size=12,
    ),
    st.lists(st.sampled_from(FRAGMENTS), max_size=20),
)
def test_never_raises_on_hostile_headers(
    headers: list[tuple[str, list[str]]], body: list[str]
) -> None:
    text = "".join(f"{name}: {''.join(parts)}\n" for name, parts in headers) + "\n" + "".join(body)
    exercise(parse(text.encode("utf-8", "surrogatepass")))


@FUZZ
@given(
    st.sampled_from(AUTOMATIC + HUMAN),
    st.integers(min_value=0),
    st.binary(max_size=40),
    st.integers(0, 40),
)
def test_never_raises_on_damaged_corpus(path: Path, where: int, junk: bytes, cut: int) -> None:
    data = path.read_bytes()
    where %= len(data) + 1
    exercise(parse(data[:where] + junk + data[where + cut :]))


def test_the_coordinator_may_write_from_our_own_domain() -> None:
    """Answers from a coordinator at meldpunt.example are not loops; anyone else from our domain is."""
    message = EmailMessage()
    message["From"] = "Coördinator <coordinator@meldpunt.example>"
    message["To"] = "meldpunt@meldpunt.example"
    message["Subject"] = "Re: [Vraag 3] spijbelen"
    message["Message-ID"] = "<answer-3@mail.meldpunt-intern.example>"
    message.set_content("Neem contact op met Arktos.")
    ours = {"our_domain": "meldpunt.example", "envelope_from": "coordinator@meldpunt.example"}
    trusted = frozenset({"coordinator@meldpunt.example"})
    assert automatic_reason(message, **ours, trusted_senders=trusted) is None
    assert automatic_reason(message, **ours) == "afzender is ons eigen domein"
    message.replace_header("From", "iemand@meldpunt.example")
    assert automatic_reason(message, **ours, trusted_senders=trusted) == "afzender is ons eigen domein"
