"""Ledgers as offices lay them out (issue 12), each with what a person counting by hand finds in it.

Every layout is a grid as it appears on screen (title rows, header rows, items, section rows, notes and
signature lines below), the merged blocks in it, how each header column should be understood, and the
hand counts: items, completed, and the per-方面 totals where the ledger has 方面. The writers turn a
layout into a real file: .xlsx (XlsxWriter), a "WPS-saved" .xlsx (its app.xml and custom.xml say WPS) and
the HTML "xls" office systems export; test_layouts converts some to .xls with LibreOffice.
"""

from __future__ import annotations

import html
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

AS_OF = date(2024, 12, 31)

Merge = tuple[int, int, int, int]  # first row, first col, last row, last col (0-based, inclusive)


@dataclass(frozen=True)
class Layout:
    name: str
    rows: list[list[object]]
    # header as shown (one line) → field id, or None for a column the ledger keeps but nothing counts
    columns: dict[str, str | None]
    total: int
    completed: int
    merges: list[Merge] = field(default_factory=list)
    # (方面, items) in order, when the ledger has 方面 (a column or section rows)
    dimensions: list[tuple[str, int]] | None = None
    # other status counts a person would give: in_progress, long_term, undecided, closed, no_status …
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0  # validation errors a correct ledger of this shape has (0: it is not turned red)
    first_row: int = 0  # Excel row of the first item


D = date

XUNCHA = Layout(
    "巡察",
    [
        ["中共某县委第三巡察组反馈问题整改落实台账"],
        ["填报单位：某镇党委", None, None, None, None, None, None, None, "填报时间：2024年12月20日"],
        ["序号", "巡察反馈问题", "具体表现", "整改措施", "牵头单位", "配合单位", "责任人", "整改时限",
         "整改进展情况", "是否完成", "备注"],
        [1, "落实全面从严治党主体责任不到位", "专题研究次数少", "制定责任清单", "党政办", "纪委", "张三",
         D(2024, 6, 30), "已制定责任清单并印发", "是", None],
        [2, "基层党组织建设薄弱", "软弱涣散村整顿慢", "开展集中整顿", "组织办", "各村", "李四",
         "2024年3月1日至2024年12月31日", "正在推进整顿", "否", None],
        [3, "干部作风不实", "调研走过场", "开展作风专项整治", "纪委", None, "王五", D(2024, 9, 30),
         "已完成专项整治", "是", None],
        [4, "惠民资金监管不严", "台账不全", "建立资金台账", "财政所", "农办", "赵六", D(2024, 10, 31),
         "已建立台账", "是", "已销号"],
        [5, "意识形态工作责任制落实不到位", "阵地管理松散", "完善阵地管理制度", "宣传办", None, "钱七",
         "2025年3月底前", "制度起草中", "否", None],
        [],
        ["注：1.本表由镇党委办公室汇总；2.“是否完成”填是或否。"],
        ["填报人：孙八", None, None, "审核人：周九", None, None, "联系电话：0000-1234567"],
    ],
    {"序号": "seq", "巡察反馈问题": "problem", "具体表现": None, "整改措施": "measures", "牵头单位": "dept",
     "配合单位": None, "责任人": "owner", "整改时限": "deadline", "整改进展情况": "progress",
     "是否完成": "status", "备注": "remarks"},
    total=5,
    completed=3,
    counts={"in_progress": 2, "overdue": 0},  # the range ends on the as-of date: not overdue
    first_row=4,
)  # fmt: skip

