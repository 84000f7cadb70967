"""The law's settings: every number or township rule that changes what the law requires.

These are not the caller's to choose. Each is declared here with its default and its
source; an installation may change one (a township rule, a provincial time limit) as an
audited installation record. Operational settings (where the home is, upload limits,
lockouts) stay in ``review/config.py``.

Read them with :func:`law_settings`; the gate reads them from the matter snapshot.

**Installation records.** The settings in force are these defaults overlaid with the
changes an administrator recorded (``hefa config set NAME VALUE --reason …``: table
``lawsettingchange``, each change audited with its old and new value and in force from its
event on). The environment and ``hefa.toml`` cannot set them (``review/config.py`` refuses
to run when they try). Any field declared below is settable that way, with its own type,
without further code.
"""

from __future__ import annotations

import json
import time
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

if TYPE_CHECKING:
    from sqlmodel import Session


class LawSettings(BaseModel):
    """What the law (and the township's own rules) require, as numbers and switches. Every time
    limit is at least one day; a validity of 0 years means no fixed period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Configurable time limits (days / working days); review/law/rules.py cites the articles.
    normative_comment_min_workdays: int = Field(7, ge=1)  # 国办发〔2018〕37号 "一般不少于7个工作日"
    normative_review_min_workdays: int = Field(5, ge=1)  # 国办发〔2018〕115号
    normative_review_max_workdays: int = Field(15, ge=1)  # 国办发〔2018〕115号
    major_comment_min_days: int = Field(30, ge=1)  # 国务院令第713号 第十五条
    major_review_min_workdays: int = Field(7, ge=1)  # 国务院令第713号 第二十六条
    contract_review_workdays: int = Field(5, ge=1)  # local contract-review rules
    filing_within_days: int = Field(30, ge=1)  # provincial filing rules (备案)
    penalty_decision_days: int = Field(90, ge=1)  # 《行政处罚法》第六十条
    penalty_hearing_request_days: int = Field(5, ge=1)  # 《行政处罚法》第六十四条
    licence_decision_days: int = Field(20, ge=1)  # 《行政许可法》第四十二条
    licence_extension_days: int = Field(10, ge=1)  # 《行政许可法》第四十二条

    # Township rule: every penalty goes through 法制审核, not only art. 58 cases.
    penalty_review_all: bool = True
    # Township rule: every licence decision goes through 法制审核 (国办发〔2018〕118号 cases otherwise).
    licence_review_all: bool = True
    # Contracts at or above this amount (yuan) are 重大合同 and need collective deliberation.
    major_contract_amount: int = Field(1_000_000, ge=0)

    # Issue 14. The township's own rule (the seed report): "合同、重大决策、规范性文件、行政处罚与许可，
    # 必须由法律顾问审查，出具法律意见后经集体研究讨论决定". Normative documents (国办发〔2018〕37号)
    # and major decisions (国务院令第713号 第三十条) are deliberated by national law; for the other three
    # kinds, with a setting off, national law alone decides (重大合同; 《行政处罚法》第五十七条第二款;
    # no deliberation for licences).
    deliberation_all_contracts: bool = True
    deliberation_all_penalties: bool = True
    deliberation_all_licences: bool = True
    # Township rule: every major decision is risk-assessed, not only those of 国务院令第713号 第二十二条.
    major_risk_assessment_all: bool = True
    # 《优化营商环境条例》(国务院令第722号): documents close to business operations, comment ≥ 30 days.
    business_comment_min_days: int = Field(30, ge=1)
    # 国办发〔2018〕118号: penalty and licence decisions made public within 7 working days.
    enforcement_publicity_workdays: int = Field(7, ge=1)
    # 《行政许可法》第四十七条: a hearing requested within 5 (working, art. 82) days of the notice.
    licence_hearing_request_days: int = Field(5, ge=1)

    # After filing (issue 16): the register of documents in force (统一登记、有效期、清理).
    # 有效期 by kind, in years (0 = no fixed period). No national rule sets them; provincial rules
    # commonly say 一般不超过5年, 标注“暂行”“试行”的不超过2年 (e.g. 山东: 3或5年, 暂行/试行 1或2年).
    validity_years_normative_document: int = Field(5, ge=0)
    validity_years_major_decision: int = Field(0, ge=0)
    validity_years_village_affair: int = Field(0, ge=0)
    validity_years_provisional: int = Field(2, ge=0)  # titles with 暂行 / 试行
    # 有效期届满前 … 日 warned and listed for 清理 (provincial rules: 届满前6个月内评估).
    expiry_warning_days: int = Field(180, ge=1)
    # 督促整改: days the drafting organ has to correct after a 审查意见 (备案审查纠错).
    correction_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _review_window_is_a_window(self) -> LawSettings:
        if self.normative_review_min_workdays > self.normative_review_max_workdays:
            raise ValueError("normative_review_min_workdays 不得大于 normative_review_max_workdays"
                             " / the review's minimum cannot exceed its maximum")
        return self


def law_setting_types() -> dict[str, type]:
    """Every law setting and its type (for checking the rules table)."""
    return {name: f.annotation for name, f in LawSettings.model_fields.items()}  # type: ignore[misc]


def parse_setting_value(name: str, raw: str) -> Any:
    """The value ``raw`` (as typed on a command line) for the setting ``name``, as plain JSON
    data of the field's type; ``ValueError`` with one line when it is not of that type.
    Text is read as the type directly (``7``, ``true``), else as JSON (lists, tables)."""
    field = LawSettings.model_fields.get(name)
    if field is None:
        raise ValueError(f"没有名为 {name} 的法律设置 / unknown law setting {name!r}")
    adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
    try:
        value = adapter.validate_python(raw, strict=False)
    except ValidationError:
        try:
            value = adapter.validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0].get("msg", "")
            raise ValueError(f"{name} 的值 {raw!r} 类型不符（应为 {_type_name(field.annotation)}）"
                             f" / {name}: {raw!r} is not a valid {_type_name(field.annotation)} ({first})") from None
    if isinstance(value, bool) and field.annotation is bool and raw.strip().lower() not in (
            "true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ValueError(f"{name} 的值应为 true 或 false / {name} must be true or false")
    return adapter.dump_python(value, mode="json")


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))


def with_change(current: LawSettings, name: str, value: Any) -> LawSettings:
    """The settings after one change, validated as a whole (``ValueError``, one line, if not)."""
    try:
        return LawSettings.model_validate({**current.model_dump(mode="json"), name: value})
    except ValidationError as exc:
        error = exc.errors()[0]
        if error.get("type") == "greater_than_equal":
            floor = (error.get("ctx") or {}).get("ge")
            raise ValueError(f"设置 {name}={value!r} 无效：应不小于 {floor} / invalid setting: "
                             f"{error.get('msg', '')}") from None
        raise ValueError(f"设置 {name}={value!r} 无效 / invalid setting: {error.get('msg', '')}") from None


def _from_records(rows: list[tuple[str, str]]) -> LawSettings:
    values: dict[str, Any] = {}
    for name, value in rows:
        if name in LawSettings.model_fields:  # a setting since removed from the law is ignored
            values[name] = json.loads(value)
    return LawSettings.model_validate(values)


def _records(session: Session, until_seq: int | None = None) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from hefa.review.records.installation_models import LawSettingChange

    stmt = select(LawSettingChange.name, LawSettingChange.value).order_by(LawSettingChange.event_seq)
    if until_seq is not None:
        stmt = stmt.where(LawSettingChange.event_seq <= until_seq)
    return [(name, value) for name, value in session.execute(stmt)]


_in_transaction: ContextVar[Session | None] = ContextVar("hefa_law_session", default=None)


def law_read_in(session: Session) -> Token[Session | None]:
    """Within a unit of work: ``law_settings()`` without a session reads in ``session`` (the step's
    own write transaction), exactly, until ``law_read_in_done``."""
    return _in_transaction.set(session)


def law_read_in_done(token: Token[Session | None]) -> None:
    _in_transaction.reset(token)


_cache: dict[str, tuple[float, LawSettings]] = {}
_CACHE_SECONDS = 1.0


def forget_cached() -> None:
    """Forget the settings read outside a transaction (after a change in this process)."""
    _cache.clear()


def law_settings(session: Session | None = None, *, until_seq: int | None = None) -> LawSettings:
    """The law settings in force for this installation: the defaults above overlaid with the
    administrator's recorded changes, in event order (those up to ``until_seq`` when given).

    With ``session`` (the gate's snapshot, inside the write transaction) — or inside a unit of
    work (``law_read_in``) — they are read there, exactly. Otherwise (what a status page or a
    clock shows) they are read in a session of their own and kept for at most a second.
    """
    session = session if session is not None else _in_transaction.get()
    if session is not None:
        return _from_records(_records(session, until_seq))
    from hefa.review.config import settings
    from hefa.review.records.db import read_session

    url = settings().database
    cached = _cache.get(url)
    if until_seq is None and cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    with read_session() as own:
        result = _from_records(_records(own, until_seq))
    if until_seq is None:
        _cache[url] = (time.monotonic(), result)
    return result
