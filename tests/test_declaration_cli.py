"""`meldpunt intentieverklaring teken|lijst|intrekken` as the coordinator types it (SQLite and PostgreSQL)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from intake.brussels import BRUSSELS
from intake.catalogue import DEFAULT_PATH
from intake.catalogue_loader import load_catalogue
from intake.declaration import unsigned_providers
from meldpunt.cli import main
from store import declaration
from store.audit import audit_trail
from store.db import create_db_engine, make_session_factory


class Runner:
    """`meldpunt intentieverklaring …` on this test's database, with its own var folder and catalogue."""

    def __init__(self, database_url: str, var_dir: Path, catalogue: Path = DEFAULT_PATH) -> None:
        self.database_url, self.catalogue = database_url, catalogue
        self.cli = CliRunner(env={"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(var_dir),
                                  "MELDPUNT_CATALOGUE_PATH": str(catalogue)})

    def __call__(self, *args: str) -> Result:
        """Run one subcommand; what it printed and its exit code."""
        return self.cli.invoke(main, ["intentieverklaring", *args])

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the same database, to see what the command stored."""
        engine = create_db_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Runner:
    """The command on the migrated test database and the bundled catalogue."""
    return Runner(database_url, tmp_path / "var")


def _lines(result: Result) -> list[str]:
    """The output's lines without surrounding blanks."""
    return [line.strip() for line in result.output.splitlines()]


def test_each_kind_signs_and_the_list_says_who_and_when(run: Runner) -> None:
    signed = run("teken", "--scholengemeenschap", "Scholengemeenschap Sint-Jan Halle", "--datum", "15/01/2018")
    assert signed.exit_code == 0, signed.output
    assert signed.output.strip() == ('Genoteerd: "Scholengemeenschap Sint-Jan Halle" (scholengemeenschap) ondertekende '
                                     "de gezamenlijke intentieverklaring op 15/01/2018.")
    assert run("teken", "--clb", "Vrij CLB Halle", "--datum", "01/11/2017").exit_code == 0
    assert run("teken", "--aanbieder", "groep-intro", "--datum", "3/2/2018").exit_code == 0  # by its catalogue id
    assert run("teken", "--aanbieder", "arktos", "--datum", "20/02/2018").exit_code == 0
    listed = run("lijst")
    assert listed.exit_code == 0, listed.output
    lines = _lines(listed)
    assert lines[:9] == [
        "Gezamenlijke intentieverklaring: wie ondertekende", "",
        "Scholengemeenschappen", "Scholengemeenschap Sint-Jan Halle: ondertekend op 15/01/2018", "",
        "CLB's", "Vrij CLB Halle: ondertekend op 01/11/2017", "",
        "Aanbieders",
    ]
    assert lines[9:11] == ["Arktos: ondertekend op 20/02/2018", "Groep Intro: ondertekend op 03/02/2018"]
    assert "Profo: nog niet ondertekend" in lines and "Groep Intro: nog niet ondertekend" not in lines


def test_the_list_agrees_with_the_store_the_site_reads(run: Runner) -> None:
    run("teken", "--aanbieder", "Profo", "--datum", "06/05/2019")
    run("teken", "--clb", "Alba", "--datum", "06/05/2019")  # a CLB named like a provider signs for itself only
    with run.session() as session:
        unsigned = unsigned_providers(declaration.signatures(session), load_catalogue())
    lines = _lines(run("lijst"))
    assert [line.removesuffix(": nog niet ondertekend") for line in lines if line.endswith("nog niet ondertekend")] == [o.name for o in unsigned]
    assert "Alba: nog niet ondertekend" in lines and "Profo: nog niet ondertekend" not in lines


