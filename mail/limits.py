"""Hard limits on a raw mail, counted in one linear pass before the stdlib email parser sees it.

The stdlib parser and its header classes cost time or memory far beyond linear on some input:
10,000 Content-Type parameters took 134 s, a Subject of 20,000 encoded words 1.18 GB, a From of
16 KB several seconds, 1000 nested parts a RecursionError (issue 10). So the raw bytes are walked
once, line by line, the way email.feedparser splits them (lines end in CRLF, CR or LF; a line of
`--boundary` of any open multipart ends a part; message/* nests a mail; delivery-status holds
blank-line separated blocks), counting what costs. Only the first Content-Type and
Content-Disposition of each part, already known to be small, go through the stdlib, so that the
boundary and type are exactly the parser's. Over a limit the mail goes to quarantine, unread, with
a Dutch reason for the coordinator: nothing is lost, and nothing slow runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default

from intake.texts import message
from mail.limit_values import ADDRESS_HEADERS, MIME_HEADERS, Limits

LIMITS = Limits()
_TEMPLATE = "mail/_limits.txt.j2"
_EOL = re.compile(rb"\r\n|\r|\n")
_DASH_LINE = re.compile(rb"(?:\r\n|\r|\n)--")  # the next line that may be a boundary
_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]*:")  # email.feedparser.headerRE's field name
_TEXT_TYPES = frozenset({"text/plain", "text/html"})


class _Exceeded(Exception):
    """A limit was passed; the message is the Dutch reason."""


def _reason(macro: str, /, **context: object) -> _Exceeded:
    """The Dutch reason of one limit, from templates/mail/_limits.txt.j2."""
    return _Exceeded(message(macro, source=_TEMPLATE, **context))


def _number(value: int) -> str:
    """A count as Dutch writes it: 1.000."""
    return f"{value:,}".replace(",", ".")


def _size(value: int) -> str:
    """A size in characters, KB or MB."""
    if value < 8 * 1024:
        return f"{_number(value)} tekens"
    return f"{value // (1024 * 1024)} MB" if value >= 1024 * 1024 else f"{value // 1024} KB"


@dataclass
class _Field:
    """One header field being read: what it costs so far."""

    name: bytes  # lower case
    label: str  # as written, for the reason
    limit: int
    limits: Limits
    length: int = 0
    encoded_words: int = 0
    semicolons: int = 0
    lines: list[bytes] | None = None  # kept for the part's first Content-Type or Content-Disposition

    def add(self, line: bytes) -> None:
        """Take one line of the field (the first, or a continuation) and check it."""
        self.length += len(line)
        self.encoded_words += line.count(b"=?")
        if self.name in MIME_HEADERS:
            self.semicolons += line.count(b";")
        if self.lines is not None:
            self.lines.append(line)
        if self.length > self.limit:
            raise _reason("header_too_long", name=self.label, limit=_size(self.limit))
        if self.encoded_words > self.limits.encoded_words:
            raise _reason("too_many_encoded_words", name=self.label, limit=_number(self.limits.encoded_words))
        if self.semicolons > self.limits.parameters:
            raise _reason("too_many_parameters", name=self.label, limit=_number(self.limits.parameters))


@dataclass
class _Part:
    """A mail or body part whose header block is being read."""

    depth: int
    default_type: str  # text/plain, or message/rfc822 inside multipart/digest (RFC 2046 §5.1.5)
    fields: int = 0
    block_bytes: int = 0
    current: _Field | None = None
    content_type: list[bytes] | None = None
    disposition: list[bytes] | None = None


@dataclass
class _Frame:
    """Something that ends parts at a line: a multipart's boundaries, or the blank line between DSN blocks."""

    depth: int
    delimiters: frozenset[bytes] = frozenset()  # b"--" + boundary (none a line can match: all preamble)
    digest: bool = False
    blank: bool = False  # a delivery-status frame: a blank line ends its block


