"""Settings, read once from MELDPUNT_* environment variables or a settings file (meldpunt.env)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under var_dir."""
        return self.database_url or f"sqlite:///{(self.var_dir / 'meldpunt.db').resolve()}"
