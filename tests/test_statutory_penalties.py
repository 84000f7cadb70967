"""The statutes' own penalties (法定罚则表) and the sums of money they are compared in."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hefa.review.documents.docx_intake import Paragraph
from hefa.review.documents.prescreen import prescreen_paragraphs, prescreen_text
from hefa.review.law.amounts import chinese_number, fine_windows, yuan_amounts
from hefa.review.law.statutory_penalties import (
    BELOW,
    COLUMNS,
    EXCEEDS,
    RESTATES,
    check_fines,
    cited_provisions,
    load_provisions,
    parse_provisions,
    unauthorised_measures,
)

HEADER = "\t".join(COLUMNS)
STRAW = ("air.119.1-straw\t《中华人民共和国大气污染防治法》\t第一百一十九条第一款\t露天焚烧秸秆、落叶等\t"
         "焚烧&秸秆|落叶\t500\t2000\tfixed\t责令改正\t县级以上地方人民政府确定的监督管理部门\ttest\t"
         "违反本法规定，在人口集中地区对树木、花草喷洒剧毒、高毒农药，或者露天焚烧秸秆、落叶等产生烟尘污染的物质的，"
         "由县级以上地方人民政府确定的监督管理部门责令改正，并可以处五百元以上二千元以下的罚款。")
FOREST = ("forest-fire.50\t《森林防火条例》\t第五十条\t森林防火期内野外用火\t野外用火|野外吸烟\t200\t3000\t"
          "单位 10000-50000\t责令停止违法行为\t县级以上地方人民政府林业主管部门\ttest\t"
          "……对个人并处200元以上3000元以下罚款，对单位并处1万元以上5万元以下罚款。")
FOOD = ("food.122\t《中华人民共和国食品安全法》\t第一百二十二条第一款\t未取得许可从事食品生产经营\t"
        "未取得&食品&许可\t\t\t"
        "货值金额不足一万元的，并处五万元以上十万元以下罚款；货值金额一万元以上的，并处货值金额十倍以上二十倍以下罚款\t"
        "没收违法所得,没收非法财物\t县级以上人民政府食品安全监督管理部门\ttest\t……")


def table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "penalties.tsv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("numeral", "value"), [
    ("五百", 500), ("二千", 2000), ("两万", 20_000), ("十二", 12), ("一百一十九", 119), ("三万五千", 35_000),
    ("壹仟伍佰", 1500), ("一万零五百", 10_500), ("二十万", 200_000),
])
def test_chinese_numerals_are_read(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


def test_a_word_that_is_not_a_numeral_is_refused() -> None:
    with pytest.raises(ValueError, match="不是中文数字"):
        chinese_number("五百块")


def test_sums_in_yuan_are_read_in_every_script() -> None:
    text = "处五百元以上二万元以下，或1.5万元，或人民币伍仟元整，或1000元"
    assert yuan_amounts(text) == [500, 20_000, 15_000, 5000, 1000]


def test_a_fine_is_read_with_its_sums_and_a_multiple_is_marked() -> None:
    windows = fine_windows("货值金额不足一万元的，并处五万元以上十万元以下罚款；"
                           "货值金额一万元以上的，并处货值金额十倍以上二十倍以下罚款")
    assert [(w.amounts, w.proportional) for w in windows] == [((50_000, 100_000), False), ((), True)]
    assert [w.amounts for w in fine_windows("决定处以罚款人民币1,000元。")] == [(1000,)]
    assert [w.amounts for w in fine_windows("每次罚款100元")] == [(100,)]


def test_a_restatement_without_a_citation_is_recognised(tmp_path: Path) -> None:
    provisions = parse_provisions(table(tmp_path, STRAW, FOREST))
    check = check_fines("禁止露天焚烧秸秆，违者由县生态环境局责令改正，并处五百元以上二千元以下的罚款。", provisions)
    assert check is not None and check.verdict == RESTATES and check.provision.id == "air.119.1-straw"
    fixed = check_fines("对焚烧秸秆的农户，每次处1000元罚款。", provisions)
    assert fixed is not None and fixed.verdict == RESTATES


def test_a_fine_above_the_statute_exceeds_it_even_when_the_statute_is_cited(tmp_path: Path) -> None:
    provisions = parse_provisions(table(tmp_path, STRAW, FOREST))
    check = check_fines("依据《大气污染防治法》第一百一十九条，对露天焚烧的，处5000元罚款。", provisions)
    assert check is not None and check.verdict == EXCEEDS and check.fine is not None
    assert "5000" in check.fine.text and "500元–2000元" in check.explanation()
    below = check_fines("在林区野外用火的，对个人处100元罚款。", provisions)
    assert below is not None and below.verdict == BELOW


def test_a_separate_range_for_units_is_honoured(tmp_path: Path) -> None:
    provisions = parse_provisions(table(tmp_path, FOREST))
    check = check_fines("擅自野外用火的，对个人处200元以上3000元以下罚款，对单位处1万元以上5万元以下罚款。", provisions)
    assert check is not None and check.verdict == RESTATES
    assert provisions[0].range_text() == "200元–3000元；单位 1万元–5万元"


def test_a_multiple_of_the_goods_restates_and_nothing_matched_is_no_verdict(tmp_path: Path) -> None:
    provisions = parse_provisions(table(tmp_path, STRAW, FOOD))
    check = check_fines("未取得食品生产经营许可的，并处货值金额十倍以上二十倍以下罚款。", provisions)
    assert check is not None and check.verdict == RESTATES
    assert check_fines("乱扔垃圾的，处200元罚款。", provisions) is None
    assert check_fines("禁止露天焚烧秸秆。", provisions) is None  # no fine named


def test_a_citation_of_a_whole_article_matches_its_paragraphs(tmp_path: Path) -> None:
    provisions = parse_provisions(table(tmp_path, STRAW, FOREST))
    assert [p.id for p in cited_provisions("依据《中华人民共和国大气污染防治法》第一百一十九条", provisions)] == [
        "air.119.1-straw"]
    assert cited_provisions("依据《大气污染防治法》第一百一十九条第二款", provisions) == []
    assert cited_provisions("依据《森林防火条例》第50条", provisions)[0].id == "forest-fire.50"


def test_measures_the_provision_does_not_authorise_are_named(tmp_path: Path) -> None:
    straw, _, food = parse_provisions(table(tmp_path, STRAW, FOREST, FOOD))
    assert unauthorised_measures("焚烧秸秆的，处500元罚款，并取消其当年种粮补贴", straw) == ["*"]
    assert unauthorised_measures("没收违法所得和用于违法生产经营的工具", food) == []
    assert unauthorised_measures("扣押其车辆", straw) == ["扣押"]


@pytest.mark.parametrize(("row", "message"), [
    ("only\tthree\tcells", "expected 12"),
    (STRAW.replace("第一百一十九条第一款", "一百一十九"), "article must read"),
    (STRAW.replace("\t500\t2000\t", "\t3000\t2000\t"), "is not a range"),
    (STRAW.replace("焚烧&秸秆|落叶", "焚烧&"), "anchors need"),
])
def test_a_bad_row_is_refused_with_its_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_provisions(table(tmp_path, row))
    assert "penalties.tsv:2" in str(raised.value)


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate id"):
        parse_provisions(table(tmp_path, STRAW, STRAW))


def test_every_shipped_range_is_the_one_its_article_text_states() -> None:
    """The range columns and the article's quoted text agree: each fixed bound is a sum the text
    names (a typo in either would show here)."""
    provisions = load_provisions()
    assert len(provisions) >= 40
    for provision in provisions:
        assert provision.text and provision.source, provision.id
        if "依照" in provision.fine_rule:
            continue  # the range is another article's (依照前款 / 依照第九十条), read there
        named = set(yuan_amounts(provision.text.replace("万以下", "万元以下")))  # 原文: 5万元以上10万以下
        for low, high in provision.ranges:
            assert high == math.inf or high in named, (provision.id, high, sorted(named))
            assert low == 0 or low in named, (provision.id, low, sorted(named))


# --- in the pre-screen (the shipped table, rules and model) ---------------------------------------

BBQ = "在禁止露天烧烤区域内露天烧烤食品的，没收烧烤工具和违法所得，并处{fine}的罚款。"


def rules_of(text: str, kind: str | None = None) -> list[str]:
    return [finding.rule for finding in prescreen_text(text, kind=kind)]


def test_a_restated_statutory_penalty_is_not_a_finding_and_a_wider_one_is() -> None:
    assert rules_of(BBQ.format(fine="五百元以上二万元以下")) == []
    assert rules_of(BBQ.format(fine="五万元")) == ["penalty.statute.exceeds"]
    finding = prescreen_text(BBQ.format(fine="五万元"))[0]
    assert "第一百一十八条第三款" in finding.basis and "500元–2万元" in finding.explanation


def test_a_fine_beyond_the_cited_article_is_a_finding_though_it_cites_the_law() -> None:
    cited = "依照《中华人民共和国大气污染防治法》第一百一十九条第一款，露天焚烧秸秆的，处{fine}罚款。"
    assert rules_of(cited.format(fine="五千元")) == ["penalty.statute.exceeds"]
    assert rules_of(cited.format(fine="一千元")) == []


def test_a_village_fine_or_an_added_sanction_is_not_taken_for_a_restatement() -> None:
    assert "penalty" in [f.category for f in prescreen_text("本村村民露天焚烧秸秆的，由村委会处五百元罚款。")]
    added = "露天焚烧秸秆的，由镇政府处五百元罚款，并取消其当年种粮补贴。"
    assert "penalty" in [f.category for f in prescreen_text(added)]


DECISION = ("行政处罚决定书", "当事人张某于2026年3月1日在人口集中地区露天焚烧秸秆。",
            "依据《中华人民共和国大气污染防治法》第一百一十九条第一款的规定，{fine}",
            "如不服本决定，可在六十日内申请行政复议或者六个月内提起行政诉讼。")


def decision_rules(fine: str) -> list[str]:
    paragraphs = [Paragraph(index=i, text=text.format(fine=fine), style="", is_heading=False, article=None)
                  for i, text in enumerate(DECISION)]
    return [f.rule for f in prescreen_paragraphs(paragraphs, kind="administrative-penalty")]


def test_a_penalty_decision_fines_within_the_article_it_cites() -> None:
    assert decision_rules("决定处以罚款人民币1500元。") == []
    assert decision_rules("决定处以罚款人民币伍仟元。") == ["penalty-decision.statute.exceeds"]
    assert decision_rules("决定处以罚款300元。") == ["penalty-decision.statute.below"]
    assert decision_rules("鉴于当事人主动消除危害后果，依法减轻处罚，决定处以罚款300元。") == []
