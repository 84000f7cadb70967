"""Tests for hefa.review.documents.prescreen: rules by standard, exclusions, the learned model,
findings that explain themselves, documents, and quality on the fixed held-out split."""

from __future__ import annotations

import importlib.util
import io
import math
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import docx
import pytest

from hefa.review.documents.docx_intake import Paragraph, extract_document
from hefa.review.documents.prescreen import (
    CATEGORIES,
    CATEGORY_BASIS,
    CATEGORY_ZH,
    MODEL_VETO,
    RULES_FILE,
    Finding,
    load_exclusions,
    load_rules,
    parse_exclusions,
    parse_rules,
    pattern_anchors,
    prescreen_document,
    prescreen_paragraphs,
    prescreen_text,
)
from hefa.review.documents.prescreen_model import (
    MODEL_FILE,
    PrescreenModel,
    evidence_spans,
    load_model,
    parse_model,
    train,
)

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
LEGACY_FILES = (DATA / "labeled_clauses_shared.tsv", DATA / "labeled_clauses_hefa.tsv")


def _categories(text: str) -> set[str]:
    return {finding.category for finding in prescreen_text(text)}


@cache
def _quality_module() -> ModuleType:
    path = REPO / "benchmarks" / "prescreen_quality.py"
    spec = importlib.util.spec_from_file_location("prescreen_quality", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# Examples


POSITIVES = [
    ("penalty", "违反本办法规定的，由镇综合执法队处一千元以上五千元以下罚款。"),
    ("penalty", "对屡次违规的摊贩，吊销其摊位经营资格证。"),
    ("penalty", "对拒不整改的作坊，责令停产停业。"),
    ("new_license", "从事农村客运的车辆，须经镇交管站审批后方可营运。"),
    ("new_license", "在河道内采砂的，应当向镇水利站申领采砂许可证。"),
    ("coercion", "对违章搭建的棚屋，镇政府可以组织强制拆除。"),
    ("coercion", "对无证经营的摊贩，执法人员可以扣押其经营工具。"),
    ("fee", "进入市场的经营户每月缴纳管理费二百元。"),
    ("fee", "施工单位开工前须缴纳文明施工保证金。"),
    ("burden", "申请救助的，须提供派出所出具的无犯罪记录证明。"),
    ("burden", "被征收人须承诺放弃行政复议和行政诉讼的权利。"),
    ("power", "镇人民政府有权根据实际情况调整补偿标准。"),
    ("power", "镇财政所可以视财力情况随时调整奖补标准。"),
    ("competition", "政府投资项目的建材应当优先选用本县企业生产的产品。"),
    ("competition", "对在本镇纳税的企业，按其缴纳税收的地方留成部分给予返还。"),
    ("competition", "参与本镇工程招标的企业，须在本镇注册登记。"),
]

# The indirect wording of issue 15: competition problems that name no "本地/指定" keyword
# directly, and penalty/licence/coercion problems that use other verbs.
INDIRECT_POSITIVES = [
    ("competition", "对年度地方财政贡献超过三百万元的企业，按其贡献增量的百分之二十给予奖励。"),
    ("competition", "享受扶持资金的企业八年内迁出本区的，应当退还已享受的扶持资金。"),
    ("competition", "村级道路养护工程限于本县注册的施工企业承接，分公司不得参加。"),
    ("competition", "景区游船项目由县旅游公司独家经营，不再另行招标。"),
    ("competition", "政府采购评审中，本地生产的产品在同等条件下优先。"),
    ("coercion", "逾期未缴纳卫生费的，每日加收欠缴金额千分之三的滞纳金。"),
    ("new_license", "办理个体工商户登记的，须先取得所在村委会出具的同意意见。"),
    ("burden", "申请公共租赁住房的，须在本镇连续居住满三年。"),
    ("penalty", "出租屋未按规定登记的，责令停止出租，待整改验收合格后方可恢复。"),
]

NEGATIVES = [
    # citing a law
    "违反本办法规定，构成违反治安管理行为的，依照《中华人民共和国治安管理处罚法》处理。",
    "对违法建设，由镇人民政府依照《中华人民共和国城乡规划法》第六十五条责令限期改正。",
    # restating a statute's own penalty, with the statute named
    "依照《中华人民共和国行政处罚法》第七十二条，当事人到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款。",
    # assigning the measure to the competent authority
    "违反本办法规定的，由县市场监督管理部门依法处理。",
    "擅自占道经营的，由有关部门依照相关法律法规予以处罚。",
    "对需要查封、扣押的，由具有法定职权的行政机关依法实施。",
    # restricting such measures
    "各部门应当严格控制新设行政许可事项。",
    "进一步清理规范涉企收费，取消没有法律法规依据的各类保证金。",
    "不得以备案、登记、年检等形式变相设定行政许可。",
    # negations
    "行政机关实施行政许可，不得收取任何费用。",
    "办理救助申请时，不再要求申请人提供无犯罪记录证明。",
    "政府投资项目不得指定施工单位。",
    "各地区不得强制要求经营主体在本地登记注册、设立子公司、分公司、分支机构等。",
    # duties inside government
    "镇人民政府应当加强对农村人居环境整治工作的组织领导。",
    "各部门的采购计划应当经镇财政所审核。",
    "受理备案的法制工作机构有权调阅行政处罚的卷宗和材料，报送备案的单位应当予以配合。",
    "镇人民政府鼓励农家乐经营者加入行业协会，加强行业自律。",
    "罚没收入一律上缴国库。",
    "本办法由镇人民政府负责解释。",
    "经营者应当依法取得营业执照和食品经营许可证。",
    # equal treatment and competitive selection
    "外地企业在本镇投资经营的，享受与本地企业同等的政策待遇。",
    "特许经营者通过公开招标、竞争性谈判等竞争方式选择，并依法签订特许经营协议。",
]

# The township's own report (the seed) and prose like it: no findings.
SEED_PROSE = [
    "确定了合同、重大决策、规范性文件、行政处罚与许可，必须由法律顾问审查，出具法律意见后经集体研究讨论决定的工作机制。",
    "全年办理行政处罚案件十二件，无一件被复议撤销或者诉讼败诉。",
    "严格落实行政执法公示、执法全过程记录、重大执法决定法制审核三项制度。",
    "下一步，我镇将继续推进有件必备、有件必审、有错必纠，督促整改发现的问题。",
    "聘请常年法律顾问一名，各村均配备村级法律顾问，实现村级法律顾问全覆盖。",
]


@pytest.mark.parametrize(("category", "text"), POSITIVES + INDIRECT_POSITIVES)
def test_positive_examples(category: str, text: str) -> None:
    assert category in _categories(text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_examples(text: str) -> None:
    assert prescreen_text(text) == []


@pytest.mark.parametrize("text", SEED_PROSE)
def test_township_report_prose_has_no_findings(text: str) -> None:
    assert prescreen_text(text) == []


def test_exclusion_only_covers_its_own_sentence() -> None:
    text = "经营者应当依法经营。违反本条规定的，处五百元罚款。"
    assert _categories(text) == {"penalty"}


def test_several_categories_but_one_finding_per_category() -> None:
    text = "对无证运输的车辆予以扣押，并处二万元罚款；情节严重的，没收其车辆并处五万元罚款。"
    categories = [finding.category for finding in prescreen_text(text)]
    assert sorted(categories) == ["coercion", "penalty"]


# ---------------------------------------------------------------------------
# Findings explain themselves


def test_finding_fields_and_to_dict() -> None:
    (finding,) = prescreen_text("第九条  对占道经营的，处二百元罚款。")
    assert finding.category == "penalty"
    assert finding.article == "第九条"
    assert finding.paragraph_index == 0
    assert "罚款" in finding.matched_text
    assert "行政处罚法" in finding.basis
    assert finding.explanation
    assert finding.rule == "penalty.9.fine"
    assert finding.evidence.startswith("规则 penalty.9.fine：")
    assert 0.0 < finding.confidence <= 1.0
    assert finding.to_dict() == {
        "category": "penalty",
        "article": "第九条",
        "paragraph_index": 0,
        "matched_text": finding.matched_text,
        "basis": finding.basis,
        "explanation": finding.explanation,
        "rule": "penalty.9.fine",
        "evidence": finding.evidence,
        "confidence": finding.confidence,
    }


def test_findings_are_frozen() -> None:
    (finding,) = prescreen_text("对占道经营的，处二百元罚款。")
    with pytest.raises(AttributeError):
        finding.category = "fee"  # type: ignore[misc]


def test_every_finding_names_its_rule_evidence_and_confidence() -> None:
    rule_ids = {rule.rule_id for rule in load_rules()}
    for _, text in POSITIVES + INDIRECT_POSITIVES:
        for finding in prescreen_text(text):
            assert finding.rule in rule_ids
            assert finding.rule.startswith(finding.category + ".")
            assert finding.evidence and finding.matched_text in finding.evidence
            assert 0.05 <= finding.confidence <= 0.99


def test_model_agreement_raises_confidence_and_adds_ngrams() -> None:
    text = "对在本镇纳税的企业，按其缴纳税收的地方留成部分给予返还。"
    (with_model,) = prescreen_text(text)
    (rules_only,) = prescreen_text(text, model=None)
    assert with_model.rule == rules_only.rule
    assert rules_only.confidence == next(r.confidence for r in load_rules() if r.rule_id == rules_only.rule)
    assert "模型（" in with_model.evidence
    assert with_model.confidence > 0.5


def test_model_alone_findings_explain_themselves() -> None:
    # A clause no rule matches (contract-style wording); the model may still report it when asked.
    findings = prescreen_text("经营者须统一在镇供销社指定网点进货，并按镇里核定的价格销售。", model_alone=True)
    for finding in findings:
        if finding.rule.startswith("model."):
            assert finding.rule == f"model.{finding.category}"
            assert finding.basis == CATEGORY_BASIS[finding.category]
            assert CATEGORY_ZH[finding.category] in finding.explanation
            assert finding.evidence.startswith("模型（")


def test_the_model_adds_findings_only_where_no_rule_fired() -> None:
    # Shipped default (MODEL_ALONE): every rule finding on these clauses stays (the model vetoes
    # none of them); the model may add categories no rule found.
    for _, text in POSITIVES + INDIRECT_POSITIVES:
        with_model = {(f.category, f.rule) for f in prescreen_text(text)}
        rules_only = {(f.category, f.rule) for f in prescreen_text(text, model=None)}
        assert rules_only <= with_model
        added = with_model - rules_only
        assert all(rule == f"model.{category}" for category, rule in added)
        assert not {category for category, _ in added} & {category for category, _ in rules_only}


def _model_of_one_category(category: str, probability: float,
                           weights: dict[str, float] | None = None) -> PrescreenModel:
    """A model that gives ``category`` ``probability`` on a clause without any of ``weights``'
    bigrams (their weights raise it), and every other category next to nothing."""
    logit = math.log(probability / (1.0 - probability))
    bias = [logit if name == category else -10.0 for name in CATEGORIES]
    index = CATEGORIES.index(category)
    grams = weights or {}
    return PrescreenModel(tuple(CATEGORIES), {gram: ((index, weight),) for gram, weight in grams.items()},
                          bias, [0.5] * len(CATEGORIES), dict.fromkeys(grams, 1.0))


def test_a_rule_finding_the_model_doubts_is_not_reported() -> None:
    text = "对违反规定的，处以500元罚款。"
    (rule_finding,) = prescreen_text(text, model=None)
    assert rule_finding.category == "penalty"
    doubting = _model_of_one_category("penalty", MODEL_VETO * 0.9)
    assert prescreen_text(text, model=doubting) == []
    unsure = _model_of_one_category("penalty", MODEL_VETO * 1.1)
    assert [f.rule for f in prescreen_text(text, model=unsure)] == [rule_finding.rule]


def test_the_model_never_reports_alone_on_a_heading() -> None:
    model = _model_of_one_category("burden", 0.5, {"蓝鲸": 8.0})  # no rule knows 蓝鲸
    title = "蓝鲸保护办法"
    heading = Paragraph(index=0, text=title, style="Heading 1", is_heading=True, article=None)
    clause = Paragraph(index=1, text=title, style="", is_heading=False, article=None)
    assert prescreen_paragraphs([heading], model=model, model_alone=True) == []
    assert [f.rule for f in prescreen_paragraphs([clause], model=model, model_alone=True)] == ["model.burden"]


def test_the_model_alone_finds_a_reward_for_moving_in() -> None:
    # No rule's wording (落户奖励 is not 迁入 or 注册), but the model has seen such rewards (条例第九条).
    text = "对首次落户本区的企业，一次性给予50万元落户奖励。"
    assert prescreen_text(text, model=None) == []
    (finding,) = prescreen_text(text)
    assert (finding.category, finding.rule) == ("competition", "model.competition")
    assert finding.confidence >= load_model().threshold("competition")
    assert ("落户" in finding.evidence or "奖励" in finding.evidence) and finding.matched_text == text


def test_evidence_spans_merge_ngrams_and_drop_punctuation() -> None:
    assert evidence_spans("企业迁出本县的，退还奖励。", ["迁出", "出本县", "退还", "还奖"]) == ["迁出本县", "退还奖"]


# ---------------------------------------------------------------------------
# Documents


def _docx_bytes(document: docx.document.Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_article_numbers_carried_into_findings_from_docx() -> None:
    document = docx.Document()
    document.add_heading("河市镇集贸市场管理办法", level=1)
    document.add_paragraph("第一条  为规范集贸市场秩序，制定本办法。")
    document.add_paragraph("第五条  经营户应当遵守下列规定：")
    document.add_paragraph("（一）进入市场经营的，每月缴纳市场管理费三百元；")
    document.add_paragraph("（二）服从市场管理。")
    document.add_paragraph("第十二条  违反本办法规定的，由县市场监督管理部门依法处理。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "乱摆摊点"
    table.cell(0, 1).text = "对拒不改正的，扣押其经营工具"
    findings = prescreen_document(extract_document(_docx_bytes(document)))
    located = {(finding.category, finding.article) for finding in findings}
    assert located == {("fee", "第五条"), ("coercion", "第十二条")}


def test_sample_document_findings() -> None:
    path = REPO / "forms" / "samples" / "normative_agritourism_draft.docx"
    findings = prescreen_document(extract_document(path.read_bytes()))
    by_article = {finding.article: finding.category for finding in findings}
    assert by_article == {
        "第一条": "penalty",
        "第二条": "penalty",
        "第三条": "new_license",
        "第四条": "new_license",
        "第五条": "coercion",
        "第六条": "fee",
        "第七条": "burden",
        "第八条": "power",
        "第九条": "competition",
        "第十条": "competition",
    }


def test_clean_sample_has_no_findings() -> None:
    path = REPO / "forms" / "samples" / "normative_clean.docx"
    assert prescreen_document(extract_document(path.read_bytes())) == []


# ---------------------------------------------------------------------------
# The rules table


def test_rules_cover_every_category_with_basis_and_explanation() -> None:
    rules = load_rules()
    assert {rule.category for rule in rules} == set(CATEGORIES)
    assert all(rule.basis and rule.explanation for rule in rules)
    assert load_exclusions()
    assert load_rules() is rules  # loaded and compiled once


def test_rule_ids_are_stable_unique_and_cite_an_article() -> None:
    rules = load_rules()
    ids = [rule.rule_id for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        assert re.fullmatch(r"[a-z_]+\.\d+\.[a-z-]+", rule.rule_id), rule.rule_id
        assert rule.rule_id.startswith(rule.category + ".")
        assert re.search(r"第[一二三四五六七八九十百]+条|国办发", rule.basis), rule.rule_id
        assert 0.0 < rule.confidence <= 1.0


def test_competition_has_a_rule_group_for_each_standard_of_the_regulation() -> None:
    """《公平竞争审查条例》第八条 准入退出, 第九条 自由流动, 第十条 成本, 第十一条 经营行为."""
    competition = [rule for rule in load_rules() if rule.category == "competition"]
    for article, number in (("第八条", "8"), ("第九条", "9"), ("第十条", "10"), ("第十一条", "11")):
        group = [rule for rule in competition if rule.rule_id.split(".")[1] == number]
        assert group, article
        assert all(article in rule.basis and "公平竞争审查条例" in rule.basis for rule in group)


def test_anchors_never_skip_a_clause_the_pattern_matches() -> None:
    """The literal-anchor prefilter is sound: wherever a rule's regex matches, may_match is True."""
    texts = [row.clause for row in _quality_module().read_rows()] + [t for _, t in POSITIVES] + NEGATIVES
    for rule in load_rules():
        for text in texts:
            if rule.pattern.search(text):
                pairs = {text[i : i + 2] for i in range(len(text) - 1)}
                assert rule.may_match(set(text), pairs), (rule.rule_id, text)


def test_pattern_anchors_of_simple_patterns() -> None:
    assert pattern_anchors("罚款") == ("罚款",)
    # 企业 is in most paragraphs (COMMON_HEADS): the rarer required words anchor the rule instead.
    assert set(pattern_anchors("(指定|推荐)的?企业") or ()) == {"指定", "推荐"}
    assert set(pattern_anchors("(指定|推荐)的?供应商") or ()) == {"供应商"}
    # A shared first character that the parser factors out (每(?:人|户)) still anchors as pairs.
    assert set(pattern_anchors("(每人|每户)[0-9]+元") or ()) == {"每人", "每户"}
    assert set(pattern_anchors("(扣押|查封)") or ()) == {"扣押", "查封"}
    assert pattern_anchors("[^。]{0,3}") is None


def test_bad_rule_files_are_rejected(tmp_path: Path) -> None:
    header = "category\tpattern\tbasis\texplanation\trule\tconfidence\n"
    unknown = tmp_path / "rules.tsv"
    unknown.write_text(header + "fine\t罚款\tx\ty\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown category"):
        parse_rules(unknown)
    duplicate = tmp_path / "duplicate.tsv"
    rows = "penalty\t罚款\tx\ty\tp.1.a\t0.9\npenalty\t没收\tx\ty\tp.1.a\t0.9\n"
    duplicate.write_text(header + rows, encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate rule id"):
        parse_rules(duplicate)
    confidence = tmp_path / "confidence.tsv"
    confidence.write_text(header + "penalty\t罚款\tx\ty\tp.1.a\t1.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="confidence"):
        parse_rules(confidence)
    bad_regex = tmp_path / "exclusions.tsv"
    bad_regex.write_text("*\t(依法\treason\n", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_exclusions(bad_regex)


def test_legacy_four_column_rules_still_parse(tmp_path: Path) -> None:
    path = tmp_path / "rules.tsv"
    path.write_text("category\tpattern\tbasis\texplanation\npenalty\t罚款\t第十六条\t说明\n", encoding="utf-8")
    (rule,) = parse_rules(path)
    assert rule.rule_id == "penalty.line2"
    assert rule.confidence == 0.8


# ---------------------------------------------------------------------------
# The learned model


def test_shipped_model_loads_with_every_category() -> None:
    model = load_model()
    assert model is not None
    assert model.categories == CATEGORIES
    assert len(model.weights) > 1000
    assert all(0.5 <= t <= 1.01 for t in model.thresholds)
    assert load_model() is model


def test_model_roundtrip_and_deterministic_training(tmp_path: Path) -> None:
    items = [
        (frozenset({"penalty"}), "处五百元罚款。"),
        (frozenset({"penalty"}), "并处一千元罚款。"),
        (frozenset({"fee"}), "每月缴纳管理费。"),
        (frozenset({"fee"}), "每年缴纳服务费。"),
        (frozenset(), "镇政府负责组织实施。"),
        (frozenset(), "镇政府负责统筹协调。"),
    ]
    first = train(items, CATEGORIES, min_df=1)
    second = train(items, CATEGORIES, min_df=1)
    assert first.weights == second.weights and first.bias == second.bias and first.idf == second.idf
    assert first.probabilities("处二百元罚款。")["penalty"] > first.probabilities("处二百元罚款。")["fee"]
    path = tmp_path / "model.tsv"
    first.dump(path)
    loaded = parse_model(path, CATEGORIES)
    for text in ("处二百元罚款。", "缴纳管理费", "负责实施"):
        assert loaded.probabilities(text) == pytest.approx(first.probabilities(text), abs=1e-3)


def test_bad_model_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "model.tsv"
    path.write_text("ngram\tcategory\tweight\n罚款\tnot-a-category\t1.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="known category"):
        parse_model(path, CATEGORIES)


def test_model_file_is_package_data() -> None:
    assert MODEL_FILE.suffix == ".tsv"  # pyproject package-data takes "*.tsv"
    assert MODEL_FILE.parent == RULES_FILE.parent


# ---------------------------------------------------------------------------
# The labelled set and its fixed split


def test_labelled_set_size_sources_and_fixed_split() -> None:
    quality = _quality_module()
    rows = quality.read_rows()
    assert len(rows) >= 600
    assert all(row.source and row.reason for row in rows)
    assert all(row.source.split(":", 1)[0] in {"real", "case", "written", "counsel-mark"} for row in rows)
    for row in rows:
        assert row.split == quality.assigned_split(row.source, row.clause, row.real_share), row.clause
    held = [row for row in rows if row.split == "heldout"]
    assert len(held) >= 200
    assert sum(1 for row in held if not row.labels) * 4 >= len(held)  # hard clean cases kept
    real = [row for row in rows if row.source.startswith(("real:", "case:"))]
    assert sum(1 for row in real if row.split == "heldout") >= 1000  # real text held out (70 %, later 30 %)
    clauses = [row.clause for row in rows]
    assert len(clauses) == len(set(clauses))


# Thresholds sit just below the measured figures so a regression fails here (they are floors,
# not the targets, which are not met: P ≥ 0.90 and R ≥ 0.85 overall and for competition,
# every category ≥ 0.8). Held-out (1,728 rows after the eleventh pass and its second-label review,
# 1,550 of them real or case text): overall P 0.719 R 0.677; competition P 0.817 R 0.820; lowest
# category precision and recall power 0.564 / 0.355. Tuning (3,019 rows): P 0.950 R 0.944.
HELDOUT_OVERALL = (0.71, 0.66)
HELDOUT_COMPETITION = (0.80, 0.81)
HELDOUT_CATEGORY_MIN = (0.55, 0.34)  # (precision, recall) of the weakest category
TUNING_OVERALL = (0.94, 0.93)


def test_quality_on_the_held_out_split() -> None:
    quality = _quality_module()
    items = quality.items_of(quality.read_rows(), quality.HELDOUT)
    scores = quality.evaluate(items)
    table = quality.format_table("held-out", scores, len(items))
    assert scores["overall"].precision >= HELDOUT_OVERALL[0], table
    assert scores["overall"].recall >= HELDOUT_OVERALL[1], table
    assert scores["competition"].precision >= HELDOUT_COMPETITION[0], table
    assert scores["competition"].recall >= HELDOUT_COMPETITION[1], table
    for category in CATEGORIES:
        assert scores[category].precision >= HELDOUT_CATEGORY_MIN[0], table
        assert scores[category].recall >= HELDOUT_CATEGORY_MIN[1], table


def test_quality_on_the_tuning_split() -> None:
    quality = _quality_module()
    items = quality.items_of(quality.read_rows(), quality.TUNE)
    scores = quality.evaluate(items)
    table = quality.format_table("tuning", scores, len(items))
    assert scores["overall"].precision >= TUNING_OVERALL[0], table
    assert scores["overall"].recall >= TUNING_OVERALL[1], table


def test_real_clean_text_is_rarely_flagged() -> None:
    """Published clean clauses (hard cases among them): at most one in eight flagged (58 of 518
    when measured; many restate a statute's own penalty or licence without naming it). The count
    is asserted, not the clauses, so that the held-out rows among them are not read for tuning."""
    rows = _quality_module().read_rows()
    real_clean = [row for row in rows if row.source.startswith("real:") and not row.labels]
    assert len(real_clean) >= 500
    flagged = sum(1 for row in real_clean if prescreen_text(row.clause))
    assert flagged * 8 <= len(real_clean), f"{flagged} of {len(real_clean)} real clean clauses flagged"


def test_real_text_share_of_the_labelled_set() -> None:
    rows = _quality_module().read_rows()
    real = [row for row in rows if row.source.startswith(("real:", "case:"))]
    assert len(real) >= 1000  # the issue asks for at least 600 sourced clauses
    assert sum(1 for row in real if row.labels) >= 500  # real problem clauses, not only clean ones
    assert all(len(row.source.split(":", 1)[1].strip()) >= 8 for row in real)  # each says where it was found


def test_counsel_marks_export_is_added_as_tuning_rows(tmp_path: Path) -> None:
    quality = _quality_module()
    path = tmp_path / "marks.tsv"
    path.write_text("split\tcategory\tclause\tsource\treason\n"
                    "tuning\t-\t镇农经站负责村级资金的会计核算。\tcounsel-mark:2026-0001/v1/fee.37.charge\t律师复核：内部分工\n",
                    encoding="utf-8")
    rows, problems = quality.new_rows(path, quality.read_rows())
    assert problems == []
    [row] = rows
    assert row.split == quality.TUNE and row.labels == frozenset() and row.source.startswith("counsel-mark:")


def test_counsel_marks_exported_as_tuning_rows_are_read(tmp_path: Path) -> None:
    quality = _quality_module()
    path = tmp_path / "marks.tsv"
    path.write_text("split\tcategory\tclause\tsource\treason\n"
                    "tuning\t-\t镇财政所负责资金拨付。\tcounsel-mark:2026-0001/v1/fee.37.charge\t律师复核：内部分工\n",
                    encoding="utf-8")
    [row] = quality.read_rows(path)
    assert row.split == quality.TUNE and row.labels == frozenset()


def test_new_rows_get_their_assigned_split_and_duplicates_are_refused(tmp_path: Path) -> None:
    quality = _quality_module()
    existing = quality.read_rows()
    path = tmp_path / "new.tsv"
    path.write_text(
        "competition\t对本镇纳税大户给予用地优惠。\treal:https://example.gov.cn/a (某镇文件)\t以纳税额给予优惠\n"
        f"-\t{existing[0].clause}\treal:https://example.gov.cn/b (重复)\t重复\n"
        "fines\t处以罚款。\treal:https://example.gov.cn/c\t未知类别\n"
        "-\t本办法自印发之日起施行。\tmade-up source\t来源不明\n",
        encoding="utf-8",
    )
    rows, problems = quality.new_rows(path, existing)
    [row] = rows
    assert row.labels == frozenset({"competition"})
    assert row.split == quality.assigned_split(row.source, row.clause)
    assert len(problems) == 3
    assert "already in the set" in problems[0] and "unknown category" in problems[1]
    assert "real:, case:, written: or counsel-mark:" in problems[2]
    target = tmp_path / "labelled.tsv"
    target.write_text("split\tcategory\tclause\tsource\treason\n", encoding="utf-8")
    quality.append_rows(rows, target)
    assert quality.read_rows(target) == rows


def test_held_out_rows_of_a_document_that_gave_tuning_rows_are_not_unshared() -> None:
    quality = _quality_module()
    row = quality.Row
    rows = [row(quality.TUNE, frozenset({"fee"}), "甲条", "real:某县文件A", "收费"),
            row(quality.HELDOUT, frozenset({"fee"}), "乙条", "real:某县文件A", "收费"),
            row(quality.HELDOUT, frozenset(), "丙条", "real:某县文件B", "中性")]
    assert [r.clause for r in quality.unshared_heldout(rows)] == ["丙条"]


def test_a_share_directive_changes_the_split_of_later_rows_only(tmp_path: Path) -> None:
    quality = _quality_module()
    clause = next(  # a real clause whose hash bucket is between 30 and 70: the share decides its split
        text for text in (f"镇政府对第{n}号项目给予奖励。" for n in range(200))
        if 30 <= int(quality.hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 100 < 70
    )
    target = tmp_path / "labelled.tsv"
    target.write_text("split\tcategory\tclause\tsource\treason\n", encoding="utf-8")
    new = tmp_path / "new.tsv"
    new.write_text(f"-\t{clause}\treal:https://example.gov.cn/a (某镇文件)\t奖励\n", encoding="utf-8")
    assert quality.current_real_share(target) == 70
    [before] = quality.new_rows(new, [], quality.current_real_share(target))[0]
    assert before.split == quality.HELDOUT
    with target.open("a", encoding="utf-8") as handle:
        handle.write("#! real-heldout-share 30\n")
    assert quality.current_real_share(target) == 30
    [after] = quality.new_rows(new, [], quality.current_real_share(target))[0]
    assert after.split == quality.TUNE
    quality.append_rows([after], target)
    [read] = quality.read_rows(target)
    assert read.real_share == 30 and read.split == quality.assigned_split(read.source, read.clause, 30)
    target.write_text("#! real-heldout-share lots\n", encoding="utf-8")
    with pytest.raises(ValueError, match="whole percentage"):
        quality.read_rows(target)


@pytest.mark.parametrize("path", LEGACY_FILES, ids=lambda p: p.name)
def test_quality_on_legacy_labelled_files(path: Path) -> None:
    quality = _quality_module()
    items = quality.read_labelled(path)
    scores = quality.evaluate(items)
    assert scores["overall"].precision >= 0.97, quality.format_table(path, scores, len(items))
    assert scores["overall"].recall >= 0.97, quality.format_table(path, scores, len(items))


def test_finding_type() -> None:
    assert all(isinstance(f, Finding) for f in prescreen_text("处五百元罚款。"))


# --- counsel's marks on findings (预审提示复核) ----------------------------------------------------

def test_counsel_marks_a_finding_not_a_problem_and_the_mark_is_exported(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess

    from hefa.review.errors import Reason, Refused
    from hefa.review.records.queries import status_of, trail_of
    from hefa.review.services import steps
    from hefa.review.services.findings import marks_as_labelled_rows
    from tests.conftest import WITH_FINE, hefa_bin

    matter = steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定",
                          data=WITH_FINE, filename="d.docx").matter_id
    findings = status_of(matter)["findings"]
    assert findings and findings[0]["category"] == "penalty"
    with pytest.raises(Refused) as own:
        steps.mark_finding(office["zhang"], matter, finding=1, reason="我觉得没问题")
    assert own.value.code is Reason.WRONG_ROLE
    with pytest.raises(Refused) as missing:
        steps.mark_finding(office["li"], matter, finding=len(findings) + 1, reason="x")
    assert missing.value.code is Reason.INVALID_INPUT
    steps.mark_finding(office["li"], matter, finding=1, reason="系复述上位法已有的罚则")
    assert status_of(matter)["findings"][0]["mark"]["reason"] == "系复述上位法已有的罚则"
    actions = [(e["action"], e["outcome"]) for e in trail_of(matter)]
    assert actions[-3:] == [("finding-mark", "refused"), ("finding-mark", "refused"), ("finding-mark", "accepted")]
    rows = marks_as_labelled_rows()
    assert rows == [{"split": "tuning", "category": "-", "clause": findings[0]["matched_text"],
                     "source": f"counsel-mark:{matter}/v1/{findings[0]['rule'] or 'penalty'}",
                     "reason": "律师复核：系复述上位法已有的罚则"}]
    target = tmp_path / "marks.tsv"
    done = subprocess.run([hefa_bin(), "findings", "export", str(target)], env=os.environ.copy(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = target.read_text("utf-8").splitlines()
    assert lines[0] == "split\tcategory\tclause\tsource\treason" and lines[1].startswith("tuning\t-\t")


# ---------------------------------------------------------------------------
# Per-kind scope (issue 14): the 七个不得 rules for normative documents and major decisions, the
# decision checks for penalties and licences, the contract checks for contracts.

PENALTY = "administrative-penalty"
LICENCE = "administrative-licence"
CONTRACT = "contract"


def _kind_findings(kind: str, *paragraphs: str) -> list[Finding]:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    return prescreen_document(extract_document(_docx_bytes(document)), kind=kind)


def _sample(name: str) -> bytes:
    return (REPO / "forms" / "samples" / name).read_bytes()


def test_bundled_penalty_decision_has_no_finding_when_screened_as_a_penalty() -> None:
    document = extract_document(_sample("penalty_decision_draft.docx"))
    assert prescreen_document(document, kind=PENALTY) == []
    # The same text screened as a normative document is what issue 14 found wrong.
    assert "penalty.9.fine" in {f.rule for f in prescreen_document(document)}


def test_bundled_licence_decision_and_clean_samples_have_no_finding() -> None:
    assert prescreen_document(extract_document(_sample("licence_decision_draft.docx")), kind=LICENCE) == []
    assert prescreen_document(extract_document(_sample("normative_clean.docx")),
                              kind="normative-document") == []


def test_penalty_decision_without_basis_or_remedies() -> None:
    findings = _kind_findings(PENALTY, "行政处罚决定书", "当事人：李某。",
                              "违法事实：当事人在集镇主干道占道经营。", "处罚决定：罚款人民币贰佰元整。")
    assert [(f.category, f.rule) for f in findings] == [
        ("decision_basis", "penalty-decision.59.basis"),
        ("decision_remedy", "penalty-decision.59.remedy"),
    ]
    assert not {f.category for f in findings} & set(CATEGORIES)  # never "may not set a fine"


def test_penalty_decision_names_a_law_but_no_article_or_time_limits() -> None:
    findings = _kind_findings(PENALTY, "处罚依据：《城市市容和环境卫生管理条例》。", "处罚决定：罚款人民币伍仟元整。",
                              "如不服本决定，可以申请行政复议或者提起行政诉讼。")
    assert [f.rule for f in findings] == ["penalty-decision.59.article", "penalty-decision.59.remedy-limits"]
    assert findings[0].paragraph_index == 0  # points at the paragraph citing the law


def test_hearing_notice_checked_only_where_article_63_gives_the_right() -> None:
    complete = ("处罚依据：《中华人民共和国食品安全法》第一百二十二条。",
                "当事人如不服本决定，可在收到本决定书之日起六十日内申请行政复议，或者六个月内提起行政诉讼。")
    revoked = _kind_findings(PENALTY, *complete, "处罚决定：吊销食品经营许可证。")
    assert [(f.category, f.paragraph_index) for f in revoked] == [("decision_hearing", 2)]
    assert _kind_findings(PENALTY, *complete, "处罚决定：罚款人民币伍万元整。") == []
    assert _kind_findings(PENALTY, *complete, "处罚决定：吊销食品经营许可证。",
                          "本机关已告知当事人有要求听证的权利，当事人未在法定期限内申请听证。") == []


def test_licence_refusal_must_give_reasons_and_remedies() -> None:
    refused = _kind_findings(LICENCE, "法律依据：《中华人民共和国城乡规划法》第四十一条。",
                             "经审查，申请材料不符合法定条件，决定不予许可。")
    assert [(f.rule, f.paragraph_index) for f in refused] == [("licence-decision.38.remedy", 1)]
    granted = _kind_findings(LICENCE, "法律依据：《中华人民共和国城乡规划法》第四十一条。", "决定准予许可。")
    assert granted == []


def test_contract_checks_find_missing_clauses_and_government_guarantees() -> None:
    sample = prescreen_document(extract_document(_sample("contract_comprehensive_center.docx")), kind=CONTRACT)
    assert [f.rule for f in sample] == ["contract.470.breach"]  # it has a dispute clause, no breach clause
    findings = _kind_findings(
        CONTRACT, "第一条 承包人应当向发包人提供履约担保。",
        "第二条 甲方镇人民政府为乙方向银行的贷款提供连带责任保证。",
        "第三条 任何一方违约的，应当赔偿对方因此受到的损失。",
        "第四条 因本合同发生争议的，向发包人所在地人民法院起诉。")
    assert [(f.category, f.paragraph_index, f.rule) for f in findings] == [
        ("contract_guarantee", 1, "contract.683.guarantee")]
    assert "第六百八十三条" in findings[0].basis and "第三十五条" in findings[0].basis


def test_kind_findings_explain_themselves() -> None:
    findings = [
        *_kind_findings(PENALTY, "处罚决定：吊销许可证。"),
        *_kind_findings(CONTRACT, "甲方承诺对乙方的投资收益予以兜底。"),
    ]
    assert {f.category for f in findings} >= {"decision_basis", "decision_remedy", "decision_hearing",
                                              "contract_dispute", "contract_breach", "contract_guarantee"}
    for finding in findings:
        assert finding.rule and finding.evidence and finding.explanation
        assert re.search(r"第[一二三四五六七八九十百]+条", finding.basis), finding.basis
        assert 0.0 < finding.confidence <= 1.0
        assert finding.category in CATEGORY_ZH
        assert "请核对" in finding.explanation  # a hint for counsel, not a conclusion


def test_major_decisions_get_the_seven_rules_and_unknown_kinds_are_refused() -> None:
    clause = "对违反规定的经营户，处以五百元罚款。"
    assert {f.category for f in prescreen_text(clause, kind="major-decision")} == {"penalty"}
    as_decision = prescreen_text(clause, kind=PENALTY)  # the decision checks: what the text lacks
    assert {f.category for f in as_decision} == {"decision_basis", "decision_remedy"}
    with pytest.raises(ValueError, match="unknown matter kind"):
        prescreen_text(clause, kind="regulation")


def test_every_matter_kind_is_screened_by_rules_or_checks() -> None:
    from hefa.review.documents.prescreen import RULE_KINDS
    from hefa.review.documents.prescreen_kinds import CHECKED_KINDS, load_kind_checks
    from hefa.review.law.rules import Kind

    assert set(RULE_KINDS) | set(CHECKED_KINDS) == {kind.value for kind in Kind}
    assert not set(RULE_KINDS) & set(CHECKED_KINDS)
    assert {check.kind for check in load_kind_checks()} == set(CHECKED_KINDS)


def test_bad_kind_check_files_are_rejected(tmp_path: Path) -> None:
    from hefa.review.documents.prescreen_kinds import parse_kind_checks

    good = ["contract", "contract_breach", "absent", "违约", "-", "-", "违约条款", "《民法典》第四百七十条", "请核对。",
            "contract.x", "0.7"]
    cases = {
        "unknown kind": ["statute", *good[1:]],
        "mode must be": [*good[:2], "sometimes", *good[3:]],
        "unknown category": [good[0], "penalty", *good[2:]],
        "invalid regular expression": [*good[:3], "违约(", *good[4:]],
        "confidence": [*good[:10], "high"],
        "columns": good[:5],
    }
    for message, row in cases.items():
        path = tmp_path / "checks.tsv"
        path.write_text("\t".join(row) + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            parse_kind_checks(path)
    path.write_text("\t".join(good) + "\n" + "\t".join(good) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate rule id"):
        parse_kind_checks(path)


def test_intake_screens_by_the_matters_kind() -> None:
    from hefa.review.documents.incoming import screen_upload
    from hefa.review.errors import InvalidInput

    data = _sample("penalty_decision_draft.docx")
    _, as_penalty = screen_upload(data, "penalty.docx", PENALTY)
    assert as_penalty == []
    _, unscreened_kind = screen_upload(data, "penalty.docx")
    # screened as a normative document: the rule fires (the model may add hints of its own)
    assert [f["rule"] for f in unscreened_kind if not f["rule"].startswith("model.")] == ["penalty.9.fine"]
    with pytest.raises(InvalidInput, match="未知的事项类型"):
        screen_upload(data, "penalty.docx", "regulation")
