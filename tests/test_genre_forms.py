"""Each form of the genre the structure reader handles, on a short excerpt written for it."""

from __future__ import annotations

from summarizer.backends import PreparedDoc
from summarizer.backends.rules import RulesBackend
from summarizer.extract.duty import parse_duty_clause, prose_duties
from summarizer.extract.goals import find_goals
from summarizer.extract.structure import parse_outline
from summarizer.ingest.clean import clean_text
from summarizer.models import Role


def _rules(raw: str):  # type: ignore[no-untyped-def]
    text = clean_text(raw).text
    return RulesBackend().extract(PreparedDoc("x", text, parse_outline(text)))


def test_one_line_text_gets_its_headings_back() -> None:
    body = "坚持稳中求进，推动高质量发展。" * 40
    raw = (f"某市人民政府关于推进某项工作的意见某政发〔2031〕2号各区政府：现提出如下意见。一、总体要求{body}"
           f"（一）指导思想。{body}二、重点任务（一）加快产业升级。{body}（二）强化要素保障。{body}"
           f"三、保障措施（一）加强组织领导。{body}")
    text = clean_text(raw).text
    assert "某市人民政府关于推进某项工作的意见\n某政发〔2031〕2号\n各区政府" in text
    titles = [m.title for m in parse_outline(text).measures]
    assert titles == ["指导思想", "加快产业升级", "强化要素保障", "加强组织领导"]
    assert clean_text(text).text == text  # still idempotent


def test_steps_under_juti_cuoshi_fold_into_their_task() -> None:
    raw = ("一、优化营商环境\n（一）压减审批时间。（某部牵头，各地区按职责分工负责）具体措施：\n"
           "1．推行告知承诺。（某部牵头）\n2．精简申报材料。（某局牵头）\n（二）降低企业成本。（某委负责）")
    result = _rules(raw)
    assert [m.number for m in result.measures] == ["一", "二"]
    first = {(r.unit, r.role) for r in result.measures[0].responsibilities}
    assert ("某部", Role.lead) in first and ("某局", Role.lead) in first and ("各地区", Role.responsible) in first


def test_project_box_items_and_review_part_are_not_tasks() -> None:
    raw = ("一、发展回顾\n1.基础更加巩固。建成堤防100公里。\n2.短板依然存在。\n"
           "二、主要任务\n1.加强堤防建设。到2030年，新建堤防50公里。\n专栏1 重点工程\n（一）某江堤防工程。\n（二）某河整治工程。\n"
           "2.推进河道整治。\n3.完善监测网络。")
    result = _rules(raw)
    assert [m.title for m in result.measures] == ["加强堤防建设", "推进河道整治", "完善监测网络"]
    assert [(g.value, g.year) for g in result.goals] == [(50.0, 2030)]


def test_article_numbers_with_stray_blanks() -> None:
    outline = parse_outline("一、政策支持\n第 1 条 设立引导资金。\n第 1 7 条 强化考核。\n第19条 附则。")
    assert [m.number for m in outline.measures] == ["1", "17", "19"]


def test_incentives_criteria_and_past_facts_are_not_targets() -> None:
    text = ("对新建项目按固定资产投资的5%给予企业奖励，每年最高奖励不超过500万元。"
            "园区年综合能耗原则上应不小于5万吨标准煤。"
            "我省已累计建成5G基站12万个。"
            "因环境污染直接导致10人以上死亡的为重大事件。"
            "到2030年，新增公园300座以上。")
    assert [(g.value, g.unit) for g in find_goals(text)] == [(300.0, "座")]


def test_duties_in_running_text() -> None:
    text = "由市发展改革委牵头，市财政局、市经信局配合，各区政府负责落实。市商务局会同有关部门制定细则。"
    got = [(d.unit, d.role) for d in prose_duties(text, 0, len(text))]
    assert got == [("市发展改革委", Role.lead), ("市财政局", Role.support), ("市经信局", Role.support),
                   ("各区政府", Role.implement), ("市商务局", Role.lead), ("有关部门", Role.support)]
    assert prose_duties("各部门要健全部门协同机制。市场主体要依法经营。", 0, 25) == []