def test_a_new_provider_in_the_catalogue_is_listed_until_it_signs(database_url: str, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["organizations"].append({"id": "de-nieuwe-weg", "name": "De Nieuwe Weg", "website": None, "description": None})
    catalogue = tmp_path / "aanbod.yaml"
    catalogue.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run = Runner(database_url, tmp_path / "var", catalogue)
    assert "De Nieuwe Weg: nog niet ondertekend" in _lines(run("lijst"))
    assert run("teken", "--aanbieder", "de nieuwe weg", "--datum", "01/12/2026").exit_code == 0
    assert "De Nieuwe Weg: ondertekend op 01/12/2026" in _lines(run("lijst"))


def test_signing_twice_is_refused_saying_since_when(run: Runner) -> None:
    assert run("teken", "--clb", "Vrij CLB Halle", "--datum", "01/02/2018").exit_code == 0
    again = run("teken", "--clb", "vrij clb halle", "--datum", "01/03/2019")
    assert again.exit_code == 1
    assert again.output.strip() == 'Fout: "Vrij CLB Halle" (CLB) ondertekende de intentieverklaring al op 01/02/2018; er is niets veranderd.'
    assert "Vrij CLB Halle: ondertekend op 01/02/2018" in _lines(run("lijst"))


def test_without_a_date_it_is_today_in_brussels(run: Runner) -> None:
    before = datetime.now(UTC).astimezone(BRUSSELS).date()
    assert run("teken", "--aanbieder", "Alba").exit_code == 0
    after = datetime.now(UTC).astimezone(BRUSSELS).date()
    with run.session() as session:
        [signature] = declaration.signatures(session)
    assert before <= signature.signed_on <= after


@pytest.mark.parametrize(("args", "code", "sentence"), [
    (["--clb", "CLB Leuven", "--datum", "31-12-2018"], 2, "'31-12-2018' is geen datum; schrijf dd/mm/jjjj"),
    (["--clb", "CLB Leuven", "--datum", "31/02/2018"], 2, "'31/02/2018' is geen datum; schrijf dd/mm/jjjj"),
    (["--clb", "CLB Leuven", "--datum", "01/01/2999"], 1, "De datum 01/01/2999 ligt in de toekomst"),
    (["--clb", "CLB Leuven", "--datum", "01/10/2017"], 1, "ligt vóór 01/11/2017, de dag waarop de intentieverklaring opgesteld werd"),
    (["--aanbieder", "Onbekend vzw"], 1, 'Er staat geen aanbieder "Onbekend vzw" in het aanbod; geef de naam of het kenmerk van een van deze '
                                        "aanbieders: Alba, Arktos, CIDAR"),
    (["--clb", "   "], 1, "Een naam telt 2 tot 120 tekens, met minstens één letter"),
    (["--scholengemeenschap", "\x1b[2J\x1b]0;x\x07"], 1, "Een naam telt 2 tot 120 tekens, met minstens één letter"),
    ([], 2, "Kies precies één partner: --aanbieder, --clb of --scholengemeenschap."),
    (["--clb", "CLB Leuven", "--aanbieder", "Alba"], 2, "Kies precies één partner"),
])
def test_what_cannot_be_signed_is_refused_in_one_dutch_sentence(run: Runner, args: list[str], code: int, sentence: str) -> None:
    refused = run("teken", *args)
    assert refused.exit_code == code, refused.output
    assert "Fout: " in refused.output and sentence in " ".join(refused.output.split())
    assert "Traceback" not in refused.output
    with run.session() as session:
        assert declaration.signatures(session) == [] and audit_trail(session) == []


def test_an_escape_laden_name_is_recorded_clean(run: Runner) -> None:
    signed = run("teken", "--scholengemeenschap", "\x1b]0;titel\x07SG \u202eDe Kempen\x1b[0m", "--datum", "01/02/2018")
    assert signed.exit_code == 0, signed.output
    assert '"SG De Kempen" (scholengemeenschap)' in signed.output and "\x1b" not in signed.output
    assert "SG De Kempen: ondertekend op 01/02/2018" in _lines(run("lijst"))


def test_withdrawing_removes_the_signature_and_each_change_is_audited(run: Runner) -> None:
    assert run("teken", "--aanbieder", "Sporen", "--datum", "01/02/2018").exit_code == 0
    withdrawn = run("intrekken", "--aanbieder", "sporen")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert withdrawn.output.strip() == 'Genoteerd: de handtekening van "Sporen" (aanbieder), ondertekend op 01/02/2018, is ingetrokken.'
    assert "Sporen: nog niet ondertekend" in _lines(run("lijst"))
    again = run("intrekken", "--aanbieder", "Sporen")
    assert again.exit_code == 1 and "trok de handtekening al in op" in again.output and "er is niets veranderd" in again.output
    never = run("intrekken", "--clb", "CLB Leuven")
    assert never.exit_code == 1
    assert never.output.strip() == 'Fout: "CLB Leuven" (CLB) heeft de intentieverklaring niet ondertekend; er is niets veranderd.'
    with run.session() as session:
        rows = [(e.action, e.actor, e.channel) for e in audit_trail(session)]
    actor = f"cli:{getpass.getuser()}"
    assert rows == [("intentieverklaring-getekend", actor, "opdrachtregel"), ("intentieverklaring-ingetrokken", actor, "opdrachtregel")]
