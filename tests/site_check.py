"""Reading a built site as a browser would: every link, script and stylesheet of every page, with html.parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

PAGE_LIMIT = 100 * 1024  # bytes per page, its stylesheet and script included


@dataclass
class Reference:
    """One href or src of a page: the tag it sits on and its value."""

    tag: str
    attribute: str
    value: str
    rel: str = ""


@dataclass
class Page(HTMLParser):
    """What a page references, its ids, and its h1 headings."""

    references: list[Reference] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    h1: int = 0

    def __post_init__(self) -> None:
        """Start the parser."""
        HTMLParser.__init__(self)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect hrefs, srcs and ids."""
        values = {name: value or "" for name, value in attrs}
        self.h1 += tag == "h1"
        if "id" in values:
            self.ids.add(values["id"])
        for attribute in ("href", "src"):
            if attribute in values:
                self.references.append(Reference(tag, attribute, values[attribute], values.get("rel", "")))


def read_page(path: Path) -> Page:
    """A page parsed."""
    page = Page()
    page.feed(path.read_text("utf-8"))
    return page


def html_pages(root: Path) -> list[Path]:
    """Every HTML page of a built site."""
    return sorted(root.rglob("*.html"))


def broken_links(root: Path) -> list[str]:
    """'page → reference' for every relative link, script or stylesheet whose file (or #fragment) does not exist."""
    broken = []
    for path in html_pages(root):
        for reference in read_page(path).references:
            parts = urlsplit(reference.value)
            if parts.scheme or reference.value.startswith("#"):
                continue
            target = (path.parent / parts.path).resolve()
            if not target.is_file() or not target.is_relative_to(root.resolve()):
                broken.append(f"{path.relative_to(root)} → {reference.value}")
            elif parts.fragment and parts.fragment not in read_page(target).ids:
                broken.append(f"{path.relative_to(root)} → {reference.value} (geen anker)")
    return broken


def external_references(root: Path) -> list[tuple[str, Reference]]:
    """Every reference with a scheme of its own (http, https, mailto …), by page."""
    return [(str(path.relative_to(root)), reference) for path in html_pages(root) for reference in read_page(path).references
            if urlsplit(reference.value).scheme]


def weight(root: Path, path: Path) -> int:
    """A page's bytes plus those of the local stylesheets and scripts it loads."""
    assets = {(path.parent / r.value).resolve() for r in read_page(path).references if r.tag in {"link", "script"} and not urlsplit(r.value).scheme}
    return path.stat().st_size + sum(asset.stat().st_size for asset in assets)
