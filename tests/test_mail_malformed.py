"""Malformed mail never stops the processor: each stored mail ends as exactly one of done or quarantined.

A corpus of broken mails is generated here in code (NUL bytes, bad charsets and transfer encodings,
missing or doubled headers, broken MIME trees, huge parts, garbage), stored with
`store.inbound.accept` and run through `MailProcessor.process_all()`, on SQLite and PostgreSQL.
A hypothesis test feeds random bytes the same way.
"""

from __future__ import annotations

import base64
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk.workflow import IntakeWorkflow
from mail.form import render_form
from mail.outbox import OutboxConfig, build_message
from mail.processor import MailProcessor
from mail.replies import ProcessorConfig
from store import inbound
from store import staff as staff_repo
from store.mail_models import InboundMail, InboundStatus, OutboxMessage
from tests.mail_harness import COORDINATOR, NOW, shared_intake

ELS = "els.janssens@vrijclbhalle.be"
US = "meldpunt@meldpunt.example"
AUTHSERV = "mx.meldpunt.example"
FINAL = {InboundStatus.DONE, InboundStatus.QUARANTINED}
# Python's email parser recurses once per nesting level and raises RecursionError near 1000 levels;
# the processor quarantines such a mail at once instead of retrying it.
TOO_DEEP = "multipart_deep_1000"
DOMAIN_OF = re.compile(rb"@([A-Za-z0-9.-]+)")


# --- the generated corpus ---------------------------------------------------------------------------


def mail(*headers: bytes, body: bytes = b"Dag, een vraag over een leerling.\r\n", auth: bool = True, mid: bool = True, sep: bytes = b"\r\n") -> bytes:
    """A mail from Els unless headers say otherwise, vouched for by our border server; header lines as given."""
    lines = list(headers)
    names = {line.split(b":")[0].strip().lower() for line in headers}
    sender = next((line for line in headers if line.lower().startswith(b"from:")), ELS.encode())
    domain = found[1] if (found := DOMAIN_OF.search(sender)) else b"vrijclbhalle.be"
    if b"from" not in names:
        lines.append(f"From: Els Janssens <{ELS}>".encode())
    if b"to" not in names:
        lines.append(f"To: {US}".encode())
    if mid and b"message-id" not in names:
        lines.append(f"Message-ID: <{random.getrandbits(64):x}@vrijclbhalle.be>".encode())
    if auth:
        lines.insert(0, b"Authentication-Results: " + AUTHSERV.encode() + b"; dmarc=pass header.from=" + domain)
    return sep.join(lines) + sep + sep + body


def nested(depth: int) -> bytes:
    """A multipart nested depth levels deep, each level with its own boundary."""
    body = b"Content-Type: text/plain\r\n\r\nNaam aanmelder: diep\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary + b"\r\n" + body
                + b"\r\n--" + boundary + b"--\r\n")
    return body


def form_text() -> bytes:
    """A blank form as a staff member would send it back, with some answers."""
    text = render_form(shared_intake().questionnaire).replace("Voornaam leerling: ", "Voornaam leerling: Zoë")
    return text.replace("Geboortedatum leerling: ", "Geboortedatum leerling: 31/02/2011").encode()


