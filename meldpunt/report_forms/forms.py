"""Which forms exist and how each one comes out: text for the terminal, or the bytes of a file."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from intake.report_model import Report


class Form(StrEnum):
    """The forms `meldpunt rapport --vorm` writes (the values are the Dutch words typed)."""

    TABLE = "tabel"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"
    JSON = "json"


def render(report: Report, form: Form) -> bytes:
    """The report in form, as the bytes written to a file or to standard output (text in UTF-8)."""
    from meldpunt.report_forms.csv_form import render_csv
    from meldpunt.report_forms.html_form import render_html
    from meldpunt.report_forms.json_form import render_json
    from meldpunt.report_forms.terminal import render_terminal
    from meldpunt.report_forms.xlsx_form import render_xlsx

    writers: dict[Form, Callable[[Report], bytes]] = {
        Form.TABLE: lambda r: (render_terminal(r) + "\n").encode("utf-8"),
        Form.CSV: render_csv,
        Form.XLSX: render_xlsx,
        Form.HTML: lambda r: (render_html(r) + "\n").encode("utf-8"),
        Form.JSON: lambda r: (render_json(r) + "\n").encode("utf-8"),
    }
    return writers[form](report)
