"""The bundled catalogue holds every provider of the seeds, invents nothing, and its checker speaks Dutch."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from intake.catalogue import DEFAULT_PATH, Catalogue
from intake.catalogue_loader import CatalogueError, CatalogueReport, check_catalogue, load_catalogue
from intake.vocabulary import DesiredForm, FundingSource, OfferKind, ReferralRoute, Region, SchoolLevel

AHV, OOST = Region.AHV, Region.OOST

# Seed 001, "Welke aanbieders laten hun aanmeldingen via het Meldpunt SI lopen?": name, web address, regions.
SEED_PROVIDERS: list[tuple[str, str, set[Region] | None]] = [
    ("Arktos", "www.arktos.be", {AHV, OOST}),
    ("Groep Intro", "www.groepintro.be", {AHV}),
    ("Koinoor", "www.cidar.be/koinoor", {OOST}),
    ("Profo", "www.profo.be", {OOST}),
    ("Wereld van Indra", "www.wereldvanindra.be", None),
    ("TryOut", "www.alba.be/ondersteunende-begeleiding/try-out", None),
    ("Reisburo/Roulot", "www.sporen.be/wat-doen-we/afdelingen/reisburo-roulot", None),
    ("Alba Biez", "www.alba.be/ondersteunende-begeleiding/actieplek-dagactiviteit", None),
    ("P.L.E.K. Halle", "www.jeugdhulpdonbosco.be", None),
    ("TaKO", "www.cvovolt.be/nieuws/?p=3858", None),
    ("Groene Zorg", "www.groenezorg.be", None),
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The bundled catalogue."""
    return load_catalogue()


def _bare(url: str | None) -> str:
    """A web address without scheme and trailing slash, to compare with the seed's spelling."""
    return (url or "").removeprefix("https://").removeprefix("http://").rstrip("/")


def _services_named(catalogue: Catalogue, name: str) -> list[Any]:
    """Services whose name mentions a seed provider."""
    return [s for s in catalogue.services if name in s.name]


def test_bundled_catalogue_loads_and_checks_clean(catalogue: Catalogue) -> None:
    report = check_catalogue()
    assert report.ok, report.render()
    assert report.errors == []
    assert "in orde" in report.render()
    assert len(catalogue.services) == 12


@pytest.mark.parametrize(("name", "url", "regions"), SEED_PROVIDERS, ids=[p[0] for p in SEED_PROVIDERS])
def test_every_seed_provider_is_present_with_its_regions(
    catalogue: Catalogue, name: str, url: str, regions: set[Region] | None
) -> None:
    services = _services_named(catalogue, name)
    assert services, f"{name} ontbreekt"
    assert all(_bare(s.website) == _bare(url) for s in services)
    if regions is None:
        # The seeds give no region for these providers: it must stay unknown.
        assert all(s.service_areas is None for s in services)
    else:
        areas = [set(s.service_areas or ()) for s in services]
        assert set().union(*areas) == regions
        assert all(len(a) == 1 for a in areas), "one NAFT service per region"


def test_naft_services_follow_the_seed(catalogue: Catalogue) -> None:
    naft = [s for s in catalogue.services if s.kind is OfferKind.NAFT]
    assert {s.id for s in naft} == {
        "naft-arktos-ahv", "naft-arktos-oost", "naft-groep-intro-ahv", "naft-koinoor-oost", "naft-profo-oost",
    }
    for service in naft:
        assert service.levels == (SchoolLevel.SECONDARY,)
        assert set(service.forms or ()) == {DesiredForm.INDIVIDUAL, DesiredForm.CLASS, DesiredForm.COACHING}
        assert service.on_site and service.off_site
        assert FundingSource.FLEMISH_GOVERNMENT in (service.funding or ())
        assert "Leerrecht" in (service.description or "")
        assert service.referral_route is ReferralRoute.MELDPUNT


def test_groene_zorg_is_a_direct_route(catalogue: Catalogue) -> None:
    groene_zorg = catalogue.service("groene-zorg")
    assert groene_zorg is not None
    assert groene_zorg.referral_route is ReferralRoute.DIRECT
    assert groene_zorg.dispatch_email is None  # the Meldpunt sends nothing there
    others = [s for s in catalogue.services if s.id != "groene-zorg"]
    assert all(s.referral_route is ReferralRoute.MELDPUNT for s in others)


def test_nothing_is_invented(catalogue: Catalogue) -> None:
    for service in catalogue.services:
        assert service.capacity is None, service.id
        assert service.age_range is None, service.id
        assert service.last_reviewed == date(2026, 11, 22)
        assert service.source.strip()
        if service.dispatch_email is not None:
            assert service.dispatch_email.endswith(".example"), service.id
            assert service.dispatch_email_is_example, service.id
    little_known = ["wereld-van-indra", "tryout", "reisburo-roulot", "alba-biez", "plek-halle", "tako"]
    for service_id in little_known:
        service = catalogue.service(service_id)
        assert service is not None
        assert (service.forms, service.levels, service.service_areas, service.on_site) == (None,) * 4


