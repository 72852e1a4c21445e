"""Target reading: each comparator form and each scope rule, one sentence each.

Written for issue 14: deliberate bugs in the goal reader (a bound word checked before
the change word, `下降到` read as a decrease, `其中` sub-targets losing their `新增`,
`控制在`/`不超过` as lower bounds, `前` as a rank anywhere) passed the suite. Every
sentence here is written for the test, not taken from a scored document; the
expected values follow the comparator table of `../shared/gold-format.md`.
"""

from __future__ import annotations

import pytest

from summarizer.extract.goals import find_goals, threshold_in_quote, year_scopes
from summarizer.extract.numbers import cn_to_number, doubling_factor, numbers_in, value_in_quote
from summarizer.models import Comparator as C


def read(text: str) -> list[tuple[float, float | None, str | None, C, int | None]]:
    return [(g.value, g.value_max, g.unit, g.comparator, g.year) for g in find_goals(text)]


@pytest.mark.parametrize("text,expected", [
    # a change word wins over a bound word after the number
    ("到2026年，新增优质企业100家以上。", (100, None, "家", C.increase_by, 2026)),
    ("到2026年，工业投资年均增长7%以上。", (7, None, "%", C.increase_by, 2026)),
    ("到2026年，研发经费投入增长10%左右。", (10, None, "%", C.increase_by, 2026)),
    ("到2026年，新建充电桩3000个左右。", (3000, None, "个", C.increase_by, 2026)),
    ("到2026年，开放共享率提高5个百分点。", (5, None, "个百分点", C.increase_by, 2026)),
    # decreases, and levels reached by going down or up
    ("到2026年，单位产值能耗下降12%。", (12, None, "%", C.decrease_by, 2026)),
    ("到2026年，化肥施用量减少8万吨。", (8, None, "万吨", C.decrease_by, 2026)),
    ("到2026年，单位产值能耗下降到0.4吨标准煤。", (0.4, None, "吨标准煤", C.exactly, 2026)),
    ("到2026年，审批时限压减至5天。", (5, None, "天", C.exactly, 2026)),
    ("到2026年，城镇绿化覆盖率提高到45%。", (45, None, "%", C.exactly, 2026)),
    # upper bounds
    ("到2026年，填埋量控制在20万吨。", (20, None, "万吨", C.at_most, 2026)),
    ("到2026年，漏损率不超过8%。", (8, None, "%", C.at_most, 2026)),
    ("到2026年，平均通勤时间控制在45分钟以内。", (45, None, "分钟", C.at_most, 2026)),
    ("到2026年，空置率在10%以下。", (10, None, "%", C.at_most, 2026)),
    # lower bounds
    ("到2026年，营业收入突破500亿元。", (500, None, "亿元", C.at_least, 2026)),
    ("到2026年，入驻企业超过80家。", (80, None, "家", C.at_least, 2026)),
    ("到2026年，达标率不低于95%。", (95, None, "%", C.at_least, 2026)),
    ("到2026年，培育示范工厂30家以上。", (30, None, "家", C.at_least, 2026)),
    # about and exactly
    ("到2026年，亩均税收达到40万元左右。", (40, None, "万元", C.about, 2026)),
    ("到2026年，建成区面积约60平方公里。", (60, None, "平方公里", C.about, 2026)),
    ("到2026年，累计建成智能工厂25家。", (25, None, "家", C.exactly, 2026)),
    # ranks: 前 bounds a rank only in 前N强/名/位
    ("到2026年，进入全国百强县前30名。", (30, None, "名", C.at_most, 2026)),
    ("到2026年，综合排名稳居全省前5位。", (5, None, "位", C.at_most, 2026)),
    ("到2026年，全市前期项目储备100个。", (100, None, "个", C.exactly, 2026)),
    ("到2026年，谋划前期项目40个。", (40, None, "个", C.exactly, 2026)),
    ("到2026年，储备前期项目60个。", (60, None, "个", C.exactly, 2026)),
    # ranges
    ("到2026年，打造特色小镇3-5个。", (3, 5, "个", C.exactly, 2026)),
])
def test_comparator_value_unit_year(text: str, expected: tuple) -> None:  # type: ignore[type-arg]
    assert read(text) == [expected]


