"""`meldpunt import groene-zorg`: Groene Zorg's overview (CSV or XLSX) into the figures, all or nothing, once (SQLite and PostgreSQL)."""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meldpunt.cli import main
from store.figure_models import FigureProblemArea, ReferralFigures
from store.models import AuditEntry
from tests.test_architecture import ROOT
from tests.test_cli_review import Runner, run  # noqa: F401 — `run` is a fixture

EXAMPLE = ROOT / "docs" / "voorbeelden" / "groene-zorg.csv"
HEADER = "schooljaar;datum aanmelding;postcode school;school;onderwijsniveau;leerjaar;leeftijd;probleemgebieden;gestart;afgerond;uitkomst"
GOOD = "2025-2026;15/09/2025;1500;Atheneum De Brug;secundair;3;15;spijbelen;ja;nee;"
FIELDS = ("source", "referral_id", "pupil_key", "submitted_on", "school_year", "status", "eligible", "region", "municipality", "school",
          "age", "age_band", "school_level", "school_grade", "service", "started_at", "completed_at", "outcome")


def utc(*parts: int) -> datetime:
    """A moment in UTC (midnight in Brussels is 22:00 or 23:00 UTC the day before)."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# The example file's six trajectories, worked out by hand: (fields as in FIELDS after the common ones, problem areas).
EXPECTED = [
    (date(2025, 9, 15), "completed", "ahv", "Halle", "Atheneum De Brug", 15, "14-15", "secundair", "3",
     utc(2025, 9, 14, 22), utc(2025, 9, 14, 22), "terug-naar-school", ["schoolmoeheid", "spijbelen"]),
    (date(2025, 10, 2), "completed", "oost", "Leuven", "Sint-Lucasinstituut", 17, "16-17", "secundair", "5",
     utc(2025, 10, 1, 22), utc(2025, 10, 1, 22), "ander-onderwijs", ["schoolmoeheid", "thuissituatie"]),
    (date(2025, 11, 20), "in_progress", "ahv", "Vilvoorde", None, 14, "14-15", "secundair", "2",
     utc(2025, 11, 19, 23), None, None, ["gedrag"]),
    (date(2026, 1, 8), "accepted", "oost", "Tienen", "Middenschool De Linde", 13, "12-13", "secundair", "1",
     None, None, None, ["spijbelen"]),
    (date(2026, 2, 12), "completed", "ahv", "Dilbeek", "Technisch Instituut Zennedal", 18, "18+", "secundair", "6",
     utc(2026, 2, 11, 23), utc(2026, 2, 11, 23), "overdracht", ["perspectief"]),
    (date(2026, 3, 3), "in_progress", "oost", "Aarschot", "Basisschool Het Klavertje", 12, "12-13", "basis", "6",
     utc(2026, 3, 2, 23), None, None, ["socio-emotioneel"]),
]


def figures(session_factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """Every figures row (its fields, import key, problem areas), in the order they were added."""
    with session_factory() as session:
        rows = session.scalars(select(ReferralFigures).order_by(ReferralFigures.id)).all()
        return [(*(getattr(row, name) for name in FIELDS), row.import_key, problems_of(session, row.id)) for row in rows]


def problems_of(session: Session, figures_id: int) -> list[str]:
    """The problem areas of one figures row, sorted."""
    query = select(FigureProblemArea.problem_area).where(FigureProblemArea.figures_id == figures_id)
    return sorted(session.scalars(query))


def write(tmp_path: Path, *lines: str, name: str = "overzicht.csv", encoding: str = "utf-8") -> str:
    """A CSV file of these lines; its path."""
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return str(path)


def test_the_example_file_imports_as_worked_out_by_hand(run: Runner, session_factory: sessionmaker[Session]) -> None:
    done = run("import", "groene-zorg", str(EXAMPLE))
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "6 trajecten ingelezen, 0 stonden er al (ongewijzigd)."
    found = figures(session_factory)
    expected = [("groene-zorg", None, None, e[0], 2025, e[1], True, *e[2:9], "groene-zorg", *e[9:12], e[12]) for e in EXPECTED]
    assert [(*row[:18], row[19]) for row in found] == expected, "no referral, no pupil key: each trajectory counts as one pupil"
    assert len({row[18] for row in found}) == 6 and all(len(row[18]) == 64 for row in found)
    with session_factory() as session:
        audit = session.scalars(select(AuditEntry)).all()
    assert [(a.action, a.detail, a.channel) for a in audit] == [("ingelezen", "groene-zorg: 6 nieuw, 0 al ingelezen", "opdrachtregel")]
    assert audit[0].actor.startswith("cli:")


def test_importing_again_changes_nothing_and_a_longer_overview_adds_only_its_new_rows(
        run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    run("import", "groene-zorg", str(EXAMPLE))
    before = figures(session_factory)
    again = run("import", "groene-zorg", str(EXAMPLE))
    assert again.exit_code == 0 and again.output.strip() == "0 trajecten ingelezen, 6 stonden er al (ongewijzigd)."
    assert figures(session_factory) == before
    longer = write(tmp_path, *EXAMPLE.read_text("utf-8").splitlines(), "2025-2026;01/06/2026;3000;;secundair;4;16;;nee;nee;")
    assert run("import", "groene-zorg", longer).output.strip() == "1 traject ingelezen, 6 stonden er al (ongewijzigd)."
    after = figures(session_factory)
    assert after[:6] == before and len(after) == 7 and after[6][5] == "accepted"


def test_the_same_overview_written_otherwise_is_the_same_import(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    run("import", "groene-zorg", str(EXAMPLE))
    # Commas and a BOM, other column order, capitals, labels instead of codes, extra blanks, an unknown column.
    other = write(
        tmp_path,
        "Gestart,Afgerond,Uitkomst,LEEFTIJD,Schooljaar,Datum_aanmelding,Postcode School,School,Onderwijsniveau,Leerjaar,Probleemgebieden,Opmerking",
        'Ja,JA,Terug naar school,15,2025-2026,15/09/2025,1500,Atheneum  De Brug,Secundair onderwijs,3,'
        '"Schoolmoeheid, weinig motivatie, Spijbelen of schoolverzuim",goed',
        "neen,nee,,13,2025 - 2026,08/01/2026,3300,Middenschool De Linde,secundair,1,spijbelen,",
        name="anders.csv", encoding="utf-8-sig",
    )
    assert Path(other).read_bytes().startswith(codecs.BOM_UTF8)
    done = run("import", "groene-zorg", other)
    assert done.exit_code == 0, done.output
    assert "Niet gebruikt (kolommen die het overzicht niet kent): Opmerking." in done.output
    assert "0 trajecten ingelezen, 2 stonden er al (ongewijzigd)." in done.output
    assert len(figures(session_factory)) == 6


def test_two_identical_rows_are_two_trajectories_and_still_import_once(
        run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    twice = write(tmp_path, HEADER, GOOD, GOOD, name="twee.csv")
    assert run("import", "groene-zorg", twice).output.strip() == "2 trajecten ingelezen, 0 stonden er al (ongewijzigd)."
    assert run("import", "groene-zorg", twice).output.strip() == "0 trajecten ingelezen, 2 stonden er al (ongewijzigd)."
    thrice = write(tmp_path, HEADER, GOOD, GOOD, GOOD, name="drie.csv")
    assert run("import", "groene-zorg", thrice).output.strip() == "1 traject ingelezen, 2 stonden er al (ongewijzigd)."
    found = figures(session_factory)
    assert len(found) == 3 and len({row[18] for row in found}) == 3
    assert len({row[:18] for row in found}) == 1, "the same trajectory three times"


BAD_ROWS = [
    ("2025-2026;15/09/2025;1500;;secundair;;twaalf;;ja;nee;", "rij 3: kolom 'leeftijd': 'twaalf' is geen getal"),
    ("2025-2026;15/09/2025;1500;;secundair;;30;;ja;nee;", "rij 4: kolom 'leeftijd': '30' ligt niet tussen 6 en 25"),
    ("2025-2026;15/09/2025;1500;;secundair;8;15;;ja;nee;", "rij 5: kolom 'leerjaar': '8' ligt niet tussen 1 en 7"),
    ("2025-2026;2025-09-15;1500;;secundair;;15;;ja;nee;", "rij 6: kolom 'datum aanmelding': '2025-09-15' is geen datum: schrijf dd/mm/jjjj (bv. 15/09/2025)"),
    ("2025-2026;15/09/2026;1500;;secundair;;15;;ja;nee;",
     "rij 7: kolom 'datum aanmelding': 15/09/2026 valt niet in het schooljaar 2025-2026 (1 september 2025 tot 31 augustus 2026)"),
    ("2025;15/09/2025;1500;;secundair;;15;;ja;nee;", "rij 8: kolom 'schooljaar': '2025' is geen schooljaar: schrijf bv. 2025-2026"),
    ("2025-2026;15/09/2025;15OO;;secundair;;15;;ja;nee;", "rij 9: kolom 'postcode school': '15OO' is geen postcode (4 cijfers)"),
    ("2025-2026;15/09/2025;1001;;secundair;;15;;ja;nee;", "rij 10: kolom 'postcode school': '1001' is geen Belgische postcode"),
    ("2025-2026;15/09/2025;9000;;secundair;;15;;ja;nee;",
     "rij 11: kolom 'postcode school': postcode 9000 ligt niet in Vlaams-Brabant, het werkgebied van het Meldpunt"),
    ("2025-2026;15/09/2025;1500;;hoger;;15;;ja;nee;",
     "rij 12: kolom 'onderwijsniveau': 'hoger' ken ik niet; kies uit: Secundair onderwijs; Basisonderwijs"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;spijbelen, pesten;ja;nee;", "rij 13: kolom 'probleemgebieden': 'pesten' ken ik niet; kies uit: "
     "Spijbelen of schoolverzuim; Schoolmoeheid, weinig motivatie; Gedragsproblemen op school; Socio-emotionele problemen; "
     "Moeilijke relatie met school of leerkrachten; Moeilijke thuissituatie; Weinig of geen perspectief op school; Middelengebruik; Andere"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;;misschien;nee;", "rij 14: kolom 'gestart': 'misschien' ken ik niet; kies uit: ja; nee"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;;;nee;", "rij 15: kolom 'gestart': is leeg, maar deze kolom is verplicht"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;;nee;ja;",
     "rij 16: kolom 'afgerond': 'ja' kan niet: een traject dat niet gestart is ('gestart' is 'nee'), is ook niet afgerond"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;;ja;nee;warme overdracht", "rij 17: kolom 'uitkomst': 'warme overdracht': een uitkomst hoort "
     "enkel bij een afgerond traject (zet 'afgerond' op 'ja' of laat de uitkomst leeg)"),
    ("2025-2026;15/09/2025;1500;;secundair;;15;;ja;ja;gelukt", "rij 18: kolom 'uitkomst': 'gelukt' ken ik niet; kies uit: Terug naar school; "
     "Andere vorm van onderwijs; Warme overdracht naar een andere dienst"),
    ("2025-2026;15/09/2025;1500;" + "x" * 201 + ";secundair;;15;;ja;nee;", "rij 19: kolom 'school': de cel is langer dan 200 tekens"),
]


def test_bad_rows_are_all_listed_with_their_row_and_nothing_is_imported(
        run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    # A good row first: it is not imported either. One empty line in between still counts as a row (row 20).
    lines = [HEADER, GOOD, *(line for line, _ in BAD_ROWS), "", "2025-2026;;1500;;secundair;;15;;ja;nee;"]
    refused = run("import", "groene-zorg", write(tmp_path, *lines))
    assert refused.exit_code == 1
    expected = [message for _, message in BAD_ROWS] + ["rij 21: kolom 'datum aanmelding': is leeg, maar deze kolom is verplicht"]
    assert refused.stderr.splitlines() == [*expected, "", "18 fouten gevonden: er is niets ingelezen. Verbeter het bestand en lees het opnieuw in."]
    assert refused.stdout == ""
    assert figures(session_factory) == []
    with session_factory() as session:
        assert session.scalars(select(AuditEntry)).all() == [], "nothing happened, so nothing is audited"


def test_a_missing_or_double_column_is_named(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    refused = run("import", "groene-zorg", write(tmp_path, "schooljaar;leeftijd;Leeftijd;gestart", "2025-2026;15;15;ja"))
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[:4] == [
        "rij 1: de kolom 'leeftijd' staat er meer dan één keer", "rij 1: de verplichte kolom 'datum aanmelding' ontbreekt",
        "rij 1: de verplichte kolom 'postcode school' ontbreekt", "rij 1: de verplichte kolom 'onderwijsniveau' ontbreekt"]
    assert figures(session_factory) == []


@pytest.mark.parametrize("column", ["Naam", "voornaam", "Achternaam", "Geboortedatum", "rijksregisternummer", "E-mail ouders", "Leerlingnummer",
                                    "initialen"])
def test_a_column_that_identifies_a_pupil_refuses_the_whole_file(
        run: Runner, session_factory: sessionmaker[Session], tmp_path: Path, column: str) -> None:
    refused = run("import", "groene-zorg", write(tmp_path, f"{HEADER};{column}", f"{GOOD};Zoë Peeters"))
    assert refused.exit_code == 1
    lines = refused.stderr.splitlines()
    assert lines[0] == f"rij 1: de kolom '{column}' lijkt een leerling te identificeren (naam, geboortedatum, rijksregisternummer, adres of contactgegevens)"
    assert "Het Meldpunt neemt geen namen, geboortedata of andere gegevens die een leerling identificeren op" in lines[2]
    assert "Zoë" not in refused.output
    assert figures(session_factory) == []


def test_the_name_of_the_school_is_no_name_of_a_pupil(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    done = run("import", "groene-zorg", write(tmp_path, f"{HEADER};naam school", f"{GOOD};Atheneum"))
    assert done.exit_code == 0 and "1 traject ingelezen" in done.output and "naam school" in done.output


def test_an_xlsx_imports_the_same_as_the_csv(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    header, *rows = (line.split(";") for line in EXAMPLE.read_text("utf-8").splitlines())
    sheet.append([name.upper() for name in header])
    for number, row in enumerate(rows):
        if number == 2:
            sheet.append([])  # an empty row between: skipped
        # As a spreadsheet keeps them: dates, whole numbers and postcodes as numbers, empty cells empty.
        sheet.append([datetime.strptime(c, "%d/%m/%Y") if i == 1 else int(c) if c.isdigit() else (c or None) for i, c in enumerate(row)])
    other = workbook.create_sheet("Notities")
    other.append(["naam", "Jan"])  # only the first sheet is read
    path = tmp_path / "overzicht.xlsx"
    workbook.save(path)
    done = run("import", "groene-zorg", str(path))
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "6 trajecten ingelezen, 0 stonden er al (ongewijzigd)."
    from_xlsx = figures(session_factory)
    with session_factory.begin() as session:
        session.query(FigureProblemArea).delete()
        session.query(ReferralFigures).delete()
    run("import", "groene-zorg", str(EXAMPLE))
    assert figures(session_factory) == from_xlsx, "the same rows and the same import keys"
    assert run("import", "groene-zorg", str(path)).output.strip() == "0 trajecten ingelezen, 6 stonden er al (ongewijzigd)."


def test_an_xlsx_error_names_the_row_the_spreadsheet_shows(run: Runner, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(";"))
    sheet.append([])
    sheet.append(["2025-2026", datetime(2025, 9, 15), 1500, None, "secundair", 3, 14.5, None, True, False])
    workbook.save(tmp_path / "fout.xlsx")
    refused = run("import", "groene-zorg", str(tmp_path / "fout.xlsx"))
    assert refused.exit_code == 1 and refused.stderr.splitlines()[0] == "rij 3: kolom 'leeftijd': '14.5' is geen getal"


def test_a_workbook_that_unpacks_to_far_more_than_an_overview_is_not_opened(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<" * (51 * 1024 * 1024))  # a few dozen KB packed
    assert path.stat().st_size < 1024 * 1024
    refused = run("import", "groene-zorg", str(path))
    assert refused.exit_code == 1 and "De Excel-werkmap is uitgepakt veel groter dan een overzicht" in refused.stderr


def test_the_limits(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    big = tmp_path / "groot.csv"
    big.write_bytes((HEADER + "\n").encode() + b"x" * (5 * 1024 * 1024))
    refused = run("import", "groene-zorg", str(big))
    assert refused.exit_code == 1 and "Het bestand is groter dan 5 MB" in refused.stderr
    many = run("import", "groene-zorg", write(tmp_path, HEADER, *[GOOD] * 10_001, name="veel.csv"))
    assert many.exit_code == 1
    assert many.stderr.splitlines()[0] == "rij 10002: meer dan 10.000 trajecten in één bestand; verdeel het over meer bestanden"
    wide = run("import", "groene-zorg", write(tmp_path, HEADER + ";x" * 50, GOOD, name="breed.csv"))
    assert wide.exit_code == 1 and wide.stderr.splitlines()[0].startswith("rij 1: meer dan 50 kolommen")
    assert figures(session_factory) == []
    assert run("import", "groene-zorg", write(tmp_path, HEADER, *[GOOD] * 10_000, name="net.csv")).output.strip() == (
        "10000 trajecten ingelezen, 0 stonden er al (ongewijzigd).")


@pytest.mark.parametrize(("content", "message"), [
    (f"{HEADER}\n2025-2026;15/09/2025;1500;Sint-Jozefscollège;secundair;;15;;ja;nee;\n".encode("cp1252"), "Het bestand is geen CSV in UTF-8"),
    (HEADER.encode("utf-16"), "Het bestand is geen CSV in UTF-8"),
    (b"PK\x03\x04 geen echte werkmap", "Het bestand kan niet gelezen worden: het is geen geldige CSV of Excel-werkmap (.xlsx)"),
    (b"", "het bestand bevat geen trajecten (enkel een kopregel, of niets)"),
    (f"{HEADER}\n\n;;;\n".encode(), "het bestand bevat geen trajecten (enkel een kopregel, of niets)"),
])
def test_a_file_that_is_no_overview_says_why(run: Runner, session_factory: sessionmaker[Session], tmp_path: Path,
                                             content: bytes, message: str) -> None:
    path = tmp_path / "overzicht.csv"
    path.write_bytes(content)
    refused = run("import", "groene-zorg", str(path))
    assert refused.exit_code == 1 and message in refused.stderr, refused.output
    assert "Traceback" not in refused.output
    assert figures(session_factory) == []


def test_an_import_key_stays_what_it_was() -> None:
    # Keys of earlier imports are in the databases: a changed key would import the same overview a second time.
    from intake.groene_zorg import import_keys, read_overview

    overview = read_overview([(1, HEADER.split(";")), (2, GOOD.split(";")), (3, GOOD.split(";"))])
    text = ('{"age": 15, "completed": false, "outcome": null, "postcode": "1500", "problem_areas": ["spijbelen"], "school": "Atheneum De Brug", '
            '"school_grade": "3", "school_level": "secundair", "school_year": 2025, "started": true, "submitted_on": "2025-09-15"}')
    assert overview.trajectories[0].canonical() == text
    assert import_keys(overview.trajectories) == [hashlib.sha256(f"{text}#{n}".encode()).hexdigest() for n in (1, 2)] == [
        "eb3490cbb82a44b4861151efeea73c15f1e2a54ed7a4160c2a19e1cd6f3288df", "c38795c2eb03d68fe12a18517c970f34c5ea2eeca4bf47634aa6e803292c0cae"]


def test_without_one_groene_zorg_service_in_the_catalogue_nothing_is_imported(
        run: Runner, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    catalogue = yaml.safe_load((ROOT / "store" / "catalogue.yaml").read_text("utf-8"))
    farm = next(service for service in catalogue["services"] if service["id"] == "groene-zorg")
    catalogue["services"].append({**farm, "id": "groene-zorg-oost", "name": "Zorgboerderij Oost via Groene Zorg"})
    path = tmp_path / "aanbod.yaml"
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), "utf-8")
    two = CliRunner(env={**(run.cli.env or {}), "MELDPUNT_CATALOGUE_PATH": str(path)})
    refused = two.invoke(main, ["import", "groene-zorg", str(EXAMPLE)], catch_exceptions=False)
    assert refused.exit_code == 1 and "heeft niet precies één dienst van Groene Zorg" in refused.stderr, refused.output
    assert figures(session_factory) == []
