"""Linking a Telegram account to a CLB staff member: an e-mailed code, and what strangers may do meanwhile."""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from bot.chat import Answer, ChatEvent, Reply, Scope, chat_text
from bot.handlers import catalogue
from intake.permissions import may_refer
from intake.texts import compose_mail
from store import outbox, telegram
from store import staff as staff_repo
from store.mail_models import MailKind
from store.models import Staff

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_CODE = re.compile(r"^\d{6}$")


def stranger(scope: Scope, event: ChatEvent) -> Answer:
    """Someone not linked: the public catalogue, or linking by address and code."""
    if event.edited:
        return Answer([Reply(chat_text("edit_not_read"))])
    if event.command == "start":
        return Answer([Reply(chat_text("welcome_unlinked"))])
    if event.command == "aanbod":
        return catalogue.command(scope, event)
    if event.command == "help":
        return Answer([Reply(chat_text("help_unlinked"))])
    if event.button is not None:
        return Answer([Reply(chat_text("link_first"))], toast=chat_text("stale"), clear_pressed=True)
    text = (event.text or "").strip()
    if _EMAIL.match(text):
        return Answer([Reply(_send_code(scope, event.user_id, text))])
    if _CODE.match(text.replace(" ", "")):
        return Answer([Reply(_check_code(scope, event.user_id, text.replace(" ", "")))])
    return Answer([Reply(chat_text("link_first" if event.command else "help_unlinked"))])


def ended(event: ChatEvent) -> Answer:
    """A removed staff member's account writes: its access ended (the link was already refused)."""
    log.info("telegram-account losgekoppeld: de medewerker is verwijderd")
    return Answer([Reply(chat_text("access_ended"))], clear_pressed=event.button is not None)


def welcome(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/start for a linked staff member: what the assistant does."""
    return Answer([Reply(chat_text("welcome_linked", name=staff.name))])


def unlink(scope: Scope, event: ChatEvent, staff: Staff) -> Answer:
    """/ontkoppel: this account no longer acts for the staff member."""
    telegram.unlink_user(scope.session, event.user_id)
    return Answer([Reply(chat_text("unlinked_done"))])


def revocations(session: Session) -> list[Reply]:
    """The access-ended message for each account of a removed staff member, unlinked now."""
    accounts = telegram.revoked_accounts(session)
    if accounts:
        log.info("%s telegram-account(s) losgekoppeld: medewerker verwijderd", len(accounts))
    # A revoked link is a private chat with that account: the chat id is the user id.
    return [Reply(chat_text("access_ended"), chat_id=user_id) for user_id in accounts]


def _send_code(scope: Scope, user_id: int, email: str) -> str:
    """Mail a code when the address may link; the answer is the same either way (no address probing)."""
    now, session = scope.clock(), scope.session
    if telegram.codes_last_hour(session, user_id, now=now) >= telegram.MAX_CODES_PER_HOUR:
        return chat_text("too_many_codes")
    # Counted for unknown addresses too, so this answer says nothing about who is registered.
    if telegram.codes_last_hour_for_address(session, email, now=now) >= telegram.MAX_CODES_PER_ADDRESS:
        log.info("koppelcode geweigerd: te veel codes voor één adres in het voorbije uur")
        return chat_text("too_many_codes_address")
    if not _may_link(scope, email):
        telegram.new_code(session, user_id, email, now=now)  # counts towards the limits; never mailed
        log.info("koppelcode gevraagd voor een adres dat niet mag koppelen")
        return chat_text("code_sent", email=email)
    code = telegram.new_code(session, user_id, email, now=now)
    outbox.enqueue_mail(session, compose_mail("mail/link_code.txt.j2", code=code), kind=MailKind.LINK_CODE, to=email,
                        domain=scope.config.mail_domain, now=now)
    log.info("koppelcode gemaild")
    return chat_text("code_sent", email=email)


def _check_code(scope: Scope, user_id: int, typed: str) -> str:
    """Link the account when the code is right, and say how it went."""
    now, session = scope.clock(), scope.session
    if not telegram.has_pending_code(session, user_id):
        return chat_text("code_none")
    outcome, email = telegram.check_code(session, user_id, typed, now=now)
    if outcome is telegram.CodeCheck.EXPIRED:
        return chat_text("code_expired")
    if outcome is telegram.CodeCheck.WRONG:
        return chat_text("code_wrong", left=telegram.attempts_left(session, user_id))
    if outcome is telegram.CodeCheck.NONE or email is None:
        return chat_text("code_none")
    if not _may_link(scope, email):
        # A code that was never mailed (unknown or removed address) was guessed: it links nothing.
        log.warning("geraden koppelcode voor een adres dat niet mag koppelen")
        return chat_text("code_none")
    staff = staff_repo.get_active_staff(session, email)
    if staff is None:
        # An allowed CLB domain: registered now; name and CLB are asked in the first referral.
        staff = staff_repo.add_staff(session, email=email, name="", clb="", now=now)
    telegram.link(session, user_id, staff, now=now)
    log.info("telegram-account gekoppeld aan medewerker %s", staff.id)
    return chat_text("code_linked", name=staff.name)


def _may_link(scope: Scope, email: str) -> bool:
    """Registered staff, or a new address of an allowed CLB domain; never a removed member (the core's rule)."""
    registered = staff_repo.get_active_staff(scope.session, email) is not None
    removed = not registered and staff_repo.was_removed(scope.session, email)
    return may_refer(registered=registered, removed=removed, address=email, allowed_domains=scope.config.allowed_domains)