AUDIT = Layout(
    "审计",
    [
        ["2023年度经济责任审计发现问题整改清单"],
        ["序号", "问题类型", "审计发现的问题", "整改要求", "整改期限", "责任部门", "整改状态", "整改结果"],
        [1, "财务管理", "公务接待费用超标准列支", "清退超支部分", D(2024, 3, 31), "财务科", "已完成", "已清退"],
        [2, "财务管理", "往来款长期挂账", "清理往来款", D(2024, 6, 30), "财务科", "已整改到位", "已清理"],
        [3, "财务管理", "票据管理不规范", "规范票据管理", D(2024, 9, 30), "财务科", "进行中", None],
        [4, "资产管理", "固定资产未及时入账", "补登入账", D(2024, 6, 30), "办公室", "已销号", "已入账"],
        [5, "资产管理", "出租房屋未公开招租", "规范招租程序", D(2025, 6, 30), "办公室", "部分完成", None],
        [6, "项目管理", "项目未按期验收", "组织竣工验收", D(2025, 6, 30), "项目办", "待定", None],
    ],
    {"序号": "seq", "问题类型": "dimension", "审计发现的问题": "problem", "整改要求": "measures",
     "整改期限": "deadline", "责任部门": "dept", "整改状态": "status", "整改结果": "outcome"},
    total=6,
    completed=3,
    dimensions=[("财务管理", 3), ("资产管理", 2), ("项目管理", 1)],
    counts={"closed": 1, "in_progress": 2, "undecided": 1},
    first_row=3,
)  # fmt: skip

DUCHA = Layout(
    "督察公示",
    [
        ["中央生态环境保护督察反馈问题整改情况公示"],
        ["序号", "整改任务", "整改目标", "整改措施", "责任单位", "整改时限", "整改完成情况"],
        [1, "城区河道垃圾清理不及时", "河道水面无漂浮物", "建立河道日巡查制度", "水务局", D(2024, 6, 30),
         "一是建立巡查制度；二是清理河道垃圾120吨，已全部完成。"],
        [2, "城镇污水直排", "消除直排口", "建设截污管网", "住建局", D(2025, 12, 31),
         "管网建设正在推进，已完成60%。"],
        [3, "工业园区扬尘污染", "扬尘达标", "落实六个百分百", "园区管委会", D(2024, 9, 30),
         "经验收，该问题已整改到位。"],
        [4, "秸秆焚烧屡禁不止", "全域禁烧", "网格化巡查", "农业农村局", D(2024, 11, 30),
         "已完成，下一步将建立长效机制"],
    ],
    {"序号": "seq", "整改任务": "problem", "整改目标": None, "整改措施": "measures", "责任单位": "dept",
     "整改时限": "deadline", "整改完成情况": "status"},
    total=4,
    completed=2,
    counts={"in_progress": 2},
    first_row=3,
)  # fmt: skip

ZHUANXIANG = Layout(
    "专项整治清单",
    [
        ["2024年群众身边不正之风和腐败问题集中整治事项清单"],
        ["序号", "整治事项", "主责单位", "配合单位", "整治措施", "完成时限", "状态"],
        ["一、惠民惠农资金方面"],
        [1, "惠民资金发放不及时", "财政局", "民政局", "建立发放台账", "6月30日前", "已完成"],
        [2, "低保审核不严", "民政局", "乡镇", "开展低保专项清理", "三季度末", "推进中"],
        ["（二）教育医疗领域（共3项）"],
        [1, "校外培训违规收费", "教育局", "市场监管局", "开展专项检查", "二〇二四年八月底", "已办结"],
        [2, "医保基金违规使用", "医保局", "卫健委", "开展飞行检查", "年内", "持续推进"],
        [3, "药品回扣", "卫健委", None, "建立廉洁档案", "第三季度", "已完成整改"],
        ["三", "执法司法方面"],  # the number in 序号, the name beside it
        [1, "执法不规范", "司法局", "公安局", "开展执法评查", "年底前", "已完成"],
        [],
        ["注：主责单位负责牵头推进，配合单位积极配合。"],
    ],
    {"序号": "seq", "整治事项": "problem", "主责单位": "dept", "配合单位": None, "整治措施": "measures",
     "完成时限": "deadline", "状态": "status"},
    total=6,
    completed=4,
    dimensions=[("惠民惠农资金", 2), ("教育医疗领域", 3), ("执法司法", 1)],
    counts={"in_progress": 1, "long_term": 1, "overdue": 1},  # 低保: 三季度末 of 2024, still 推进中
    first_row=4,
)  # fmt: skip

