"""Identifying data encrypted at rest (SQLite and PostgreSQL): a copied database file, read without the key, shows no pupil.

What a DPO would check: after a referral by mail and by chat the database file (its raw bytes; on
PostgreSQL every row read as text, without our types) holds no name; the app reads everything back
unchanged; rows made before migration 0011 are encrypted by it and decrypted by its downgrade; a wrong
key is refused at start with one Dutch sentence; a rotated key keeps the data readable; a fresh install
makes its own private key file.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from intake.lifecycle import Status
from intake.vocabulary import Mode
from meldpunt.app import App
from meldpunt.settings import Settings
from store import encryption
from store.db import alembic_config, create_db_engine, make_session_factory, upgrade_database
from store.mail_models import InboundMail, OutboxMessage, Question
from store.models import Conversation, Referral
from tests.mail_harness import MailHarness, running_harness
from tests.telegram_harness import running_chat
from tests.test_mail_processor import ELS, complete_form
from tests.test_retention import T0, live
from tests.test_telegram import ELS as ELS_CHAT
from tests.test_telegram import ELS_MAIL, answer_all, staff_with_link

# What the test pupils are called and where they can be reached, as a copied file would be searched.
MAIL_PUPIL = ("Peeters", "Zo\u00eb", "Sint-Jozefscollege")
CHAT_PUPIL = ("An Peeters", "an.peeters@school.example", "Komt nog twee dagen")


@pytest.fixture(autouse=True)
def restore_keys() -> Iterator[None]:
    """Each test ends on the session's key again (use_keys is process-wide)."""
    yield
    encryption.use_keys(None)


def stored_text(database_url: str) -> str:
    """Everything the database holds, read without the key: the SQLite files' bytes, or each PostgreSQL row as text."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        files = [Path(f"{url.database}{suffix}") for suffix in ("", "-wal")]
        return "".join(path.read_bytes().decode("utf-8", "replace") for path in files if path.exists())
    engine = create_engine(url)  # plain SQLAlchemy: no types of ours, no key
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            return "\n".join(str(row) for table in tables for row in connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars())
    finally:
        engine.dispose()


def assert_hidden(database_url: str, secrets: tuple[str, ...]) -> None:
    """None of secrets appears in the stored data."""
    stored = stored_text(database_url)
    for secret in secrets:
        assert secret not in stored, f"{secret!r} readable in the database without the key"


@pytest.fixture
async def harness(session_factory: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[MailHarness]:
    """The wired mail channel with Els registered."""
    async with running_harness(session_factory, tmp_path) as wired:
        wired.add_staff(ELS, "Els Janssens", "Vrij CLB Halle")
        yield wired


async def test_a_referral_by_mail_leaves_no_name_in_the_database(harness: MailHarness, database_url: str) -> None:
    """The form mail, its confirmation and the referral: names only in encrypted form, read back unchanged."""
    await harness.send(harness.new_mail(ELS, "Aanmelding", complete_form()))
    await harness.process()
    with harness.sessions() as session:
        (referral,) = session.scalars(select(Referral)).all()
        assert referral.status is Status.QUEUED and referral.answers["pupil_last_name"] == "Peeters"
        (mail,) = session.scalars(select(InboundMail)).all()
        assert b"Peeters" in mail.raw and mail.envelope_from == ELS
        assert any("MSI-2026-0001" in m.subject for m in session.scalars(select(OutboxMessage)))
    assert_hidden(database_url, MAIL_PUPIL)


async def test_a_referral_by_chat_leaves_no_name_in_the_database(session_factory: sessionmaker[Session], tmp_path: Path,
                                                                 database_url: str) -> None:
    """A minimal referral in Telegram: the contact's name and address only in encrypted form."""
    async with running_chat(session_factory, tmp_path, mode=Mode.MINIMAL) as h:
        staff_with_link(h, ELS_CHAT, ELS_MAIL, "Els Janssens", "Vrij CLB Halle")
        await h.say(ELS_CHAT, "/aanmelden")
        await answer_all(h, ELS_CHAT)
        await h.press(ELS_CHAT, "Bevestigen", message=h.fake.messages_to(ELS_CHAT)[-1])
        await h.deliver_mail()
    with session_factory() as session:
        (referral,) = session.scalars(select(Referral)).all()
        assert referral.status is Status.AWAITING_DETAILS and "An Peeters" in referral.answers.values()
    assert_hidden(database_url, CHAT_PUPIL)


