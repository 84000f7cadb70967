"""hefa.forms: the four documents render to .docx laid out per GB/T 9704-2012."""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph

from hefa.forms import layout
from hefa.forms.markup import MarkupError, parse
from hefa.forms.render import (
    DOCUMENT_TITLES,
    TEMPLATE_SUFFIX,
    TEMPLATES_DIR,
    DocumentContextError,
    UnknownDocument,
    cn_date,
    cn_number,
    render_document,
    render_text,
)
from hefa.review.law.checklists import checklist_for

CHAIN_HASH = "9f2c4e7a" * 8

MATTER: dict[str, Any] = {
    "id": "M-2026-0003",
    "kind": "normative-document",
    "kind_zh": "行政规范性文件",
    "title": "河市镇农家乐经营管理暂行办法",
    "organ": "河市镇人民政府",
    "drafter": "王芳",  # the officer who drafted (承办人); the organ is the drafting organ
}
VERSION: dict[str, Any] = {
    "number": 2,
    "sha256": "3b7d" * 16,
    "filename": "normative_agritourism_draft.docx",
    "uploaded_at": dt.datetime(2026, 11, 20, 9, 30),
}
OPINION: dict[str, Any] = {
    "conclusion": "amend",
    "reasons": [
        "该办法第一条设定行政处罚，超出行政规范性文件的权限，应当删除。",
        "第六条设定收费事项，缺乏法律、法规依据，应当删除。",
    ],
    "counsel": "李明",
    "organ": "河市镇人民政府法律顾问室",
    "date": dt.date(2026, 11, 5),
}
FINDINGS: list[dict[str, Any]] = [
    {
        "category": "penalty",
        "category_zh": "设定行政处罚",
        "article": "第一条",
        "paragraph_index": 1,
        "matched_text": "由镇综合执法队处五百元以上二千元以下罚款",
        "basis": "《中华人民共和国行政处罚法》第十六条；国办发〔2018〕37号",
        "explanation": "行政规范性文件不得设定行政处罚。",
    },
    {
        "category": "fee",
        "category_zh": "设定行政收费",
        "article": "第六条",
        "paragraph_index": 6,
        "matched_text": "每年应当向镇旅游服务中心缴纳服务费八百元",
        "basis": "国办发〔2018〕37号",
        "explanation": "行政规范性文件不得设定行政收费。",
    },
    {
        "category": "competition",
        "category_zh": "排除、限制竞争",
        "article": "",
        "paragraph_index": 9,
        "matched_text": "在镇指定的配送企业处统一采购",
        "basis": "《公平竞争审查条例》（2024）",
        "explanation": "限定经营者购买指定经营者提供的商品。",
    },
]
CHAIN_HEAD = {"seq": 42, "hash": CHAIN_HASH}


NORMATIVE = checklist_for("normative-document")
# Counsel's entries: two items found 不符合 (with notes), one 不适用, the rest 符合.
ENTRIES: dict[str, tuple[str, str]] = {
    "no-new-measures": ("不符合", "第一条设定罚款、第六条设定收费，超越规范性文件的权限"),
    "rights": ("不符合", "第九条限定在指定企业采购，增加经营者义务"),
    "procedure": ("不适用", "尚未进入集体审议程序"),
}


def _checklist() -> list[dict[str, str]]:
    return [{"item": i.question, "question": i.question, "basis": i.basis,
             "result": ENTRIES.get(i.key, ("符合", ""))[0], "note": ENTRIES.get(i.key, ("符合", ""))[1]}
            for i in NORMATIVE.items]


def _problems() -> list[dict[str, str]]:
    return [{"question": i.question, "basis": i.basis, "note": ENTRIES[i.key][1]}
            for i in NORMATIVE.items if ENTRIES.get(i.key, ("",))[0] == "不符合"]