def test_qizhong_sub_targets_keep_the_change_word_of_their_sentence() -> None:
    goals = read("到2026年，新增规上工业企业200家，其中高新技术企业60家以上。")
    assert [(v, c) for v, _, _, c, _ in goals] == [(200, C.increase_by), (60, C.increase_by)]


def test_qizhong_without_a_change_word_is_a_plain_bound() -> None:
    goals = read("到2026年，规上工业企业达到900家，其中高新技术企业300家以上。")
    assert [(v, c) for v, _, _, c, _ in goals] == [(900, C.exactly), (300, C.at_least)]


def test_a_list_of_targets_splits_at_the_enumeration_comma() -> None:
    goals = find_goals("到2026年，培育单项冠军企业10家、专精特新企业50家。")
    assert [(g.indicator, g.value) for g in goals] == [("单项冠军企业", 10), ("专精特新企业", 50)]


def test_quote_is_the_text_span() -> None:
    text = "到2026年，全市数字经济核心产业增加值突破900亿元。"
    (g,) = find_goals(text)
    assert text[g.start : g.end] == "全市数字经济核心产业增加值突破900亿元"


def test_doubling_is_a_factor() -> None:
    goals = find_goals("到2026年，新能源汽车产值翻一番。")
    assert [(g.value, g.unit, g.comparator) for g in goals] == [(2, "倍", C.exactly)]
    assert [g.value for g in find_goals("到2030年，服务业规模翻两番。")] == [4]


@pytest.mark.parametrize("text", [
    "全市有规上企业120家。",                      # no year scope at all
    "全市在2023—2027年实施重点项目100个。",        # a period inside the sentence, not a deadline
])
def test_no_scope_or_a_period_gives_no_year(text: str) -> None:
    assert read(text)
    assert all(y is None for *_, y in read(text))


def test_scope_runs_to_the_sentence_end_only() -> None:
    # a scope inside a paragraph holds to its sentence's end; one opening the paragraph, over it
    text = "全市稳步推进。到2026年，新增企业20家。全市有园区8个。"
    assert [(v, y) for v, _, _, _, y in read(text)] == [(20, 2026), (8, None)]
    text = "到2026年，新增企业20家。全市有园区8个。\n新建厂房3座。"
    assert [(v, y) for v, _, _, _, y in read(text)] == [(20, 2026), (8, 2026), (3, None)]


def test_scope_before_a_colon_covers_the_dash_lines() -> None:
    text = "到2026年，实现以下目标：\n——新增企业20家；\n——建成园区3个。\n全市有园区8个。"
    assert [(v, y) for v, _, _, _, y in read(text)] == [(20, 2026), (3, 2026), (8, None)]
    assert year_scopes("全市在2023—2027年实施项目。") == []
    assert year_scopes("2023—2027年，实施项目。") == [(0, 15, 2027)]  # a period opening the sentence


@pytest.mark.parametrize("text", [
    "对总投资10亿元以上重大项目给予支持。",            # a threshold qualifying a noun
    "第3条 本办法自发布之日起施行。",
    "打造“千亿级”产业集群。",
    "引进世界500强企业。",                              # a name, not a rank
    "13.加快数字化改造。",
])
def test_not_targets(text: str) -> None:
    assert find_goals(text) == []


def test_threshold_is_told_from_a_target_inside_a_quote() -> None:
    text = "对年营业收入2亿元以上企业给予奖励，新增企业30家。"
    assert threshold_in_quote(text, 0, 14, 2)
    assert not threshold_in_quote(text, 15, len(text), 30)


@pytest.mark.parametrize("numeral,value", [("三", 3), ("十二", 12), ("一百五十", 150), ("两千", 2000),
                                           ("二十", 20), ("十", 10), ("x", None), ("", None)])
def test_chinese_numerals(numeral: str, value: int | None) -> None:
    assert cn_to_number(numeral) == value


def test_numbers_in_a_quote() -> None:
    assert doubling_factor("产值翻两番") == 4 and doubling_factor("翻番") == 2 and doubling_factor("增长") is None
    assert numbers_in("新增1,200家和三个园区") == [1200.0, 3.0]
    assert value_in_quote(1.5, "达到1.5万吨") and not value_in_quote(15, "达到1.5万吨")


def test_a_count_takes_the_noun_after_it_as_indicator() -> None:
    text = "到2026年，打造4个以上低空经济园区，建成3家研究院。"
    goals = find_goals(text)
    assert [(g.indicator, g.value, g.comparator) for g in goals] == [
        ("低空经济园区", 4, C.at_least), ("研究院", 3, C.exactly)]
    assert [text[g.start : g.end] for g in goals] == ["打造4个以上低空经济园区", "建成3家研究院"]