STACKED = Layout(
    "任务表叠放",
    [
        ["表一 重点任务"],
        ["编号", "内容", "责任单位", "状态"],
        [1, "修订议事规则", "办公室", "已完成"],
        [2, "建立督办机制", "督查室", "进行中"],
        [],
        ["表二 专项任务"],
        ["编号", "内容", "责任单位", "状态"],
        [1, "开展调研走访", "组织部", "已完成"],
        [2, "完善考核办法", "组织部", "已完成"],
        [3, "建立容错机制", "组织部", "未完成"],
        [],
        ["表三 日常任务"],
        ["编号", "内容", "责任单位", "状态"],
        [1, "精简会议活动", "办公室", "已完成"],
        [2, "规范公文处理", "办公室", "已完成"],
    ],
    {"编号": "seq", "内容": "problem", "责任单位": "dept", "状态": "status"},
    total=7,
    completed=5,
    dimensions=[("重点任务", 2), ("专项任务", 3), ("日常任务", 2)],  # each table's title, 表一 … dropped
    counts={"in_progress": 2},
    first_row=3,
)  # fmt: skip

STACKED_TITLED = Layout(
    "叠放表标题作方面",
    [
        ["2024年度巡察反馈问题整改台账"],
        ["表一 理论学习方面问题整改台账"],
        ["序号", "问题", "整改措施", "责任单位", "完成情况"],
        [1, "理论学习不够系统", "制定年度学习计划", "党政办", "已完成"],
        [2, "学用结合不紧", "开展专题研讨", "党政办", "正在整改"],
        [],
        ["表二 作风建设方面问题整改清单（共4项）"],
        ["序号", "问题", "整改措施", "责任单位", "完成情况"],
        [1, "调研走过场", "建立蹲点调研制度", "组织办", "已完成"],
        [2, "会议文件偏多", "精简会议文件", "党政办", "已完成"],
        [3, "服务窗口效率低", "推行一次办结", "便民中心", "已办结"],
        ["续表"],  # the same table on the next page: still 作风建设, numbering goes on
        ["序号", "问题", "整改措施", "责任单位", "完成情况"],
        [4, "督查检查过多", "统筹督查计划", "党政办", "推进中"],
        [],
        ["三、为民服务方面（共2项）"],
        ["序号", "问题", "整改措施", "责任单位", "完成情况"],
        [1, "惠民政策宣传不到位", "开展政策宣讲", "社会事务办", "已完成"],
        [2, "群众诉求回应慢", "建立限时回复制度", "便民中心", "长期坚持"],
        [],
        ["注：各表序号分别编排。"],
    ],
    {"序号": "seq", "问题": "problem", "整改措施": "measures", "责任单位": "dept", "完成情况": "status"},
    total=8,
    completed=5,
    dimensions=[("理论学习", 2), ("作风建设", 4), ("为民服务", 2)],
    counts={"in_progress": 2, "long_term": 1},
    first_row=4,
)  # fmt: skip

# headers naming two roles: each column takes the more important role no other column claims
COMBINED = Layout(
    "合写表头",
    [
        ["2024年度巡察反馈问题整改落实台账"],
        ["序号", "存在问题", "整改措施", "牵头领导及责任部门", "责任单位（责任人）", "完成时限及进展", "完成情况"],
        [1, "议事规则执行不严", "修订议事规则", "王书记、党政办", "党政办（张三）", "2024年6月底前，已修订印发",
         "已完成"],
        [2, "选人用人程序不规范", "完善选任程序", "李副书记、组织办", "组织办（李四）",
         "2024年9月30日前，已完成初稿", "正在整改"],
        [3, "专项资金拨付滞后", "建立拨付台账", "赵镇长、财政所", "财政所（王五）", "2024年12月底前，已建立台账",
         "已完成"],
        [4, "村级财务监管薄弱", "推行村账镇管", "赵镇长、财政所", "财政所（王五）", "2025年6月底前，正在试点",
         "推进中"],
    ],
    {"序号": "seq", "存在问题": "problem", "整改措施": "measures", "牵头领导及责任部门": "lead",
     "责任单位（责任人）": "dept", "完成时限及进展": "deadline", "完成情况": "status"},
    total=4,
    completed=2,
    counts={"in_progress": 2, "overdue": 1},  # 选人用人: 9月30日前, still 正在整改
    first_row=3,
)  # fmt: skip