def generated_corpus() -> list[tuple[str, bytes]]:
    """At least 100 malformed mails, each named after what is wrong with it."""
    random.seed(20261118)  # the Message-IDs and the garbage are the same on every run
    rnd = random.Random(7)
    cases: list[tuple[str, bytes]] = []

    def add(name: str, raw: bytes) -> None:
        cases.append((name, raw))

    # NUL bytes everywhere
    add("nul_in_body", mail(b"Subject: nul", body=b"Naam aanmelder: Els\x00Bcc: x\r\n\x00\x00"))
    add("nul_in_subject", mail(b"Subject: formu\x00lier"))
    add("nul_in_from", mail(b"From: Els\x00 <" + ELS.encode() + b">"))
    add("nul_in_header_name", mail(b"Sub\x00ject: x"))
    add("nul_in_message_id", mail(b"Message-ID: <a\x00b@x.example>"))
    add("nul_only", b"\x00" * 1000)
    add("nul_in_boundary", mail(b"Content-Type: multipart/mixed; boundary=\"a\x00b\"", body=b"--a\x00b\r\n\r\nx\r\n--a\x00b--\r\n"))

    # charsets
    for charset in (b"x-unknown", b"utf-16", b"utf-32", b"iso-2022-jp", b"", b"\"", b"utf-8\x00", b"cp999999", b"unicode-1-1-utf-7", b"base64", b"idna", b"rot13", b"zlib", b"hex"):
        add(f"charset_{charset.decode('latin-1').strip(chr(0))!r}", mail(b"Content-Type: text/plain; charset=" + charset, body="Hulpvraag: école €\r\n".encode("latin-1", "replace") + b"\xff\xfe\x00"))
    add("utf8_declared_latin1_body", mail(b"Content-Type: text/plain; charset=utf-8", body="Naam aanmelder: Jérôme Dubois\r\n".encode("latin-1")))
    add("encoded_word_unknown_charset", mail(b"Subject: =?x-foo?q?formulier?="))
    add("encoded_word_broken_base64", mail(b"Subject: =?utf-8?b?!!!notbase64?="))
    add("encoded_word_bad_qp", mail(b"Subject: =?utf-8?q?=ZZ=Z?="))
    add("encoded_word_in_from_address", mail(b"From: =?utf-8?q?els=40vrijclbhalle.be?="))
    add("encoded_word_crlf_in_name", mail(b"From: =?utf-8?q?Els=0D=0ABcc:_x@evil.example?= <" + ELS.encode() + b">"))
    add("rfc2231_broken", mail(b"Content-Type: text/plain; charset*=utf-8''%ZZ%", body=b"x"))
    add("rfc2231_unknown_charset", mail(b"Content-Type: text/plain; charset*=x-foo'nl'utf-8", body=b"x"))

    # transfer encodings
    add("base64_garbage", mail(b"Content-Transfer-Encoding: base64", b"Content-Type: text/plain", body=b"!!!! not base64 at all ====\r\n"))
    add("base64_bad_padding", mail(b"Content-Transfer-Encoding: base64", body=b"TmFhbSBhYW5tZWxkZXI6IEVscw\r\n"))
    add("base64_binary_payload", mail(b"Content-Transfer-Encoding: base64", b"Content-Type: text/plain; charset=utf-8", body=base64.b64encode(bytes(range(256)) * 10)))
    add("qp_broken_escapes", mail(b"Content-Transfer-Encoding: quoted-printable", body=b"Naam aanmelder: =ZZ=\r\n=4\r\nHulpvraag: =C3=\r\n"))
    add("qp_soft_break_at_end", mail(b"Content-Transfer-Encoding: quoted-printable", body=b"abc="))
    add("unknown_transfer_encoding", mail(b"Content-Transfer-Encoding: x-uuencode", body=b"begin 644 x\r\n`\r\nend\r\n"))
    add("cte_twice", mail(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable", body=b"=3D=3D"))
    add("binary_body_7bit", mail(b"Content-Transfer-Encoding: 7bit", body=bytes(range(256))))

    # missing headers
    add("no_from", mail(b"From-Not: x", b"Subject: geen afzender").replace(b"From: Els Janssens <" + ELS.encode() + b">\r\n", b""))
    add("no_message_id", mail(b"Subject: geen message-id", mid=False))
    add("no_to", mail(b"Subject: geen To").replace(f"To: {US}\r\n".encode(), b""))
    add("no_content_type_8bit", mail(body="Dag, één vraag: wat nu?\r\n".encode()))
    add("no_headers_at_all", "\r\nNaam aanmelder: Els\r\nVoornaam leerling: Zoë\r\n".encode())
    add("only_body_no_separator", b"Dit is geen mail maar gewoon tekst zonder kopregels.")

    # senders
    add("two_from_headers", mail(b"From: Els <" + ELS.encode() + b">", b"From: Boef <boef@evil.example>"))
    add("from_two_addresses", mail(b"From: " + ELS.encode() + b", boef@evil.example"))
    add("from_two_addresses_space", mail(b"From: " + ELS.encode() + b" boef@evil.example"))
    add("from_group_empty", mail(b"From: undisclosed-recipients:;"))
    add("from_local_part_only", mail(b"From: a@"))
    add("from_domain_only", mail(b"From: @vrijclbhalle.be"))
    add("from_empty_angle", mail(b"From: <>"))
    add("from_display_name_only", mail(b"From: Els Janssens"))
    add("from_unicode_local_part", mail("From: élise@vrijclbhalle.be".encode()))
    add("from_idn_domain", mail("From: els@vrijclbhállé.be".encode()))
    add("from_unbalanced_quotes", mail(b'From: "Els <' + ELS.encode() + b">"))
    add("from_unbalanced_comment", mail(b"From: Els (CLB <" + ELS.encode() + b">"))
    add("from_empty", mail(b"From: "))
    add("from_coordinator_garbage_reply", mail(f"From: {COORDINATOR}".encode(), b"In-Reply-To: <>", b"References: " + b" ".join(b"<%d@x>" % i for i in range(5000))))
    add("from_coordinator_70k_references", mail(f"From: {COORDINATOR}".encode(), b"References: " + b" ".join(b"<%d@x>" % i for i in range(70_000))))
    add("from_coordinator_no_thread", mail(f"From: {COORDINATOR}".encode(), b"Subject: hallo"))
    add("from_stranger", mail(b"From: Onbekende <iemand@elders.example>", b"Subject: formulier"))
    add("reply_to_garbage", mail(b"Reply-To: ,,,;;;<<<>>>", b"Subject: formulier"))
    add("sender_header_twice", mail(b"Sender: a@b.example", b"Sender: c@d.example"))

    # multipart structure
    add("multipart_without_boundary", mail(b"Content-Type: multipart/mixed", body=b"--x\r\nContent-Type: text/plain\r\n\r\nhoi\r\n--x--\r\n"))
    add("multipart_boundary_missing_in_body", mail(b"Content-Type: multipart/alternative; boundary=\"nergens\"", body=b"Naam aanmelder: Els\r\n"))
    add("multipart_empty_boundary", mail(b"Content-Type: multipart/mixed; boundary=\"\"", body=b"--\r\n\r\nx\r\n----\r\n"))
    add("multipart_no_parts", mail(b"Content-Type: multipart/mixed; boundary=\"b\"", body=b"--b--\r\n"))
    add("multipart_unterminated", mail(b"Content-Type: multipart/mixed; boundary=\"b\"", body=b"--b\r\nContent-Type: text/plain\r\n\r\nformulier\r\n"))
    add("multipart_deep_200", mail(b"MIME-Version: 1.0", body=b"", sep=b"\r\n")[:-2] + nested(200))
    add("multipart_deep_1000", mail(b"MIME-Version: 1.0", body=b"", sep=b"\r\n")[:-2] + nested(1000))
    add("multipart_mismatched_nesting", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--a\r\n\r\nx\r\n--b--\r\n--a--\r\n"))
    add("multipart_same_boundary_nested", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nContent-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\n\r\nx\r\n--a--\r\n--a--\r\n"))
    add("multipart_part_without_headers", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nNaam aanmelder: Els\r\n--a--\r\n"))
    add("multipart_many_parts", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"".join(b"--a\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(3000)) + b"--a--\r\n"))
    add("message_rfc822_top_level", mail(b"Content-Type: message/rfc822", body=b"garbage without headers"))
    add("message_rfc822_garbage_part", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nContent-Type: message/rfc822\r\n\r\n\x00\xff\xfe\r\n--a--\r\n"))
    add("message_rfc822_nested_deep", mail(b"Content-Type: message/rfc822", body=b"Content-Type: message/rfc822\r\n\r\n" * 300 + b"x"))
    add("report_garbage", mail(b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"", body=b"--r\r\nContent-Type: message/delivery-status\r\n\r\n\x00:\r\n:::\r\nFinal-Recipient\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <\x00>\r\n--r--\r\n"))
    add("report_without_parts", mail(b"Content-Type: multipart/report; report-type=delivery-status"))
    add("delivery_status_bad_fields", mail(b"Content-Type: message/delivery-status", body=b"Action: failed\r\nStatus: 9.9.9.9\r\nFinal-Recipient: ;;;\r\n"))
    add("content_type_garbage", mail(b"Content-Type: ;;;==;", body=b"x"))
    add("content_type_unterminated_quote", mail(b"Content-Type: text/plain; charset=\"utf-8", body=b"x"))
    add("content_type_no_subtype", mail(b"Content-Type: text", body=b"x"))
    add("content_type_twice", mail(b"Content-Type: multipart/mixed; boundary=a", b"Content-Type: text/html", body=b"<p>x</p>"))
    add("content_disposition_garbage", mail(b"Content-Disposition: attachment; filename*=x'y'%ZZ; filename=\"", body=b"formulier"))
    add("html_broken", mail(b"Content-Type: text/html", body=b"<html><body><p>Naam aanmelder: Els<div><table><td>Voornaam leerling: <b>Zo\xc3\xab</table></p><script>x</script><!-- unclosed"))
    add("html_deep", mail(b"Content-Type: text/html", body=b"<div>" * 50000 + b"formulier" + b"</div>" * 10))
    add("html_entities_garbage", mail(b"Content-Type: text/html", body=b"&#xFFFFFFFF; &#0; &#55296; &bogus; &" * 100))

    # size
    add("body_5mb", mail(b"Subject: groot", body=b"Hulpvraag: " + b"lang verhaal " * 400_000))
    add("body_5mb_one_line", mail(b"Subject: groot", body=b"x" * 5_000_000))
    add("attachment_5mb_base64", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nContent-Type: text/plain\r\n\r\nformulier\r\n--a\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(rnd.randbytes(3_700_000)) + b"--a--\r\n"))

    # garbage
    for size in (1, 7, 64, 512, 4096, 65536, 1_000_000):
        add(f"binary_garbage_{size}", rnd.randbytes(size))
    add("high_bytes_only", bytes(range(128, 256)) * 100)
    add("garbage_after_headers", mail(b"Subject: x", body=rnd.randbytes(20000)))
    add("garbage_headers_valid_body", rnd.randbytes(300).replace(b"\n", b"") + b"\r\n\r\nformulier\r\n")

    # truncated or broken header blocks
    full = mail(b"Subject: formulier", b"Date: Wed, 18 Nov 2026 10:00:00 +0100")
    for cut in (1, 5, 17, 40, 80, 120):
        add(f"truncated_at_{cut}", full[:cut])
    add("header_without_colon", mail(b"Dit is geen kopregel", b"Subject: x"))
    add("continuation_first", b"   continuation first\r\n" + mail(b"Subject: x"))
    add("header_space_before_colon", mail(b"From : " + ELS.encode(), b"Subject : formulier"))
    add("header_name_8bit", mail("Ondérwerp: x".encode()))
    add("header_name_empty", mail(b": leeg"))
    add("bare_cr_line_ends", mail(b"Subject: cr", sep=b"\r", body=b"a\rb\rc"))
    add("bare_lf_line_ends", mail(b"Subject: lf", sep=b"\n"))
    add("mixed_line_ends", b"From: " + ELS.encode() + b"\rSubject: x\n\r\nTo: y\r\r\n\nbody")

    # dates
    for date in (b"yesterday", b"99 Foo 2026 99:99:99 +9999", b"Wed, 31 Feb 2026 25:61:61 +0100", b"", b"\x00", b"Wed, 18 Nov 99999 10:00:00 +0100", b"0", b"-1", b"Thu, 01 Jan 1970 00:00:00 -2400"):
        add(f"date_{date[:12]!r}", mail(b"Date: " + date))
    add("date_twice", mail(b"Date: Wed, 18 Nov 2026 10:00:00 +0100", b"Date: Thu, 19 Nov 2026 10:00:00 +0100"))

    # 8-bit headers
    add("subject_raw_utf8", mail("Subject: Vraag over Zoë — formulier".encode()))
    add("subject_raw_latin1", mail("Subject: Vraag over Zoë".encode("latin-1")))
    add("from_name_raw_utf8", mail("From: Jérôme Dubois <".encode() + ELS.encode() + b">"))
    add("from_name_raw_latin1", mail("From: Jérôme <".encode("latin-1") + ELS.encode() + b">"))
    add("references_raw_8bit", mail(b"References: <\xff\xfe@x> <\xc3\xa9@y>", b"In-Reply-To: \xff"))

    # headers only, empty
    add("only_headers", b"From: " + ELS.encode() + b"\r\nSubject: formulier\r\nMessage-ID: <only-headers@x.example>")
    add("only_headers_blank_line", b"From: " + ELS.encode() + b"\r\nSubject: formulier\r\nMessage-ID: <only-headers-2@x.example>\r\n\r\n")
    add("empty_message", b"")
    add("only_newline", b"\r\n")
    add("only_whitespace", b" \t \r\n \r\n")
    add("only_dot", b".\r\n")

    # enormous headers
    add("subject_100k", mail(b"Subject: " + b"formulier " * 10_000))
    add("subject_one_word_100k", mail(b"Subject: " + b"x" * 100_000))
    add("references_10k", mail(b"References: " + b" ".join(b"<%d@clb.example>" % i for i in range(10_000))))
    add("headers_5000", mail(*[b"X-Kop-%d: waarde" % i for i in range(5000)]))
    add("folded_forever", mail(b"Subject: a" + b"\r\n b" * 20_000))
    add("message_id_huge", mail(b"Message-ID: <" + b"m" * 50_000 + b"@x.example>"))
    add("auth_results_garbage", mail(b"Authentication-Results: " + AUTHSERV.encode() + b"; ((((dmarc=pass", auth=False))
    add("auth_results_huge", mail(b"Authentication-Results: " + AUTHSERV.encode() + b"; " + b"dkim=pass header.d=x; " * 5000, auth=False))
    add("auth_results_empty", mail(b"Authentication-Results: ", auth=False))
    add("auth_results_8bit", mail(b"Authentication-Results: " + AUTHSERV.encode() + b"; dmarc=pass header.from=\xff\xfe", auth=False))

    # forms gone wrong
    add("form_in_utf16", mail(b"Content-Type: text/plain; charset=utf-16", body=form_text().decode().encode("utf-16")))
    add("form_nul_separated", mail(body=form_text().replace(b"\n", b"\x00\n")))
    add("form_10k_labels", mail(body=b"Naam aanmelder: Els\r\n" * 10_000 + b"Hulpvraag: " + b"x" * 100_000))
    add("form_unknown_reference", mail(b"Subject: Re: [MSI-2026-9999] Aanmelding nog niet volledig", body=form_text()))
    add("form_reference_garbage", mail(b"Subject: Re: [MSI-0000-0000] MSI-9999-99999 msi-2026-", body=form_text()))
    add("form_in_quoted_printable_broken", mail(b"Content-Transfer-Encoding: quoted-printable", body=form_text().replace(b"=", b"=Q")))
    add("form_as_base64_attachment_only", mail(b"Content-Type: multipart/mixed; boundary=\"a\"", body=b"--a\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(form_text()) + b"--a--\r\n"))
    add("form_header_injection", mail(b"Subject: formulier", body=b"Naam aanmelder: Els\r\nBcc: x@evil.example\r\nVoornaam leerling: Zoe\r\n"))

    # automatic-looking but broken
    add("auto_submitted_garbage", mail(b"Auto-Submitted: (((", b"Precedence: \xff"))
    add("return_path_garbage", mail(b"Return-Path: <<<>>>"))
    add("x_loop_huge", mail(b"X-Loop: " + b"meldpunt " * 10_000))
    return cases


CORPUS = generated_corpus()


def test_the_generated_corpus_is_large_and_every_case_distinct() -> None:
    """At least 100 distinct cases, one of them 5 MB."""
    names = [name for name, _ in CORPUS]
    assert len(CORPUS) >= 100 and len(set(names)) == len(names)
    keys = {inbound.dedupe_key(raw)[0] for _, raw in CORPUS}
    assert len(keys) == len(CORPUS), "no two cases are deduplicated into one"
    assert max(len(raw) for _, raw in CORPUS) >= 5_000_000


# --- running them -------------------------------------------------------------------------------------


def processor(sessions: sessionmaker[Session]) -> MailProcessor:
    """The real processor, strict about authentication, with Els registered."""
    with sessions.begin() as session:
        if staff_repo.get_active_staff(session, ELS) is None:
            staff_repo.add_staff(session, email=ELS, name="Els Janssens", clb="Vrij CLB Halle", now=NOW)
    config = ProcessorConfig(address=US, domain="meldpunt.example", coordinator_email=COORDINATOR, trusted_authserv_id=AUTHSERV,
                             auto_reply_limit=1_000_000)  # every mail that may be answered is: the replies are built too
    return MailProcessor(sessions, IntakeWorkflow(shared_intake(), sessions), config, clock=lambda: NOW)


def store(sessions: sessionmaker[Session], raw: bytes) -> int:
    """Accept one raw mail as the intake does; its row id."""
    with sessions.begin() as session:
        row, _ = inbound.accept(session, raw, source="smtp", envelope_from=ELS, envelope_to=[US], now=NOW)
        return row.id


def assert_all_final(sessions: sessionmaker[Session], names: dict[int, str]) -> None:
    """Every stored mail ended done or quarantined, in its first attempt, and every queued reply can be built."""
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(InboundMail))}
        unfinished = {names[i]: row.status for i, row in rows.items() if row.status not in FINAL}
        assert not unfinished, unfinished
        crashed = {names[i] for i, row in rows.items() if row.attempts != 1}
        assert not crashed, f"these mails crashed the processor and were retried: {crashed}"
        deep = next(row for i, row in rows.items() if names[i] == TOO_DEEP)
        assert deep.status is InboundStatus.QUARANTINED and "te diep genest" in (deep.reason or "")
        assert all(row.processed_at is not None and row.outcome for row in rows.values())
        config = OutboxConfig(from_address=US, from_name="Meldpunt", domain="meldpunt.example", maildir="/nonexistent")  # type: ignore[arg-type]
        for message in session.scalars(select(OutboxMessage)):
            build_message(message, config)  # a reply that cannot be built would never leave


def test_every_malformed_mail_ends_done_or_quarantined(session_factory: sessionmaker[Session]) -> None:
    """No generated mail raises or stays received/processing."""
    worker = processor(session_factory)
    names = {store(session_factory, raw): name for name, raw in CORPUS}
    assert len(names) == len(CORPUS)
    worker.process_all()
    assert worker.process_all() == 0, "nothing is left or put back"
    worker.request_missing_details()
    assert_all_final(session_factory, names)
    with session_factory() as session:
        by_name = {names[row.id]: row for row in session.scalars(select(InboundMail))}
    # A few that must be quarantined rather than answered: who sent them cannot be known.
    for name in ("two_from_headers", "from_two_addresses", "from_two_addresses_space", "auth_results_garbage"):
        assert by_name[name].status is InboundStatus.QUARANTINED, (name, by_name[name].outcome, by_name[name].reason)


# --- random bytes ----------------------------------------------------------------------------------------


HEADER_NAMES = ["From", "To", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type", "Content-Transfer-Encoding",
                "Auto-Submitted", "Precedence", "Return-Path", "Authentication-Results", "Date", "Reply-To", "Sender", "X-Loop"]
text_bytes = st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
header_line = st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=20), text_bytes).map(
    lambda pair: pair[0].encode("utf-8", "surrogatepass") + b": " + pair[1])
mail_like = st.tuples(st.lists(header_line, max_size=12), st.booleans(), text_bytes | st.binary(max_size=2000)).map(
    lambda parts: mail(*parts[0], body=parts[2], auth=parts[1], mid=False))
multipart_like = st.tuples(st.text(max_size=10), st.lists(st.tuples(st.lists(header_line, max_size=3), text_bytes), max_size=5)).map(
    lambda parts: mail(b"Content-Type: multipart/mixed; boundary=\"" + parts[0].encode("utf-8", "surrogatepass") + b"\"", mid=False, body=b"".join(
        b"--" + parts[0].encode("utf-8", "surrogatepass") + b"\r\n" + b"\r\n".join(h) + b"\r\n\r\n" + body + b"\r\n" for h, body in parts[1])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=3000) | mail_like | multipart_like)
def test_random_bytes_end_done_or_quarantined(session_factory: sessionmaker[Session], raw: bytes) -> None:
    """Random bytes and random mail-like bytes end done or quarantined in one attempt."""
    worker = processor(session_factory)
    mail_id = store(session_factory, raw)
    worker.process_all()
    with session_factory() as session:
        row = session.get_one(InboundMail, mail_id)
        assert row.status in FINAL and row.attempts <= 1, (row.status, row.attempts, row.reason)