def test_quotes_start_after_the_year_scope_and_lead_dash() -> None:
    text = "到2026年底前，全区规上企业达到300家。\n力争2027年，培育链主企业8家。"
    goals = find_goals(text)
    assert [text[g.start : g.end] for g in goals] == ["全区规上企业达到300家", "培育链主企业8家"]
    assert [g.year for g in goals] == [2026, 2027]


def test_the_innermost_scope_holds() -> None:
    text = "全市加快发展。到2030年，新增企业100家，其中到2026年新增企业40家。全市有园区8个。"
    assert [(g.value, g.year) for g in find_goals(text)] == [(100, 2030), (40, 2026), (8, None)]
    end = text.index("。", text.index("到2030"))
    assert year_scopes(text) == [(text.index("到2030"), end, 2030), (text.index("到2026"), end, 2026)]


@pytest.mark.parametrize("text", ["实施“十百千”工程，争创“3个100”目标。", "到2026年，打造“5G+工业互联网”示范。"])
def test_figures_inside_quotation_marks_are_names(text: str) -> None:
    assert find_goals(text) == []


def test_a_figure_after_a_slash_or_an_ordinal_is_not_a_target() -> None:
    assert [g.value for g in find_goals("到2026年，每万人拥有量/5家；第3批项目10个。")] == [10]


def test_bare_number_with_a_bound_needs_a_clause_end() -> None:
    assert [(g.value, g.unit) for g in find_goals("到2026年，覆盖率达到90以上。")] == [(90, None)]
    assert find_goals("到2026年，覆盖90以上企业。") == []


@pytest.mark.parametrize("text,comparator", [
    ("到2026年，覆盖率不少于90%。", C.at_least), ("到2026年，覆盖率至少90%。", C.at_least),
    ("到2026年，覆盖率超过90%。", C.at_least), ("到2026年，覆盖率超90%。", C.at_least),
    ("到2026年，培育企业50家及以上。", C.at_least),
    ("到2026年，空置率不高于8%。", C.at_most), ("到2026年，空置率低于8%。", C.at_most),
    ("到2026年，空置率少于8%。", C.at_most), ("到2026年，空置率控制在8%以内。", C.at_most),
    ("到2026年，研发投入增速15%。", C.increase_by), ("到2026年，研发投入增加15%。", C.increase_by),
    ("到2026年，研发投入扩大15%。", C.increase_by), ("到2026年，研发投入年均增幅15%。", C.increase_by),
    ("到2026年，研发强度提高了0.5个百分点。", C.increase_by), ("到2026年，研发强度提升0.5百分点。", C.increase_by),
    ("到2026年，研发强度提高0.5％。", C.increase_by), ("到2026年，产值提高1倍。", C.increase_by),
    ("到2026年，能耗降低12%。", C.decrease_by), ("到2026年，排放量压减12%。", C.decrease_by),
    ("到2026年，排放量削减12%。", C.decrease_by), ("到2026年，能耗降低到0.4吨标准煤。", C.exactly),
    ("到2026年，排放量减少至12万吨。", C.exactly), ("到2026年，排放量压减到12万吨。", C.exactly),
    ("到2026年，服务企业近500家。", C.about), ("到2026年，服务企业大约500家。", C.about),
    ("到2026年，签约金额约500亿元。", C.about), ("到2026年，集约用地500亩。", C.exactly),
    ("到2026年，工业增加值达到500亿元。", C.exactly),
    ("到2026年，新增用地，全部用于工业，规模300亩。", C.exactly),  # 新增 governs its own clause only
])
def test_each_comparator_word(text: str, comparator: C) -> None:
    assert [g.comparator for g in find_goals(text)] == [comparator]


def test_a_growth_word_far_before_the_number_governs_only_change_units() -> None:
    assert [g.comparator for g in find_goals("到2026年，增长动力更强，培育企业达到500家。")] == [C.exactly]
    assert [g.comparator for g in find_goals("到2026年，工业增加值达到500亿元。")] == [C.exactly]
    assert [g.comparator for g in find_goals("到2026年，研发强度提高0.5。")] == []