def test_unit_group_after_deng_is_kept_and_split() -> None:
    text = "财政部、海关总署等国务院相关部门及各地区按职责分工负责"
    got = [(d.unit, d.role) for d in parse_duty_clause(text, 0, len(text)).duties]
    assert got == [("财政部", Role.responsible), ("海关总署", Role.responsible),
                   ("国务院相关部门", Role.responsible), ("各地区", Role.responsible)]


def test_fenbie_and_jun_give_one_target_per_item() -> None:
    goals = find_goals("到2035年，甲类、乙类设施覆盖率分别达到65%和55%；丙、丁两项指标均达到45%以上。")
    assert [(g.value, g.comparator.value, g.year) for g in goals] == [
        (65.0, "exactly", 2035), (55.0, "exactly", 2035), (45.0, "at_least", 2035), (45.0, "at_least", 2035)]
    assert goals[0].start == goals[1].start and goals[0].end == goals[1].end


def test_labels_named_by_their_role_word() -> None:
    text = "完成事项梳理。（6月底完成，牵头考核单位：市政府办公室、市公安局）（持续推进，推进单位：区建管委、各街道）"
    from summarizer.extract.duty import find_notes

    got = [(d.unit, d.role) for a, b in find_notes(text, 0, len(text)) for d in parse_duty_clause(text, a, b).duties]
    assert got == [("市政府办公室", Role.lead), ("市公安局", Role.lead),
                   ("区建管委", Role.responsible), ("各街道", Role.responsible)]


def test_decimal_numbering_inline_with_contents_list_and_condition_lists() -> None:
    body = "工作要求如下，各方应当认真落实，确保取得实效。" * 20
    raw = ("某市突发事件应急预案 1 总则 1.1 编制目的 1.2 适用范围 2 组织体系 2.1 指挥机构 2.2 工作组 "
           f"1 总则 1.1 编制目的 {body} 1.2 适用范围 {body} 2 组织体系 2.1 指挥机构 市应急局负责指挥。{body} "
           f"2.2 工作组 {body}")
    outline = parse_outline(clean_text(raw).text)
    assert [(m.number, m.title) for m in outline.measures] == [
        ("1.1", "编制目的"), ("1.2", "适用范围"), ("2.1", "指挥机构"), ("2.2", "工作组")]
    conditions = parse_outline("一、重大事件\n凡符合下列情形之一的，为重大事件：\n1.造成3人以上死亡的；\n2.造成直接经济损失1000万元以上的。\n"
                               "二、较大事件\n三、一般事件")
    assert [m.number for m in conditions.measures] == ["一", "二", "三"]


def test_titled_tasks_keep_their_untitled_sub_points() -> None:
    parts = []
    for n, head in enumerate(["堤防达标", "泵闸建设", "河道整治"], 1):
        parts.append(f"{n}.{head}。按照规划推进建设。")
        parts += [f"（{k}）完成第{k}批工程的续建，实现全部达到规划规模。" for k in (1, 2)]
    outline = parse_outline("一、主要任务\n" + "\n".join(parts))
    assert [m.title for m in outline.measures] == ["堤防达标", "泵闸建设", "河道整治"]


def test_an_articles_clauses_are_not_tasks() -> None:
    text = ("第一章 总则\n第一条 为规范管理，制定本办法。\n第二条 有下列情形之一的，应当及时更新：\n（一）依据发生变化的；\n"
            "（二）职能发生变化的。\n第三条 主管部门负责监督。\n第二章 附则\n（一）政策支持\n第四条 本办法自印发之日起施行。")
    assert [m.number for m in parse_outline(text).measures] == ["一", "二", "三", "四"]


