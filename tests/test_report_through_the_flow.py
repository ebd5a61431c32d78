"""The whole way of issue 15: referrals through the real workflow and provider lines, a Groene Zorg overview through
`meldpunt import`, a survey answer, then `meldpunt rapport --intern --vorm json` and the public report (SQLite and PostgreSQL).

The expected figures were worked out by hand from the story in each test, not by running the code.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk import survey
from desk.decisions import Role
from intake.survey import SurveyAnswer, SurveyNeed
from intake.vocabulary import Region
from meldpunt.cli import main
from store.survey_models import SurveyInvite
from tests.mail_harness import DOMAIN, NOW
from tests.test_cli_rapport import Rapport
from tests.test_decisions import ARKTOS, INTRO, add_staff, apply, eligible_answers
from tests.test_figures_data import batch, submit

DAY = timedelta(days=1)
HEADER = "schooljaar;datum aanmelding;postcode school;school;onderwijsniveau;leerjaar;leeftijd;probleemgebieden;gestart;afgerond;uitkomst"
# Two trajectories Groene Zorg took directly in 2026-2027: one back at school, one still running.
OVERVIEW = (HEADER, "2026-2027;07/09/2026;1500;Atheneum De Brug;secundair;3;15;spijbelen;ja;ja;terug naar school",
            "2026-2027;05/10/2026;1500;Atheneum De Brug;secundair;4;16;gedrag;ja;nee;")


def story(session_factory: sessionmaker[Session]) -> None:
    """Zoë is referred three times (completed at Arktos; again later, still queued; once too early, not eligible);
    Mila goes to Groep Intro (equal fit, fewer referrals), which is full, and then to Arktos, which takes her."""
    with session_factory.begin() as session:
        add_staff(session)
        zoe = submit(session)
        mila = submit(session, {**eligible_answers(), "pupil_first_name": "Mila", "pupil_last_name": "Claes"})
        batch(session, NOW + 2 * DAY)
        for days, line in [(3, "aanvaard"), (7, "ronde tafel 14/12/2026"), (15, "gestart"), (40, "afgerond - terug naar school")]:
            assert apply(session, f"{zoe.reference}: {line}", role=Role.PROVIDER, provider=ARKTOS, now=NOW + days * DAY)[0].applied
        assert apply(session, f"{mila.reference}: geweigerd - we zitten volzet", role=Role.PROVIDER, provider=INTRO, now=NOW + 3 * DAY)[0].applied
        apply(session, f"{mila.reference}: doorverwijzen naar naft-arktos-ahv", role=Role.COORDINATOR, now=NOW + 4 * DAY)
        batch(session, NOW + 6 * DAY)
        assert apply(session, f"{mila.reference}: aanvaard", role=Role.PROVIDER, provider=ARKTOS, now=NOW + 7 * DAY)[0].applied
        submit(session, now=NOW + 8 * DAY)  # Zoë again: queued for the next batch
        submit(session, {**eligible_answers(), "care_phase": "verhoogde-zorg"}, now=NOW + 9 * DAY)  # and once too early: not eligible
        survey.start(session, year=2026, actor="coordinator", domain=DOMAIN, now=NOW)
        (invite,) = session.scalars(select(SurveyInvite))
        survey.record(session, invite, SurveyAnswer(Region.AHV, 3, (SurveyNeed.GEDRAG,), None), now=NOW + DAY)


def report(rapport: Rapport, tmp_path: Path, *options: str) -> dict[str, dict[str, list[Any]]]:
    """The school year 2026-2027 as JSON: {table key: {row label: values}}, the totals row under "Totaal"."""
    out = tmp_path / "rapport.json"
    made = rapport("--schooljaar", "2026-2027", "--vorm", "json", "--uit", str(out), *options)
    assert made.exit_code == 0, made.output
    tables = json.loads(out.read_text("utf-8"))["tabellen"]
    return {t["sleutel"]: {**{r["label"]: r["waarden"] for r in t["rijen"]}, **({"Totaal": t["totaal"]["waarden"]} if t["totaal"] else {})}
            for t in tables}


def test_the_internal_report_counts_what_happened(database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    story(session_factory)
    rapport = Rapport(database_url, tmp_path / "var")
    overview = tmp_path / "groene-zorg.csv"
    overview.write_text("\n".join(OVERVIEW) + "\n", "utf-8")
    imported = rapport.cli.invoke(main, ["import", "groene-zorg", str(overview)])
    assert imported.exit_code == 0, imported.output
    tables = report(rapport, tmp_path, "--intern")
    demand = tables["vraag_aanbod"]
    arktos = next(values for label, values in demand.items() if "Arktos" in label and "Halle" in label)
    intro = next(values for label, values in demand.items() if "Intro" in label)
    # (voorkeur, eerste suggestie,) verzonden, aanvaard, geweigerd, ronde tafel, gestart, afgerond: Zoë's way and Mila's second.
    assert (arktos[0], arktos[2:8]) == (0, [2, 2, 0, 1, 1, 1])
    assert (intro[0], intro[2:8]) == (0, [1, 0, 1, 0, 0, 0]), "Mila's refusal"
    groene_zorg = next(values for label, values in demand.items() if "rechtstreeks" in label.lower())
    assert groene_zorg[6:] == [2, 1, 2, 2], "two started, one completed, two pupils, two trajectories"
    assert tables["weigeringen"]["Totaal"][0] == 1  # Mila's refusal, for being full
    assert tables["regio"]["Asse-Halle-Vilvoorde"] == [6, 4], "four referrals (Zoë three times) and two from Groene Zorg; four pupils"
    assert tables["niet_ontvankelijk"]['Nog niet in de fase "uitbreiding van zorg"'] == [1, 1]
    assert tables["niet_ontvankelijk"]["Totaal"] == [1, 1] == tables["onvervuld"]["Niet ontvankelijk"]
    assert tables["regio"]["Vlaams-Brabant Oost"] == [0, 0]
    assert tables["bevraging"]["Asse-Halle-Vilvoorde"][:3] == [1, 3, 1], "one answer, three questions, one naming behaviour"


def test_the_public_report_hides_what_few_people_make(database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    story(session_factory)
    tables = report(Rapport(database_url, tmp_path / "var"), tmp_path)
    assert "school" not in tables and "clb" not in tables
    assert tables["bevraging"]["Asse-Halle-Vilvoorde"][0] == "<5" and tables["bevraging"]["Totaal"][0] == "<5"
    assert tables["regio"]["Asse-Halle-Vilvoorde"][0] == "<5" and tables["regio"]["Vlaams-Brabant Oost"][0] == 0
