"""Threading headers and subjects of our replies, read back from the real aiosmtpd sink (issue 11, point 18).

A reply must name the mail it answers exactly as its sender spelled the Message-ID (Thunderbird and
Apple Mail match them byte for byte), list every ID of the thread once, in order (RFC 5322 §3.6.4),
and carry a long subject whole, folded over lines of at most 998 bytes (RFC 5322 §2.1.1), never cut.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.mail_harness import MailHarness, running_harness

PARENT = "Ouder Peeters <ouder.peeters@gezin.example>"
PARENT_ADDRESS = "ouder.peeters@gezin.example"
# Gmail-style IDs: upper case, '=' and '+' are all part of what the next client compares.
ORIGINAL_ID = "<CAFx=Yz.Q9_AbC+Dq@Mail.Gmail.COM>"
FIRST_IN_THREAD = "<Thread-A.1@School.Example>"
SECOND_IN_THREAD = "<Thread-B.2@School.Example>"
_LINE_END = re.compile(rb"\r\n")


async def _reply_to(h: MailHarness, mail: EmailMessage) -> EmailMessage:
    """Send mail to the intake, let the desk answer, and return the answer as the parent receives it."""
    await h.send(mail)
    await h.process()
    (answer,) = h.inbox(PARENT_ADDRESS)
    return answer


def _raw_reply(h: MailHarness) -> bytes:
    """The bytes of the one mail the sink received for the parent."""
    (delivery,) = [d for d in h.all_deliveries() if PARENT_ADDRESS in d.rcpt_tos]
    return delivery.raw


async def test_a_reply_keeps_the_message_id_as_spelled_and_lists_each_id_once(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """In-Reply-To is the original's ID byte for byte; References is the thread, then that ID, each once."""
    async with running_harness(session_factory, tmp_path) as h:
        mail = h.new_mail(PARENT, "Vraag over mijn zoon", "Dag, kan mijn zoon bij jullie terecht?")
        mail.replace_header("Message-ID", ORIGINAL_ID)
        mail["In-Reply-To"] = SECOND_IN_THREAD
        # A client that repeats an ID (in another case): still one entry in our References.
        mail["References"] = f"{FIRST_IN_THREAD} {SECOND_IN_THREAD.lower()} {SECOND_IN_THREAD}"
        answer = await _reply_to(h, mail)
    assert str(answer["In-Reply-To"]) == ORIGINAL_ID
    assert str(answer["References"]).split() == [FIRST_IN_THREAD, SECOND_IN_THREAD.lower(), ORIGINAL_ID]


async def test_a_reply_to_a_mail_with_only_in_reply_to_threads_under_it(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """No References in the original: its In-Reply-To, then its own ID (RFC 5322 §3.6.4)."""
    async with running_harness(session_factory, tmp_path) as h:
        mail = h.new_mail(PARENT, "Nog een vraag", "Dag, nog een vraag over de aanmelding.")
        mail.replace_header("Message-ID", ORIGINAL_ID)
        mail["In-Reply-To"] = FIRST_IN_THREAD
        answer = await _reply_to(h, mail)
    assert str(answer["In-Reply-To"]) == ORIGINAL_ID
    assert str(answer["References"]).split() == [FIRST_IN_THREAD, ORIGINAL_ID]


async def test_a_long_subject_is_folded_whole_not_cut(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """A 1,600-character subject (accents and one long unbroken word) arrives whole, no line over 998 bytes."""
    words = " ".join(f"leerling{n} één" for n in range(120))
    subject = f"Vraag {words} https://school.example/{'x' * 300} einde"
    assert len(subject.encode()) > 1_600
    async with running_harness(session_factory, tmp_path) as h:
        answer = await _reply_to(h, h.new_mail(PARENT, subject, "Dag, zie het onderwerp."))
        raw = _raw_reply(h)
    assert str(answer["Subject"]) == f"Re: {subject}"
    assert max(len(line) for line in _LINE_END.split(raw)) <= 998