def opinion_context() -> dict[str, Any]:
    """A legal opinion on version 2 of the agritourism measures, conclusion amend."""
    return copy.deepcopy({
        "matter": MATTER,
        "version": VERSION,
        "opinion": OPINION,
        "review_basis": [
            "《中华人民共和国行政处罚法》",
            "《中华人民共和国行政许可法》",
            "《国务院办公厅关于全面推行行政规范性文件合法性审核机制的指导意见》"
            "（国办发〔2018〕115号）",
        ],
        "checklist_source": NORMATIVE.source,
        "checklist": _checklist(),
        "problems": _problems(),
        "hints": [f | {"mark": ""} for f in FINDINGS],
        "doc_number": "河法审〔2026〕3号",
        "chain_head": CHAIN_HEAD,
        "generated_at": dt.datetime(2026, 11, 25, 16, 5),
    })


def risk_context() -> dict[str, Any]:
    """A risk assessment of a major decision: medium risk, controllable."""
    matter = {**MATTER, "id": "M-2026-0007", "kind": "major-decision", "kind_zh": "重大行政决策",
              "title": "河市镇农贸市场改造方案", "drafter": "河市镇经济发展办公室"}
    return copy.deepcopy({
        "matter": matter,
        "version": {**VERSION, "filename": "major_decision_market_renovation.docx"},
        "assessment": {
            "level": "medium",
            "controllable": True,
            "summary": "改造期间临时摊位安置可能引发经营户不满。\n"
                       "建议提前公示安置方案并设立咨询点。",
            "assessor": "王芳",
            "organ": "河市镇社会稳定风险评估小组",
            "date": dt.date(2026, 10, 12),
        },
        "chain_head": CHAIN_HEAD,
    })


def minutes_context() -> dict[str, Any]:
    """Minutes of the 常务会议 on the market renovation; the head (镇长) speaks last."""
    context = risk_context()
    context.pop("assessment")
    context["opinion"] = {**OPINION, "conclusion": "lawful"}
    context["meeting"] = {
        "kind": "常务会议",
        "date": dt.datetime(2026, 11, 28, 9, 0),
        "place": "镇政府三楼会议室",
        "head": "张伟",
        "attendees": ["张伟", "刘洋", "陈静", "赵磊"],
        "views": [
            {"member": "刘洋", "view": "同意改造方案，建议分期施工。"},
            {"member": "陈静", "view": "不同意在春节前施工，担心影响年货销售。"},
            {"member": "赵磊", "view": "同意。"},
            {"member": "张伟", "view": "同意方案，春节后开工，分两期实施。"},
        ],
        "decision": "approve",
        "dissent": "陈静不同意春节前施工，已如实记录。",
        "secretary": "周敏",
    }
    return context


def filing_context() -> dict[str, Any]:
    """The filing report of the published measures to the county government."""
    return copy.deepcopy({
        "matter": MATTER,
        "version": VERSION,
        "publication": {"number": "河政规〔2026〕1号", "date": dt.date(2026, 12, 1)},
        "filing": {
            "filed_with": "某某县人民政府",
            "receipt_number": "县备〔2026〕58号",
            "date": dt.date(2026, 12, 15),
            "officer": "孙丽",
        },
        "opinion": {"conclusion": "lawful", "date": dt.date(2026, 11, 20), "counsel": "李明"},
        "chain_head": CHAIN_HEAD,
    })


def register_context() -> dict[str, Any]:
    """The register of documents in force (登记簿), one document amended by a later one, one in force."""
    rows = [
        {"number": "河政规〔2026〕1号", "title": "河市镇农家乐经营管理暂行办法", "organ": MATTER["organ"],
         "issued_on": dt.date(2026, 3, 1), "valid_until": dt.date(2028, 2, 29), "status_zh": "已修改",
         "note": "由 2026-0031 已修改；暂行/试行"},
        {"number": "河政规〔2026〕2号", "title": "河市镇集贸市场管理规定", "organ": MATTER["organ"],
         "issued_on": dt.date(2026, 9, 1), "valid_until": None, "status_zh": "有效", "note": ""},
    ]
    return {"organ": MATTER["organ"], "on": dt.date(2026, 12, 1), "rows": rows,
            "counts": {"in-force": 1, "amended": 1, "repealed": 0, "expired": 0}, "chain_head": CHAIN_HEAD}


