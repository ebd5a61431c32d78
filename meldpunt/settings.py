"""Settings, read once from MELDPUNT_* environment variables or a settings file (meldpunt.env)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from intake.retention import RetentionPeriods

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Settings(BaseSettings):
    """Every setting of the service; defaults run it embedded (SQLite, bundled catalogue)."""

    model_config = SettingsConfigDict(
        env_prefix="MELDPUNT_", env_file="meldpunt.env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(default=Path("var"), description="Map voor de databank en lokale bestanden.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy-URL; standaard een SQLite-bestand in var_dir."
    )
    catalogue_path: Path | None = Field(
        default=None, description="Het aanbod (YAML); standaard store/catalogue.yaml."
    )
    log_level: str | None = Field(
        default=None, description="DEBUG, INFO, WARNING of ERROR; standaard INFO voor serve, WARNING voor de rest."
    )

    mail_address: str = Field(
        default="meldpunt@localhost", description="Het adres van het Meldpunt: aanmeldingen komen hierop binnen."
    )
    coordinator_email: str | None = Field(
        default=None, description="Adres van de coördinator: vragen, quarantaine en alarmen gaan hierheen."
    )
    allowed_domains: Annotated[list[str], NoDecode] = Field(
        default=[], description="Domeinen van CLB's waarvan elk adres mag aanmelden (komma-gescheiden)."
    )
    trusted_authserv_id: str | None = Field(
        default=None, description="authserv-id van de eigen mailserver; dan is een DMARC-pass verplicht."
    )
    allow_unauthenticated: bool = Field(
        default=False, description="serve mag buiten loopback luisteren zonder trusted_authserv_id (vertrouwde interne relay)."
    )
    smtp_trusted_relays: Annotated[list[str], NoDecode] = Field(
        default=["127.0.0.1", "::1"],
        description="IP-adressen van de eigen mailserver vóór de SMTP-ontvanger; enkel hun Authentication-Results tellen.",
    )
    auto_reply_limit: int = Field(default=10, description="Automatische antwoorden per adres per dag.")
    staff_form_reply_limit: int = Field(
        default=50, ge=1,
        description="Antwoorden op eigen formulieren van een geregistreerde medewerker per dag (los van auto_reply_limit; tegen mailloops).",
    )
    smtp_listen: str | None = Field(
        default="127.0.0.1:8025", description="host:poort van de SMTP-ontvanger; leeg = uit."
    )
    smtp_size_limit: int = Field(default=10 * 1024 * 1024, gt=0, description="Grootste mail in bytes (SIZE).")
    smtp_max_connections: int = Field(
        default=50, ge=1, description="Hoogstens zoveel SMTP-verbindingen tegelijk; een extra krijgt 421."
    )
    smtp_max_connections_per_ip: int = Field(
        default=10, ge=1, description="Hoogstens zoveel SMTP-verbindingen tegelijk van één IP-adres; een extra krijgt 421."
    )
    smtp_max_recipients: int = Field(
        default=10, ge=1, description="Hoogstens zoveel ontvangers per mail; de volgende krijgen 452."
    )
    smtp_max_data_bytes: int | None = Field(
        default=None, gt=0,
        description="Hoogstens zoveel bytes mail tegelijk in ontvangst (alle verbindingen samen); leeg = 4 x smtp_size_limit; meer = 451.",
    )
    smtp_relay: str | None = Field(
        default=None, description="host:poort van de uitgaande mailserver (poort 465 = TLS, anders STARTTLS)."
    )
    outbox: Literal["relay", "maildir"] | None = Field(
        default=None,
        description="Waar uitgaande mail heen gaat: relay (standaard met smtp_relay) of maildir (var/maildir, bewust te kiezen); anders nergens.",
    )
    smtp_username: str | None = Field(default=None, description="Login op de relay.")
    smtp_password: SecretStr | None = Field(default=None, description="Wachtwoord op de relay.")
    smtp_starttls: bool = Field(default=True, description="STARTTLS verplicht (behalve naar 127.0.0.1).")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA-certificaat (PEM) van een eigen CA voor de relay; leeg = de CA's van het systeem."
    )
    imap_host: str | None = Field(default=None, description="IMAP-server van de Meldpunt-mailbox; leeg = uit.")
    imap_port: int = Field(default=993, description="IMAP-poort.")
    imap_username: str | None = Field(default=None, description="IMAP-login.")
    imap_password: SecretStr | None = Field(default=None, description="IMAP-wachtwoord.")
    imap_ssl: bool = Field(default=True, description="IMAP over TLS (poort 993).")
    imap_starttls: bool = Field(default=False, description="STARTTLS op poort 143 in plaats van TLS op 993.")
    imap_ca_file: Path | None = Field(
        default=None, description="CA-certificaat (PEM) van een eigen CA voor de IMAP-server; leeg = de CA's van het systeem."
    )
    imap_folder: str = Field(default="INBOX", description="Map die gelezen wordt.")
    imap_processed_folder: str | None = Field(default="Verwerkt", description="Map voor verwerkte mails.")
    imap_poll_seconds: int = Field(default=60, description="Om de hoeveel seconden, als IDLE ontbreekt.")

    telegram_token: SecretStr | None = Field(
        default=None, description="Token van de Telegram-bot (van @BotFather); leeg = Telegram staat uit."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API-server; een eigen server (telegram-bot-api) mag."
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Publieke https-URL voor webhook-modus; leeg = polling (standaard)."
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1:8443", description="host:poort waarop de webhook luistert (achter een reverse proxy)."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Geheim dat Telegram meestuurt met elke webhook-oproep; verplicht in webhook-modus (32-256 tekens A-Z a-z 0-9 _ -)."
    )
    coordinator_chat_id: int | None = Field(
        default=None, description="Telegram-chat van de coördinator: vragen en herinneringen komen daar."
    )
    chat_personal_data: Literal["minimal", "full"] = Field(
        default="minimal", description="minimal: initialen en geboortejaar in de chat, de rest per e-mail; full: alles in de chat."
    )
    question_reminder_hours: float = Field(
        default=8, description="Na zoveel werkuren zonder antwoord wordt een vraag opnieuw aan de coördinator gestuurd."
    )

    dispatch_times: str = Field(
        default="wo 09:00, vr 09:00", description="Verzendmomenten naar de aanbieders (Brusselse tijd), komma-gescheiden."
    )
    closure_days: Annotated[list[date], NoDecode] = Field(
        default=[], description="Sluitingsdagen van het Meldpunt (JJJJ-MM-DD, komma-gescheiden), naast de Belgische feestdagen."
    )
    feedback_reminder_days: int = Field(
        default=10, ge=1, description="Werkdagen zonder nieuws van een aanbieder tot een herinnering; nog eens zoveel tot de coördinator het hoort."
    )
    accept_within_days: int = Field(
        default=5, ge=1, description="Werkdagen na de verzending (of de laatste herinnering) tot een niet-aanvaarde aanmelding op je agenda komt."
    )
    digest_time: time = Field(
        default=time(8, 0), description="Vanaf dit uur (Brusselse tijd, UU:MM) gaat het ochtendoverzicht naar de coördinator, op werkdagen."
    )
    bevraging_herinnering_dagen: int = Field(
        default=14, ge=1, description="Dagen na de bevraging tot wie nog niet antwoordde één herinnering krijgt."
    )
    send_rate_per_minute: float | None = Field(
        default=30, description="Hoogstens zoveel mails per minuut naar de relay (Exchange Online: 30); leeg = geen grens."
    )
    watchdog_minutes: int = Field(
        default=15, ge=1, description="Wacht een mail zolang onverwerkt of onverstuurd, dan krijgt de coördinator een alarm."
    )
    watchdog_failures: int = Field(
        default=3, ge=1, description="Mislukt een onderdeel van serve zoveel keer na elkaar, dan krijgt de coördinator een alarm."
    )
    # Five years: the Belgian limitation period for claims (art. 2262bis BW), so who saw a pupil's data can be
    # shown as long as anyone can still call the Meldpunt to account for it; also the floor the database holds
    # (migration 0009 refuses to delete younger audit rows), so it can be longer, never shorter.
    retention_audit_days: int = Field(
        default=1827, ge=1827, description="Zoveel dagen blijft een regel van het auditlogboek bewaard (minstens 5 jaar)."
    )
    # The retention table (intake.retention.RetentionPeriods; why each default: README, "Bewaartermijnen").
    retention_inbound_days: int = Field(
        default=30, ge=1, description="Zoveel dagen na de verwerking worden de inhoud en de afzender van een ontvangen mail gewist."
    )
    retention_outbox_days: int = Field(
        default=30, ge=1, description="Zoveel dagen na het versturen worden het onderwerp, de tekst en de bijlagen van een verstuurde mail gewist."
    )
    retention_draft_days: int = Field(
        default=30, ge=1, description="Zoveel dagen na de laatste stap worden een onderbroken gesprek en een verlaten concept gewist."
    )
    retention_draft_warning_days: int = Field(
        default=7, ge=1, description="Zoveel dagen vóór het wissen krijgt de medewerker één herinnering per mail."
    )
    retention_question_days: int = Field(
        default=365, ge=1, description="Zoveel dagen na het antwoord wordt een vraag aan de coördinator gewist."
    )
    retention_referral_school_years: int = Field(
        default=1, ge=1,
        description="Zoveel schooljaren na het schooljaar waarin een aanmelding afgesloten werd, worden haar identificerende antwoorden gepseudonimiseerd.",
    )

    # Encryption at rest (store.encryption): the key never goes in the database, so a copied database file shows no names.
    encryption_key: SecretStr | None = Field(
        default=None, description="Sleutel(s) voor de versleutelde gegevens, komma-gescheiden, de eerste is de huidige; anders het sleutelbestand.",
    )
    encryption_key_file: Path | None = Field(
        default=None, description="Sleutelbestand (0600) buiten de databank; standaard var_dir/meldpunt.key, gemaakt bij de eerste start.",
    )

    # The figures' pupil key (store.figures): a keyed hash, so the secret stays outside the database like the encryption key.
    rapport_sleutel: SecretStr | None = Field(
        default=None, description="Geheim voor de leerlingsleutel van de cijfers (telt unieke leerlingen zonder namen); anders het sleutelbestand.",
    )
    rapport_sleutel_file: Path | None = Field(
        default=None, description="Bestand (0600) met dat geheim buiten de databank; standaard var_dir/rapport.key, gemaakt bij de eerste start.",
    )

    # The public website (meldpunt site bouwen; served by `meldpunt serve`): only public information, see README "De website".
    site_listen: str | None = Field(
        default="127.0.0.1:8080", description="host:poort waarop serve de website toont; leeg = uit."
    )
    site_public: bool = Field(
        default=False, description="De website mag buiten loopback luisteren (ze toont enkel openbare gegevens); anders weigert serve dat."
    )
    site_dir: Path | None = Field(
        default=None, description="Map waarin serve de website bouwt en waaruit hij ze toont; standaard var_dir/site."
    )
    site_url: str | None = Field(
        default=None, description="Het publieke webadres van de website (voor de sitemap); leeg = http://<site_listen>/."
    )
    telegram_username: str | None = Field(
        default=None, description="Gebruikersnaam van de Telegram-bot zonder @, voor de t.me-link op de website; leeg = geen link."
    )

    @field_validator("outbox", "smtp_ca_file", "imap_ca_file", "smtp_max_data_bytes", "encryption_key", "encryption_key_file",
                     "rapport_sleutel", "rapport_sleutel_file", "site_listen", "site_dir", "site_url", "telegram_username",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty line in meldpunt.env (MELDPUNT_OUTBOX=) means "not set", not a path or a choice called ""."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _data_budget_holds_one_mail(self) -> Settings:
        """A DATA budget below the size limit would refuse every large mail for ever."""
        if self.smtp_max_data_bytes is not None and self.smtp_max_data_bytes < self.smtp_size_limit:
            raise ValueError("MELDPUNT_SMTP_MAX_DATA_BYTES moet minstens MELDPUNT_SMTP_SIZE_LIMIT zijn")
        return self

    @field_validator("dispatch_times")
    @classmethod
    def _valid_moments(cls, value: str) -> str:
        """Refuse a schedule that cannot be read, at start, with the Dutch reason."""
        from intake.schedule import parse_moments  # here: it loads the holiday tables, which most commands never need

        parse_moments(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        """Refuse a log level logging does not know at start, with the Dutch reason; blank means the default."""
        if value is None or not value.strip():
            return None
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"'{value.strip()}' is geen logniveau; kies {', '.join(LOG_LEVELS)}.")
        return value.strip().upper()

    @field_validator("closure_days", "smtp_trusted_relays", mode="before")
    @classmethod
    def _comma_separated_values(cls, value: object) -> object:
        """Read "2026-12-24, 2026-12-31" or "127.0.0.1, 10.0.0.5" from the environment or the settings file."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Read "clb-a.be, clb-b.be" from the environment or the settings file."""
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _warning_before_removal(self) -> Settings:
        """A warning as long before removal as the pause itself would come before the pause began."""
        if self.retention_draft_warning_days >= self.retention_draft_days:
            raise ValueError("MELDPUNT_RETENTION_DRAFT_WARNING_DAYS moet kleiner zijn dan MELDPUNT_RETENTION_DRAFT_DAYS")
        return self

    @property
    def retention(self) -> RetentionPeriods:
        """The retention table the purge works by."""
        from intake.retention import RetentionPeriods  # here: most commands never need the questionnaire it loads

        return RetentionPeriods(
            inbound_days=self.retention_inbound_days, outbox_days=self.retention_outbox_days, draft_days=self.retention_draft_days,
            draft_warning_days=self.retention_draft_warning_days, question_days=self.retention_question_days,
            referral_school_years=self.retention_referral_school_years, audit_days=self.retention_audit_days,
        )

    @property
    def mail_domain(self) -> str:
        """The domain of our address: our Message-IDs and the loop marker use it."""
        return self.mail_address.rsplit("@", 1)[-1]

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under var_dir."""
        return self.database_url or f"sqlite:///{(self.var_dir / 'meldpunt.db').resolve()}"

    @property
    def effective_site_dir(self) -> Path:
        """Where serve builds and serves the website: the configured folder, or site under var_dir."""
        return self.site_dir or self.var_dir / "site"

    @property
    def effective_site_url(self) -> str:
        """The website's public address, ending in a slash: the configured one, or the address serve listens on."""
        return (self.site_url or f"http://{self.site_listen or '127.0.0.1:8080'}").rstrip("/") + "/"

    @property
    def effective_key_file(self) -> Path:
        """The key file: the configured one, or meldpunt.key under var_dir (next to, never inside, the database)."""
        return self.encryption_key_file or self.var_dir / "meldpunt.key"

    def encryption_keys(self) -> list[str]:
        """The keys from MELDPUNT_ENCRYPTION_KEY, else from the key file, which a fresh install gets made."""
        from store.encryption import key_file_keys, parse_keys

        if self.encryption_key is not None:
            return parse_keys(self.encryption_key.get_secret_value())
        return key_file_keys(self.effective_key_file, create=self.encryption_key_file is None)

    @property
    def effective_rapport_key_file(self) -> Path:
        """The pupil-key secret's file: the configured one, or rapport.key under var_dir."""
        return self.rapport_sleutel_file or self.var_dir / "rapport.key"

    def rapport_secret(self) -> str:
        """The pupil-key secret from MELDPUNT_RAPPORT_SLEUTEL, else from its file, which a fresh install gets made."""
        from store.figure_secret import secret_from_file

        if self.rapport_sleutel is not None:
            return self.rapport_sleutel.get_secret_value()
        return secret_from_file(self.effective_rapport_key_file, create=self.rapport_sleutel_file is None)

    # The figures report (`meldpunt rapport`); at the end of the class, so other settings groups stay together above.
    rapport_min_cel: int = Field(
        default=5, ge=1, description="Kleinere aantallen dan dit staan in het publieke rapport als \"<5\" (en wat ze zou verraden ook).",
    )
    rapport_wachtdagen: int = Field(
        default=10, ge=1, description="Een aanmelding die langer dan zoveel werkdagen wacht, telt in het rapport als onbeantwoorde vraag.",
    )
    rapport_overlegdata: Annotated[list[date], NoDecode] = Field(
        default=[], description="Data van het overleg (werkgroep Recht op Leren), dd/mm/jjjj, komma-gescheiden: voor --sinds-vorig-overleg.",
    )

    @field_validator("rapport_overlegdata", mode="before")
    @classmethod
    def _meeting_dates(cls, value: object) -> object:
        """Read "14/10/2025, 10/02/2026" (dd/mm/jjjj, as people here write dates); a Dutch error names the one that is not a date."""
        if not isinstance(value, str):
            return value
        days = []
        for part in (part.strip() for part in value.split(",")):
            if part:
                try:
                    days.append(datetime.strptime(part, "%d/%m/%Y").date())
                except ValueError:
                    raise ValueError(f"'{part}' is geen datum; schrijf dd/mm/jjjj, bijvoorbeeld 10/02/2026.") from None
        return days