def test_indicator_table_one_cell_per_line() -> None:
    from summarizer.extract.indicators import indicator_goals

    text = "\n".join(["2.主要指标", "序号", "指标名称", "指标", "属性", "基准值", "（2030年）", "目标值", "（2035年）",
                      "目标值", "（2040年）", "1", "绿地覆盖率", "预期性", "40％", "≥45％", "50％",
                      "2", "公园面积", "约束性", "12.5", "平方公里", "15", "平方公里", "20左右", "3", "渗漏率（%）",
                      "约束性", "/", "≤8", "6", "到2035年，绿地覆盖率稳步提高。"])
    goals, regions = indicator_goals(text)
    got = [(g.indicator, g.value, g.unit, g.comparator.value, g.year) for g in goals]
    assert got == [("绿地覆盖率", 45.0, "%", "at_least", 2035), ("绿地覆盖率", 50.0, "%", "exactly", 2040),
                   ("公园面积", 15.0, "平方公里", "exactly", 2035), ("公园面积", 20.0, None, "about", 2040),
                   ("渗漏率", 8.0, "%", "at_most", 2035), ("渗漏率", 6.0, "%", "exactly", 2040)]
    assert regions and text[regions[0][0]:].startswith("序号")


def test_flat_task_table_blank_separated() -> None:
    raw = ("附表 重点任务分工\n序号 重点任务 牵头单位 完成时限\n"
           "1 新增规模以上工业企业50家以上. 经信局 2031年底前\n"
           "2 建成省级以上创新平台10个 科技局、发改局 持续推进\n"
           "3 完成技改投资100亿元\n")
    result = _rules(raw)
    assert [(m.number, m.title) for m in result.measures] == [
        ("1", "新增规模以上工业企业50家以上"), ("2", "建成省级以上创新平台10个"), ("3", "完成技改投资100亿元")]
    assert [[(r.unit, r.role.value) for r in m.responsibilities] for m in result.measures] == [
        [("经信局", "lead")], [("科技局", "lead"), ("发改局", "lead")], [("科技局", "lead"), ("发改局", "lead")]]
    assert (50.0, "家") in [(g.value, g.unit) for g in result.goals]
    assert 1.0 not in [g.value for g in result.goals]  # a row number is never a target


def test_flat_task_table_one_cell_per_line_with_merged_units() -> None:
    raw = "\n".join(["附件", "重点任务清单", "任务类型", "序号", "工作任务", "推进单位", "行动一 更新住房",
                     "旧房改造", "1", "完成老旧住房改造10万平方米", "区房管局、各街道", "2", "推进成套改造", "3",
                     "加装电梯100台", "区建管委", "公共空间", "4", "建设口袋公园5座", "区绿化市容局"])
    result = _rules(raw)
    got = [(m.number, m.title, m.section, [r.unit for r in m.responsibilities]) for m in result.measures]
    assert got == [("1", "完成老旧住房改造10万平方米", "旧房改造", ["区房管局", "各街道"]),
                   ("2", "推进成套改造", "旧房改造", ["区房管局", "各街道"]),
                   ("3", "加装电梯100台", "旧房改造", ["区建管委"]),
                   ("4", "建设口袋公园5座", "公共空间", ["区绿化市容局"])]


def test_period_opening_a_sentence_scopes_its_targets() -> None:
    goals = find_goals("2031—2035年，每年新建绿道100公里以上。")
    assert [(g.value, g.year) for g in goals] == [(100.0, 2035)]


def test_more_running_text_forms() -> None:
    text = ("由市应急局牵头，市公安局、市交通局等参加。跨区事件由有关区政府共同负责，或由市政府负责。"
            "州政府授权州数据局负责统筹。市生态环境局要会同市水务局制定方案，可会同监察机关及相关部门开展调查。"
            "各区政府对本地区工作负总责。")
    got = [(d.unit, d.role) for d in prose_duties(text, 0, len(text))]
    assert got == [("市应急局", Role.lead), ("市公安局", Role.support), ("市交通局", Role.support),
                   ("有关区政府", Role.responsible), ("市政府", Role.responsible), ("州数据局", Role.responsible),
                   ("市生态环境局", Role.lead), ("市水务局", Role.support), ("监察机关", Role.support),
                   ("相关部门", Role.support), ("各区政府", Role.responsible)]


def test_group_after_deng_and_departments_and_units() -> None:
    text = "公安部、市场监管总局等相关单位及各地区按职责分工负责；国务院相关部门和单位负责"
    got = [d.unit for d in parse_duty_clause(text, 0, len(text)).duties]
    assert got == ["公安部", "市场监管总局", "相关单位", "各地区", "国务院相关部门和单位"]


