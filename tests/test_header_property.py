"""Property (issue 12): however a ledger words, orders, merges and spaces its columns, the counts stay the hand counts.

One set of items (each with a 方面 and done or not) is laid out at random: column order shuffled, each header
in one of the wordings offices use, status as a word or a yes/no answer, 方面 as a column (merged down) or as
section rows or the titles of stacked tables, blank rows, merged 责任部门 cells, a two-row header with a merged parent, title rows above and
notes and signatures below. The reader must find every column's field and count what a person counts.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.read import ledger_from_rows
from toolkit.stats import ledger_stats
from toolkit.validate import validate_ledger

AS_OF = date(2024, 12, 31)
# what a misread structure gives (a header or section row read as an item, numbering judged across tables)
MISREAD = frozenset({"unknown-status", "duplicate-problem", "seq-gap", "seq-duplicate", "missing-value",
                     "unknown-dimension", "bad-date", "bad-deadline"})  # fmt: skip

WORDINGS: dict[str, list[str]] = {
    "seq": ["序号", "编号"],
    "problem": ["问题描述", "巡察反馈问题", "审计发现的问题", "整改任务", "整治事项", "存在问题", "问题表现",
                "检视问题", "查摆问题", "反馈意见"],
    "measures": ["整改措施", "整改要求", "整改举措", "整治措施"],
    "dept": ["责任部门", "牵头单位", "主责单位", "责任单位", "责任科室", "牵头部门", "承办单位",
             "责任单位及责任人", "责任单位（责任人）", "责任领导/责任单位"],
    "deadline": ["整改时限", "整改期限", "完成时限", "时间节点", "完成时限及进展"],
    "dimension": ["方面", "问题类型", "问题类别", "领域"],
}  # fmt: skip
# (header, words for done, words for not done)
STATUS_STYLES = [
    ("完成状态", ["已完成", "已办结", "已整改到位", "已完成整改", "已销号"], ["正在整改", "进行中", "未完成", "未启动"]),
    ("整改状态", ["已完成", "已整改"], ["推进中", "部分完成", "长期坚持"]),
    ("状态", ["已完成"], ["进行中"]),
    ("是否完成", ["是", "√"], ["否", "×"]),
    ("是否办结", ["是"], ["否"]),
]  # fmt: skip
EXTRAS = {"配合单位": None, "备注": "remarks", "联系电话": None}
SECTION_FORMS = ["{}、{}方面", "（{}）{}", "{}方面", "第{}部分 {}", "【{}】", "{}、{}方面存在的问题（共3项）"]
# a stacked table's title, its 方面 inside ({n}: its number, {cn}: the same in Chinese, {k}: its items);
# the first table's title is numbered (an unnumbered lone title over the first table is the sheet's)
TABLE_TITLES = ["表{cn} {}方面问题整改台账", "表{n}：{}问题清单（共{k}项）", "{cn}、{}方面", "附表{n} {}"]
PLAIN_TITLES = ["{}方面存在问题整改清单", "{}"]
SPLIT_FORMS = [("{}", "{}方面"), ("{}、", "{}"), ("（{}）", "{}方面存在的问题"), ("第{}部分", "{}")]
_CN = "一二三四五六七八九"
NOTES_BELOW = ["注：本表由党政办汇总。", "填表说明：状态填已完成或正在整改。", "本表数据截至2024年12月31日",
               "附件：佐证材料清单", "（此页无正文）"]  # fmt: skip
DIMENSIONS = ["理论学习", "作风建设", "为民服务"]
DEPTS = ["党政办", "组织办", "财政所"]


@st.composite
def ledgers(draw):
    n = draw(st.integers(1, 8))
    dims = sorted(draw(st.lists(st.sampled_from(DIMENSIONS), min_size=n, max_size=n)), key=DIMENSIONS.index)
    done = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    depts = sorted(draw(st.lists(st.sampled_from(DEPTS), min_size=n, max_size=n)), key=DEPTS.index)
    status_header, yes, no = draw(st.sampled_from(STATUS_STYLES))
    dims_as = draw(st.sampled_from(["column", "sections", "tables", "none"]))
    fields = ["seq", "problem", "measures", "dept", "deadline"]
    if not draw(st.booleans()):
        fields.remove(draw(st.sampled_from(["seq", "measures", "deadline"])))
    if dims_as == "column":
        fields.append("dimension")
    extras = draw(st.lists(st.sampled_from(sorted(EXTRAS)), unique=True, max_size=2))
    two_rows = draw(st.booleans())
    blocks = [[f] for f in fields] + [[("extra", e)] for e in extras]
    blocks.append(["status", "completed_on"] if two_rows else ["status"])
    order = draw(st.permutations(blocks))
    columns = [c for block in order for c in block]
    headers = {
        c: (status_header if c == "status" else "完成时间" if c == "completed_on"
            else c[1] if isinstance(c, tuple) else draw(st.sampled_from(WORDINGS[c])))
        for c in columns
    }  # fmt: skip
    expected = {headers[c]: (c if isinstance(c, str) else EXTRAS[c[1]]) for c in columns}

    def cell(c, i: int) -> object:
        if c == "seq":
            return i + 1
        if c == "problem":
            return f"{dims[i]}第{i + 1}个问题整改不到位"
        if c == "measures":
            return f"制定第{i + 1}项措施"
        if c == "dept":
            return depts[i]
        if c == "deadline":
            return date(2024, 6 + i % 6, 30)
        if c == "dimension":
            return dims[i]
        if c == "status":
            return draw(st.sampled_from(yes if done[i] else no))
        if c == "completed_on":
            return date(2024, 5, 20) if done[i] else None
        return {"配合单位": "各村", "备注": None, "联系电话": "1234"}[c[1]]

    width = len(columns)
    rows: list[list[object]] = [[t] for t in draw(st.lists(st.sampled_from(["某镇整改台账", "填报单位：某镇党委"]),
                                                           max_size=2, unique=True))]  # fmt: skip
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
    if two_rows:
        at = columns.index("status")
        upper = [
            None if c == "completed_on" else ("整改情况" if c == "status" else headers[c]) for c in columns
        ]
        lower = [headers[c] if c in ("status", "completed_on") else None for c in columns]
        header_rows = [upper, lower]
        header_merges = [((0, at), (0, at + 1))]
        header_merges += [((0, k), (1, k)) for k in range(width) if k not in (at, at + 1)]
    else:
        header_rows = [[headers[c] for c in columns]]
        header_merges = []

    def add_header() -> None:
        merged.extend(((r0 + len(rows), c0), (r1 + len(rows), c1)) for (r0, c0), (r1, c1) in header_merges)
        rows.extend(list(r) for r in header_rows)

    if dims_as != "tables":  # stacked tables: each gets its title and header below
        add_header()
    merge_runs = draw(st.booleans())
    section = None
    seq_restart = draw(st.booleans())  # numbering starts again in each section and each stacked table
    first_in_block = 0
    runs: dict[str, list[int]] = {}  # column key → Excel-row offsets of items, for merged runs
    for i in range(n):
        if draw(st.integers(0, 4)) == 0:
            rows.append([])
        if i and draw(st.integers(0, 4)) == 0:  # another table stacked below, or the header on a new page
            add_header()
            first_in_block = i
        if dims_as == "tables" and dims[i] != section:
            section = dims[i]
            first_in_block = i
            number = DIMENSIONS.index(section)
            form = draw(st.sampled_from(TABLE_TITLES + (PLAIN_TITLES if i else [])))
            rows.append([form.format(section, n=number + 1, cn=_CN[number], k=dims.count(section))])
            add_header()
        elif dims_as == "sections" and dims[i] != section:
            section = dims[i]
            first_in_block = i
            number = DIMENSIONS.index(section)
            form = draw(st.sampled_from(SECTION_FORMS))
            title = form.format(*((_CN[number], section) if form.count("{}") == 2 else (section,)))
            if draw(st.booleans()):  # the number in the first column, the name beside it
                number_form, name_form = draw(st.sampled_from(SPLIT_FORMS))
                title = [number_form.format(_CN[number]), name_form.format(section)]
            if isinstance(title, list):
                rows.append(title)
            elif draw(st.booleans()):  # merged across the table
                merged.append(((len(rows), 0), (len(rows), width - 1)))
                rows.append([title] + [None] * (width - 1))
            else:
                rows.append([title])
        values = [cell(c, i) for c in columns]
        if seq_restart and "seq" in columns:
            values[columns.index("seq")] = i - first_in_block + 1
        runs.setdefault("rows", []).append(len(rows))
        rows.append(values)
    if merge_runs:  # 责任部门 (and 方面) merged down over consecutive equal cells with no row between
        item_rows = runs["rows"]
        for key in ("dept", "dimension"):
            if key not in columns:
                continue
            k = columns.index(key)
            start = 0
            for j in range(1, n + 1):
                if (
                    j == n
                    or rows[item_rows[j]][k] != rows[item_rows[start]][k]
                    or item_rows[j] != item_rows[j - 1] + 1
                ):
                    if j - start > 1:
                        merged.append(((item_rows[start], k), (item_rows[j - 1], k)))
                        for r in item_rows[start + 1 : j]:
                            rows[r][k] = None
                    start = j
    for below in draw(st.lists(st.sampled_from([*NOTES_BELOW, "sign", "blank"]), max_size=2)):
        if below == "sign":
            rows.append(["填报人：张三", None, "审核人：李四", None, "联系电话：1234"][: max(width, 3)])
        elif below == "blank":
            rows.append([])
        else:
            rows.append([below])
    # one table under its title is no stack: that title is the sheet's, and gives no 方面
    grouped = dims_as in ("column", "sections") or (dims_as == "tables" and len(set(dims)) > 1)
    return rows, merged, expected, n, sum(done), Counter(dims) if grouped else None


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(ledgers())
def test_counts_survive_any_layout(case):
    rows, merged, expected, total, completed, per_dimension = case
    ledger = ledger_from_rows([list(r) for r in rows], sheet="台账", merged=merged)
    assert {use.header: use.field for use in ledger.mapping} == expected
    stats = ledger_stats(ledger, AS_OF).as_dict()
    assert (stats["total"]["total"], stats["total"]["completed"]) == (total, completed)
    if per_dimension is not None:
        assert {g["name"]: g["total"] for g in stats["dimensions"]} == dict(per_dimension)
    issues = validate_ledger(ledger, AS_OF).as_dict()["issues"]
    assert [(i["row"], i["column"], i["code"]) for i in issues if i["code"] in MISREAD] == []