COMBINED_BESIDE = Layout(
    "合写表头（牵头单位另列）",
    [
        ["审计发现问题整改清单"],
        ["序号", "问题清单", "整改要求", "牵头单位", "责任单位及责任人", "整改期限及进展", "整改状态"],
        [1, "预算执行进度慢", "加快支出进度", "财政局", "教育局 张三", "2024.6.30 已完成", "已完成"],
        [2, "政府采购不规范", "规范采购流程", "财政局", "卫健委 李四", "2024.9.30 已完成", "已销号"],
        [3, "资产闲置", "盘活闲置资产", "国资办", "城投公司 王五", "2025.6.30 方案已报批", "正在推进"],
    ],
    {"序号": "seq", "问题清单": "problem", "整改要求": "measures", "牵头单位": "dept",
     "责任单位及责任人": "owner", "整改期限及进展": "deadline", "整改状态": "status"},
    total=3,
    completed=2,
    counts={"in_progress": 1, "closed": 1, "overdue": 0},
    first_row=3,
)  # fmt: skip

ZHUTI = Layout(
    "主题教育检视问题",
    [
        ["学习贯彻习近平新时代中国特色社会主义思想主题教育检视问题整改清单"],
        ["序号", "检视问题", "整改措施", "责任主体", None, "整改时限", "整改情况", None],
        [None, None, None, "责任领导", "责任部门", None, "完成情况", "完成时间"],
        [1, "理论学习不够深入系统", "坚持每周集中学习", "王书记", "党政办", D(2024, 6, 30), "已完成",
         D(2024, 5, 20)],
        [2, "调查研究不够扎实", "开展蹲点调研", "李镇长", "党政办", D(2024, 9, 30), "正在整改", None],
        [3, "服务群众意识不强", "推行一线工作法", "张副书记", "社会事务办", D(2024, 6, 30), "已完成",
         D(2024, 6, 28)],
        [4, "干部担当作为不够", "完善考核激励", "王书记", "组织办", "长期", "长期坚持", None],
    ],
    {"序号": "seq", "检视问题": "problem", "整改措施": "measures", "责任领导": "lead", "责任部门": "dept",
     "整改时限": "deadline", "完成情况": "status", "完成时间": "completed_on"},
    total=4,
    completed=2,
    merges=[(1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 2, 2), (1, 3, 1, 4), (1, 5, 2, 5), (1, 6, 1, 7)],
    counts={"in_progress": 1, "long_term": 1},
    first_row=4,
)  # fmt: skip

MINSHENG = Layout(
    "民主生活会查摆问题",
    [
        ["2023年度民主生活会查摆问题整改台账"],
        ["序号", "查摆问题", "整改措施", "责任人", "整改时限", "完成状态"],
        ["（一）政治能力方面"],
        [1, "政治站位不够高", "加强政治理论学习", "书记", D(2024, 6, 30), "已完成"],
        [2, "贯彻落实打折扣", "建立督查台账", "书记", D(2024, 6, 30), "已完成"],
        ["二、作风方面存在的问题（共2项）", None, None, None, None, None],
        [3, "深入基层不够", "建立联系点制度", "副书记", D(2024, 6, 30), "长期坚持"],
        [4, "文山会海仍有反弹", "精简会议文件", "副书记", D(2024, 12, 31), "正在整改"],
        ["【廉洁自律方面】"],
        [5, "八小时外管理不严", "签订廉洁承诺书", "纪委书记", D(2024, 3, 31), "已完成"],
        ["合计", None, "5项"],
        ["填报单位（盖章）：", None, None, "主要负责人：", None, "日期："],
    ],
    {"序号": "seq", "查摆问题": "problem", "整改措施": "measures", "责任人": "owner", "整改时限": "deadline",
     "完成状态": "status"},
    total=5,
    completed=3,
    dimensions=[("政治能力", 2), ("作风", 2), ("廉洁自律", 1)],
    counts={"long_term": 1, "in_progress": 1},
    first_row=4,
)  # fmt: skip