def test_lookups(catalogue: Catalogue) -> None:
    service = catalogue.service("naft-koinoor-oost")
    assert service is not None and service.name.startswith("NAFT-traject Koinoor")
    assert catalogue.organization(service.organization_id) is not None
    assert catalogue.service("bestaat-niet") is None
    assert catalogue.organization("bestaat-niet") is None


def test_report_names_unknowns_and_example_addresses() -> None:
    report = check_catalogue(DEFAULT_PATH)
    text = report.render()
    assert any("'tako'" in w and "niet gekend" in w and "werkgebied" in w for w in report.warnings)
    assert any("aanmeldingen@arktos.example" in w and "voorbeeld" in w for w in report.warnings)
    assert "Aandachtspunten" in text
    # Groene Zorg needs no dispatch address: it must not be reported as missing.
    assert not any("'groene-zorg'" in w and "verzendadres" in w for w in report.warnings)


# --- broken files ----------------------------------------------------------------------------------------


def _bundled() -> dict[str, Any]:
    """A fresh copy of the bundled data, to break."""
    return copy.deepcopy(yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8")))


def _write(tmp_path: Path, data: Any) -> Path:
    """Write data as YAML and return the file."""
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _check(tmp_path: Path, data: Any) -> CatalogueReport:
    """Check a broken copy and make sure it is reported, in Dutch, without pydantic's English."""
    report = check_catalogue(_write(tmp_path, data))
    assert not report.ok
    assert "NIET in orde" in report.render()
    assert "Input should" not in report.render() and "Field required" not in report.render()
    return report


def _service(data: dict[str, Any], service_id: str) -> dict[str, Any]:
    """The raw entry of one service."""
    return next(s for s in data["services"] if s["id"] == service_id)


def test_unknown_region_names_field_and_value(tmp_path: Path) -> None:
    data = _bundled()
    _service(data, "naft-profo-oost")["service_areas"] = ["brussel"]
    (error,) = _check(tmp_path, data).errors
    assert "'naft-profo-oost'" in error
    assert "service_areas" in error and "werkgebied" in error
    assert "'brussel'" in error and "niet toegelaten" in error and "'ahv' of 'oost'" in error


def test_missing_field_and_typo(tmp_path: Path) -> None:
    data = _bundled()
    del _service(data, "tryout")["referral_route"]
    _service(data, "tako")["capacty"] = 4
    errors = _check(tmp_path, data).errors
    assert any("'tryout'" in e and "referral_route" in e and "ontbreekt" in e for e in errors)
    assert any("'tako'" in e and "capacty" in e and "geen gekend veld" in e for e in errors)


def test_wrong_types_are_explained(tmp_path: Path) -> None:
    data = _bundled()
    _service(data, "tryout")["capacity"] = "veel"
    _service(data, "tako")["last_reviewed"] = "gisteren"
    _service(data, "alba-biez")["forms"] = []
    errors = _check(tmp_path, data).errors
    assert any("capacity" in e and "geheel getal" in e for e in errors)
    assert any("last_reviewed" in e and "datum" in e for e in errors)
    assert any("forms" in e and "lege lijst" in e and "null" in e for e in errors)


def test_unknown_organization_and_duplicate_id(tmp_path: Path) -> None:
    data = _bundled()
    _service(data, "naft-profo-oost")["organization_id"] = "profo-vzw"
    _service(data, "tako")["id"] = "tryout"
    errors = _check(tmp_path, data).errors
    assert any("organization_id" in e and "'profo-vzw'" in e and "bestaat niet" in e for e in errors)
    assert any("'tryout'" in e and "2 keer" in e for e in errors)


def test_real_looking_address_must_not_be_marked_example(tmp_path: Path) -> None:
    data = _bundled()
    _service(data, "tryout")["dispatch_email_is_example"] = False
    (error,) = _check(tmp_path, data).errors
    assert "dispatch_email" in error and "voorbeeld" in error


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text("organizations: []\nservices: [\n  - id: x\n organizations", encoding="utf-8")
    (error,) = check_catalogue(path).errors
    assert "geen geldige YAML" in error and "regel" in error


def test_missing_file_and_wrong_shape(tmp_path: Path) -> None:
    (missing,) = check_catalogue(tmp_path / "weg.yaml").errors
    assert "bestaat niet" in missing
    (shape,) = check_catalogue(_write(tmp_path, ["arktos", "profo"])).errors
    assert "organizations" in shape and "services" in shape


def test_load_catalogue_refuses_broken_data_in_dutch(tmp_path: Path) -> None:
    data = _bundled()
    _service(data, "naft-arktos-ahv")["referral_route"] = "per-post"
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, data))
    assert "niet bruikbaar" in str(caught.value)
    assert any("referral_route" in p and "'per-post'" in p for p in caught.value.problems)