def test_the_migration_encrypts_older_rows_and_its_downgrade_decrypts_them(session_factory: sessionmaker[Session],
                                                                           database_url: str) -> None:
    """Rows made at 0010 are encrypted by 0011 and read back as they were; going back to 0010 shows them plain."""
    live(session_factory, T0)
    before = everything(session_factory)
    command.downgrade(alembic_config(database_url), "0010")
    assert "Peeters" in stored_text(database_url), "the downgrade leaves readable data, as before 0011"
    upgrade_database(database_url)
    assert_hidden(database_url, ("Peeters", "Zo\u00eb"))
    assert everything(make_session_factory(create_db_engine(database_url))) == before


def everything(sessions: sessionmaker[Session]) -> list[object]:
    """Every encrypted value, as the app reads it."""
    with sessions() as session:
        return [
            [r.answers for r in session.scalars(select(Referral).order_by(Referral.id))],
            [c.state for c in session.scalars(select(Conversation).order_by(Conversation.id))],
            [(m.raw, m.envelope_from) for m in session.scalars(select(InboundMail).order_by(InboundMail.id))],
            [(m.subject, m.body_text, m.body_html, m.attachments) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))],
            [(q.text, q.answer, q.context) for q in session.scalars(select(Question).order_by(Question.id))],
        ]


def test_rotation_keeps_the_data_readable(session_factory: sessionmaker[Session], database_url: str) -> None:
    """Re-encrypted under a new key (the old one given), everything reads the same with only the new key."""
    live(session_factory, T0)
    before = everything(session_factory)
    old = encryption.parse_keys(os.environ[encryption.KEY_ENV])
    new = encryption.new_key()
    encryption.use_keys([new, *old])
    with session_factory.kw["bind"].begin() as connection:
        assert encryption.rewrite_all(connection, encryption.rotate) > 0
    encryption.use_keys([new])
    assert everything(session_factory) == before
    encryption.use_keys(old)
    with pytest.raises(encryption.EncryptionKeyError):
        everything(session_factory)


def meldpunt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command and return what it printed."""
    return subprocess.run([sys.executable, "-m", "meldpunt", *args], env=env, capture_output=True, text=True, timeout=60)


def test_a_wrong_key_is_refused_with_one_dutch_sentence(session_factory: sessionmaker[Session], database_url: str,
                                                        tmp_path: Path) -> None:
    """A command started with another key than the data's says so, naming the setting, and shows no key."""
    live(session_factory, T0)
    other = encryption.new_key()
    env = {**os.environ, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"),
           "MELDPUNT_ENCRYPTION_KEY": other}
    result = meldpunt(env, "referrals", "list")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "De sleutel past niet bij de versleutelde gegevens" in result.stderr
    assert "MELDPUNT_ENCRYPTION_KEY" in result.stderr and other not in result.stderr + result.stdout


def test_a_fresh_install_makes_a_private_key_file_outside_the_database(tmp_path: Path) -> None:
    """No key configured: the first start writes var/meldpunt.key (0600) and the data is readable with it."""
    settings = Settings(var_dir=tmp_path / "var", encryption_key=None, encryption_key_file=None)
    app = App(settings)
    live(app.sessions, T0)
    key_file = tmp_path / "var" / "meldpunt.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert encryption.parse_keys(key_file.read_text()) == settings.encryption_keys(), "the second start reads the same key"
    assert_hidden(settings.effective_database_url, ("Peeters", key_file.read_text().strip()))
    with app.sessions() as session:
        assert session.scalars(select(Referral)).first() is not None


