"""The register in the Prefect UI (登记簿): a ``register`` table artifact, the 政务公开 list of
documents in force first. Published by the hourly overdue scan and by this small flow on demand."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

ARTIFACT_ROWS = 1000  # a township's register; a county's full list stays in `hefa register --export`


def publish_register() -> dict[str, int]:
    """Publish the ``register`` table artifact from the records; counts by status."""
    from hefa.review.records import audit
    from hefa.review.records.db import read_session
    from hefa.review.register.entries import register_rows

    with read_session() as session:
        rows = register_rows(session)
        head = audit.head(session)
    order = {"in-force": 0, "expired": 1, "amended": 2, "repealed": 3}
    shown = sorted(rows, key=lambda r: (order.get(r["status"], 9), r["issued_on"], r["matter"]))[:ARTIFACT_ROWS]
    table: list[dict[str, Any]] = [
        {"文号 number": r["number"], "标题 title": r["title"], "制定机关 organ": r["organ"],
         "公布 issued": r["issued_on"], "有效期至 valid until": r["valid_until"] or "长期",
         "状态 status": r["status_zh"], "修改/废止 by": r["superseded_by"], "督促整改 correction": r["correction"],
         "事项 matter": r["matter"]} for r in shown]
    counts = {code: sum(1 for r in rows if r["status"] == code) for code in order}
    create_table_artifact(
        key="register", table=table or [{"文号 number": "—", "状态 status": "登记簿为空"}],
        description=(f"规范性文件登记簿：有效 {counts['in-force']}，已失效 {counts['expired']}，"
                     f"已修改 {counts['amended']}，已废止 {counts['repealed']}；审计链头 {head}"
                     + (f"（显示前 {len(shown)} 件，全部见 `hefa register`）" if len(shown) < len(rows) else "")))
    return counts


@flow(name="登记簿 register", log_prints=True, persist_result=False)
def register_publish() -> dict[str, int]:
    """Publish the register (登记簿) as a table artifact."""
    return publish_register()