def test_quantities_to_deliver_baselines_and_present_facts() -> None:
    text = ("到2035年，建设三岛79公里大堤，淘汰10蒸吨以下燃煤锅炉，城镇污水处理率由95%提高至99%。"
            "目前全区共有水闸25座。建筑密度统一按照60%控制。")
    got = [(g.value, g.unit) for g in find_goals(text)]
    assert got == [(79.0, "公里"), (99.0, "%")]


def test_indicator_table_glued_into_one_run() -> None:
    """A scraped table with every cell boundary lost: footnote marks and numbering glue onto
    names, bare numbers of two cells run together, 〔〕 holds the five-year total."""
    from summarizer.extract.indicators import indicator_goals

    text = ("专栏2 主要指标指 标2030年2035年〔累计〕属性一、城乡环境1.绿化城区3绿地率（%）38.542左右-预期性"
            "公园数量（个）120150〔30〕约束性河道水质达标率（%）-＞85-约束性2.排放总量减少（%）烟尘--〔8〕约束性"
            "粉尘4--〔6〕3.人均绿地面积（平方米）12.2513.5 预期性注：〔 〕内为五年累计数。到2035年，全面建成美丽城区。")
    goals, regions = indicator_goals(text)
    got = [(g.indicator, g.value, g.unit, g.comparator.value, g.year) for g in goals]
    assert got == [("绿地率", 42.0, "%", "about", 2035),
                   ("公园数量", 150.0, "个", "exactly", 2035), ("公园数量", 30.0, "个", "increase_by", 2035),
                   ("河道水质达标率", 85.0, "%", "at_least", 2035),
                   ("烟尘", 8.0, "%", "decrease_by", 2035), ("粉尘", 6.0, "%", "decrease_by", 2035),
                   ("人均绿地面积", 13.5, "平方米", "exactly", 2035)]
    # a target split off a glued run is quoted alone (the run states no number 42);
    # a target with its own mark is quoted with its row
    assert text[goals[0].start:goals[0].end] == "42左右"
    assert text[goals[3].start:goals[3].end] == "河道水质达标率（%）-＞85"
    assert regions and text[regions[0][1]:].startswith("注")
    stored = {(g.value, g.year) for g in _rules(text).goals}  # every one passes the grounding check
    assert {(g.value, g.year) for g in goals} <= stored


def test_duty_part_whose_headings_name_the_units() -> None:
    """A 职责分工 part: each heading is a unit, its body what that unit does."""
    raw = ("四、职责分工\n（一）区水务局\n牵头推进排水设施改造，负责年度计划编制。\n（二）区商务委\n"
           "指导商场落实节水要求。\n（三）区档案馆\n加强资料归档。\n（四）各施工单位\n在本单位负责实施的项目中落实要求。\n"
           "（五）推进智慧水务\n加快平台建设，区大数据中心配合。")
    result = _rules(raw)
    got = {m.title: [(r.unit, r.role.value) for r in m.responsibilities] for m in result.measures}
    assert got["区水务局"] == [("区水务局", "lead"), ("区水务局", "responsible")]
    assert got["区商务委"] == [("区商务委", "responsible")]
    assert got["区档案馆"] == [("区档案馆", "responsible")]  # no role verb: the heading unit is responsible
    assert got["各施工单位"] == [("各施工单位", "implement")]  # 本单位 is the heading's unit
    assert got["推进智慧水务"] == [("区大数据中心", "support")]  # a task heading names no unit


def _goals(text: str) -> list[tuple[float, str | None, str, int | None]]:
    return [(g.value, g.unit, g.comparator.value, g.year) for g in find_goals(text)]