WPS = Layout(
    "巡视WPS",
    [
        ["省委第二巡视组反馈意见整改台账"],
        ["序号", "反馈意见", "整改\n措施", "牵头\n领导", "责任\n单位 ", " 整改\n时限", "是否\n办结"],
        ["1", "党委议事决策不规范", "修订议事规则", "书记", "办公室", "2024.06.30", "√"],
        ["2", "选人用人把关不严", "完善选任程序", "副书记", "组织部", "2024.09.30", "×"],
        ["3", "专项资金使用不规范", "开展专项清理", "副局长", "财务处", "2024.12.31", "√"],
        ["4", "基层减负落实不够", "精简督查检查", "副书记", "办公室", "2024.10.31", "√"],
    ],
    {"序号": "seq", "反馈意见": "problem", "整改措施": "measures", "牵头领导": "lead", "责任单位": "dept",
     "整改时限": "deadline", "是否办结": "status"},
    total=4,
    completed=3,
    counts={"in_progress": 1},
    first_row=3,
)  # fmt: skip

AUDIT_XLS = Layout(
    "审计xls",
    [
        ["审计整改情况统计表"],
        ["序号", "问题类别", "审计发现问题", "整改要求", "牵头部门", "整改期限", "整改状态"],
        [1, "预算执行", "预算调整不规范", "规范预算调整", "财务科", D(2024, 6, 30), "已完成"],
        [2, None, "结转资金未清理", "清理结转资金", "财务科", D(2024, 6, 30), "已整改"],
        [3, "政府采购", "化整为零规避采购", "规范采购", "办公室", D(2024, 9, 30), "整改中"],
        [4, None, "采购验收不规范", "完善验收制度", "办公室", D(2024, 9, 30), "已完成"],
        [5, None, "合同管理不严", "建立合同台账", "办公室", D(2025, 3, 31), "未启动"],
    ],
    {"序号": "seq", "问题类别": "dimension", "审计发现问题": "problem", "整改要求": "measures",
     "牵头部门": "dept", "整改期限": "deadline", "整改状态": "status"},
    total=5,
    completed=3,
    merges=[(2, 1, 3, 1), (4, 1, 6, 1)],
    dimensions=[("预算执行", 2), ("政府采购", 3)],
    counts={"in_progress": 1, "not_started": 1},
    first_row=3,
)  # fmt: skip

HTML_EXPORT = Layout(
    "系统导出HTML",
    [
        ["巡察整改事项导出"],
        ["导出时间：2024-12-31"],
        ["序号", "方面", "问题表现", "整改举措", "承办单位", "时间节点", "整改进展"],
        [1, "党的建设", "三会一课不规范", "建立提醒制度", "党建办", D(2024, 6, 30), "经核查，已整改到位。"],
        [2, None, "党费收缴不及时", "按月收缴", "党建办", D(2024, 6, 30), "已完成整改。"],
        [3, "社会治理", "矛盾纠纷化解慢", "建立调处机制", "综治中心", D(2024, 12, 31), "正在推进"],
        [4, None, "网格员配备不足", "补充网格员", "综治中心", D(2025, 6, 30), "召开专题会议研究"],
    ],
    {"序号": "seq", "方面": "dimension", "问题表现": "problem", "整改举措": "measures", "承办单位": "dept",
     "时间节点": "deadline", "整改进展": "progress"},
    total=4,
    completed=2,
    merges=[(3, 1, 4, 1), (5, 1, 6, 1)],
    dimensions=[("党的建设", 2), ("社会治理", 2)],
    counts={"in_progress": 2},
    first_row=4,
)  # fmt: skip

