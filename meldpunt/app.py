"""Builds the application once from settings: database, catalogue, engine and workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING

from meldpunt.settings import Settings

# Each part imports what it needs when first used: a command pays for its own parts only
# (`meldpunt referrals list` must not load Telegram, mail and Alembic).
if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.desk import Desk
    from bot.telegram_bot import TelegramBot, TelegramConfig
    from desk.workflow import IntakeWorkflow
    from intake.catalogue import Catalogue
    from intake.dialogue import Intake
    from intake.workhours import WorkCalendar
    from mail.dispatcher import Dispatcher
    from mail.imap_poller import ImapConfig
    from mail.outbox import OutboxConfig, OutboxRunner
    from mail.processor import MailProcessor


def utc_now() -> datetime:
    """The real clock; only the composition root reads it, the core gets it passed in."""
    return datetime.now(timezone.utc)


@dataclass
class App:
    """The wired parts of the service, created lazily so each command pays only for what it uses."""

    settings: Settings
    create_database: bool = True  # False: a missing SQLite file is DatabaseMissing, not a new empty database

    @cached_property
    def engine(self) -> Engine:
        """The database engine, migrated to the newest schema on first use."""
        from meldpunt.startup import require_database
        from store.db import create_db_engine, is_current, upgrade_database
        from store.encryption import check_key, use_keys
        from store.figure_secret import use_secret

        if not self.create_database:
            require_database(self.settings)
        use_keys(self.settings.encryption_keys())  # before migrating: migration 0011 encrypts existing rows
        use_secret(self.settings.rapport_secret())  # the figures' pupil key: its file is made on a fresh install too
        url = self.settings.effective_database_url
        if not is_current(url):  # the check needs no Alembic: a command on a current database answers sooner
            upgrade_database(url)
        engine = create_db_engine(url)
        with engine.connect() as connection:
            check_key(connection)  # a wrong key is one sentence at start, not a failure at the first read
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Factory of database sessions (one per message or job)."""
        from store.db import make_session_factory

        return make_session_factory(self.engine)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The provider catalogue, validated, with the providers' approved changes laid over the file."""
        from desk.catalogue_changes import apply_approved
        from intake.catalogue_loader import load_catalogue

        # One indexed query; read once per process, so a running service sees new approvals at restart.
        with self.sessions() as session:
            return apply_approved(session, load_catalogue(self.settings.catalogue_path))

    def refresh_catalogue(self) -> bool:
        """Lay changes approved since start over the catalogue of the running service; True when it changed."""
        from desk.catalogue_changes import apply_approved
        from intake.catalogue_loader import load_catalogue
        from intake.dialogue import Intake
        from intake.questionnaire import load_questionnaire

        with self.sessions() as session:
            fresh = apply_approved(session, load_catalogue(self.settings.catalogue_path))
        if fresh == self.workflow.intake.catalogue:
            return False
        # Every channel reads workflow.intake at each message, so one assignment switches them all.
        self.workflow.intake = Intake(load_questionnaire(), fresh)
        self.__dict__["catalogue"] = fresh
        return True

    @cached_property
    def intake(self) -> Intake:
        """The dialogue engine over the questionnaire and catalogue."""
        from intake.dialogue import Intake
        from intake.questionnaire import load_questionnaire

        return Intake(load_questionnaire(), self.catalogue)

    @cached_property
    def workflow(self) -> IntakeWorkflow:
        """Stored conversations driven by the engine."""
        from desk.workflow import IntakeWorkflow

        return IntakeWorkflow(self.intake, self.sessions)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working time every reminder counts with (mail, Telegram, providers): one notion, with the closure days."""
        from intake.workhours import WorkCalendar

        return WorkCalendar(closures=frozenset(self.settings.closure_days))

    @cached_property
    def processor(self) -> MailProcessor:
        """Turns stored mail into referrals, replies and questions."""
        from mail.processor import MailProcessor
        from mail.replies import ProcessorConfig

        settings = self.settings
        config = ProcessorConfig(
            address=settings.mail_address, domain=settings.mail_domain, coordinator_email=settings.coordinator_email,
            allowed_domains=tuple(settings.allowed_domains), trusted_authserv_id=settings.trusted_authserv_id,
            auto_reply_limit=settings.auto_reply_limit, staff_form_reply_limit=settings.staff_form_reply_limit,
            reminder_hours=settings.question_reminder_hours if settings.coordinator_chat_id is None else None,
            calendar=self.calendar,
        )
        return MailProcessor(self.sessions, self.workflow, config, clock=utc_now)

    @cached_property
    def outbox(self) -> OutboxRunner:
        """Sends queued mail through the relay, or into var/maildir when chosen; else it keeps it queued."""
        from mail.outbox import OutboxRunner

        return OutboxRunner(self.sessions, self.outbox_config, clock=utc_now)

    @cached_property
    def outbox_config(self) -> OutboxConfig:
        """Where mail goes: MELDPUNT_OUTBOX, else the relay when one is set, else nowhere (never the disk by default)."""
        from mail.outbox import OutboxConfig

        settings = self.settings
        host, _, port = (settings.smtp_relay or "").partition(":")
        choice = settings.outbox or ("relay" if host else None)
        relay_port = int(port or 587)
        return OutboxConfig(
            from_address=settings.mail_address, from_name="Meldpunt Schoolexterne Interventies",
            domain=settings.mail_domain, relay_host=host if choice == "relay" and host else None, relay_port=relay_port,
            username=settings.smtp_username, password=settings.smtp_password, starttls=settings.smtp_starttls,
            implicit_tls=relay_port == 465, ca_file=settings.smtp_ca_file,  # 465: TLS from the start (RFC 8314)
            maildir=settings.var_dir / "maildir" if choice == "maildir" else None,
            coordinator_email=settings.coordinator_email, rate_per_minute=settings.send_rate_per_minute,
        )

    def mail_refusal(self) -> str | None:
        """Why serve must not start (Dutch): plaintext IMAP or relay beyond this machine, an unusable CA file."""
        imap = self.imap_config
        return (imap.refusal() if imap is not None else None) or self.outbox_config.refusal()

    @cached_property
    def desk(self) -> Desk:
        """The chat desk: linking, referrals, advice, catalogue and questions in chat."""
        from bot.desk import Desk, DeskConfig
        from intake.schedule import parse_moments
        from intake.vocabulary import Mode

        settings = self.settings
        config = DeskConfig(
            mode=Mode(settings.chat_personal_data), coordinator_chat_id=settings.coordinator_chat_id,
            coordinator_email=settings.coordinator_email, allowed_domains=tuple(settings.allowed_domains),
            mail_domain=settings.mail_domain, reminder_hours=settings.question_reminder_hours,
            calendar=self.calendar, dispatch_moments=parse_moments(settings.dispatch_times),
            accept_within_days=settings.accept_within_days,
        )
        processor = self.processor
        return Desk(self.workflow, self.sessions, config, clock=utc_now,
                    relay_by_mail=lambda session, question, answer, by, now: processor.relay_answer(session, question, answer=answer, by=by, now=now))

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """Runs the Wednesday/Friday batches and reminds providers; reads the workflow's current catalogue."""
        from intake.schedule import parse_moments
        from mail.dispatcher import DispatchConfig, Dispatcher

        settings = self.settings
        config = DispatchConfig(
            moments=parse_moments(settings.dispatch_times), calendar=self.calendar,
            reminder_days=settings.feedback_reminder_days, domain=settings.mail_domain, coordinator_email=settings.coordinator_email,
        )
        return Dispatcher(self.sessions, lambda: self.workflow.intake, config, clock=utc_now)

    @property
    def telegram_config(self) -> TelegramConfig | None:
        """How the bot reaches Telegram, when a token is configured; TelegramConfigError for an unsafe webhook."""
        from bot.telegram_bot import TelegramConfig

        settings = self.settings
        if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
            return None
        return TelegramConfig(
            token=settings.telegram_token.get_secret_value(), api_url=settings.telegram_api_url,
            webhook_url=settings.telegram_webhook_url, webhook_listen=settings.telegram_webhook_listen,
            webhook_secret=settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None,
            coordinator_chat_id=settings.coordinator_chat_id,
        )

    @property
    def telegram(self) -> TelegramBot | None:
        """The Telegram bot, when a token is configured."""
        from bot.telegram_bot import TelegramBot

        config = self.telegram_config
        return TelegramBot(config, self.desk) if config is not None else None

    @property
    def imap_config(self) -> ImapConfig | None:
        """The IMAP mailbox to poll, when one is configured."""
        from mail.imap_poller import ImapConfig

        settings = self.settings
        if not (settings.imap_host and settings.imap_username and settings.imap_password):
            return None
        return ImapConfig(
            host=settings.imap_host, port=settings.imap_port, username=settings.imap_username,
            password=settings.imap_password, ssl=settings.imap_ssl and not settings.imap_starttls,
            starttls=settings.imap_starttls, ca_file=settings.imap_ca_file, folder=settings.imap_folder,
            processed_folder=settings.imap_processed_folder, poll_seconds=settings.imap_poll_seconds,
        )
