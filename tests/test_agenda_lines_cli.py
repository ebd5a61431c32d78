"""`meldpunt review record` takes the agenda's lines too (SQLite and PostgreSQL): each settles its item, mails go out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store.dispatch_models import ChangeStatus
from store.mail_models import OutboxStatus, QuestionStatus
from store.models import Staff
from tests.agenda_lines_fixtures import FAILED_SUBJECT, PROFO, make_waiting, offer_status, outbox_row, quarantine_open, question_of
from tests.mail_harness import NOW
from tests.test_cli_review import Runner, run  # noqa: F401 (the fixture)
from tests.test_decisions import ARKTOS, ELS, add_staff

S = Status


def test_review_record_settles_every_agenda_line(run: Runner, session_factory: sessionmaker[Session]) -> None:  # noqa: F811
    with session_factory.begin() as session:
        if session.scalars(select(Staff).where(Staff.email == ELS)).first() is None:
            add_staff(session)
        items = make_waiting(session, NOW, referral_status=S.IN_PROGRESS)
    done = run("review", "record", f"Vraag #{items.question}: Ja, dat kan.", f"Aanbod #{items.offer}: goedkeuren",
               f"Quarantaine #{items.quarantined}: afgehandeld", f"Mail #{items.failed}: opnieuw", f"{items.referral}: herinneren")
    assert done.exit_code == 0, done.output
    assert f"Verwerkt: Vraag #{items.question} is beantwoord; je antwoord is per e-mail doorgegeven" in done.output
    assert "5 verwerkt, 0 niet verwerkt." in done.output
    with session_factory() as session:
        assert question_of(session, items.question).status is QuestionStatus.ANSWERED
        assert offer_status(session, items.offer) is ChangeStatus.APPROVED
        assert not quarantine_open(session, items.quarantined)
        assert outbox_row(session, items.failed).status is OutboxStatus.SENT
    mails = run.mails()
    assert any(m.startswith(ELS) and "Ja, dat kan." in m for m in mails), "the asker gets the answer"
    assert any(m.startswith(PROFO) and "keurde je wijziging" in m for m in mails) and any(m.startswith(ARKTOS) and items.referral in m for m in mails)
    assert sum(m.startswith(ELS) and "Verzonden." in m for m in mails) == 1, f"the failed mail ({FAILED_SUBJECT}) really went out"

    again = run("review", "record", f"Vraag #{items.question}: nog eens", f"Mail #{items.failed}: afgehandeld")
    assert again.exit_code == 1 and f"Vraag #{items.question} bestaat niet of is al beantwoord." in again.output
    assert f"Mail #{items.failed} bestaat niet, is niet mislukt of is al afgehandeld." in again.output
