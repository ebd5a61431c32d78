"""Builds the public website into a folder: only changed files are rewritten, atomically; files no longer made are removed.

The site is public by design: every file is 0644 and every folder 0755 (set explicitly, whatever the umask the command
line chose for private data), so a web server running as another user can read it. Nothing personal goes in: the
catalogue, the organisations' signatures and the public figures, whose small cells the report already hides.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake import site
from intake.brussels import BRUSSELS
from intake.texts import TEMPLATES_DIR, brussels_time
from meldpunt.site_pages import STAMP, SiteContent, SiteLinks, pages, robots, sitemap

if TYPE_CHECKING:
    from intake.catalogue import Catalogue
    from intake.declaration import Signature
    from meldpunt.app import App

FILE_MODE, FOLDER_MODE = 0o644, 0o755  # public content, read by a web server under another account
MANIFEST = ".meldpunt-site.json"  # what the last build wrote: its files, their content hash (without the moment) and date
SITE_TEMPLATES = TEMPLATES_DIR / "site"
_SITE_PATH = re.compile(r"(?:[a-z0-9-]+/){0,2}[a-z0-9-]+\.(?:html|css|js|xml|txt)")  # catalogue ids are [a-z0-9-]


@dataclass(frozen=True)
class SiteBuild:
    """One build: how many pages the site has, how many files were (re)written and removed, and its inputs' fingerprint."""

    pages: int
    written: int
    removed: int
    fingerprint: str


@dataclass(frozen=True)
class _Inputs:
    """What the site is made of, read fresh: the catalogue with approved changes, their dates, the signatures."""

    catalogue: Catalogue
    approved: dict[str, date]
    signatures: tuple[Signature, ...]


def _read_inputs(app: App) -> _Inputs:
    """The catalogue file with the approved changes laid over it (not the app's cached one: it may be older), and the signatures."""
    from desk.catalogue_changes import apply_approved
    from desk.site import approved_dates
    from intake.catalogue_loader import load_catalogue
    from store.declaration import signatures

    with app.sessions() as session:
        catalogue = apply_approved(session, load_catalogue(app.settings.catalogue_path))
        return _Inputs(catalogue, approved_dates(session), tuple(signatures(session)))


def _links(app: App, telegram_username: str | None) -> SiteLinks:
    """The addresses the pages name; a given bot username wins over the setting."""
    from intake.schedule import parse_moments

    settings = app.settings
    return SiteLinks(mail_address=settings.mail_address, telegram_username=telegram_username or settings.telegram_username,
                     site_url=settings.effective_site_url, dispatch_moments=parse_moments(settings.dispatch_times))


