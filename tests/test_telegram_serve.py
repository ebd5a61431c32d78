"""`meldpunt serve` with Telegram on, as a subprocess against our fake Bot API server: the whole path."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from tests.maildir_order import delivered
from tests.telegram_fake import FakeTelegram
from tests.test_mail_crash import Service, free_port
from tests.test_runners import until

ELS, STRANGER, COORDINATOR_USER = 1001, 666, 7000
COORDINATOR_CHAT = -1009876543210
ELS_MAIL = "els@clb-halle.example"


class TelegramService(Service):
    """The service with a Telegram token and our fake server as its Bot API."""

    def __init__(self, var_dir: Path, port: int, fake: FakeTelegram | None) -> None:
        """Point the service at the fake server, or leave Telegram off without one."""
        super().__init__(var_dir, port)
        self.fake = fake

    def environment(self) -> dict[str, str]:
        """The mail service's settings plus the Telegram ones."""
        env = super().environment()
        env["MELDPUNT_COORDINATOR_CHAT_ID"] = str(COORDINATOR_CHAT)
        env["MELDPUNT_OUTBOX"] = "maildir"  # the linking code is read from var/maildir, chosen on purpose
        if self.fake is not None:
            env.update({"MELDPUNT_TELEGRAM_TOKEN": self.fake.token, "MELDPUNT_TELEGRAM_API_URL": self.fake.base_url})
        return env

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another `meldpunt` command on the same installation."""
        return subprocess.run([sys.executable, "-m", "meldpunt", *args], check=False, env=self.environment(), cwd=self.var_dir.parent, capture_output=True,
                              text=True, timeout=60)


def code_in_maildir(var_dir: Path, address: str) -> str | None:
    """The linking code mailed to address; with MELDPUNT_OUTBOX=maildir the outbox writes to var/maildir."""
    for path in delivered(var_dir / "maildir" / "new"):
        mail = message_from_bytes(path.read_bytes(), policy=default)
        if address in str(mail["To"]):
            found = re.search(r"Je code: (\d{6})", mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
            if found:
                return found[1]
    return None


async def test_serve_links_a_staff_member_takes_a_referral_and_relays_the_coordinators_answer(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    async with FakeTelegram() as fake:
        service = TelegramService(var_dir, free_port(), fake)
        assert service.command("db", "upgrade").returncode == 0  # only `db upgrade` and `serve` make a database
        added = service.command("staff", "add", ELS_MAIL, "--name", "Els Janssens", "--clb", "Vrij CLB Halle")
        assert added.returncode == 0, added.stderr
        await asyncio.to_thread(service.start)
        try:
            fake.send_text(STRANGER, "/aanmelden")
            assert "geregistreerde CLB-medewerkers" in (await fake.wait_for_text(STRANGER, "CLB", timeout=30)).text
            fake.send_text(ELS, ELS_MAIL)
            await fake.wait_for_text(ELS, "code van 6 cijfers")
            await until(lambda: code_in_maildir(var_dir, ELS_MAIL), timeout=60, what="the linking code was mailed (the outbox runs every 5 s)")
            code = code_in_maildir(var_dir, ELS_MAIL)
            assert code
            fake.send_text(ELS, code)
            await fake.wait_for_text(ELS, "gekoppeld")
            fake.send_text(ELS, "/aanmelden")
            await fake.wait_for_text(ELS, "telefoonnummer")
            fake.send_text(ELS, "/vraag Is er plaats bij NAFT in Halle?")
            asked = await fake.wait_for_text(COORDINATOR_CHAT, "Vraag #1")
            fake.send_text(COORDINATOR_USER, "Ja, vanaf januari.", chat_id=COORDINATOR_CHAT, chat_type="supergroup", reply_to=asked.message_id)
            assert "vanaf januari" in (await fake.wait_for_text(ELS, "Antwoord van de coördinator")).text
        finally:
            await asyncio.to_thread(service.stop)
    assert any("Telegram staat aan (polling)" in line for line in service.output)
    assert not any(ELS_MAIL in line or code in line or fake.token in line for line in service.output), "no personal data or token in the log"


async def test_serve_without_a_token_runs_the_other_channels_and_says_telegram_is_off(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    service = TelegramService(var_dir, free_port(), None)
    await asyncio.to_thread(service.start)
    await until(lambda: any("Telegram" in line for line in service.output), timeout=60, what="serve says whether Telegram is on")
    await asyncio.to_thread(service.stop)
    assert any("Telegram staat uit" in line for line in service.output), service.output