def annual_report_context() -> dict[str, Any]:
    """The statistics part of the annual report, built by the report's own context builder."""
    from hefa.review.report.annual import _context
    from hefa.review.report.figures import Figures

    figures = Figures(
        year=2026, chain_head=f"42:{CHAIN_HASH}", organ=MATTER["organ"],
        matters_by_kind={"normative-document": 3, "administrative-penalty": 2}, monthly={3: 2, 9: 3},
        opinions={"lawful": 3, "amend": 1, "unlawful": 1}, revised_after_opinion=2,
        review_days={"normative-document": {"count": 3, "median": 6, "longest": 12, "limit": 15, "over_limit": 0}},
        filings={"filed": 2, "within_days": 30, "on_time": 2, "late": 0},
        corrections={"opened": 1, "closed": 1, "open_at_year_end": 0},
        enforcement={"administrative-penalty": {"total": 2, "reviewed": 2},
                     "administrative-licence": {"total": 0, "reviewed": 0}},
        deliberations={"total": 4}, warnings={"overdue": 1, "due-soon": 2},
        officers={"counsel": 2, "drafter": 3},
        certificates={"enforcement": 4, "enforcement_valid_at_year_end": 3, "legal_qualification": 2},
        register={"新登记": 2, "已修改": 1, "已废止": 0, "已失效": 0})
    return _context(figures)


CONTEXTS = {
    "legal_opinion": opinion_context,
    "risk_report": risk_context,
    "deliberation_minutes": minutes_context,
    "filing_report": filing_context,
    "register": register_context,
    "annual_report": annual_report_context,
}


# --- helpers ------------------------------------------------------------------------------

def _open(data: bytes) -> DocumentObject:
    return docx.Document(io.BytesIO(data))


def _render(name: str, **changes: Any) -> DocumentObject:
    return _open(render_document(name, {**CONTEXTS[name](), **changes}))


def _texts(document: DocumentObject) -> list[str]:
    """Paragraph texts in body order, table cells included."""
    texts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            texts.append(block.text)
        else:
            texts += [cell.text for row in block.rows for cell in row.cells]
    return texts


def _full_text(document: DocumentObject) -> str:
    return "\n".join(_texts(document))


def _first(document: DocumentObject, prefix: str) -> Paragraph:
    return next(p for p in document.paragraphs if p.text.startswith(prefix))


def _style_value(style: ParagraphStyle, getter: Any) -> Any:
    """A run property resolved along the style's basedOn chain."""
    while style is not None:
        value = getter(style)
        if value is not None:
            return value
        style = style.base_style
    return None


def _east_asia(paragraph: Paragraph) -> str | None:
    def font(style: ParagraphStyle) -> str | None:
        rpr = style.element.rPr
        fonts = None if rpr is None else rpr.find(qn("w:rFonts"))
        return None if fonts is None else fonts.get(qn("w:eastAsia"))

    return _style_value(paragraph.style, font)


def _size(paragraph: Paragraph) -> Pt | None:
    return _style_value(paragraph.style, lambda s: s.font.size)


def _alignment(paragraph: Paragraph) -> Any:
    direct = paragraph.paragraph_format.alignment
    if direct is not None:
        return direct
    return _style_value(paragraph.style, lambda s: s.paragraph_format.alignment)


# --- the registry ---------------------------------------------------------------------------

def test_every_document_has_a_template_and_a_title() -> None:
    files = TEMPLATES_DIR.glob("*" + TEMPLATE_SUFFIX)
    shipped = {p.name.removesuffix(TEMPLATE_SUFFIX) for p in files}
    assert shipped == set(DOCUMENT_TITLES) == set(CONTEXTS)
    assert DOCUMENT_TITLES["legal_opinion"] == "合法性审查意见书"


def test_unknown_document_is_a_key_error_naming_the_choices() -> None:
    with pytest.raises(KeyError) as caught:
        render_document("no_such_form", {})
    assert isinstance(caught.value, UnknownDocument)
    assert "no_such_form" in str(caught.value)
    assert "legal_opinion" in str(caught.value)


def test_missing_context_key_is_named() -> None:
    context = opinion_context()
    del context["chain_head"]
    with pytest.raises(DocumentContextError, match="chain_head"):
        render_document("legal_opinion", context)


def test_unknown_conclusion_code_is_refused() -> None:
    context = opinion_context()
    context["opinion"]["conclusion"] = "maybe"
    with pytest.raises(DocumentContextError, match="maybe"):
        render_document("legal_opinion", context)


