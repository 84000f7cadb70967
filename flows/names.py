"""The names of hefa's Prefect flows, one per kind of matter (standard library only:
the CLI creates runs by deployment name without importing Prefect)."""

from __future__ import annotations

from hefa.review.law.rules import Kind

FLOW_NAMES: dict[Kind, str] = {
    Kind.NORMATIVE_DOCUMENT: "规范性文件合法性审查 normative-document-review",
    Kind.MAJOR_DECISION: "重大行政决策合法性审查 major-decision-review",
    Kind.CONTRACT: "政府合同合法性审查 contract-review",
    Kind.ADMINISTRATIVE_PENALTY: "行政处罚法制审核 administrative-penalty-review",
    Kind.ADMINISTRATIVE_LICENCE: "行政许可法制审核 administrative-licence-review",
    Kind.VILLAGE_AFFAIR: "村级重大事务合法性评价 village-affair-review",
}


def flow_name(kind: Kind | str) -> str:
    """The flow (and deployment) name of a kind of matter."""
    return FLOW_NAMES[Kind(kind)]