@dataclass
class _Scan:
    """The walk over one mail; feed() takes each line, raising _Exceeded at the first limit passed."""

    limits: Limits
    frames: list[_Frame] = field(default_factory=list)
    part: _Part | None = None
    mode: str = "headers"  # headers | body | dsn (waiting for the next delivery-status block)
    text_part: bool = False
    fresh_part: _Frame | None = None  # a part just began after this frame's delimiter: no line read yet
    parts: int = 1
    text_bytes: int = 0
    mime_bytes: int = 0
    blank_frames: int = 0

    def start(self) -> None:
        """The mail itself is the first part."""
        self.part = _Part(depth=1, default_type="text/plain")

    @property
    def skippable(self) -> bool:
        """Whether lines up to the next '--' line can be skipped: nothing but a boundary changes the state."""
        return self.mode == "body" and not self.blank_frames

    def feed(self, line: bytes, size: int) -> None:
        """One line (without its line end; size counts it)."""
        matched = self._frame_of(line)
        if matched is not None:
            self._boundary(*matched)
            return
        self.fresh_part = None
        if self.mode == "headers":
            self._header_line(line, size)
        elif self.mode == "dsn":
            self._new_part(self.frames[-1], line, size)
        else:
            self.count_text(size)

    def count_text(self, size: int) -> None:
        """Body bytes of the current part; counted when it is text the processor reads."""
        if self.text_part:
            self.text_bytes += size
            if self.text_bytes > self.limits.text_bytes:
                raise _reason("too_much_text", limit=_size(self.limits.text_bytes))

    def _frame_of(self, line: bytes) -> tuple[int, bool] | None:
        """(index of the frame this line ends a part of, whether it closes the multipart), or None.

        The outermost frame that matches wins: feedparser ends the innermost part at such a line, but
        each multipart that ends reads the line again with only the outer matchers active, so it ends
        up with the outermost one (a nested multipart reusing its parent's boundary ends at once).
        """
        if not self.frames:
            return None
        if not line:
            for index, frame in enumerate(self.frames):
                if frame.blank:
                    return index, False
            return None
        if not line.startswith(b"--"):
            return None
        # feedparser: separator, optional "--", optional blanks and tabs, the line end.
        stripped = line.rstrip(b" \t")
        for index in range(len(self.frames)):
            delimiters = self.frames[index].delimiters
            if stripped in delimiters:
                return index, False
            if stripped.endswith(b"--") and stripped[:-2] in delimiters:
                return index, True
        return None

    def _pop_to(self, index: int) -> None:
        """Close the frames inside frame index (their parts end with it)."""
        for frame in self.frames[index + 1:]:
            self.blank_frames -= frame.blank
        del self.frames[index + 1:]

    def _boundary(self, index: int, closing: bool) -> None:
        """A line that ends the current part of frame index."""
        frame = self.frames[index]
        if self.fresh_part is frame:
            return  # boundary lines right after a delimiter are skipped by feedparser, even the closing one
        self.cut_off()
        self._pop_to(index)
        self.part, self.text_part = None, False
        if frame.blank:
            if self.mode == "dsn":
                self._count_part(frame)  # a blank line where a block should start is an empty block
            self.mode = "dsn"
            return
        if closing:
            self.frames.pop()
            self.mode, self.fresh_part = "body", None  # the epilogue: read by nobody
            return
        self._count_part(frame)
        self.part = _Part(depth=frame.depth + 1, default_type="message/rfc822" if frame.digest else "text/plain")
        self.mode, self.fresh_part = "headers", frame

    def _count_part(self, frame: _Frame) -> None:
        """One more part, one level inside frame."""
        self.parts += 1
        if self.parts > self.limits.parts:
            raise _reason("too_many_parts", limit=_number(self.limits.parts))
        if frame.depth + 1 > self.limits.depth:
            raise _reason("too_deep", limit=_number(self.limits.depth))

    def cut_off(self) -> None:
        """A header block that a boundary or the end interrupts: its attached mail or DSN block still counts."""
        if self.mode != "headers" or self.part is None:
            return
        part, self.part = self.part, None
        content_type = _media(part, self.limits)[0]
        if content_type.startswith("message/"):
            self._count_part(_Frame(depth=part.depth))  # an empty attached mail, or one empty DSN block

    def _new_part(self, frame: _Frame, line: bytes, size: int) -> None:
        """The first line of a delivery-status block: a part of its own."""
        self._count_part(frame)
        self.part = _Part(depth=frame.depth + 1, default_type="text/plain")
        self.mode = "headers"
        self._header_line(line, size)

    def _header_line(self, line: bytes, size: int) -> None:
        """A line while reading a header block."""
        part = self.part
        assert part is not None
        if not line:
            self._end_headers(part)  # the blank line between header and body
            return
        named = None if line[:1] in (b" ", b"\t") else _FIELD.match(line)
        if named is None and line[:1] not in (b" ", b"\t") and not line.startswith(b"From "):
            # No header line: the body starts with it. feedparser pushes it back and reads it again as
            # the body says (the first boundary of a multipart, the header of an attached mail).
            self._end_headers(part)
            self.feed(line, size)
            return
        part.block_bytes += size
        if part.block_bytes > self.limits.header_block_bytes:
            raise _reason("header_block_too_large", limit=_size(self.limits.header_block_bytes))
        if named is None and line[:1] in (b" ", b"\t"):
            if part.current is not None:  # a continuation before any field is dropped by the parser
                self._add(part.current, line, size)
            return
        part.fields += 1
        if part.fields > self.limits.header_fields:
            raise _reason("too_many_header_fields", limit=_number(self.limits.header_fields))
        written = line[: named.end() - 1] if named is not None else b"From "
        name = written.lower()
        # The name holds only printable ASCII (the field pattern): safe to show, cut short.
        part.current = _Field(name=name, label=written.decode("ascii")[:60], limit=self._limit_of(name), limits=self.limits)
        if name == b"content-type" and part.content_type is None:
            part.current.lines = part.content_type = []
        elif name == b"content-disposition" and part.disposition is None:
            part.current.lines = part.disposition = []
        self._add(part.current, line, size)

    def _limit_of(self, name: bytes) -> int:
        """The longest a field of this name may be."""
        if name in ADDRESS_HEADERS:
            return self.limits.address_header_length
        return self.limits.mime_header_length if name in MIME_HEADERS else self.limits.header_length

    def _add(self, current: _Field, line: bytes, size: int) -> None:
        """A line of a field, and what it adds to the Content-Type budget of the whole mail."""
        current.add(line)
        if current.name in MIME_HEADERS:
            self.mime_bytes += size
            if self.mime_bytes > self.limits.mime_header_bytes:
                raise _reason("mime_headers_too_large", limit=_size(self.limits.mime_header_bytes))

    def _end_headers(self, part: _Part) -> None:
        """The header block ended: the part's type says what its body is."""
        content_type, boundary, attachment = _media(part, self.limits)
        self.part, self.mode, self.text_part = None, "body", False
        if content_type == "message/delivery-status":
            # Blocks of header fields, separated by blank lines; the first one is there even when empty.
            self.frames.append(_Frame(depth=part.depth, blank=True))
            self.blank_frames += 1
            self._count_part(self.frames[-1])
            self.part, self.mode = _Part(depth=part.depth + 1, default_type="text/plain"), "headers"
        elif content_type.startswith("message/"):
            # An attached mail: its own header block follows, one level deeper.
            self._count_part(_Frame(depth=part.depth))
            self.part, self.mode = _Part(depth=part.depth + 1, default_type="text/plain"), "headers"
        elif content_type.startswith("multipart/") and boundary is not None:
            self.frames.append(_Frame(depth=part.depth, delimiters=boundary, digest=content_type == "multipart/digest"))
        else:
            self.text_part = content_type in _TEXT_TYPES and not attachment