# --- round trips: text ----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DOCUMENT_TITLES))
def test_round_trip_has_title_and_chain_head(name: str) -> None:
    document = _render(name)
    text = _full_text(document)
    title = "".join(p.text for p in document.paragraphs if p.style.name == "公文标题")
    assert title.endswith(DOCUMENT_TITLES[name])
    assert MATTER["organ"] in text
    assert f"审计链锚点 / audit chain head: 第42号 {CHAIN_HASH}" in text
    assert document.core_properties.subject == DOCUMENT_TITLES[name]


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end)]


def test_legal_opinion_states_conclusion_problems_and_basis() -> None:
    document = _render("legal_opinion")
    text = _full_text(document)
    assert "经审查，修改后合法，建议修改后提交。" in text
    assert "河法审〔2026〕3号" in text
    problems = _section(text, "四、发现的问题", "五、审查结论")
    # what counsel recorded 不符合, in the checklist's order, with counsel's notes — nothing else
    assert "（一）是否违法设立行政许可、行政处罚、行政强制、行政征收、行政收费等事项" in problems
    assert "第一条设定罚款、第六条设定收费，超越规范性文件的权限" in problems
    assert "（二）是否存在没有法律、法规依据作出减损公民" in problems
    assert "（三）" not in problems and "第10段" not in problems
    # the pre-screen's findings are hints after the signature, never problems
    hints = text[text.index("附：预审提示"):]
    assert "1.第一条“由镇综合执法队处五百元以上二千元以下罚款”：设定行政处罚" in hints
    assert "3.第10段“在镇指定的配送企业处统一采购”" in hints  # no article: paragraph_index 9 → 第10段
    assert text.index("审查人：李明") < text.index("附：预审提示")
    assert "《中华人民共和国行政许可法》" in text
    assert "《中华人民共和国行政许可法》" in text
    assert VERSION["sha256"] in text
    assert "2026年11月5日" in text  # GB/T 9704: no leading zero
    assert "请起草单位按照上述意见修改" in text


def test_recorded_times_print_in_beijing_time() -> None:
    # hefa's clock is UTC (the database keeps it naive); a reader in a township reads 北京时间.
    text = _full_text(_render("legal_opinion"))
    assert "第2版（2026年11月20日 17:30提交" in text  # uploaded 09:30 UTC
    aware = opinion_context()
    aware["generated_at"] = dt.datetime(2026, 11, 25, 23, 5, tzinfo=dt.UTC)
    assert "生成时间：2026年11月26日 07:05" in _full_text(_open(render_document("legal_opinion", aware)))


@pytest.mark.parametrize(
    ("code", "wording"),
    [("lawful", "合法，同意提交审议"), ("unlawful", "不合法，不得提交审议")],
)
def test_legal_opinion_prints_each_conclusion(code: str, wording: str) -> None:
    context = opinion_context()
    context["opinion"]["conclusion"] = code
    assert f"经审查，{wording}。" in _full_text(_open(render_document("legal_opinion", context)))


def test_legal_opinion_without_problems_says_none_found() -> None:
    text = _full_text(_render("legal_opinion", problems=[], hints=[], doc_number=None))
    assert "经逐项审查，未发现不符合项。" in text
    assert "预审提示" not in text
    assert "〔2026〕3号" not in text


def test_legal_opinion_prints_each_item_as_recorded() -> None:
    document = _render("legal_opinion")
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows[1:]]
    assert [r[1] for r in rows] == [i.question for i in NORMATIVE.items]
    assert [r[2] for r in rows] == [ENTRIES.get(i.key, ("符合", ""))[0] for i in NORMATIVE.items]
    assert rows[-1][3] == "尚未进入集体审议程序" and rows[0][3] == "—"
    assert "已逐项审查" not in _full_text(document)


def test_legal_opinion_names_the_drafting_organ_and_the_drafter() -> None:
    text = _full_text(_render("legal_opinion"))
    assert f"起草单位：{MATTER['organ']}" in text and f"承办人：{MATTER['drafter']}" in text
    legacy = _full_text(_render("legal_opinion", checklist=[], problems=[]))
    assert "本意见书出具时未逐项记录审查结果。" in legacy and "未发现不符合项" not in legacy


