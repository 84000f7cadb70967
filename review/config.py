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

    # Configurable time limits (days / working days); see review/rules.py for the articles.
    normative_comment_min_workdays: int = 7  # 国办发〔2018〕37号 "一般不少于7个工作日"
    normative_review_min_workdays: int = 5  # 国办发〔2018〕115号
    normative_review_max_workdays: int = 15  # 国办发〔2018〕115号
    major_comment_min_days: int = 30  # 国务院令第713号 art. 15
    major_review_min_workdays: int = 7  # 国务院令第713号 art. 26
    contract_review_workdays: int = 5  # local contract-review rules
    filing_within_days: int = 30  # provincial filing rules (备案)
    penalty_decision_days: int = 90  # 《行政处罚法》 art. 60
    penalty_hearing_request_days: int = 5  # 《行政处罚法》 art. 64
    licence_decision_days: int = 20  # 《行政许可法》 art. 42
    licence_extension_days: int = 10  # 《行政许可法》 art. 42
    due_soon_workdays: int = 2

    # Township rule: every penalty goes through 法制审核, not only art. 58 cases.
    penalty_review_all: bool = True
    # Township rule: every licence decision goes through 法制审核 (国办发〔2018〕118号 cases otherwise).
    licence_review_all: bool = True
    # Contracts at or above this amount (yuan) are 重大合同 and need collective deliberation.
    major_contract_amount: int = 1_000_000

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
