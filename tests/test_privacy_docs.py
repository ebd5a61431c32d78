"""The documents a DPO asks for (issue 14, point 5): in Dutch, naming every table with personal data and every retention setting."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import store
from meldpunt.settings import Settings
from store.models import Base
from tests.test_dutch_everywhere import _polite_lines

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "privacy"
REGISTER = DOCS / "verwerkingsregister.md"
DPIA = DOCS / "dpia.md"
STATEMENT = DOCS / "privacyverklaring.md"
ENV_EXAMPLE = ROOT / "meldpunt.env.example"

# Tables without personal data: a runner's health, the watchdog's open incidents, the last reference number per year.
NOT_PERSONAL = frozenset({"runners", "watchdog_alerts", "reference_counters"})

# English words that never occur in Dutch prose ("of", "is", "data" and "basis" do, so they are not here).
ENGLISH = re.compile(r"\b(the|and|with|which|that|this|these|for|from|are|will|should|purposes?|processing|risks?|retention|"
                     r"security|measures|rights|recipients|controller|statement|description|overview|your|legal)\b", re.IGNORECASE)
DUTCH = re.compile(r"\b(de|het|een|en|van|voor|niet|wordt|worden|met|die|dat|zijn)\b", re.IGNORECASE)
CODE = re.compile(r"`[^`]*`")
SETTING = re.compile(r"\bMELDPUNT_[A-Z0-9_]+")
MODULE = re.compile(r"`((?:intake|desk|store|mail|bot|meldpunt|templates)/[\w/.]+\.(?:py|j2|yaml))`")


def _english_headings(text: str) -> list[str]:
    """The Markdown headings that hold an English word."""
    return [line for line in text.splitlines() if line.startswith("#") and ENGLISH.search(CODE.sub("", line))]


def _reads_dutch(text: str) -> bool:
    """Prose (code left out) full of Dutch function words and (almost) free of English ones."""
    prose = CODE.sub("", text)
    words = len(prose.split())
    dutch, english = len(DUTCH.findall(prose)), len(ENGLISH.findall(prose))
    return words > 0 and dutch >= 0.15 * words and english * 20 <= dutch


def _personal_tables() -> set[str]:
    """Every table of store/ (each model module imported, so a new one counts) except those without personal data."""
    for module in pkgutil.iter_modules(store.__path__):
        if not module.ispkg:
            importlib.import_module(f"store.{module.name}")
    tables = set(Base.metadata.tables)
    assert NOT_PERSONAL <= tables, f"tabellen zonder persoonsgegevens bestaan niet meer: {sorted(NOT_PERSONAL - tables)}"
    return tables - NOT_PERSONAL


def _settings() -> set[str]:
    """Every setting as its environment variable."""
    return {f"MELDPUNT_{name.upper()}" for name in Settings.model_fields}


def _retention_settings() -> set[str]:
    """The retention periods: settings named retention_…, and their keys in meldpunt.env.example."""
    example = set(re.findall(r"MELDPUNT_RETENTION_[A-Z0-9_]+", ENV_EXAMPLE.read_text(encoding="utf-8")))
    return {name for name in _settings() if name.startswith("MELDPUNT_RETENTION_")} | example


def _read(path: Path) -> str:
    """A document's text; a clear failure when it is missing."""
    assert path.is_file(), f"{path.relative_to(ROOT)} ontbreekt"
    return path.read_text(encoding="utf-8")


def test_the_language_checks_can_fail() -> None:
    assert _english_headings("# Verwerkingsregister\n## Purposes of the processing\nDe tekst.")
    assert not _english_headings("## Doeleinden van de verwerking\n## Bewaartermijnen (`retention_days`)")
    assert not _reads_dutch("The register lists the purposes and the legal basis of the processing, with the recipients.")
    assert _reads_dutch("Het register noemt de doeleinden en de rechtsgrond van de verwerking, met de ontvangers.")


@pytest.mark.parametrize("path", [REGISTER, DPIA, STATEMENT], ids=lambda path: path.name)
def test_each_document_exists_and_reads_dutch(path: Path) -> None:
    text = _read(path)
    assert text.startswith("# "), "een titel bovenaan"
    assert _english_headings(text) == []
    assert _reads_dutch(text), f"{path.name} leest niet als Nederlands"
    assert _polite_lines(text) == [], "geen 'u' of 'uw': neutraal, of 'je' zoals de rest van het product"


def test_the_statement_addresses_the_reader_as_je_and_names_who_to_ask() -> None:
    text = _read(STATEMENT)
    assert len(re.findall(r"\bje\b|\bjouw\b|\bjij\b", text, re.IGNORECASE)) >= 10
    assert "coördinator" in text and re.search(r"<[^>]*functionaris[^>]*>", text), "de coördinator en de DPO als plaatshouder"


def test_the_register_names_every_table_that_holds_personal_data() -> None:
    text = _read(REGISTER)
    missing = sorted(table for table in _personal_tables() if f"`{table}`" not in text)
    assert missing == [], f"het register noemt deze tabellen niet: {missing}"


def test_the_register_names_every_retention_setting() -> None:
    names = _retention_settings()
    if not names:
        pytest.skip("nog geen bewaartermijnen in meldpunt/settings.py")
    text = _read(REGISTER)
    assert sorted(name for name in names if name not in text) == []


@pytest.mark.parametrize("path", [REGISTER, DPIA, STATEMENT], ids=lambda path: path.name)
def test_every_setting_and_module_a_document_names_exists(path: Path) -> None:
    text, settings = _read(path), _settings()
    unknown = {name for name in SETTING.findall(text) if name not in settings and not (name.endswith("_") and any(s.startswith(name) for s in settings))}
    assert unknown == set(), f"{path.name} noemt instellingen die niet bestaan: {sorted(unknown)}"
    assert [module for module in MODULE.findall(text) if not (ROOT / module).exists()] == []