def test_a_quotation_mark_on_an_earlier_line_does_not_hide_a_target() -> None:
    assert [g.value for g in find_goals("标题“未闭合\n到2026年，新增企业20家。")] == [20]
    assert find_goals("到2026年，“新增企业20家”。") == []


@pytest.mark.parametrize("text,year", [
    ("2023-2027年，新增企业20家。", 2027), ("2023–2027年，新增企业20家。", 2027),  # a period opening the sentence
    ("在2023年—2025年间，新增企业20家。", None), ("到2026年底，新增企业20家。", 2026),
    ("2026年末，新增企业20家。", 2026), ("确保2026年前，新增企业20家。", 2026),
])
def test_year_scope_forms(text: str, year: int | None) -> None:
    assert [g.year for g in find_goals(text)] == [year]


def test_a_scope_ending_in_a_colon_covers_double_hyphen_lines_to_the_last() -> None:
    text = "到2026年，实现：\n--新增企业20家；\n--建成园区3个\n全市有园区8个。"
    assert [(g.value, g.year) for g in find_goals(text)] == [(20, 2026), (3, 2026), (8, None)]
    last = "到2026年，实现：\n——建成园区3个"
    assert [(g.value, g.year) for g in find_goals(last)] == [(3, 2026)]
    assert year_scopes("到2026年，实现：")[0][1] == len("到2026年，实现：")


def test_threshold_in_quote_looks_only_at_the_quoted_figure() -> None:
    text = "对年营业收入2亿元以上企业，新增企业30家。"
    assert threshold_in_quote(text, 0, 13, 2)
    assert not threshold_in_quote(text, 0, 13, 3)  # the value is not in the quote
    assert not threshold_in_quote(text, 0, 5, 2)   # the quote stops before the figure
    assert not threshold_in_quote("共有2个园区", 0, 6, 2)  # a count is a target, not a threshold


@pytest.mark.parametrize("numeral,value", [("二〇二五", 2025), ("一〇", 10), ("三五", 35), ("五十五", 55)])
def test_chinese_numerals_written_digit_by_digit(numeral: str, value: int) -> None:
    assert cn_to_number(numeral) == value
    assert value_in_quote(value, f"于{numeral}年") and not value_in_quote(value + 1, f"于{numeral}年")


@pytest.mark.parametrize("phrase,factor", [("翻番", 2), ("翻一番", 2), ("翻两番", 4), ("翻二番", 4), ("翻三番", 8)])
def test_each_doubling_word_is_its_factor(phrase: str, factor: int) -> None:
    assert doubling_factor(f"产值{phrase}") == factor
    assert value_in_quote(factor, f"产值{phrase}")
    assert [(g.value, g.unit, g.comparator) for g in find_goals(f"到2030年，服务业产值{phrase}。")] == [
        (factor, "倍", C.exactly)]


def test_a_doubling_with_nothing_before_it_is_named_by_its_word() -> None:
    assert [(g.indicator, g.value) for g in find_goals("到2030年，翻一番。")] == [("翻番", 2)]


@pytest.mark.parametrize("value,quote", [(4, "新增5家"), (2, "新增3家"), (1.5, "达到2.5万吨"), (5, "增长0.5%")])
def test_a_value_is_in_a_quote_only_when_stated_there(value: float, quote: str) -> None:
    assert not value_in_quote(value, quote)


def test_a_full_width_percent_is_read_as_a_percent() -> None:
    assert [(g.value, g.unit) for g in find_goals("到2026年，覆盖率达到90％。")] == [(90, "%")]
    assert [(g.value, g.unit) for g in find_goals("到2026年，覆盖率分别达到90％和80％。")] == [(90, "%"), (80, "%")]


def test_yi_and_wan_before_a_noun_are_not_units_of_a_target() -> None:
    assert find_goals("到2026年，服务5亿人口。") == [] and find_goals("到2026年，惠及3万农民。") == []
    assert [(g.value, g.unit) for g in find_goals("到2026年，产值达到5亿。")] == [(5, "亿")]
    assert [(g.value, g.unit) for g in find_goals("到2026年，服务人口达到3万。")] == [(3, "万")]


def test_qiang_is_a_rank_only_after_qian() -> None:
    assert find_goals("到2026年，跻身中国500强。") == []
    assert [(g.value, g.unit, g.comparator) for g in find_goals("到2026年，进入全国前50强。")] == [
        (50, "强", C.at_most)]