def test_doc_number_is_centred_under_the_title() -> None:
    document = _render("legal_opinion")
    texts = [p.text for p in document.paragraphs]
    number = _first(document, "河法审〔2026〕3号")
    assert texts.index(number.text) == 2  # after the two title lines
    assert _alignment(number) == WD_ALIGN_PARAGRAPH.CENTER


def test_signature_block_is_right_aligned() -> None:
    document = _render("legal_opinion")
    for prefix in ("审查人：李明", "河市镇人民政府法律顾问室", "2026年11月5日"):
        assert _alignment(_first(document, prefix)) == WD_ALIGN_PARAGRAPH.RIGHT


def test_data_cannot_become_markup() -> None:
    context = opinion_context()
    context["hints"][0]["matched_text"] = "# 第八条 | 罚款 |"
    context["opinion"]["reasons"] = "@right 第一行\n## 第二行"
    document = _open(render_document("legal_opinion", context))
    text = _full_text(document)
    assert "“# 第八条 | 罚款 |”" in text
    assert "@right 第一行" in [p.text for p in document.paragraphs]
    second = _first(document, "## 第二行")
    assert second.style.name == "Normal"


def test_risk_report_level_and_controllability() -> None:
    text = _full_text(_render("risk_report"))
    assert "风险等级：中。" in text
    assert "风险是否可控：可控。" in text
    assert "建议提前公示安置方案并设立咨询点。" in text
    context = risk_context()
    context["assessment"].update(level="high", controllable="no")
    text = _full_text(_open(render_document("risk_report", context)))
    assert "风险等级：高。" in text
    assert "第二十四条" in text and "不可控" in text


def test_minutes_print_the_heads_statement_last() -> None:
    texts = _texts(_render("deliberation_minutes"))
    order = [i for i, t in enumerate(texts) if t.startswith(("刘洋：", "陈静：", "赵磊：", "张伟"))]
    speakers = [texts[i][:2] for i in order]
    assert speakers == ["刘洋", "陈静", "赵磊", "张伟"]
    head = texts[order[-1]]
    assert head == "张伟（主要负责人）：同意方案，春节后开工，分两期实施。"
    assert "与会人员按发言顺序充分发表意见，主要负责人最后发表意见。发言按记录顺序如下：" in texts
    assert "会议决定：同意。" in texts
    assert "陈静不同意春节前施工，已如实记录。" in texts
    assert "合法性审查意见：合法，同意提交审议（李明，2026年11月5日）。" in texts


def test_minutes_record_no_dissent_as_none() -> None:
    context = minutes_context()
    context["meeting"].update(dissent="", decision="defer")
    texts = _texts(_open(render_document("deliberation_minutes", context)))
    assert "无。" in texts
    assert "会议决定：暂缓。" in texts


def test_minutes_refuse_a_record_where_the_head_did_not_speak_last() -> None:
    context = minutes_context()
    views = context["meeting"]["views"]
    views.insert(0, views.pop())
    with pytest.raises(DocumentContextError, match="最后发表意见"):
        render_document("deliberation_minutes", context)


def test_filing_report_names_publication_and_receipt() -> None:
    document = _render("filing_report")
    text = _full_text(document)
    assert _first(document, "某某县人民政府：").paragraph_format.first_line_indent in (None, 0)
    assert "（河政规〔2026〕1号）报送备案" in text
    assert "2026年12月1日公布" in text
    assert "收件编号：县备〔2026〕58号" in text
    assert "审查结论为：合法，同意提交审议。" in text


# --- round trips: layout --------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DOCUMENT_TITLES))
def test_page_is_a4_with_gbt9704_margins(name: str) -> None:
    section = _render(name).sections[0]

    def mm(length: Any) -> float:  # OOXML stores twips: compare to 0.1 mm
        return round(length.mm, 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.bottom_margin)) == (37, 35)
    assert (mm(section.left_margin), mm(section.right_margin)) == (28, 26)
    text_width = section.page_width - section.left_margin - section.right_margin
    text_height = section.page_height - section.top_margin - section.bottom_margin
    assert (mm(Emu(text_width)), mm(Emu(text_height))) == (156, 225)