def test_year_scope_of_paragraph_heading_and_baseline_years() -> None:
    para = "到2032年，全面建成节水型城市。再生水利用率达到35%，管网漏损率控制在8%以内。\n新建绿地10公顷。"
    assert _goals(para) == [(35.0, "%", "exactly", 2032), (8.0, "%", "at_most", 2032), (10.0, "公顷", "increase_by", None)]
    report = "二、2031年工作安排\n主要预期目标是：地区生产总值增长5.5%左右，城镇新增就业8万人。\n三、保障措施\n培训3000人次。"
    assert [g[3] for g in _goals(report)] == [2031, 2031, None]
    base = "到2035年，单位产值能耗比2030年降低12%，用水总量在2030年的基础上减少6%。"
    assert _goals(base) == [(12.0, "%", "decrease_by", 2035), (6.0, "%", "decrease_by", 2035)]


def test_size_classes_tier_brackets_and_conditions_are_not_targets() -> None:
    assert _goals("逐步关停单机容量8万千瓦以下的机组；淘汰运行满25年、单机12万千瓦级以下的机组。") == []
    assert _goals("鼓励企业新建单机50万千瓦机组。") == []
    tiers = "年纳税额800万元及以上至1500万元、1500万元以上至 3000万元的企业，分别按40%、50%给予奖励。"
    assert _goals(tiers) == []
    assert _goals("对新购设备投资总额达到200万元以上的，按投资额的8%给予补助。") == []
    # the same figures as plain targets are still read
    assert _goals("到2033年，新增装机12万千瓦，培育年纳税1500万元以上企业30家。")[0] == (12.0, "万千瓦", "increase_by", 2033)


def test_units_of_the_genre_ten_thousand_counts_and_return_periods() -> None:
    got = _goals("到2034年，高新技术企业达到2.4万家，开行货运班列3000班次，排涝标准达到30年一遇。")
    assert got == [(2.4, "万家", "exactly", 2034), (3000.0, "班次", "exactly", 2034), (30.0, "年一遇", "exactly", 2034)]


def test_regulation_chapters_glued_to_their_first_article() -> None:
    """A 办法: `第二章 管理职责 第五条 …` on one line; the articles are the tasks, the
    chapters their sections."""
    raw = ("第一章 总则 第一条 为规范档案数字化工作，制定本办法。\n第二条 本办法适用于全县各级机关。\n"
           "第二章 管理职责 第三条 县档案馆是全县档案数字化工作的责任主体，负责统筹推进。\n"
           "第四条 各乡镇人民政府承担本辖区档案安全的主体责任。\n第五条 本办法由县人民政府办公室负责解释。")
    text = clean_text(raw).text
    assert "第二章 管理职责\n第三条" in text and clean_text(text).text == text
    result = _rules(raw)
    assert [m.number for m in result.measures] == ["一", "二", "三", "四", "五"]
    assert result.measures[2].section == "第二章 管理职责"
    duties = [[(r.unit, r.role.value) for r in m.responsibilities] for m in result.measures[2:]]
    assert duties == [[("县档案馆", "responsible")], [("各乡镇人民政府", "responsible")],
                      [("县人民政府办公室", "responsible")]]


def test_round_magnitudes_in_chinese_with_a_count_word() -> None:
    text = "到2036年，形成由百名领军人才、万名骨干教师组成的队伍，创建千家示范农场。全市万人以上乡镇12个。"
    got = [(g.indicator, g.value, g.unit, g.year) for g in find_goals(text)]
    assert ("领军人才", 100.0, "名", 2036) in got and ("骨干教师", 10000.0, "名", 2036) in got
    assert ("示范农场", 1000.0, "家", 2036) in got
    assert not any(v == 10000.0 and u == "人" for _, v, u, _ in got)  # 万人以上乡镇: no count word of ours
    stored = {(g.indicator, g.value) for g in _rules(text).goals}
    assert ("骨干教师", 10000.0) in stored  # 万名 states 10000: the grounding check accepts it


def test_wan_after_digits_is_a_unit_not_a_number() -> None:
    from summarizer.extract.numbers import numbers_in

    assert numbers_in("补助5万元") == [5.0]
    assert 10000.0 in numbers_in("万名教师") and 1_000_000.0 in numbers_in("百万人次")


def test_places_a_measure_covers_are_not_targets() -> None:
    assert _goals("5.对沿江12个乡镇及8个重点湖库实施总磷总量控制。") == []
    assert _goals("以全市36个易涝片区为重点，开展排水改造。") == []
    assert _goals("在污染较重的9个街道开展专项整治。") == []
    assert _goals("选择20个村庄开展整治试点。") == [(20.0, "个", "exactly", None)]


