"""Debian's headless Chromium driven by Selenium through Debian's own chromedriver: open a local file, look, print.

No browser is downloaded (Selenium Manager never runs: the driver's path is given); without /usr/bin/chromium the
caller skips (scripts/test-deps.d/chromium installs it in CI). For a website: serve a folder on 127.0.0.1, crawl it by
its links (console, links, requests, weight per page) and run axe-core, pinned and fetched by scripts/test-deps.d/axe-core.
"""

from __future__ import annotations

import base64
import os
import re
import struct
import tempfile
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SKIP_REASON = "Chromium ontbreekt (/usr/bin/chromium, /usr/bin/chromedriver): installeer chromium en chromium-driver / Chromium missing"
CHECKOUT = Path(__file__).resolve().parents[1]
AXE_CORE_SNIPPET = CHECKOUT / "scripts" / "test-deps.d" / "axe-core"
# The success criteria of WCAG 2.1 levels A and AA, as axe-core tags its rules.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Every host name resolves to nothing except loopback: a page that reaches out fails loudly instead of leaking.
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
HTTP_TIMEOUT = 10  # seconds for one answer of the loopback test server


def require_chromium() -> None:
    """Skip the calling test, with the reason in Dutch and English, when Debian's Chromium or its driver is not there."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(SKIP_REASON)


@contextmanager
def chromium(*, javascript: bool = True, arguments: tuple[str, ...] = ()) -> Iterator[Any]:
    """A headless Chromium with a fresh profile that records every console message; closed afterwards.

    javascript=False turns scripts off as a reader's browser setting would; arguments are extra switches.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_chromium()
    with tempfile.TemporaryDirectory(prefix="meldpunt-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                         "--window-size=1200,900", f"--user-data-dir={profile}", *arguments):
            options.add_argument(argument)
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def severe_console_entries(driver: Any) -> list[str]:
    """The console messages of level SEVERE (errors: a failed load, a script error, a blocked resource)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def pdf_bytes(driver: Any) -> bytes:
    """The open page printed to PDF through Chrome DevTools (Page.printToPDF), as bytes."""
    return base64.b64decode(driver.print_page())


def png_colours(png: bytes, *, at_most: int = 64) -> set[bytes]:
    """Distinct pixel values of a PNG (8-bit RGB or RGBA, as Chromium writes), up to at_most: no Pillow needed.

    Reads the IHDR and IDAT chunks, inflates the data and undoes each scanline's filter (PNG spec §9).
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, data, header = 8, b"", b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position:position + 4])
        kind, body = png[position + 4:position + 8], png[position + 8:position + 8 + length]
        header = body if kind == b"IHDR" else header
        data += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), f"unexpected PNG format {depth}/{colour_type}"
    size = 3 if colour_type == 2 else 4
    raw, stride, previous = zlib.decompress(data), width * size, bytearray(width * size)
    seen: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, size)
        seen.update(bytes(line[i:i + size]) for i in range(0, stride, size * 7))  # every 7th pixel is plenty
        if len(seen) >= at_most:
            break
        previous = line
    return seen


def _unfilter(kind: int, line: bytearray, previous: bytearray, size: int) -> bytearray:
    """One scanline with its PNG filter (none, sub, up, average, Paeth) undone."""
    for i in range(len(line)):
        left = line[i - size] if i >= size else 0
        up, up_left = previous[i], previous[i - size] if i >= size else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            estimate = left + up - up_left
            distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
            line[i] = (line[i] + (left, up, up_left)[distances.index(min(distances))]) & 0xFF
    return line


def axe_core_path() -> Path:
    """Where scripts/test-deps.d/axe-core puts the pinned axe.min.js (the version is read from that snippet)."""
    found = re.search(r"^AXE_CORE_VERSION=(\S+)$", AXE_CORE_SNIPPET.read_text(), re.MULTILINE)
    assert found, f"no AXE_CORE_VERSION in {AXE_CORE_SNIPPET}"
    return CHECKOUT / "var" / "test-tools" / f"axe-core-{found.group(1)}" / "axe.min.js"


