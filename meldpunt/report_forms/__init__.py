"""The forms of the figures report: terminal tables, CSV, XLSX, HTML and JSON, each from an intake.report_model.Report only."""