def _media(part: _Part, limits: Limits) -> tuple[str, frozenset[bytes] | None, bool]:
    """(content type, boundary delimiters, is an attachment) exactly as the stdlib reads them."""
    if part.content_type is None and part.disposition is None:
        return part.default_type, None, False
    lines = [*(part.content_type or []), *(part.disposition or [])]
    try:
        parsed = message_from_bytes(b"\r\n".join(lines) + b"\r\n\r\n", policy=default)
        content_type = parsed.get_content_type() if part.content_type is not None else part.default_type
        boundary = parsed.get_boundary() if content_type.startswith("multipart/") else None
        attachment = parsed.get_content_disposition() == "attachment"
    except RecursionError as error:  # comments nested hundreds deep: the parser recurses per level
        raise _reason("too_deep", limit=_number(limits.depth)) from error
    except Exception:  # noqa: BLE001 - the real parse fails the same way; the processor handles that
        return "text/plain", None, False
    if boundary is None:
        return content_type, None, attachment
    try:
        # The parser compares the boundary with lines decoded as ASCII (bytes above 127 as surrogates).
        delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return content_type, frozenset(), attachment  # a boundary no line can match: all preamble
    return content_type, frozenset({delimiter}), attachment


def _line_count(raw: bytes) -> int:
    """Lines as the parser splits them (CRLF, CR or LF), without building them."""
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n") + 1


def check_limits(raw: bytes, *, limits: Limits = LIMITS) -> str | None:
    """None when the mail is within every limit, else the Dutch reason to quarantine it unread."""
    try:
        if _line_count(raw) > limits.lines:
            raise _reason("too_many_lines", limit=_number(limits.lines))
        _walk(raw, limits)
    except _Exceeded as exceeded:
        return str(exceeded)
    return None


def _walk(raw: bytes, limits: Limits) -> None:
    """Feed every line to a scan; body lines that cannot be a boundary are skipped in one search."""
    scan = _Scan(limits)
    scan.start()
    pos, end = 0, len(raw)
    while pos < end:
        if scan.skippable and not raw.startswith(b"--", pos):
            dash = _DASH_LINE.search(raw, pos)
            following = dash.end() - 2 if dash is not None else end
            scan.count_text(following - pos)
            pos = following
            continue
        line_end = _EOL.search(raw, pos)
        stop, following = (line_end.start(), line_end.end()) if line_end is not None else (end, end)
        scan.feed(raw[pos:stop], following - pos)
        pos = following
    scan.cut_off()
