"""HTML mail bodies as plain text lines, in one linear pass over the markup.

html2text (and the stdlib html.parser under it) cost time quadratic or worse in hostile markup:
100 KB of `<a`, `<!--` or `<ul><li>x` took from seconds to minutes (issue 10). A mail only needs
the text a reader sees, line by line, so this reader does just that: every scan moves forward
(str.find and regexes without backtracking), so the cost stays linear in the markup.

The layout follows what html2text produced for the form parser: block elements and `<br>` start
lines, a blockquote prefixes its lines with `>` (quoted history), list items get a bullet, table
cells are separated by a space; links, images, emphasis and styles leave only their text.
"""

from __future__ import annotations

import html
import re

# Elements that start and end a line of their own (a paragraph, an Outlook <p class=MsoNormal>).
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "tr", "ul",
})
# Elements whose content is not markup and never shown in a mail: skipped up to their end tag.
_RAW = frozenset({"iframe", "noembed", "noframes", "script", "style", "template", "textarea", "title", "xmp"})
_RAW_END = {name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in _RAW}
_MARKUP = re.compile(r"<[A-Za-z/!?]")  # where a tag, end tag, comment or declaration may start
_NAME = re.compile(r"[A-Za-z][^\s/>]*")  # the HTML tokenizer's tag name: up to space, slash or >
_QUOTE_CHAR = re.compile(r"[\"']")
_ASCII_SPACE = re.compile(r"[ \t\n\r\f]+")  # the white space HTML collapses; &nbsp; stays
_MAX_QUOTE = 10  # deeper quotes get no longer prefix: keeps the output linear in the input


class _Lines:
    """Collects text into lines as a mail client lays them out."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] | None = None  # pieces of the line being written, None before its first text
        self.space = False  # collapsed white space is due before the next word
        self.pending_break = False  # a block ended: the next text starts a new line
        self.quote = 0
        self.pre = 0
        self.quiet = 0  # inside <head>: nothing is shown
        self.bullet = ""
        self.lists: list[list[int]] = []  # per open list: [next number] for <ol>, [] for <ul>

    def prefix(self) -> str:
        """The quote marks a line inside a blockquote starts with."""
        return ">" * min(self.quote, _MAX_QUOTE) + " " if self.quote else ""

    def end_line(self) -> None:
        """Close the current line, also when it is empty (a <br> on its own is a blank line)."""
        self.lines.append("".join(self.current) if self.current is not None else self.prefix())
        self.current, self.space = None, False

    def block(self) -> None:
        """A block element starts or ends: what follows goes on a new line."""
        if self.current is not None:
            self.pending_break = True
        self.space = False

    def line_break(self) -> None:
        """<br>: end the line here."""
        if self.pending_break:
            self.pending_break = False
            self.end_line()
        self.end_line()

    def write(self, piece: str) -> None:
        """Put text on the current line, starting one (with quote marks and bullet) when needed."""
        if self.pending_break:
            self.pending_break = False
            self.end_line()
        if self.current is None:
            self.current = [self.prefix() + self.bullet]
            self.bullet = ""
        elif self.space:
            self.current.append(" ")
        self.current.append(piece)
        self.space = False

    def text(self, raw: str) -> None:
        """Character data: entities decoded, white space collapsed except in <pre>."""
        if self.quiet:
            return
        if self.pre:
            for index, piece in enumerate(html.unescape(raw).replace("\r\n", "\n").replace("\r", "\n").split("\n")):
                if index:
                    self.end_line()
                if piece:
                    self.write(piece)
            return
        data = _ASCII_SPACE.sub(" ", html.unescape(raw))
        words = data.strip(" ")
        if not words:
            self.space = self.space or bool(data)
            return
        self.space = self.space or data.startswith(" ")
        self.write(words)
        self.space = data.endswith(" ")

    def finish(self) -> str:
        """All lines."""
        if self.current is not None:
            self.end_line()
        return "\n".join(self.lines)


class _Reader:
    """Walks the markup once, from tag to tag."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.out = _Lines()
        # Where a search for a closing quote already failed: it fails from there on too.
        self.no_more = {'"': len(markup), "'": len(markup)}

    def run(self) -> str:
        """The text of the whole markup."""
        markup, pos, end = self.markup, 0, len(self.markup)
        while pos < end:
            found = _MARKUP.search(markup, pos)
            if found is None:
                self.out.text(markup[pos:])
                break
            if found.start() > pos:
                self.out.text(markup[pos:found.start()])
            pos = self.markup_at(found.start())
        return self.out.finish()

    def markup_at(self, start: int) -> int:
        """Handle the tag, comment or declaration at start; where reading goes on (the end: stop)."""
        markup, end = self.markup, len(self.markup)
        if markup.startswith("<!--", start):
            close = markup.find("-->", start + 4)
            return end if close < 0 else close + 3  # an unclosed comment hides the rest, as in a browser
        closing = markup.startswith("</", start)
        name = _NAME.match(markup, start + 2 if closing else start + 1)
        if name is None:  # <!DOCTYPE>, <?xml?>, <![if]> and "</ " are declarations or bogus comments
            close = markup.find(">", start + 2)
            return end if close < 0 else close + 1
        close = self.tag_end(name.end())
        if close < 0:
            return end  # a tag cut off at the end of the mail shows nothing
        tag = name.group().lower()
        if closing:
            self.end_tag(tag)
            return close + 1
        self.start_tag(tag)
        if tag in _RAW:
            raw_end = _RAW_END[tag].search(markup, close + 1)
            return end if raw_end is None else raw_end.start()
        return close + 1

    def tag_end(self, pos: int) -> int:
        """Index of the '>' that ends a tag whose attributes start at pos (quoted '>' skipped), or -1."""
        markup = self.markup
        close = markup.find(">", pos)
        while close >= 0:
            quote = _QUOTE_CHAR.search(markup, pos, close)
            if quote is None:
                return close
            char = quote.group()
            after = -1 if quote.end() >= self.no_more[char] else markup.find(char, quote.end())
            if after < 0:
                # An unclosed quote: the first '>' ends the tag, as the browser's error recovery does.
                self.no_more[char] = min(self.no_more[char], quote.end())
                return close
            pos = after + 1
            if pos > close:
                close = markup.find(">", pos)
        return -1

    def start_tag(self, tag: str) -> None:
        """What a start tag does to the layout."""
        out = self.out
        if tag == "br":
            out.line_break()
        elif tag == "head":
            out.quiet += 1
        elif tag == "body":
            out.quiet = 0  # many mails never close <head>
        elif tag in ("td", "th"):
            out.space = out.current is not None
        if tag in _BLOCKS:
            out.block()
        if tag == "blockquote":
            out.quote += 1
        elif tag == "pre":
            out.pre += 1
        elif tag in ("ul", "ol"):
            out.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            numbering = out.lists[-1] if out.lists else []
            out.bullet = f"{numbering[0]}. " if numbering else "* "
            if numbering:
                numbering[0] += 1

    def end_tag(self, tag: str) -> None:
        """What an end tag does to the layout."""
        out = self.out
        if tag == "head":
            out.quiet = max(0, out.quiet - 1)
        elif tag in ("td", "th"):
            out.space = out.current is not None
        elif tag == "blockquote":
            out.quote = max(0, out.quote - 1)
        elif tag == "pre":
            out.pre = max(0, out.pre - 1)
        elif tag in ("ul", "ol") and out.lists:
            out.lists.pop()
        if tag in _BLOCKS:
            out.block()


def html_text(markup: str) -> str:
    """The text a reader sees in this HTML, as lines; never raises, linear in the markup."""
    return _Reader(markup).run()
