"""The law's settings: every number or township rule that changes what the law requires.

These are not the caller's to choose. Each is declared here with its default and its
source; an installation may change one (a township rule, a provincial time limit) as an
audited installation record. Operational settings (where the home is, upload limits,
lockouts) stay in ``review/config.py``.

Read them with :func:`law_settings`; the gate reads them from the matter snapshot.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LawSettings(BaseModel):
    """What the law (and the township's own rules) require, as numbers and switches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Configurable time limits (days / working days); review/law/rules.py cites the articles.
    normative_comment_min_workdays: int = 7  # 国办发〔2018〕37号 "一般不少于7个工作日"
    normative_review_min_workdays: int = 5  # 国办发〔2018〕115号
    normative_review_max_workdays: int = 15  # 国办发〔2018〕115号
    major_comment_min_days: int = 30  # 国务院令第713号 第十五条
    major_review_min_workdays: int = 7  # 国务院令第713号 第二十六条
    contract_review_workdays: int = 5  # local contract-review rules
    filing_within_days: int = 30  # provincial filing rules (备案)
    penalty_decision_days: int = 90  # 《行政处罚法》第六十条
    penalty_hearing_request_days: int = 5  # 《行政处罚法》第六十四条
    licence_decision_days: int = 20  # 《行政许可法》第四十二条
    licence_extension_days: int = 10  # 《行政许可法》第四十二条

    # Township rule: every penalty goes through 法制审核, not only art. 58 cases.
    penalty_review_all: bool = True
    # Township rule: every licence decision goes through 法制审核 (国办发〔2018〕118号 cases otherwise).
    licence_review_all: bool = True
    # Contracts at or above this amount (yuan) are 重大合同 and need collective deliberation.
    major_contract_amount: int = 1_000_000


def law_setting_types() -> dict[str, type]:
    """Every law setting and its type (for checking the rules table)."""
    return {name: f.annotation for name, f in LawSettings.model_fields.items()}  # type: ignore[misc]


def law_settings() -> LawSettings:
    """The law settings in force for this installation.

    Today: the defaults declared above. (Issue 13 makes them installation records,
    changed by an admin, audited, effective from their event.)
    """
    return LawSettings()