@pytest.mark.parametrize("text", ["到2026年，打造特色小镇5-3个。", "到2026年，打造特色小镇5-5个。"])
def test_a_range_that_does_not_rise_is_a_single_value(text: str) -> None:
    assert [(g.value, g.value_max) for g in find_goals(text)] == [(5, None)]


def test_a_counted_noun_in_quotation_marks_is_the_indicator_without_them() -> None:
    text = "到2026年，打造5个“未来工厂”，建成3家研究院。"
    assert [g.indicator for g in find_goals(text)] == ["未来工厂", "研究院"]


def test_a_counted_noun_longer_than_thirty_characters_is_not_taken() -> None:
    for n, taken in ((30, True), (31, False)):
        noun = "园" * n
        (g,) = find_goals(f"到2026年，打造5个{noun}，")
        assert (g.indicator == noun) is taken


def test_a_target_at_the_very_end_of_the_text_keeps_its_noun_and_clause() -> None:
    text = "到2026年，打造5个园区"
    assert [(g.indicator, text[g.start : g.end]) for g in find_goals(text)] == [("园区", "打造5个园区")]
    assert [(g.indicator, g.start) for g in find_goals("企业达到20家")] == [("企业", 0)]


def test_indicators_lose_a_year_scope_and_a_lead_dash() -> None:
    goals = find_goals("到2030年，新增企业100家，其中到2026年新增企业40家。\n——新增园区3个；")
    assert [g.indicator for g in goals] == ["企业", "企业", "园区"]


@pytest.mark.parametrize("text,comparator", [
    ("到2026年，减少排放企业数达到50家。", C.exactly),   # a decrease word nine characters back
    ("到2026年，增长型企业达到500家。", C.exactly),     # a growth word seven characters back
    ("到2026年，研发强度提高0.5%。", C.increase_by),
    ("到2026年，企业数增长50家。", C.increase_by), ("到2026年，企业数增加50家。", C.increase_by),
    ("到2026年，企业数扩大50家。", C.increase_by),
    ("到2026年，通勤时间45分钟以内。", C.at_most),
    ("到2026年，突破性项目30个。", C.exactly),          # 突破 five characters back names the projects
    ("到2026年，培养前沿人才500名。", C.exactly),        # 前 inside a word, not a rank
])
def test_comparator_words_govern_only_near_the_number(text: str, comparator: C) -> None:
    assert [g.comparator for g in find_goals(text)] == [comparator]


@pytest.mark.parametrize("prefix", ["对企业给予奖励。", "对企业给予奖励补助。", "给予奖励；"])
def test_an_incentive_in_the_sentence_before_does_not_hide_a_target(prefix: str) -> None:
    assert [g.value for g in find_goals(prefix + "到2026年，新增企业20家。")] == [20]


@pytest.mark.parametrize("text", [
    "到2026年，重点项目（108个）全部开工。",            # a count in brackets is a heading's tally
    "到2026年，覆盖率统一按照60%控制。",                 # a rule applied
    "到2026年，对企业给予500万元补助。",                 # an incentive in the clause
    "到2026年，给予企业500万元，用于技改。",
    "到2026年，投资额的5%作为奖励。",                    # an incentive just after the figure
    "到2026年，在56个城市实施试点。",                    # a count naming the scope
    "到2026年，对5个园区的20家企业开展诊断。",
    "到2026年，现有企业达到300家。",                     # a fact
    "申报条件：到2026年营业收入达到2000万元。",          # a criterion
    "到2026年，打造“链主”20家。",                         # a figure right after a name in quotes
    "到2026年，达到90以上。",                             # nothing names what reaches it
])
def test_figures_the_sentence_marks_as_not_a_target(text: str) -> None:
    assert find_goals(text) == []


def test_a_baseline_after_you_is_not_a_target_but_the_level_is() -> None:
    assert [(g.value, g.comparator) for g in find_goals("到2026年，覆盖率由95%提高至99%。")] == [(99, C.exactly)]


def test_an_incentive_in_the_next_clause_does_not_hide_a_target() -> None:
    assert [g.value for g in find_goals("到2026年，新增企业30家，给予奖励。")] == [30]


def test_a_skipped_figure_does_not_end_the_search() -> None:
    assert [g.value for g in find_goals("到2026年，覆盖90以上企业，新增企业20家。")] == [20]


