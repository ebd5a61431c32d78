"""A small hand-made Report for the form tests: suppressed cells, an unknown cell, working days, totals and a chart."""

from __future__ import annotations

from datetime import UTC, datetime

from intake.report_model import Audience, Column, ColumnKind, Period, Report, Row, Suppressed, Table

HIDDEN = Suppressed(5)
# 09:30 UTC on 3 December is 10:30 in Brussels (winter time).
MADE = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def sample_report(audience: Audience = Audience.PUBLIC) -> Report:
    """Three tables: demand per intervention (chart), lead times in working days, and outcomes with a share."""
    demand = Table(
        key="vraag_per_interventie", title="Vraag per interventie", section="Vraag",
        definition="Aanmeldingen per gewenste interventie, ingediend van 01/09/2025 tot en met 31/08/2026.",
        columns=(Column("interventie", "Interventie", ColumnKind.LABEL), Column("aanmeldingen", "Aanmeldingen"),
                 Column("leerlingen", "Leerlingen")),
        rows=(Row("NAFT Arktos (Asse-Halle-Vilvoorde)", (12, 11)), Row("Groep Intro", (7, 7)),
              Row("Reisburo/Roulot", (HIDDEN, HIDDEN)), Row("TaKO – CVO Volt", (0, 0)), Row("Wereld van Indra <b>", (9, HIDDEN))),
        total=Row("Totaal", (31, 24)), chart="aanmeldingen",
    )
    lead = Table(
        key="doorlooptijden", title="Doorlooptijden in werkdagen: van indiening tot start van het traject", section="Trajecten",
        definition="Mediaan en 90ste percentiel in werkdagen, enkel trajecten die startten.",
        columns=(Column("stap", "Stap", ColumnKind.LABEL), Column("mediaan", "Mediaan", ColumnKind.DAYS),
                 Column("p90", "90ste percentiel", ColumnKind.DAYS), Column("trajecten", "Trajecten")),
        rows=(Row("Ingediend → verzonden", (2.5, 4.0, 20)), Row("Verzonden → aanvaard", (3, None, 18)),
              Row("Aanvaard → ronde tafel", (HIDDEN, HIDDEN, HIDDEN))),
    )
    outcome = Table(
        key="uitkomst", title="Uitkomst van de trajecten", section="Trajecten",
        definition="Afgeronde trajecten naar uitkomst; aandeel van alle afgeronde trajecten.",
        columns=(Column("uitkomst", "Uitkomst", ColumnKind.LABEL), Column("trajecten", "Trajecten"),
                 Column("aandeel", "Aandeel", ColumnKind.PERCENT), Column("toelichting", "Toelichting", ColumnKind.TEXT)),
        rows=(Row("Terug naar school", (10, 0.625, "voltijds")), Row("Ander onderwijs", (6, 0.375, None))),
        total=Row("Totaal", (16, 1.0, None)), chart="trajecten",
    )
    return Report(
        title="Cijfers Meldpunt Schoolexterne Interventies", period=Period.school_year(2025), audience=audience,
        generated_at=MADE, min_cell=5, tables=(demand, lead, outcome),
        notes=("Leerlingen worden één keer geteld, ook met meer aanmeldingen.", "Rechtstreeks via Groene Zorg: apart geteld."),
    )