PAGES = Layout(
    "分页重复表头",
    [
        ["专项整治问题整改清单"],
        ["序号", "问题清单", "整改要求", "责任科室", "时间节点", "完成情况"],
        [1, 2, 3, 4, 5, 6],
        [1, "窗口服务态度差", "开展服务礼仪培训", "行政审批科", D(2024, 6, 30), "已完成"],
        [2, "办事材料重复提交", "推行一次告知", "行政审批科", D(2024, 6, 30), "已完成"],
        [3, "投诉办理慢", "建立限时办结制度", "督查科", D(2024, 9, 30), "进行中"],
        [],
        ["序号", "问题清单", "整改要求", "责任科室", "时间节点", "完成情况"],
        [4, "执法随意性大", "规范裁量基准", "法规科", D(2024, 9, 30), "已完成"],
        [5, "数据共享不畅", "打通业务系统", "信息中心", D(2025, 6, 30), "阶段性完成"],
        [None, None, None, None, None, None],
        ["序号", "问题清单", "整改要求", "责任科室", "时间节点", "完成情况"],
        [6, "涉企检查过多", "推行综合查一次", "法规科", D(2024, 12, 31), "已办结"],
    ],
    {"序号": "seq", "问题清单": "problem", "整改要求": "measures", "责任科室": "dept",
     "时间节点": "deadline", "完成情况": "status"},
    total=6,
    completed=4,
    counts={"in_progress": 2},
    first_row=4,
)  # fmt: skip

YESNO_BESIDE = Layout(
    "是否完成与完成情况并列",
    [
        ["巡察整改问题清单"],
        ["序号", "问题表现", "整改措施", "主责部门", "配合部门", "整改时限", "完成情况", "是否完成"],
        [1, "村务公开不及时", "按季度公开", "农经站", "各村", D(2024, 6, 30), "已按季度公开", "是"],
        [2, "集体资产底数不清", "开展清产核资", "农经站", "各村", D(2024, 9, 30), "清查过半", "否"],
        [3, "工程项目资料不全", "补齐档案", "建设办", None, D(2024, 8, 31), "已补齐", "是"],
        [4, "小微权力清单未公开", "公开清单", "纪委", None, D(2024, 5, 31), "已公开", "是"],
        [5, "惠农补贴发放有误", "逐户核对", "财政所", "各村", D(2024, 7, 31), "已核对", "是"],
        [6, "河长制落实不到位", "加密巡河", "水利站", None, D(2025, 6, 30), "持续推进", "否"],
    ],
    {"序号": "seq", "问题表现": "problem", "整改措施": "measures", "主责部门": "dept", "配合部门": None,
     "整改时限": "deadline", "完成情况": "progress", "是否完成": "status"},
    total=6,
    completed=4,
    counts={"in_progress": 2},
    first_row=3,
)  # fmt: skip

NO_STATUS = Layout(
    "无状态清单",
    [
        ["问题清单"],
        ["序号", "问题", "措施", "责任单位"],
        [1, "学习制度不健全", "建立学习制度", "办公室"],
        [2, "档案管理混乱", "整理档案", "办公室"],
        [3, "车辆管理不规范", "建立派车制度", "后勤科"],
    ],
    {"序号": "seq", "问题": "problem", "措施": "measures", "责任单位": "dept"},
    total=3,
    completed=0,
    counts={"no_status": 3},
    errors=1,  # no way to know whether anything is done: counting needs a status
    first_row=3,
)  # fmt: skip

HELPER_FIRST = Layout(
    "配合单位在前",
    [
        ["整改任务分解表"],
        ["序号", "整改任务", "配合单位", "牵头单位", "具体责任人", "联系电话", "完成期限", "整改状态"],
        [1, "完善议事规则", "各科室", "办公室", "张三", "1234", D(2024, 6, 30), "已完成整改"],
        [2, "规范财务审批", "各科室", "财务科", "李四", "2345", D(2024, 6, 30), "已完成"],
        [3, "加强干部培训", "办公室", "人事科", "王五", "3456", D(2025, 6, 30), "正在进行"],
    ],
    {"序号": "seq", "整改任务": "problem", "配合单位": None, "牵头单位": "dept", "具体责任人": "owner",
     "联系电话": None, "完成期限": "deadline", "整改状态": "status"},
    total=3,
    completed=2,
    counts={"in_progress": 1},
    first_row=3,
)  # fmt: skip

