"""Builds the application once from settings: database, catalogue, engine and workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.catalogue import Catalogue
from intake.catalogue_loader import load_catalogue
from intake.dialogue import Intake
from intake.questionnaire import load_questionnaire
from meldpunt.settings import Settings
from store.db import create_db_engine, make_session_factory, upgrade_database
from store.workflow import IntakeWorkflow


def utc_now() -> datetime:
    """The real clock; only the composition root reads it, the core gets it passed in."""
    return datetime.now(timezone.utc)


@dataclass
class App:
    """The wired parts of the service, created lazily so each command pays only for what it uses."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The database engine, migrated to the newest schema on first use."""
        url = self.settings.effective_database_url
        upgrade_database(url)
        return create_db_engine(url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Factory of database sessions (one per message or job)."""
        return make_session_factory(self.engine)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The provider catalogue, validated."""
        return load_catalogue(self.settings.catalogue_path)

    @cached_property
    def intake(self) -> Intake:
        """The dialogue engine over the questionnaire and catalogue."""
        return Intake(load_questionnaire(), self.catalogue)

    @cached_property
    def workflow(self) -> IntakeWorkflow:
        """Stored conversations driven by the engine."""
        return IntakeWorkflow(self.intake, self.sessions)