def _fingerprint(app: App, inputs: _Inputs, links: SiteLinks, now: datetime) -> str:
    """A hash of every input but the figures' numbers; the Brussels date makes the figures refresh once a day."""
    templates = hashlib.sha256()
    for path in sorted(SITE_TEMPLATES.iterdir()):  # a new release's pages rebuild too
        templates.update(path.name.encode() + b"\0" + path.read_bytes())
    data: dict[str, Any] = {
        "catalogue": inputs.catalogue.model_dump(mode="json"), "approved": {k: v.isoformat() for k, v in sorted(inputs.approved.items())},
        "signatures": [s.model_dump(mode="json") for s in inputs.signatures], "links": [links.mail_address, links.telegram_username,
        links.site_url, [m.label() for m in links.dispatch_moments]], "retention": app.settings.retention.model_dump(),
        "day": now.astimezone(BRUSSELS).date().isoformat(), "templates": templates.hexdigest(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def site_fingerprint(app: App, *, now: datetime) -> str:
    """Cheap enough for every minute: changes when the site's inputs change (not when only the figures' numbers do)."""
    return _fingerprint(app, _read_inputs(app), _links(app, None), now)


def _figures(app: App, catalogue: Catalogue, now: datetime) -> Any:
    """The public report of the current school year (it writes one audit row, actor "website")."""
    from desk.site import public_figures

    settings = app.settings
    with app.sessions() as session:
        return public_figures(session, catalogue=catalogue, now=now, min_cell=settings.rapport_min_cel,
                              waiting_days=settings.rapport_wachtdagen, calendar=app.calendar)


def _assets() -> dict[str, bytes]:
    """The stylesheet and the filter script, as shipped in templates/site."""
    return {name: (SITE_TEMPLATES / name).read_bytes() for name in site.ASSETS}


def _read_manifest(target: Path) -> dict[str, dict[str, str]]:
    """The files the last build wrote into target (empty for a first build or an unreadable manifest)."""
    try:
        found = json.loads((target / MANIFEST).read_text("utf-8"))
        files = {str(k): {name: str(v[name]) for name in ("sha256", "lastmod", "file")} for k, v in found["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    # Only paths a build makes: an edited manifest must never make the builder remove a file outside the site.
    return {relative: entry for relative, entry in files.items() if _SITE_PATH.fullmatch(relative)}


def _file_digest(path: Path) -> str | None:
    """The hash of a file's bytes as they are on disk, or None when there is no such file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _write(target: Path, relative: str, data: bytes) -> None:
    """Write one file through a temporary file in its own folder and os.replace: a reader never sees half a page."""
    path = target / relative
    _make_folders(target, path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".bouw-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _make_folders(target: Path, folder: Path) -> None:
    """Create folder (and those between target and it) readable by everyone."""
    missing = [parent for parent in (folder, *folder.parents) if parent.is_relative_to(target) and not parent.exists()]
    for parent in reversed(missing):
        parent.mkdir(exist_ok=True)
        os.chmod(parent, FOLDER_MODE)


def _remove(target: Path, relative: str) -> bool:
    """Remove a file an earlier build made and, when emptied, its folders up to target; True when a file was there."""
    path = target / relative
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    for parent in path.parents:
        if parent == target or not parent.is_relative_to(target):
            break
        try:
            parent.rmdir()
        except OSError:  # not empty: other pages (or someone else's files) are still in it
            break
    return True


class _Writer:
    """Writes what changed since the last build (compared without the moment of building) and remembers what it wrote."""

    def __init__(self, target: Path, stamp: str, today: date) -> None:
        """Start from the last build's manifest."""
        self.target, self.stamp, self.today = target, stamp, today.isoformat()
        self.old = _read_manifest(target)
        self.new: dict[str, dict[str, str]] = {}
        self.written = 0

    def put(self, relative: str, text_or_bytes: str | bytes) -> None:
        """Keep the file when its content is what the last build wrote (and nobody changed it since); else write it anew."""
        data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
        digest = hashlib.sha256(data).hexdigest()
        before = self.old.get(relative)
        if before is not None and before["sha256"] == digest and _file_digest(self.target / relative) == before["file"]:
            self.new[relative] = before
            return
        stamped = data.replace(STAMP.encode(), self.stamp.encode())
        _write(self.target, relative, stamped)
        self.new[relative] = {"sha256": digest, "lastmod": self.today, "file": hashlib.sha256(stamped).hexdigest()}
        self.written += 1

    def finish(self) -> int:
        """Remove the files of earlier builds that are no longer made, write the manifest; how many were removed."""
        removed = sum(_remove(self.target, relative) for relative in sorted(set(self.old) - set(self.new)))
        manifest = json.dumps({"files": self.new}, indent=1, sort_keys=True).encode("utf-8")
        path = self.target / MANIFEST
        if not path.is_file() or path.read_bytes() != manifest:
            _write(self.target, MANIFEST, manifest)
        return removed


def build_site(app: App, target: Path, *, now: datetime, telegram_username: str | None = None) -> SiteBuild:
    """Write the whole site into target (made 0755 when missing); other files in target are left alone."""
    inputs, links = _read_inputs(app), _links(app, telegram_username)
    # As site_fingerprint computes it (the setting's bot name, not the override): serve tracks the override apart.
    fingerprint = _fingerprint(app, inputs, _links(app, None), now)
    content = SiteContent(catalogue=inputs.catalogue, signatures=inputs.signatures, links=links, retention=app.settings.retention,
                          figures=_figures(app, inputs.catalogue, now), approved=inputs.approved)
    made = pages(content)
    target = target.absolute()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(str(target))  # the command says so in Dutch
    _make_folders(Path(target.anchor), target)  # missing folders above it too: the web server must pass through them
    writer = _Writer(target, brussels_time(now), now.astimezone(BRUSSELS).date())
    for name, data in _assets().items():
        writer.put(name, data)
    for relative in sorted(made):
        writer.put(relative, made[relative])
    writer.put("sitemap.xml", sitemap(links.site_url, {p: date.fromisoformat(writer.new[p]["lastmod"]) for p in made}))
    writer.put("robots.txt", robots(links.site_url))
    removed = writer.finish()
    return SiteBuild(pages=len(made), written=writer.written, removed=removed, fingerprint=fingerprint)
