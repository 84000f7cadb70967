"""The annual report in the Prefect UI (法治政府建设年度报告·统计部分): writes the .docx and
publishes the same figures and charts as a markdown artifact ``annual-report-<year>``."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact


@flow(name="年度报告 annual-report", log_prints=True, persist_result=False)
def annual_report(year: int) -> dict[str, Any]:
    """Compute the year's figures from the records and the audit chain; write and publish them."""
    from hefa.review.report.annual import write_report

    result = write_report(year, None)
    create_markdown_artifact(key=f"annual-report-{year}", markdown=result["markdown"],
                             description=f"{year}年法治政府建设年度报告（统计部分）；审计链头 {result['chain_head']}")
    return {k: v for k, v in result.items() if k != "markdown"}
