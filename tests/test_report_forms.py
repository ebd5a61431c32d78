"""The report's forms from one hand-made Report: what a reader sees in the terminal, Excel, a browser and a program."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from intake.report_model import Audience, Column, ColumnKind, Row, Suppressed, Table
from meldpunt.report_forms.forms import Form, render
from meldpunt.report_forms.xlsx_form import sheet_names
from tests.browser import chromium, pdf_bytes, png_colours, severe_console_entries
from tests.report_fixture import sample_report


def text(form: Form, audience: Audience = Audience.PUBLIC) -> str:
    """The sample report in a text form."""
    return render(sample_report(audience), form).decode("utf-8")


def test_terminal_tables_are_aligned_under_their_title_and_definition() -> None:
    out = text(Form.TABLE)
    lines = out.splitlines()
    assert lines[1] == "schooljaar 2025-2026 (01/09/2025 – 31/08/2026)"
    assert lines[2].startswith("Publiek rapport: kleine aantallen verborgen")
    assert "Gemaakt op 03/12/2026 10:30" in out  # 09:30 UTC in Brussels
    title = lines.index("Vraag per interventie")
    assert lines[title + 1].startswith("Aanmeldingen per gewenste interventie")
    header, rows = lines[title + 2], lines[title + 4:title + 9]
    # Numbers are right-aligned: each column's last character sits under its header's last character.
    for column in ("Aanmeldingen", "Leerlingen"):
        end = header.index(column) + len(column)
        assert all(row[end - 1] != " " and (len(row) == end or row[end] == " ") for row in rows), (column, rows)
    assert re.search(r"Reisburo/Roulot\s+<5\s+<5$", out, re.M)
    assert re.search(r"Verzonden → aanvaard\s+3\s+–\s+18$", out, re.M)
    assert re.search(r"Ingediend → verzonden\s+2,5\s+4,0\s+20$", out, re.M)
    assert re.search(r"Totaal\s+16\s+100%\s+–$", out, re.M)
    assert "Intern rapport: niet verspreiden" in text(Form.TABLE, Audience.INTERNAL)


def test_csv_reads_back_as_blocks_with_semicolons_bom_and_decimal_commas() -> None:
    data = render(sample_report(), Form.CSV)
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    start = rows.index(["Vraag per interventie"])
    assert rows[start + 1] == ["Aanmeldingen per gewenste interventie, ingediend van 01/09/2025 tot en met 31/08/2026."]
    assert rows[start + 2] == ["Interventie", "Aanmeldingen", "Leerlingen"]
    assert rows[start + 5] == ["Reisburo/Roulot", "<5", "<5"]
    assert rows[start + 8] == ["Totaal", "31", "24"]
    assert rows[start + 9] == []
    lead = rows.index(["Doorlooptijden in werkdagen: van indiening tot start van het traject"])
    assert rows[lead + 3] == ["Ingediend → verzonden", "2,5", "4,0", "20"]
    assert rows[lead + 4] == ["Verzonden → aanvaard", "3", "–", "18"]
    assert ["Opmerkingen"] in rows


def test_xlsx_reads_back_with_definitions_first_frozen_bold_headers_and_formats(tmp_path: Path) -> None:
    path = tmp_path / "rapport.xlsx"
    path.write_bytes(render(sample_report(), Form.XLSX))
    book = load_workbook(path)
    assert book.sheetnames == ["Definities", "Vraag per interventie", "Doorlooptijden in werkdagen van", "Uitkomst van de trajecten"]
    definitions = [[cell for cell in row if cell is not None] for row in book["Definities"].iter_rows(values_only=True)]
    assert ["Periode", "schooljaar 2025-2026 (01/09/2025 – 31/08/2026)"] in definitions
    assert ["Gemaakt op", "03/12/2026 10:30"] in definitions
    assert ["Uitkomst van de trajecten", "Uitkomst van de trajecten",
            "Afgeronde trajecten naar uitkomst; aandeel van alle afgeronde trajecten."] in definitions
    assert ["Leerlingen worden één keer geteld, ook met meer aanmeldingen."] in definitions
    demand = book["Vraag per interventie"]
    assert [c.value for c in demand[1]] == ["Interventie", "Aanmeldingen", "Leerlingen"]
    assert all(c.font.bold for c in demand[1]) and demand.freeze_panes == "B2"
    assert (demand["B2"].value, demand["B2"].number_format) == (12, "0")
    assert (demand["B4"].value, demand["C4"].value, demand["C6"].value) == ("<5", "<5", "<5")  # text, not a number
    assert [c.value for c in demand[7]] == ["Totaal", 31, 24] and demand["A7"].font.bold
    assert demand.column_dimensions["A"].width >= len("NAFT Arktos (Asse-Halle-Vilvoorde)")
    lead = book["Doorlooptijden in werkdagen van"]
    assert (lead["B2"].value, lead["B2"].number_format, lead["C3"].value) == (2.5, "0.0", "–")
    outcome = book["Uitkomst van de trajecten"]
    assert (outcome["C2"].value, outcome["C2"].number_format, outcome["D2"].value) == (0.625, "0%", "voltijds")


def test_sheet_names_are_short_unique_and_allowed() -> None:
    names = sheet_names(["Per school: top 10 [intern]", "Per school: top 10 [intern]", "Definities", "a" * 40, "'?'"], {"Definities"})
    assert names == ["Per school top 10 intern", "Per school top 10 intern (2)", "Definities (2)", "a" * 31, "Tabel"]
    assert all(len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name) for name in names)


def test_json_loads_with_dutch_keys_and_suppressed_cells_as_text() -> None:
    data = json.loads(text(Form.JSON))
    assert data["periode"] == {"van": "2025-09-01", "tot": "2026-08-31", "naam": "schooljaar 2025-2026"}
    assert (data["publiek"], data["min_cel"], data["gemaakt"]) == (True, 5, "2026-12-03T10:30:00+01:00")
    demand, lead, _ = data["tabellen"]
    assert [c["sleutel"] for c in demand["kolommen"]] == ["aanmeldingen", "leerlingen"]
    assert demand["rijen"][2] == {"label": "Reisburo/Roulot", "waarden": ["<5", "<5"]}
    assert demand["totaal"] == {"label": "Totaal", "waarden": [31, 24]}
    assert lead["rijen"][1]["waarden"] == [3, None, 18] and lead["totaal"] is None
    assert json.loads(text(Form.JSON, Audience.INTERNAL))["publiek"] is False


def test_html_is_self_contained_dutch_accessible_and_escaped() -> None:
    page = text(Form.HTML)
    assert '<html lang="nl">' in page
    assert not re.search(r"https?://|<script|<link|@import|url\(", page), "nothing is fetched and no script runs"
    assert "Wereld van Indra &lt;b&gt;" in page and "<b>" not in page  # a label is text, never markup
    assert page.count("<caption") == 3 and '<th scope="col">' in page and '<th scope="row">' in page
    assert page.count('<svg class="chart" role="img"') == 2 and "<title id=\"grafiek-1\">" in page
    assert "@page { size: A4" in page and "break-inside: avoid" in page


def test_html_report_in_headless_chromium_shows_charts_without_console_errors(tmp_path: Path) -> None:
    path = tmp_path / "rapport.html"
    path.write_bytes(render(sample_report(), Form.HTML))
    with chromium() as browser:
        browser.get(path.as_uri())
        assert browser.find_element("tag name", "h1").text == "Cijfers Meldpunt Schoolexterne Interventies"
        bars = browser.find_elements("css selector", "svg.chart rect.bar")
        # Three bars in the first chart (12, 7, 9; "<5" and 0 have none) and two in the second.
        assert len(bars) == 5 and all(bar.size["width"] > 0 for bar in bars)
        first_chart = browser.find_element("css selector", "svg.chart").text
        assert "<5" in first_chart and "NAFT Arktos" in first_chart
        assert severe_console_entries(browser) == []
        colours = png_colours(browser.get_screenshot_as_png())
        assert len(colours) > 1, "the screenshot is blank"
        pdf = pdf_bytes(browser)
        assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_png_reader_sees_a_blank_picture_as_one_colour() -> None:
    # The blank-screenshot check must be able to fail: a one-colour PNG of 3×2 pixels.
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * 3 for _ in range(2))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows))
    assert png_colours(png + chunk(b"IEND", b"")) == {b"\xff\xff\xff"}


@pytest.mark.parametrize("form", [form for form in Form if form is not Form.XLSX])  # XLSX: read back above
def test_every_text_form_writes_the_suppressed_cell_as_less_than_five(form: Form) -> None:
    data = render(sample_report(), form)
    assert "<5" in data.decode("utf-8-sig") or "&lt;5" in data.decode("utf-8")


@pytest.mark.parametrize("form", list(Form))
def test_a_larger_count_hidden_to_protect_a_small_one_is_marked_x_never_a_false_less_than_five(form: Form, tmp_path: Path) -> None:
    # Eleven hidden beside a hidden 3, so the total does not give the 3 away: "<5" would be untrue, "x" is what Statbel writes.
    table = Table(key="regio", title="Aanmeldingen per regio", definition="Aanmeldingen per regio van de school.",
                  columns=(Column("regio", "Regio", ColumnKind.LABEL), Column("aanmeldingen", "Aanmeldingen")),
                  rows=(Row("Asse-Halle-Vilvoorde", (Suppressed(5),)), Row("Vlaams-Brabant Oost", (Suppressed(5, primary=False),))),
                  total=Row("Totaal", (14,)))
    data = render(replace(sample_report(), tables=(table,)), form)
    if form is Form.XLSX:
        (tmp_path / "r.xlsx").write_bytes(data)
        sheet = load_workbook(tmp_path / "r.xlsx").worksheets[1]
        shown = [sheet.cell(row, 2).value for row in (2, 3)]
    elif form is Form.JSON:
        shown = [row["waarden"][0] for row in json.loads(data)["tabellen"][0]["rijen"]]
    elif form is Form.HTML:
        shown = re.findall(r"<td[^>]*>\s*(x|&lt;5)\s*</td>", data.decode("utf-8"))
    else:
        written = data.decode("utf-8-sig")
        shown = [re.search(rf"{region}[ ;]+(x|<5)", written).group(1) for region in ("Halle-Vilvoorde", "Brabant Oost")]  # type: ignore[union-attr]
    assert [value.replace("&lt;", "<") for value in shown] == ["<5", "x"]


@pytest.mark.parametrize("form", list(Form))
def test_a_table_without_rows_and_a_report_without_notes_still_render(form: Form) -> None:
    # A new period, or a public table whose every row fell away: the form still comes out, with its headings.
    empty = Table(key="leeg", title="Vraag van onder 12-jarigen", definition="Aanmeldingen voor leerlingen jonger dan 12.",
                  columns=(Column("regio", "Regio", ColumnKind.LABEL), Column("aantal", "Aanmeldingen")), rows=(), chart="aantal")
    data = render(replace(sample_report(), tables=(empty,), notes=()), form)
    assert data
    if form is not Form.XLSX:
        assert "Vraag van onder 12-jarigen" in data.decode("utf-8-sig")
