"""Real ledger workbooks for the report tests, written with XlsxWriter (no mocks of office files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from builders import HEADERS, write_ledger

AS_OF = "2024-12-31"
TITLE = "测试街道党工委2024年度民主生活会整改台账"
# the common columns and 整改进展, 整改成效 besides, 完成状态 headed 完成情况 (as many ledgers call it)
REPORT_HEADERS = [*HEADERS[:8], "整改进展", "完成情况", "完成时间", "整改成效", "佐证材料"]

# 5 dimensions, deliberately not in alphabetical or pinyin order; 17 items:
# 12 completed (2 of them 已销号), 3 长期坚持, 2 正在整改 (one overdue) → 70.6%
DIMENSIONS = ["政治建设", "理论学习", "担当作为", "作风建设", "从严治党"]
DONE = date(2024, 6, 20)


def _row(seq, dim, problem, measures, dept, status, outcome="", deadline=date(2024, 6, 30), evidence=""):
    completed = DONE if status in ("已完成", "已销号") else None
    if status == "已销号":
        evidence = evidence or "会议纪要"
    return [
        seq,
        dim,
        problem,
        measures,
        "李四",
        dept,
        "王五",
        deadline,
        "",
        status,
        completed,
        outcome,
        evidence,
    ]


ROWS = [
    _row(1, "政治建设", "政治站位不够高", "1.建立“第一议题”制度；2.开展专题研讨", "党政办", "已完成",
         "班子成员政治判断力明显提升"),
    _row(2, "政治建设", "请示报告不及时", "一是梳理请示报告事项清单；二是建立登记台账", "党政办", "已完成",
         "形成事项清单23项"),
    _row(3, "政治建设", "意识形态责任落实不够", "健全意识形态工作责任制", "宣传办", "长期坚持", "", "长期坚持"),
    _row(4, "理论学习", "学习不够深入 & <系统>", "制定学习计划 & 落实 <每周> 学习制度", "组织办", "已完成",
         "集中学习22次，“学用结合”明显增强"),
    _row(5, "理论学习", "学用结合不够", "（1）开展调研；（2）撰写调研报告", "组织办", "已完成", "形成调研报告5篇"),
    _row(6, "理论学习", "学习形式单一", "开展读书班", "组织办", "已销号", "开展读书分享会4次"),
    _row(7, "担当作为", "调研不够深入", "班子成员每月到基层调研不少于4天", "党政办", "已完成", "累计调研186天"),
    _row(8, "担当作为", "老旧小区改造滞后", "成立工作专班，每周调度", "城建办", "正在整改", "",
         date(2024, 9, 30)),
    _row(9, "担当作为", "服务企业不主动", "建立班子成员联系企业制度", "经发办", "已完成", "办结企业诉求55件"),
    _row(10, "作风建设", "文山会海", "严格控制会议和发文数量", "党政办", "已完成", "会议数量下降28%"),
    _row(11, "作风建设", "督查检查过多", "统筹督查检查事项", "党政办", "已完成", "督查事项减少40%"),
    _row(12, "作风建设", "形式主义", "开展作风专项整治", "纪工委", "长期坚持", "", "长期坚持"),
    _row(13, "从严治党", "主体责任传导不够", "制定主体责任清单", "组织办", "已完成", "制定清单56项"),
    _row(14, "从严治党", "小微权力监督不够", "制定小微权力清单", "纪工委", "已销号", "制定清单28项"),
    _row(15, "从严治党", "廉政风险排查不够", "开展廉政风险点排查", "纪工委", "已完成", "排查风险点134个"),
    _row(16, "从严治党", "组织生活质量不高", "列席指导支部组织生活会", "组织办", "长期坚持", "", "长期坚持"),
    _row(17, "从严治党", "警示教育不够", "开展警示教育", "纪工委", "正在整改", "", date(2025, 3, 31)),
]  # fmt: skip

INFO = [
    ["项目", "内容"],
    ["单位", "测试街道党工委"],
    ["年度", "2024"],
    ["会议", "民主生活会"],
    ["成文日期", "2025年1月10日"],
    ["存在问题", "1.理论武装还不够深入"],
    ["", "2.整改推进还不够平衡"],
    ["下一步打算", "一是持续深化理论武装"],
    ["", "二是紧盯未完成事项"],
]


def write_report_ledger(
    path: Path,
    rows: list[list[object]] | None = None,
    *,
    title: str | None = TITLE,
    info: list[list[object]] | None = None,
) -> Path:
    """The report tests' ledger (``ROWS`` by default): optional title row, header row, data rows, optional
    通报信息 sheet. Empty cells stay empty (not empty strings)."""

    def cells(values: list[object]) -> list[object]:
        return [value if value or isinstance(value, int | float) else None for value in values]

    return write_ledger(
        path,
        [cells(row) for row in (ROWS if rows is None else rows)],
        REPORT_HEADERS,
        title_rows=[title] if title else [],
        info=[cells(row) for row in info] if info else None,
        date_format="yyyy/m/d",
        workbook_options={"strings_to_formulas": False, "strings_to_urls": False},
    )


# The five 方面 as the headings of the real 通报 the sample follows (not in the repository) name them
# (50–100 characters each), on the same 17 items: the "seed-shaped" ledger a clerk makes by copying the
# 通报's headings into the 方面 column.
SEED_DIMENSIONS = [
    "学懂弄通做实习近平新时代中国特色社会主义思想，把握正确政治方向，提高政治能力，增强“四个意识”、"
    "坚定“四个自信”、做到“两个维护”方面",
    "坚持和加强党的全面领导，充分发挥各级党组织的政治功能，团结带领人民群众不折不扣贯彻落实党中央决策部署方面",
    "履职尽责，担当作为，着力破解突出矛盾和问题，防范化解风险挑战，统筹做好疫情防控和经济社会发展工作，"
    "扎实做好“六稳”工作、全面落实“六保”任务，全力推进“五提”行动方面",
    "学习贯彻党的十九届六中全会精神，对照党中央提出的“十四五”经济社会发展主要目标和2035年远景目标，"
    "加强科学谋划，查找短板弱项方面",
    "落实全面从严治党责任，贯彻执行《党委（党组）落实全面从严治党主体责任规定》，带头严守政治纪律和政治规矩，"
    "旗帜鲜明地批评和纠正违规违纪言行，锲而不舍落实中央八项规定精神，坚决反对形式主义官僚主义方面",
]
SEED_ROWS = [[row[0], SEED_DIMENSIONS[DIMENSIONS.index(row[1])], *row[2:]] for row in ROWS]
