"""Operational settings, read once from the environment (HEFA_*), and the clock.

What the law requires (time limits, township rules) is not configured here: those are the
installation's records (``review/law/settings.py``), changed only by an administrator with
``hefa config set``. A ``HEFA_<NAME>`` variable or ``hefa.toml`` key naming one of them is
refused with one line, never silently used or ignored. Other values can also come from
``$HEFA_HOME/hefa.toml``.

The clock: ``HEFA_TODAY`` freezes the date only in an installation created as a drill
(``hefa init --drill``); anywhere else it is refused with one line.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hefa.review.errors import ConfigurationError
from hefa.review.installation_identity import database_identity, law_override_message, law_overrides
from hefa.review.paths import hefa_home

__all__ = ["Settings", "database_identity", "now", "reset_settings", "settings", "today"]


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
    # The legal opinion's own document number (意见书文号, GB/T 9704 发文字号: 机关代字〔年份〕序号号),
    # e.g. HEFA_OPINION_NUMBER_PREFIX=河东法审 gives 河东法审〔2026〕3号; serials restart each year.
    opinion_number_prefix: str = Field(default="法审", min_length=1, max_length=40)
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


def refuse_law_overrides(home: Path | None = None) -> None:
    """Refuse to run (one line) when the environment or ``hefa.toml`` names a law setting."""
    found = law_overrides(home)
    if found:
        raise ConfigurationError(law_override_message(found[0]))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings in force for this process (cached; tests call ``reset_settings``).
    Refuses (``ConfigurationError``) when a law setting is named in the environment or hefa.toml."""
    refuse_law_overrides()
    return Settings(**_toml_values(hefa_home()))


def reset_settings() -> None:
    """Forget cached settings (and what was read about the installation), after a test changed
    the environment."""
    import sys

    settings.cache_clear()
    state = sys.modules.get("hefa.review.records.installation_state")
    if state is not None:
        state.forget()


def frozen_date() -> dt.date | None:
    """``HEFA_TODAY``, honoured only by a drill installation; refused (one line) anywhere else."""
    frozen = settings().today
    if frozen is None:
        return None
    from hefa.review.records.installation_state import is_drill

    if not is_drill():
        raise ConfigurationError(
            f"HEFA_TODAY={frozen} 被拒绝：本安装不是演练安装，日期不能冻结；演练请另建 hefa init --drill"
            " / HEFA_TODAY is refused: this installation is not a drill (create one with hefa init --drill)")
    return frozen


def today() -> dt.date:
    """Today's date for every rule and clock: ``HEFA_TODAY`` in a drill installation."""
    return frozen_date() or dt.date.today()


def now() -> dt.datetime:
    """The current time (UTC). In a drill with ``HEFA_TODAY``, that date at the current time of day."""
    real = dt.datetime.now(dt.UTC)
    frozen = frozen_date()
    if frozen is None:
        return real
    return dt.datetime.combine(frozen, real.timetz())