def test_title_is_xiaobiaosong_22pt_centred() -> None:
    title = _render("legal_opinion").paragraphs[0]
    assert title.text == "关于《河市镇农家乐经营管理暂行办法》的"
    assert _size(title) == Pt(22)
    assert _east_asia(title) == "方正小标宋简体"
    assert _alignment(title) == WD_ALIGN_PARAGRAPH.CENTER


def test_body_is_fangsong_16pt_indented_two_characters() -> None:
    body = _first(_render("legal_opinion"), "你单位报送的")
    assert body.style.name == "Normal"
    assert _size(body) == Pt(16)
    assert _east_asia(body) == "仿宋_GB2312"
    ind = body.style.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    assert body.style.paragraph_format.first_line_indent == Pt(32)


def test_headings_are_heiti_and_kaiti() -> None:
    document = _render("legal_opinion")
    first = _first(document, "一、审查对象")
    second = _first(document, "（一）是否违法设立")
    assert (_east_asia(first), _size(first)) == ("黑体", Pt(16))
    assert (_east_asia(second), _size(second)) == ("楷体_GB2312", Pt(16))


def test_twenty_two_lines_of_twenty_eight_characters() -> None:
    document = _render("legal_opinion")
    normal = document.styles["Normal"].paragraph_format
    assert normal.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert normal.line_spacing == Pt(28.95)
    assert 22 * 28.95 <= 225 / 25.4 * 72 < 23 * 28.95
    grid = document.sections[0]._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch"))) == ("lines", "579")
    rpr = document.styles["Normal"].element.rPr
    condensed = int(rpr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    width_pt = 156 / 25.4 * 72
    assert 28 * (16 + condensed) <= width_pt < 29 * (16 + condensed)


def test_east_asian_fonts_have_fallbacks_in_the_font_table() -> None:
    document = _render("legal_opinion")
    part = next(r.target_part for r in document.part.rels.values()
                if r.reltype.endswith("/fontTable"))
    xml = part.blob.decode("utf-8")
    assert re.search(r'w:name="仿宋_GB2312"><w:altName w:val="仿宋,FangSong', xml)
    assert re.search(r'w:name="楷体_GB2312"><w:altName w:val="楷体,KaiTi', xml)
    assert 'w:name="方正小标宋简体"' in xml and 'w:charset w:val="86"' in xml


def test_footer_has_page_field_on_the_outer_side() -> None:
    document = _render("legal_opinion")
    section = document.sections[0]
    assert document.settings.odd_and_even_pages_header_footer
    for footer, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                         (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        instr = paragraph._p.xpath(".//w:instrText")
        assert [i.text.strip() for i in instr] == ["PAGE"]
        assert paragraph.text == "— 1 —"
        assert paragraph.alignment == side
        assert _size(paragraph) == Pt(14)
        assert _east_asia(paragraph) == "宋体"


def test_properties_are_in_schema_order() -> None:
    """Word refuses pPr/rPr children out of ECMA-376 order; check every part we write."""
    document = _render("legal_opinion")
    section = document.sections[0]
    roots = [document.styles.element, document.element, section.footer._element,
             section.even_page_footer._element]
    for parent_tag, order in layout._CHILD_ORDER.items():
        rank = {qn(tag): i for i, tag in enumerate(order)}
        for root in roots:
            for parent in root.iter(qn(parent_tag)):
                ranks = [rank[child.tag] for child in parent if child.tag in rank]
                assert ranks == sorted(ranks), parent_tag


def test_tables_span_the_text_block() -> None:
    table = _render("legal_opinion").tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "审查事项", "审查结果", "说明"]
    assert len(table.rows) == 1 + len(NORMATIVE.items)
    assert abs(sum(c.width for c in table.columns) - Mm(156)) < Mm(1)


# --- helpers of the markup ------------------------------------------------------------------

def test_cn_date_and_numbers() -> None:
    assert cn_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert cn_date("2026-11-25T08:00:00") == "2026年11月25日"
    assert [cn_number(n) for n in (1, 10, 12, 20, 21)] == ["一", "十", "十二", "二十", "二十一"]


def test_ragged_table_is_a_markup_error() -> None:
    with pytest.raises(MarkupError):
        parse("| a | b |\n| c |\n")


def test_override_directory_wins_over_shipped_templates(tmp_path: Path) -> None:
    (tmp_path / "filing_report.md.j2").write_text(
        "# {{ matter.title }}备案报告\n@note 第{{ chain_head.seq }}号\n", encoding="utf-8"
    )
    text = render_text("filing_report", filing_context(), templates_dir=tmp_path)
    assert text.startswith("# 河市镇农家乐经营管理暂行办法备案报告")
    assert layout.FONT_BODY == "仿宋_GB2312"


# --- LibreOffice: the files open and render -------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each document converted to PDF by headless LibreOffice (skipped when not installed)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
    folder = tmp_path_factory.mktemp("pdf")
    sources = []
    for name in CONTEXTS:  # a document without a sample context fails its own tests, not this fixture
        path = folder / f"{name}.docx"
        path.write_bytes(render_document(name, CONTEXTS[name]()))
        sources.append(str(path))
    profile = (folder / "lo-profile").as_uri()
    command = [SOFFICE, f"-env:UserInstallation={profile}", "--headless",
               "--convert-to", "pdf", "--outdir", str(folder), *sources]
    env = {**os.environ, "HOME": str(folder)}
    subprocess.run(command, check=True, capture_output=True, timeout=240, env=env)
    return {name: folder / f"{name}.pdf" for name in CONTEXTS}


def _page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60)
        return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.parametrize("name", sorted(DOCUMENT_TITLES))
