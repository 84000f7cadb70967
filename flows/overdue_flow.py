"""The scheduled overdue scan (逾期预警扫描): Prefect events and an artifact for the filing officer."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from hefa.review.law.overdue import scan

OVERDUE_CRON = "0 * * * *"  # hourly; new warnings are recorded once, so scanning often is harmless


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
    create_table_artifact(
        key="overdue",
        table=[{"事项 matter": i["matter"], "标题 title": i["title"], "环节 stage": i["stage"],
                "期限 due": i["due_on"], "状态 level": "已逾期" if i["level"] == "overdue" else "即将到期",
                "逾期天数 days over": i["days_over"], "依据 article": i["article"]} for i in result.items]
        or [{"事项 matter": "—", "状态 level": "无逾期或即将到期事项"}],
        description="逾期和即将到期的事项 / overdue and due-soon matters",
    )
    logger.info("扫描完成：%d 项逾期或将到期，%d 项新预警", len(result.items), len(result.new_warnings))
    return {"items": len(result.items), "new": len(result.new_warnings), "errors": len(result.errors)}
