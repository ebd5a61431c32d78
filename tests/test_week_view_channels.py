"""The week view in its two channels: /week in the coordinator's Telegram chat only, and `meldpunt week` (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from store.audit import AuditAction, AuditChannel, AuditPurpose
from store.models import AuditEntry, Staff
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, ChatHarness, running_chat
from tests.test_cli_review import Runner
from tests.test_decisions import ELS, add_staff, make_referral

S = Status
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def made(h: ChatHarness, status: Status, *, at: datetime) -> str:
    """A referral of Els in this status, submitted at `at`; its reference."""
    with h.mail.sessions.begin() as session:
        els = session.scalars(select(Staff).where(Staff.email == ELS)).one()
        return make_referral(session, status, staff=els, now=at).reference or ""


async def coordinator(h: ChatHarness, text: str) -> str:
    """What the bot answers the coordinator in their chat."""
    return (await h.say(COORDINATOR_USER, text, chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text


def shown_line(text: str, label: str, reference: str) -> str:
    """The action line the view shows for a referral."""
    found = [line.strip().removeprefix(f"{label}: ") for line in text.splitlines() if line.strip().startswith(f"{label}: {reference}:")]
    assert len(found) == 1, text
    return found[0]


def week_reads(session_factory: sessionmaker[Session]) -> list[AuditEntry]:
    """The audit rows of week views read."""
    with session_factory() as session:
        return [e for e in session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.LIST_READ.value)) if (e.detail or "").startswith("week:")]


async def test_week_in_the_coordinators_chat_and_its_lines_move_a_referral(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        h.register(ELS, "Els Janssens", "Vrij CLB Halle")
        h.link(1001, ELS)
        h.mail.clock.now = MONDAY
        reference = made(h, S.QUEUED, at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
        view = await coordinator(h, "/week")
        assert view.startswith("Weekoverzicht verzendingen – stand van 30/11/2026 11:00")
        assert "Verzending woensdag 02/12/2026 om 09:00" in view and "Verzending vrijdag 04/12/2026 om 09:00" in view
        assert reference in view.split("Gaat mee (1)")[1].split("Wordt vastgehouden")[0] and "Zoë" not in view
        hold = shown_line(view, "tegenhouden", reference)
        assert hold == f"{reference}: vasthouden - reden"
        answer = await coordinator(h, hold.replace("reden", "eerst de school bellen"))
        assert answer.startswith(f"✅ {reference} staat nu op '{S.NEEDS_REVIEW.label}'")
        held = await coordinator(h, "/week")
        assert "Gaat mee: niets" in held and f"{reference} · 2 werkdagen · vastgehouden: eerst de school bellen" in held
        await coordinator(h, shown_line(held, "vrijgeven", reference))
        again = await coordinator(h, "/week")
        assert reference in again.split("Gaat mee (1)")[1] and "Wordt vastgehouden: niets" in again
        # In a staff member's own chat, /week is no command of theirs: no view, no referral.
        assert "/week" in await coordinator(h, "/help")
        staff_answer = " ".join(m.text for m in await h.say(1001, "/week"))
        assert "Weekoverzicht" not in staff_answer and reference not in staff_answer
        menus = {key: [c["command"] for c in commands] for key, commands in h.fake.commands.items()}
        coordinator_menus = [key for key in menus if str(COORDINATOR_CHAT) in key]
        assert coordinator_menus and [key for key, names in menus.items() if "week" in names] == coordinator_menus, "in the coordinator's menu only"
    reads = week_reads(session_factory)
    assert len(reads) == 3, "each view read is in the audit, as `meldpunt week`'s"
    assert {(r.channel, r.purpose, r.actor) for r in reads} == {(AuditChannel.TELEGRAM.value, AuditPurpose.REVIEW.value,
                                                                 f"coördinator (telegram {COORDINATOR_USER})")}
    assert reads[0].detail == "week: 1 aanmeldingen" and reads[0].referral_id is None


def test_meldpunt_week_shows_the_view_and_is_audited(database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with session_factory.begin() as session:
        queued = make_referral(session, S.QUEUED, staff=add_staff(session)).reference or ""
    run = Runner(database_url, tmp_path / "var")
    result = run("week")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Weekoverzicht verzendingen – stand van ") and "Verzending " in result.output
    assert f"tegenhouden: {queued}: vasthouden - reden" in result.output.split("Gaat mee (1)")[1]
    assert "Zoë" not in result.output and "Peeters" not in result.output
    (read,) = week_reads(session_factory)
    assert (read.channel, read.purpose, read.detail) == (AuditChannel.CLI.value, AuditPurpose.REVIEW.value, "week: 1 aanmeldingen")
    assert "week" in run("--help").output
