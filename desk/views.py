"""What the Prefect UI shows: the resume form's description and the matter's artifacts.

Plain functions of a matter's status (``review.queries.status``): markdown and
table rows, no Prefect import, so they are tested without a server.
"""

from __future__ import annotations

from typing import Any

from hefa.review import vocabulary as vocab
from hefa.review.documents.incoming import OMITTED
from hefa.review.documents.prescreen import CATEGORY_ZH


def _cell(text: Any) -> str:
    return str(text if text is not None else "—").replace("|", "｜").replace("\n", " ")


def findings_table(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "预审未发现需要提示的条款 / no pre-screen findings."
    rows = ["| 条款 | 段 | 类别 | 原文 | 可能抵触的依据 | 说明 | 依据规则与证据 | 把握度 |",
            "|---|---|---|---|---|---|---|---|"]
    for f in findings:
        sure = f.get("confidence")
        rows.append(f"| {_cell(f.get('article'))} | {f['paragraph_index']} | "
                    f"{_category_zh(f['category'])} | {_cell(f['matched_text'])} | "
                    f"{_cell(f['basis'])} | {_cell(_explained(f))} | "
                    f"{_cell(f.get('rule'))}：{_cell(f.get('evidence'))} | "
                    f"{'—' if sure is None else f'{float(sure):.2f}'} |")
    return "\n".join(rows)


def _category_zh(category: str) -> str:
    if category == OMITTED:
        return "其余提示（未逐条保存）"
    return CATEGORY_ZH.get(category, category)


def _explained(finding: dict[str, Any]) -> str:
    mark = finding.get("mark")
    if not mark:
        return str(finding["explanation"])
    return f"{finding['explanation']}（{mark['counsel']} 已复核：不是问题——{mark['reason']}）"


def clocks_text(view: dict[str, Any]) -> str:
    lines = []
    for clock in view["clocks"]:
        if "error" in clock:
            lines.append(f"- ⚠ {clock['error']}")
        else:
            lines.append(f"- 办理期限 / due: **{clock['text']}**（{clock['article']}）")
    return "\n".join(lines) or "- 本阶段无法定办理期限 / no statutory deadline at this stage"


def form_description(view: dict[str, Any]) -> str:
    """The markdown above the resume form: the matter, its version, due date and findings."""
    version = view["current_version"]
    parts = [
        f"## {view['id']} {view['title']}",
        f"**{view['kind_zh']}** · {view['organ']} · 起草人 {view['drafter']}",
        f"当前环节 / stage: **{view['stage_zh']}**（{view['stage']}）",
        f"审查对象 / document: 第 {version['number']} 版 `{version['filename']}`，"
        f"sha256 `{version['sha256']}`",
        clocks_text(view),
    ]
    if view["stage"] == "review":
        from hefa.review.law.checklists import template

        parts += ["### 预审提示 / pre-screen findings（供参考，不是结论）", findings_table(view["findings"]),
                  "### 逐项审查 / checklist：请把下列各行复制到“逐项审查结果”，在等号后填写 符合、"
                  "不符合:说明 或 不适用（以 # 开头的行可保留）",
                  f"```\n{template(view['kind'])}\n```"]
    if view["stage"] == "controls":  # 确认适用程序 (issue 14): the kind's flags, and what the drafter proposed
        from hefa.review.law.rules import rules_for

        proposed = set(view["flags"])
        rows = [f"| `{code}` | {meaning} | {'是' if code in proposed else ''} |"
                for code, meaning in rules_for(view["kind"]).flags.items()]
        parts += ["### 适用的程序标记 / controls：起草人只提出建议，由法律顾问或行政首长确认或更改并说明理由",
                  "| 代码 | 含义 | 起草人提出 |\n|---|---|---|\n" + "\n".join(rows)]
    if view["needs_revision"]:
        parts.append("**退回修改**：请起草人在入口的事项页面（/hefa/）或用 `hefa revise` 提交修改稿；"
                     "本流程在收到修改稿后继续。")
    else:
        parts.append("以登录人员身份办理：提交后由 hefa 校验岗位、顺序和版本，当即记录；"
                     "被拒绝时理由显示在本对话框，拒绝记入审计链，流程继续等待。"
                     "也可以用命令行办理（如 `hefa opinion`）。")
    return "\n\n".join(parts)


def summary_markdown(view: dict[str, Any], documents: list[dict[str, Any]]) -> str:
    """The matter's summary artifact: stage, opinions, decision, filing, documents."""
    lines = [f"# {view['id']} {view['title']}",
             f"- 类型 / kind: {view['kind_zh']}；机关 / organ: {view['organ']}；起草人: {view['drafter']}",
             f"- 当前 / stage: **{view['stage_zh']}**（{view['stage']}）",
             f"- 现行版本 / version: 第 {view['current_version']['number']} 版 "
             f"`{view['current_version']['sha256']}`",
             clocks_text(view) if view["status"] == "open" else "- 已结束 / finished"]
    if view["opinions"]:
        lines.append("\n## 法律意见 / opinions")
        for o in view["opinions"]:
            mark = "现行" if o["current"] else "已失效（文稿已修改）"
            lines.append(f"- 第 {o['version']} 版：**{o['conclusion_zh']}**（{mark}），{o['counsel']}，{o['at'][:10]}")
    for d in view["deliberations"]:
        lines.append(f"\n## 集体讨论 / deliberation\n- {d['meeting']} {d['date']}：{d['decision']}；"
                     f"不同意见：{d['dissent'] or '无'}")
    for i in view["issuance"]:
        lines.append(f"\n## 公布 / issuance\n- {i['number']}，{i['published_on']}")
    for f in view["filing"]:
        lines.append(f"\n## 备案 / filing\n- {f['filed_with']}，回执 {f['receipt']}，{f['filed_on']}")
    lines.append("\n## 预审提示 / pre-screen findings")
    lines.append(findings_table(view["findings"]))
    if documents:
        lines.append("\n## 文书 / documents")
        for doc in documents:
            link = f"/hefa/matters/{view['id']}/documents/{doc['sha256']}"  # the front door's download
            lines.append(f"- [{doc['title']}]({link}) sha256 `{doc['sha256'][:16]}…` "
                         f"审计链锚点 `{doc['chain_head'][:24]}…`")
    return "\n".join(lines)


def trail_rows(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit trail as the table artifact shows it."""
    outcome = vocab.EVENT_OUTCOME
    return [{"序号 seq": r["seq"], "时间 time": r["at"][:19].replace("T", " "),
             "人员 officer": r["officer"], "岗位 role": r["role"], "操作 action": r["action"],
             "结果 outcome": outcome.zh(r["outcome"]) if r["outcome"] in outcome else r["outcome"],
             "理由 reason": r["reason"], "文稿 sha256": r["doc_sha256"][:16],
             "事件哈希 hash": r["hash"][:16]} for r in trail]