def test_return_periods_and_lengths_to_build() -> None:
    got = [(g.indicator, g.value, g.unit, g.comparator.value) for g in
           find_goals("将东部片区排涝标准提高到五年一遇，老城区提高到二十年一遇标准以上。现状为一年一遇。建设25公里以上滨河步道。")]
    assert got == [("东部片区排涝标准", 5.0, "年一遇", "exactly"), ("老城区", 20.0, "年一遇", "at_least"),
                   ("滨河步道", 25.0, "公里", "at_least")]
    assert _goals("淘汰35蒸吨以下燃煤锅炉。") == []


def test_notes_baselines_and_programme_names() -> None:
    assert _goals("提升排涝能力（全区低洼片区分布于9个街道，共计41处）。") == []
    assert _goals("实现12座泵站（含东区新建泵站2座）达标运行。") == [(12.0, "座", "exactly", None)]
    assert [g[0] for g in _goals("污水处理能力由8万吨/天，提高至15万吨/天。")] == [15.0]
    assert _goals("实施万名青年就业见习计划。") == []


def test_a_modal_and_manner_phrase_between_unit_and_role_verb() -> None:
    text = "各镇人民政府要按照有关规定全面负责辖区内应急处置工作，县应急局应切实负责统筹协调。"
    got = [(d.unit, d.role.value) for d in prose_duties(text, 0, len(text))]
    assert got == [("各镇人民政府", "responsible"), ("县应急局", "responsible")]
    assert prose_duties("各镇要加强宣传，做好服务。", 0, 12) == []  # no role word, no duty


def test_a_pages_labeled_date_when_nothing_is_signed() -> None:
    from summarizer.extract.metadata import extract_plan

    head = "某县农业农村局关于印发《某县高标准农田建设管理办法》的通知\n第一条 为加强管理，制定本办法。"
    assert extract_plan(clean_text("发布日期：2031-04-20\n成文日期：2031.04.12\n" + head).text).issued_date.isoformat() == "2031-04-12"
    assert extract_plan(clean_text("印发日期：2031/4/20\n" + head).text).issued_date.isoformat() == "2031-04-20"
    assert extract_plan(clean_text("发布日期：2031-04-20\n" + head).text).issued_date is None  # online, not issued
    signed = head + "\n某县农业农村局\n2031年4月9日"
    assert extract_plan(clean_text("发布日期：2031-04-20\n" + signed).text).issued_date.isoformat() == "2031-04-09"


def test_a_title_broken_before_its_genre_tail() -> None:
    from summarizer.extract.metadata import extract_plan

    def title(raw: str) -> str | None:
        return extract_plan(clean_text(raw).text).title

    assert title("某县推进冷链物流\n三年行动方案（2031—2033年）\n为推进冷链物流，制定本方案。") == "某县推进冷链物流三年行动方案（2031—2033年）"
    assert title("某县人民政府\n三年行动方案（2031—2033年）\n为推进。") == "三年行动方案（2031—2033年）"  # an issuer is no first half
    assert title("2031年4月9日\n冷链物流行动方案\n为推进。") == "冷链物流行动方案"


def test_standards_each_project_must_meet_are_not_targets() -> None:
    assert _goals("新建停车场应预留充电设施安装条件，预留比例不低于30%。") == []
    assert _goals("新上项目原则上单位产品能耗不高于0.8吨标准煤。") == []
    # with a deadline, the same wording sets a target
    assert _goals("到2032年，全市新建建筑应全部执行绿色标准，星级比例不低于40%。") == [(40.0, "%", "at_least", 2032)]


def test_a_whole_title_below_a_phrase_is_not_a_tail() -> None:
    from summarizer.extract.metadata import extract_plan

    raw = "政策解读专栏\n某县智慧农业发展规划（2031—2035年）\n为推进智慧农业，制定本规划。"
    assert extract_plan(clean_text(raw).text).title == "某县智慧农业发展规划（2031—2035年）"