LAYOUTS: list[Layout] = [XUNCHA, AUDIT, DUCHA, ZHUANXIANG, STACKED, ZHUTI, MINSHENG, WPS, AUDIT_XLS, HTML_EXPORT,
                         PAGES, YESNO_BESIDE, NO_STATUS, HELPER_FIRST, STACKED_TITLED, COMBINED,
                         COMBINED_BESIDE]  # fmt: skip


# --- writers ---------------------------------------------------------------------------------------------


def write_xlsx(layout: Layout, path: Path, sheets: dict[str, list[list[object]]] | None = None) -> Path:
    """The layout as Excel writes it: dates as dates, merged blocks merged (their other cells empty);
    ``sheets``: more sheets after it (a 配置 sheet with a 表头对照 …), text only."""
    book = xlsxwriter.Workbook(str(path))
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("台账")
    covered = {
        (r, c) for r0, c0, r1, c1 in layout.merges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)
    }
    for r, values in enumerate(layout.rows):
        for c, value in enumerate(values):
            if value is None or (r, c) in covered:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), dated)
            else:
                sheet.write(r, c, value)
    for r0, c0, r1, c1 in layout.merges:
        value = layout.rows[r0][c0]
        if isinstance(value, date):
            sheet.merge_range(r0, c0, r1, c1, "")
            sheet.write_datetime(r0, c0, datetime(value.year, value.month, value.day), dated)
        else:
            sheet.merge_range(r0, c0, r1, c1, "" if value is None else value)
    for name, rows in (sheets or {}).items():
        extra = book.add_worksheet(name)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if value is not None:
                    extra.write(r, c, value)
    book.close()
    return path


WPS_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>WPS 表格</Application><DocSecurity>0</DocSecurity></Properties>"
)
WPS_CUSTOM = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
    "<vt:lpwstr>2052-12.1.0.16120</vt:lpwstr></property></Properties>"
)


def write_wps_xlsx(layout: Layout, path: Path) -> Path:
    """As WPS 表格 saves it: the same sheet, with WPS's app.xml and its KSOProductBuildVer custom property."""
    plain = write_xlsx(layout, path.with_name(path.stem + "-plain.xlsx"))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/app.xml":
                data = WPS_APP.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
                )
            target.writestr(info.filename, data)
        target.writestr("docProps/custom.xml", WPS_CUSTOM)
    plain.unlink()
    return path


def write_html_xls(layout: Layout, path: Path) -> Path:
    """The HTML "xls" office systems export: one table, merged blocks as rowspan/colspan, GB18030 bytes."""
    spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in layout.merges}
    covered = {
        (r, c)
        for r0, c0, r1, c1 in layout.merges
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
        if (r, c) != (r0, c0)
    }
    width = max(map(len, layout.rows))
    lines = []
    for r, values in enumerate(layout.rows):
        cells = []
        padded = list(values) + [None] * (width - len(values)) if len(values) > 1 else values
        for c, value in enumerate(padded):
            if (r, c) in covered:
                continue
            text = value.isoformat() if isinstance(value, date) else "" if value is None else str(value)
            rowspan, colspan = spans.get((r, c), (1, 1))
            if len(values) == 1 and len(padded) == 1:
                colspan = width
            attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
                f' colspan="{colspan}"' if colspan > 1 else ""
            )
            cells.append(f"<td{attrs}>{html.escape(text).replace(chr(10), '<br>') or '&nbsp;'}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    document = (
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
        '<table border="1">\n' + "\n".join(lines) + "\n</table></body></html>\n"
    )
    path.write_bytes(document.encode("gb18030"))
    return path