def test_libreoffice_renders_the_document(name: str, pdfs: dict[str, Path]) -> None:
    pdf = pdfs[name]
    assert pdf.exists(), f"LibreOffice produced no PDF for {name}"
    assert _page_count(pdf) >= 1
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, timeout=60).stdout
        compact = re.sub(r"\s+", "", text)
        assert DOCUMENT_TITLES[name] in compact
        assert "审计链锚点" in compact
        assert "—1—" in compact


# --- the signature block stays with the last lines of text (GB/T 9704 practice) ------------------------

def _without_keeps(data: bytes) -> bytes:
    """The same document with every keepNext/keepLines removed from its paragraphs (the control case)."""
    document = _open(data)
    for paragraph in document.paragraphs:
        ppr = paragraph._p.pPr
        if ppr is not None:
            for tag in ("w:keepNext", "w:keepLines"):
                for element in ppr.findall(qn(tag)):
                    ppr.remove(element)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_signature_block_stays_on_the_page_of_the_last_lines(tmp_path: Path) -> None:
    """For every position of the page break around the end of the text, the PDF shows the last line of
    text, 审查人, the organ and the date on one page; without the keeps, some position splits them."""
    if SOFFICE is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext not installed")
    names = []
    for lines in range(22):  # one more line of reasons each time: the page break walks through the end
        context = opinion_context()
        context["opinion"] |= {"conclusion": "lawful", "reasons": [f"第{n + 1}项意见已核实。" for n in range(lines)]
                               + ["（意见完）"]}
        data = render_document("legal_opinion", context)
        for variant, content in (("keep", data), ("loose", _without_keeps(data))):
            path = tmp_path / f"{variant}-{lines:02d}.docx"
            path.write_bytes(content)
            names.append(path)
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), *map(str, names)], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "HOME": str(tmp_path)})

    def together(path: Path) -> bool:
        text = subprocess.run(["pdftotext", str(path.with_suffix(".pdf")), "-"], capture_output=True, text=True,
                              timeout=60, check=True).stdout
        pages = [re.sub(r"\s+", "", page) for page in text.split("\f")]
        page = next(p for p in pages if "审查人：李明" in p)
        return all(part in page for part in ("（意见完）", OPINION["organ"], "2026年11月5日"))

    kept = {p.stem: together(p) for p in names if p.stem.startswith("keep")}
    loose = {p.stem: together(p) for p in names if p.stem.startswith("loose")}
    assert all(kept.values()), [name for name, ok in kept.items() if not ok]
    assert not all(loose.values()), "no position of the page break separated the signature: the test proves nothing"