def key_env(database_url: str, tmp_path: Path, key_file: Path) -> dict[str, str]:
    """The environment of a command whose key comes from key_file only."""
    env = {key: value for key, value in os.environ.items() if key != encryption.KEY_ENV}
    return {**env, "MELDPUNT_DATABASE_URL": database_url, "MELDPUNT_VAR_DIR": str(tmp_path / "var"),
            "MELDPUNT_ENCRYPTION_KEY_FILE": str(key_file)}


def test_the_rotate_command_puts_everything_under_a_new_key(session_factory: sessionmaker[Session], database_url: str,
                                                            tmp_path: Path) -> None:
    """`privacy sleutel roteer`: the key file ends with one new key that opens everything; the old one no longer does."""
    live(session_factory, T0)
    before = everything(session_factory)
    old = encryption.parse_keys(os.environ[encryption.KEY_ENV])
    key_file = tmp_path / "meldpunt.key"
    encryption.write_key_file(key_file, old)
    result = meldpunt(key_env(database_url, tmp_path, key_file), "privacy", "sleutel", "roteer")
    assert result.returncode == 0, result.stderr
    assert "staan nu onder een nieuwe sleutel" in result.stdout and "apart van de back-ups" in result.stdout
    (new,) = encryption.parse_keys(key_file.read_text())
    assert new not in result.stdout and new != old[0] and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    encryption.use_keys([new])
    assert everything(session_factory) == before
    encryption.use_keys(old)
    with pytest.raises(encryption.EncryptionKeyError):
        everything(session_factory)


def test_the_make_command_writes_a_private_key_file_once(tmp_path: Path) -> None:
    """`privacy sleutel maak` writes a 0600 key file and refuses to overwrite one (that would lose the data)."""
    key_file = tmp_path / "sleutels" / "meldpunt.key"
    env = key_env("sqlite:///" + str(tmp_path / "db.sqlite3"), tmp_path, key_file)
    made = meldpunt(env, "privacy", "sleutel", "maak")
    assert made.returncode == 0 and "apart van de back-ups" in made.stdout, made.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(encryption.parse_keys(key_file.read_text())) == 1
    first = key_file.read_text()
    again = meldpunt(env, "privacy", "sleutel", "maak")
    assert again.returncode != 0 and "Er staat al een sleutel" in again.stderr and key_file.read_text() == first


def test_a_missing_key_file_is_told_not_replaced(database_url: str, tmp_path: Path) -> None:
    """A configured key file that is gone is not silently replaced by a new key (that would hide the data for good)."""
    key_file = tmp_path / "weg" / "meldpunt.key"
    result = meldpunt(key_env(database_url, tmp_path, key_file), "referrals", "list")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "Er is geen sleutel voor de versleutelde gegevens" in result.stderr and str(key_file) in result.stderr
    assert not key_file.exists()


def test_db_upgrade_on_a_fresh_install_makes_the_key_file(tmp_path: Path) -> None:
    """`meldpunt db upgrade` with no key set: var/meldpunt.key appears (0600), beside the database file."""
    env = {key: value for key, value in os.environ.items() if key != encryption.KEY_ENV}
    env["MELDPUNT_VAR_DIR"] = str(tmp_path / "var")
    result = meldpunt(env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "var" / "meldpunt.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and (tmp_path / "var" / "meldpunt.db").exists()


def test_a_key_file_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    """Like the database file: a key file others may read gets the Dutch warning with the chmod to fix it."""
    env = {key: value for key, value in os.environ.items() if key != encryption.KEY_ENV}
    env["MELDPUNT_VAR_DIR"] = str(tmp_path / "var")
    assert meldpunt(env, "db", "upgrade").returncode == 0
    key_file = tmp_path / "var" / "meldpunt.key"
    key_file.chmod(0o644)
    warned = meldpunt(env, "staff", "list")
    assert f"{key_file} is leesbaar voor andere gebruikers" in warned.stderr and "chmod 600" in warned.stderr, warned.stderr
