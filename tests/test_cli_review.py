"""`meldpunt review`: the coordinator lists and decides on the command line (SQLite and PostgreSQL)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from meldpunt.cli import main
from store import referrals
from store.models import Staff
from tests.maildir_order import delivered
from tests.test_decisions import ELS, add_staff, make_referral

S = Status


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> "Runner":
    """Invoke `meldpunt` in-process on the test database, with its own var folder (for the Maildir)."""
    return Runner(database_url, tmp_path / "var")


class Runner:
    """The `meldpunt` command with this test's settings."""

    def __init__(self, database_url: str, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.cli = CliRunner(env={"MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(var_dir), "MELDPUNT_COORDINATOR_EMAIL": None,
                                   "MELDPUNT_OUTBOX": "maildir"})

    def __call__(self, *args: str) -> Result:
        """Run one command; what it printed and its exit code."""
        return self.cli.invoke(main, list(args), catch_exceptions=False)

    def mails(self) -> list[str]:
        """The plain text of every mail the outbox put in the Maildir, with its recipient first."""
        folder = self.var_dir / "maildir" / "new"
        found = []
        for path in delivered(folder):
            message = message_from_bytes(path.read_bytes(), policy=default)
            found.append(f"{message['To']}\n{message.get_body(('plain',)).get_content()}")
        return found


def make(session_factory: sessionmaker[Session], *statuses: Status) -> list[str]:
    """Els's referrals in these statuses; their references."""
    with session_factory.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).first() or add_staff(session)
        return [make_referral(session, status, staff=els).reference or "" for status in statuses]


def status_of(session_factory: sessionmaker[Session], reference: str) -> Status:
    """A referral's status now."""
    with session_factory() as session:
        referral = referrals.get_referral(session, reference)
        assert referral is not None
        return referral.status


def test_review_lists_what_waits_without_pupil_names(run: Runner, session_factory: sessionmaker[Session]) -> None:
    assert "Er wachten geen aanmeldingen" in run("review").output
    waiting, declined, queued = make(session_factory, S.NEEDS_REVIEW, S.DECLINED, S.QUEUED)
    held = run("review", "hold", queued, "--reden", "eerst het CLB bellen")
    assert held.exit_code == 0 and f"Verwerkt: {queued} staat nu op 'Wacht op de coördinator'." in held.output
    listed = run("review").output
    assert listed == run("review", "list").output
    assert waiting in listed and declined in listed and queued in listed
    assert "Geweigerd" in listed and "Ontvankelijkheid: Ontvankelijk" in listed
    assert "eerst het CLB bellen" in listed and "cli:" in listed, "the last note and who wrote it"
    assert "Zoë" not in listed and "Peeters" not in listed
    assert "3 aanmelding(en) wachten" in listed


def test_review_commands_decide_and_tell_the_referrer(run: Runner, session_factory: sessionmaker[Session]) -> None:
    waiting, declined, to_decline, sent = make(session_factory, S.NEEDS_REVIEW, S.DECLINED, S.NEEDS_REVIEW, S.DISPATCHED)
    approved = run("review", "approve", waiting.lower())
    assert approved.exit_code == 0, approved.output
    assert f"Verwerkt: {waiting} staat nu op 'Klaar voor verzending'." in approved.output
    redirected = run("review", "redirect", declined, "Groep Intro")
    assert redirected.exit_code == 0 and "doorverwezen naar NAFT-traject Groep Intro" in redirected.output
    refused = run("review", "decline", to_decline, "--reden", "buiten de doelgroep")
    assert refused.exit_code == 0
    recorded = run("review", "record", f"{sent}: gestart")
    assert recorded.exit_code == 0 and f"{sent} staat nu op 'Traject loopt'" in recorded.output
    assert [status_of(session_factory, r) for r in (waiting, declined, to_decline, sent)] == [S.QUEUED, S.QUEUED, S.DECLINED, S.IN_PROGRESS]

    mails = run.mails()
    assert len(mails) == 4 and all(m.startswith(ELS) for m in mails), "one mail per command, each to the referrer"
    assert any(f"{to_decline}: Geweigerd (de coördinator: buiten de doelgroep)" in m for m in mails)
    with session_factory() as session:
        referral = referrals.get_referral(session, sent)
        assert referral is not None
        accepted, started = referrals.status_history(session, referral)[-2:]
        assert (accepted.to_status, started.to_status) == (S.ACCEPTED, S.IN_PROGRESS)
        assert accepted.actor == started.actor and started.actor.startswith("cli:")


