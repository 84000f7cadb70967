"""The desk's handshake (办事窗口核对): a CLI step is answered by a running ``hefa serve`` only
when both work on the same installation with the same clock. Standard library only.

Every request carries the caller's context — the identity of the database it would use (a hash
of the URL without password), the frozen date it asks for (``HEFA_TODAY``) and any law setting
its environment tries to set. The desk compares that with its own database and date and, when
they differ, answers ``desk-mismatch`` with its own identity; the CLI then refuses with one line
naming both. It never runs the step in its own process with other settings.
"""

from __future__ import annotations

from typing import Any

from hefa.review.installation_identity import (
    database_identity,
    database_url,
    frozen_date_asked,
    law_override_message,
    law_overrides,
)

MISMATCH = "desk-mismatch"


def caller_context() -> dict[str, Any]:
    """What this process would work on: its database's identity, its frozen date, law overrides."""
    return {"database": database_identity(database_url()), "today": frozen_date_asked(),
            "law_env": law_overrides()}


def desk_identity() -> dict[str, Any]:
    """What the desk works on (called in ``hefa serve``): its database, drill and frozen date."""
    from hefa.review.config import settings
    from hefa.review.records.installation_state import is_drill

    frozen = settings().today
    return {"database": database_identity(settings().database), "today": frozen.isoformat() if frozen else None,
            "drill": is_drill()}


def mismatch(context: dict[str, Any], desk: dict[str, Any]) -> str | None:
    """Why a caller with ``context`` may not be answered by this desk (one line), or None."""
    if context.get("law_env"):
        return law_override_message(context["law_env"][0])
    theirs_today = context.get("today") or None
    if context.get("database") != desk["database"] or theirs_today != desk["today"]:
        def clock(day: str | None) -> str:
            return f"冻结日期 {day}" if day else "实时日期"
        return (f"运行中的 hefa serve 使用数据库 {desk['database']}（{clock(desk['today'])}"
                f"{'，演练' if desk.get('drill') else ''}），本命令使用数据库 {context.get('database')}"
                f"（{clock(theirs_today)}）：设置不同，拒绝办理；请使用与 hefa serve 相同的 HEFA_DATABASE_URL 和"
                " HEFA_TODAY / the running desk serves another database or clock; use its settings")
    return None
