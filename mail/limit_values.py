"""The hard limits on a received mail and why each is where it is (mail/limits.py counts them in one pass)."""

from __future__ import annotations

from dataclasses import dataclass

from store.inbound import HEADER_SCAN_BYTES

# Lines in the whole mail: a 10 MB attachment (the SMTP size limit) in base64 is 138,000 lines of 76
# characters. The bounce heuristics (flufl.bounce) try about 50 patterns on every line of every part,
# ~12 µs a line: this bounds them to about 4 s, where 10 MB of empty lines took over a minute.
MAX_LINES = 300_000
# Fields in one header block: Exchange Online writes about 100, a long relay chain adds 50 Received.
MAX_HEADER_FIELDS = 1_000
# One header block (the mail's or a part's): real ones are 5–30 KB; Message-ID dedupe reads this far.
MAX_HEADER_BLOCK_BYTES = HEADER_SCAN_BYTES
# One field, unfolded: long References and Microsoft's anti-spam fields stay under 16 KB.
MAX_HEADER_LENGTH = 32 * 1024
# From, Sender, Reply-To, Return-Path: parsed as address lists several times per mail (a From of 16 KB
# cost 3–6 s); a real one is under 300 bytes.
ADDRESS_HEADERS = frozenset({b"from", b"sender", b"reply-to", b"return-path"})
MAX_ADDRESS_HEADER_LENGTH = 2_048
# Content-Type and Content-Disposition are parsed again at every walk over the parts; a 255-character
# file name in RFC 2231 pieces needs under 2 KB and 20 parameters.
MIME_HEADERS = frozenset({b"content-type", b"content-disposition"})
MAX_MIME_HEADER_LENGTH = 4_096
MAX_PARAMETERS = 64
MAX_MIME_HEADER_BYTES = 128 * 1024  # of all parts together: 100 attachments use about 30 KB
# Encoded words (=?charset?q?…?=) in one field: the parser's memory grows with their square
# (1,600 took 20 MB); a long subject or a To with 100 named recipients has fewer than 200.
MAX_ENCODED_WORDS = 500
# Parts (every body part, attached mail and delivery-status block): 100 attachments with a text and
# an HTML body and inline images stay under 200; each costs the processor about 1.5 ms.
MAX_PARTS = 500
# Nesting of parts in parts: real mail (a forward of a forward with attachments) stays under 15;
# the parser recurses per level and fails near 1000.
MAX_DEPTH = 50
# Text the processor reads (text/plain and text/html parts that are no attachment, encoded size, which
# the decoded text never exceeds): a filled-in form is 5 KB, a long Outlook thread in HTML 1–2 MB.
MAX_TEXT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits one check applies; the defaults are the constants above (tests may pass lower ones)."""

    lines: int = MAX_LINES
    header_fields: int = MAX_HEADER_FIELDS
    header_block_bytes: int = MAX_HEADER_BLOCK_BYTES
    header_length: int = MAX_HEADER_LENGTH
    address_header_length: int = MAX_ADDRESS_HEADER_LENGTH
    mime_header_length: int = MAX_MIME_HEADER_LENGTH
    parameters: int = MAX_PARAMETERS
    mime_header_bytes: int = MAX_MIME_HEADER_BYTES
    encoded_words: int = MAX_ENCODED_WORDS
    parts: int = MAX_PARTS
    depth: int = MAX_DEPTH
    text_bytes: int = MAX_TEXT_BYTES