def test_correct_changes_an_answer_before_dispatch_only(run: Runner, session_factory: sessionmaker[Session]) -> None:
    queued, sent = make(session_factory, S.QUEUED, S.DISPATCHED)
    corrected = run("review", "correct", queued, "Postcode school", "1000")
    assert corrected.exit_code == 0 and "'Postcode school' is gecorrigeerd" in corrected.output
    assert "1000" not in corrected.output.replace(queued, "")
    with session_factory() as session:
        referral = referrals.get_referral(session, queued)
        assert referral is not None and referral.answers["school_postcode"] == "1000"
    wrong = run("review", "correct", queued, "school_postcode", "abc")
    assert wrong.exit_code == 1 and "4 cijfers" in wrong.output
    late = run("review", "correct", sent, "Postcode school", "1000")
    assert late.exit_code == 1 and "vóór de verzending" in late.output
    assert run.mails() == [], "a correction is not news for the referrer"


def test_refusals_and_misunderstood_lines_exit_with_1(run: Runner, session_factory: sessionmaker[Session]) -> None:
    (sent,) = make(session_factory, S.DISPATCHED)
    unknown = run("review", "approve", "MSI-2026-9999")
    assert unknown.exit_code == 1 and "Niet verwerkt: MSI-2026-9999: onbekende referentie." in unknown.output
    mixed = run("review", "record", f"{sent}: aanvaard", f"{sent}: afgerond", "MSI-2026-9999: gestart")
    assert mixed.exit_code == 1
    assert f"Verwerkt: {sent} staat nu op 'Aanvaard door de aanbieder'." in mixed.output
    assert f"Niet verwerkt: \"{sent}: afgerond\" - Schrijf na 'afgerond'" in mixed.output
    assert "1 verwerkt, 2 niet verwerkt." in mixed.output, "a line not understood counts as not processed"
    empty = run("review", "record", "gewoon wat tekst")
    assert empty.exit_code == 2 and "Geef minstens één regel" in empty.output
    assert status_of(session_factory, sent) is S.ACCEPTED


def test_a_referral_the_coordinator_declined_no_longer_waits(run: Runner, session_factory: sessionmaker[Session]) -> None:
    waiting, queued, by_provider = make(session_factory, S.NEEDS_REVIEW, S.QUEUED, S.DECLINED)
    assert run("review", "decline", waiting, "--reden", "buiten de doelgroep").exit_code == 0
    assert run("review", "decline", queued, "--reden", "dubbele aanmelding").exit_code == 0
    listed = run("review").output
    assert waiting not in listed and queued not in listed, "the coordinator's own refusal is a decision, not a wait"
    assert by_provider in listed and "1 aanmelding(en) wachten" in listed, "a provider's refusal waits for another provider"


def test_record_counts_every_line_it_was_given(run: Runner, session_factory: sessionmaker[Session]) -> None:
    first, second = make(session_factory, S.DISPATCHED, S.DISPATCHED)
    mixed = run("review", "record", f"{first}: aanvaard", f"{second}: gestart", f"{first}: iets anders")
    assert mixed.exit_code == 1
    assert mixed.output.count("Niet verwerkt:") == 1 and mixed.output.count("Verwerkt:") == 2, mixed.output
    assert mixed.output.rstrip().endswith("2 verwerkt, 1 niet verwerkt."), mixed.output
    # A line without a reference in front is not silently dropped either.
    lost = run("review", "record", f"{first}: gestart", "gestart")
    assert lost.exit_code == 1 and 'Niet verwerkt: "gestart"' in lost.output, lost.output
    assert "1 verwerkt, 1 niet verwerkt." in lost.output
    assert (status_of(session_factory, first), status_of(session_factory, second)) == (S.IN_PROGRESS, S.IN_PROGRESS)