def test_a_target_at_a_line_start_counts() -> None:
    assert [g.value for g in find_goals("到2026年，完成以下目标：\n100家企业完成数字化改造。")] == [100]


def test_the_end_bound_limits_the_search() -> None:
    text = "到2026年，新增企业20家。到2030年，产值翻一番。"
    cut = text.index("到2030")
    assert [g.value for g in find_goals(text, 0, cut)] == [20]
    assert [g.value for g in find_goals(text, cut)] == [2]


def test_an_enumeration_comma_at_the_text_start_is_not_a_list() -> None:
    assert [g.indicator for g in find_goals("甲、乙两类企业达到20家。")] == ["甲、乙两类企业"]


@pytest.mark.parametrize("text,expected", [
    ("到2026年，城镇和农村污水处理率均达到95%以上。",
     [("城镇和农村污水处理率", 95, "%", C.at_least)] * 2),
    ("到2026年，甲、乙、丙均达到90%。", [("甲、乙、丙", 90, "%", C.exactly)] * 3),
    ("到2026年，甲、乙、丙、丁、戊、己、庚均达到90%。", [("甲、乙、丙、丁、戊、己、庚", 90, "%", C.exactly)] * 6),
    ("到2026年，甲和乙分别提高5%和3%。", [("甲和乙", 5, "%", C.increase_by), ("甲和乙", 3, "%", C.increase_by)]),
    ("到2026年，全市园区和企业分别达到30个和50家。", [("园区和企业", 30, "个", C.exactly), ("园区和企业", 50, "家", C.exactly)]),
    ("2026年全市甲和乙分别达到65和55%。", [("甲和乙", 65, "%", C.exactly), ("甲和乙", 55, "%", C.exactly)]),
])
def test_respectively_and_all_sentences_give_one_target_per_item(text: str, expected: list) -> None:  # type: ignore[type-arg]
    assert [(g.indicator, g.value, g.unit, g.comparator) for g in find_goals(text)] == expected


@pytest.mark.parametrize("text", ["到2026年，甲和乙分别达到3和5。", "到2026年，甲和乙均达到90%和80%。"])
def test_respectively_without_a_unit_or_all_with_two_values_is_not_split(text: str) -> None:
    assert len(find_goals(text)) <= 2 and all(g.indicator != "甲和乙" for g in find_goals(text))


@pytest.mark.parametrize("text,is_target", [
    ("到2026年，90%以上村庄得到治理。", True), ("到2026年，90％以上村庄得到治理。", True),
    ("到2026年，建设79公里大堤。", True), ("到2026年，关停35蒸吨以下生物质锅炉。", False),
    ("到2026年，按评估价的70%确定。", False),
])
def test_a_figure_before_a_noun_is_a_threshold_only_when_it_qualifies_it(text: str, is_target: bool) -> None:
    assert bool(find_goals(text)) is is_target


def test_threshold_in_quote_reads_a_bare_figure_with_a_bound() -> None:
    assert threshold_in_quote("覆盖90以上企业", 0, 8, 90)


@pytest.mark.parametrize("text,values", [
    ("到2026年，“新增企业20家，建成园区3个”。", []),          # both inside one quotation
    ("到2026年，实施《企业20家培育计划》。", []),
    ("“到2026年，新增企业20家”", []),                          # a quotation opening the text
    ("“新增企业20家\n建成园区3个。", [3]),                     # it ends with its line
    ("新增企业20家\n“未闭合\n建成园区3个。", [20, 3]),        # only the target's own line counts
    ("新增企业20家“\n建成园区3个。", [20, 3]),
    ("新增企业20家\n“建成园区3个”", [20]),
    ("新增企业20家\n《建成园区3个》", [20]),
    ("到2026年，新增企业20家“未闭合\n到2026年，建成园区3个。", [20, 3]),
])
def test_quotation_marks_are_counted_on_the_targets_own_line(text: str, values: list[int]) -> None:
    assert [g.value for g in find_goals(text)] == values


@pytest.mark.parametrize("text,years", [
    ("到2026年，新增企业20家\n全市有园区8个。", [2026, None]),      # a scope ends with its line
    ("到2026年：\n——新增企业20家；\n——建成园区3个。", [2026, 2026]),  # a colon right after the year
    ("2024—2027年，新增企业20家", [2027]),                           # a period scope at the text end
])
def test_scope_extents(text: str, years: list[int | None]) -> None:
    assert [g.year for g in find_goals(text)] == years
