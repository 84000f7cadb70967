"""The scheduled overdue scan (逾期预警扫描): Prefect events and an artifact for the filing officer."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from hefa.review.law.overdue import scan

OVERDUE_CRON = "0 * * * *"  # hourly; new warnings are recorded once, so scanning often is harmless
ARTIFACT_ROWS = 500  # the artifact shows the most overdue; a county's thousands stay in `hefa overdue`


def _event(item: dict[str, Any]) -> None:
    emit_event(
        event=f"hefa.matter.{item['level']}",
        resource={"prefect.resource.id": f"hefa.matter.{item['matter']}",
                  "prefect.resource.name": f"{item['matter']} {item['title']}",
                  "hefa.kind": item["kind"], "hefa.organ": item["organ"]},
        payload={k: item[k] for k in ("stage", "due_on", "left", "days_over", "article")},
    )


@flow(name="逾期预警扫描 overdue-scan", log_prints=True, persist_result=False)
def overdue_scan() -> dict[str, int]:
    """Scan open matters; record and announce each new warning once; publish the table."""
    logger = get_run_logger()
    result = scan(record=True)
    for item in result.new_warnings:
        _event(item)
    for error in result.errors:
        logger.error("%s: %s", error["matter"], error["error"])
    shown = sorted(result.items, key=lambda i: (-i["days_over"], i["due_on"], i["matter"]))[:ARTIFACT_ROWS]
    more = len(result.items) - len(shown)
    create_table_artifact(
        key="overdue",
        table=[{"事项 matter": i["matter"], "标题 title": i["title"], "环节 stage": i["stage"],
                "期限 due": i["due_on"], "状态 level": "已逾期" if i["level"] == "overdue" else "即将到期",
                "逾期天数 days over": i["days_over"], "依据 article": i["article"]} for i in shown]
        or [{"事项 matter": "—", "状态 level": "无逾期或即将到期事项"}],
        description="逾期和即将到期的事项 / overdue and due-soon matters"
        + (f"（共 {len(result.items)} 项，按逾期天数显示前 {len(shown)} 项；全部见 `hefa overdue` / "
           f"{more} more: see `hefa overdue`）" if more else ""),
    )
    from hefa.flows.register_flow import publish_register  # the register artifact, refreshed hourly (issue 16)

    publish_register()
    logger.info("扫描完成：%d 项逾期或将到期，%d 项新预警", len(result.items), len(result.new_warnings))
    return {"items": len(result.items), "new": len(result.new_warnings), "errors": len(result.errors)}
