"""Settings, read once from the environment (HEFA_*), and the settable clock.

Every number that the law leaves to provincial or local rules (marked
**configurable** in the domain reference) is a setting here, never a constant
in code. Values can also come from ``$HEFA_HOME/hefa.toml``.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hefa.review.paths import hefa_home


class Settings(BaseSettings):
    """hefa's configuration. Environment variables win over ``hefa.toml``."""

    model_config = SettingsConfigDict(env_prefix="HEFA_", extra="ignore")

    home: Path = Field(default_factory=hefa_home)
    database_url: str | None = None
    today: dt.date | None = None  # HEFA_TODAY: a frozen date for drills and tests

    # What the law requires (time limits, township rules) is not here: see review/law/settings.py.
    due_soon_workdays: int = 2

    # Credentials
    lockout_failures: int = 5
    lockout_minutes: int = 15

    # .docx intake limits
    max_upload_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_zip_entries: int = 2000
    max_compression_ratio: int = 200
    # Bounded work: a document's paragraphs, the findings stored per version (the total is
    # kept), the findings listed one by one in a legal opinion (it says how many more), and
    # the size of any generated document.
    max_paragraphs: int = 10_000
    max_stored_findings: int = 200
    opinion_findings_listed: int = 50
    max_document_bytes: int = 5 * 1024 * 1024
    # How long a step waits for another writer's transaction (SQLite busy timeout, PostgreSQL
    # lock_timeout) before it fails with one line; transactions are short, documents are
    # rendered outside them.
    write_wait_seconds: float = 30.0

    # Prefect
    prefect_api_url: str = Field(
        default_factory=lambda: os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    )

    @property
    def database(self) -> str:
        """The SQLAlchemy URL: ``HEFA_DATABASE_URL`` or SQLite under the home folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'hefa.db'}"


def _toml_values(home: Path) -> dict:
    path = home / "hefa.toml"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {k: v for k, v in data.items() if k.upper() != k and os.environ.get(f"HEFA_{k.upper()}") is None}


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings in force for this process (cached; tests call ``reset_settings``)."""
    return Settings(**_toml_values(hefa_home()))


def reset_settings() -> None:
    """Forget cached settings, after a test changed the environment."""
    settings.cache_clear()


def today() -> dt.date:
    """Today's date for every rule and clock: ``HEFA_TODAY`` when set (drills, tests)."""
    return settings().today or dt.date.today()


def now() -> dt.datetime:
    """The current time (UTC). With ``HEFA_TODAY`` set, that date at the current time of day."""
    real = dt.datetime.now(dt.UTC)
    frozen = settings().today
    if frozen is None:
        return real
    return dt.datetime.combine(frozen, real.timetz())