def require_axe_core() -> str:
    """axe.min.js's source; skip (fail in CI, which has npm) with the reason in Dutch and English when it is missing."""
    path = axe_core_path()
    if not path.exists():
        reason = (f"axe-core ontbreekt ({path}): voer scripts/test-deps uit, dat haalt het met npm / "
                  "axe-core missing: run scripts/test-deps (needs npm and the network once)")
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (the CI variable is set: the accessibility test must run)", pytrace=False)
        pytest.skip(reason)
    return path.read_text(encoding="utf-8")


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}}).then(
  result => done(result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.map(n => n.target.join(' '))}))),
  error => done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}]));
"""


def axe_violations(driver: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the open page (injected once per page load), each with id, help, nodes."""
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(axe_source)
    violations: list[dict[str, Any]] = driver.execute_async_script(AXE_RUN, list(AXE_TAGS))
    return violations


def describe_violations(page: str, violations: list[dict[str, Any]]) -> str:
    """axe-core's findings on one page as lines a person can act on: rule, what it asks, which elements."""
    return "\n".join(f"{page}: {v['id']} ({v['impact']}): {v['help']} -> {', '.join(v['nodes'][:5])}"
                      for v in violations)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without writing a line per request to the test's output."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's parameter name
        """Nothing: the request log is noise in a test run."""


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1 (a free port) from a thread; yields the base URL ending in '/'."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Visit:
    """What one page showed when it was opened."""

    severe: list[str]
    links: list[dict[str, str]]
    ids: set[str]
    requests: list[str]
    weight: int
    violations: list[dict[str, Any]] | None  # None: axe-core is not installed


@dataclass
class Crawl:
    """Every page reached from the home page by following links, and every relative target with its HTTP status."""

    visits: dict[str, Visit] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)


LINKS = """
return Array.from(document.querySelectorAll('a[href], link[href], script[src], img[src], source[src], iframe[src]'))
  .map(e => { const raw = e.getAttribute('href') ?? e.getAttribute('src');
              return {tag: e.tagName.toLowerCase(), raw: raw, url: new URL(raw, document.baseURI).href}; });
"""
LOADED = """
const pages = performance.getEntriesByType('navigation'), parts = performance.getEntriesByType('resource');
return {requests: pages.concat(parts).map(e => e.name),
        weight: pages.concat(parts).reduce((sum, e) => sum + e.decodedBodySize, 0)};
"""


def is_relative(raw: str) -> bool:
    """A link inside the site: no scheme (http:, mailto:, tel:, data:) and not protocol-relative."""
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", raw) and not raw.startswith("//")


def http_status(url: str) -> int:
    """The HTTP status the test server answers for url."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - our own loopback server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def page_console(driver: Any) -> list[str]:
    """The page's SEVERE console entries, without the browser's own favicon probe (the page does not ask for it)."""
    return [entry for entry in severe_console_entries(driver) if "/favicon.ico" not in entry]


def visit_page(driver: Any, url: str, axe_source: str | None) -> Visit:
    """Open one page and record what it showed."""
    driver.get(url)
    links = driver.execute_script(LINKS)
    ids = set(driver.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id);"))
    loaded = driver.execute_script(LOADED)
    violations = axe_violations(driver, axe_source) if axe_source is not None else None
    return Visit(page_console(driver), links, ids, loaded["requests"], int(loaded["weight"]), violations)


def crawl_site(browser: Any, base: str, axe_source: str | None) -> Crawl:
    """Follow every relative link from base + index.html; each page is opened once, every target asked for its status."""
    result = Crawl()
    browser.get_log("browser")  # start with an empty console
    queue = [base + "index.html"]
    while queue:
        url = queue.pop(0)
        if url in result.status:
            continue
        result.status[url] = http_status(url)
        if result.status[url] != 200 or not url.endswith(".html"):
            continue
        visit = result.visits[url.removeprefix(base)] = visit_page(browser, url, axe_source)
        for link in visit.links:
            target = urldefrag(link["url"]).url
            if is_relative(link["raw"]) and target not in result.status:
                queue.append(target)
    return result
