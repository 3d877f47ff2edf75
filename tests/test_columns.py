"""The column store the reader builds (ItemColumns) against plain Items.

The reader keeps a ledger's items column by column and the rules and counts scan the columns;
code that iterates gets Items. The same ledger judged through the reader's columns and through
a plain list of its Items must give the same findings and the same counts — for grids with
merged cells, section titles, 合计 and note rows, blank-looking cells and error tokens.
"""

from __future__ import annotations

from datetime import date, datetime

from builders import HEADERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.columns import blank_or_text, cell_text
from toolkit.model import DateValue, ItemColumns, LazyTexts
from toolkit.read import ledger_from_rows
from toolkit.stats import ledger_stats
from toolkit.validate import validate_ledger

AS_OF = date(2024, 12, 31)
HEADER = [*HEADERS, "备注"]
CELLS = [
    [1.0, 2.0, 3.0, "", None, "4", 5.0, "#REF!"],
    ["理论学习", "作风建设", "", "一、理论学习方面", " ", None, "#N/A"],
    ["问题一", "问题二", "问题 一", "", "  ", "问题\n二", "#REF!", 3.0],
    ["措施", "", "措施二", " "],
    ["王书记", "", "李主任", None],
    ["党政办", "", "财务科", "\u3000"],
    ["张三", "", "李四"],
    [
        datetime(2024, 6, 30),
        "2024年6月底前",
        "6月底前",
        "立行立改",
        "长期坚持",
        "",
        "abc",
        45000.0,
        "#VALUE!",
        date(2025, 1, 2),
        None,
    ],
    ["已完成", "已销号", "正在整改", "长期坚持", "未启动", "已完城", "", " ", "#N/A", None, 1.0],
    [datetime(2024, 5, 1), "", "2024.7.1", datetime(2025, 3, 1), "立行立改", "x"],
    ["", "会议记录", " "],
    ["", "备注", "注：说明"],
]
ODD_ROWS = [
    ["一、理论学习方面"],
    ["（二）作风建设"],
    ["合计", "", "30"],
    ["备注：以上为"],
    [],
    ["填报人：张三"],
]


@st.composite
def grids(draw):
    rows = [["某街道2024年度整改台账"], ["填报单位：某街道"], list(HEADER)]
    for _ in range(draw(st.integers(0, 30))):
        if draw(st.integers(0, 9)) == 0:
            rows.append(list(draw(st.sampled_from(ODD_ROWS))))
        else:
            rows.append([draw(st.sampled_from(values)) for values in CELLS])
    if draw(st.booleans()):  # calamine's grids are rectangular; a caller's may be ragged
        width = max(map(len, rows))
        rows = [r + [""] * (width - len(r)) for r in rows]
    merged = []
    start = 3
    while start < len(rows) - 1 and draw(st.booleans()):
        span = draw(st.integers(1, 4))
        col = draw(st.sampled_from([0, 1, 4, 5, 7]))
        wide = draw(st.integers(0, 1))
        merged.append(((start, col), (min(start + span - 1, len(rows) - 1), col + wide)))
        start += span + draw(st.integers(0, 2))
    errors = {}
    if len(rows) > 4 and draw(st.booleans()):
        errors[(draw(st.integers(4, len(rows))), draw(st.integers(0, len(HEADER) - 1)))] = "#DIV/0!"
    return rows, merged, errors


def _dates(values: list[DateValue]) -> list[tuple]:
    return [(d.raw, d.kind, d.value) for d in values]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_the_readers_columns_judge_like_plain_items(grid):
    rows, merged, errors = grid
    ledger = ledger_from_rows(
        [list(r) for r in rows], sheet="台账", merged=merged, formula_errors=dict(errors)
    )
    columns = ledger.items
    assert isinstance(columns, ItemColumns)
    plain = [*columns]  # the Items, made once from the columns
    report = validate_ledger(ledger, AS_OF)
    stats = [ledger_stats(ledger, AS_OF, by).as_dict() for by in ("dimension", "dept", "lead")]

    ledger.items = plain
    assert validate_ledger(ledger, AS_OF).as_dict() == report.as_dict()
    assert [ledger_stats(ledger, AS_OF, by).as_dict() for by in ("dimension", "dept", "lead")] == stats
    # every column the Items hold reads the same through the store, cell by cell
    again = ItemColumns.of(plain)
    for field_id in columns.fields:
        assert list(columns.column(field_id)) == [item.values[field_id] for item in plain]
        assert [columns.cell(field_id, i) for i in range(len(plain))] == list(again.column(field_id))
        assert columns.blanks(field_id) == again.blanks(field_id)
    assert _dates(columns.deadlines) == _dates(again.deadlines)


def test_lazy_texts_tell_true_from_one():
    texts = LazyTexts([1.0, True, "  ", None, datetime(2024, 6, 30), "已完成"], blank_or_text)
    assert texts.tolist() == ["1", "是", "", "", "2024-06-30", "已完成"]
    assert texts[1] == "是" and texts.blank_indices() == [2, 3]
    assert LazyTexts([True, 1.0], cell_text).tolist() == ["是", "1"]


def test_a_true_cell_in_the_numbering_is_no_number_one(tmp_path):
    rows = [HEADER, [1.0, "学习", "问题一", "措施", "王", "办", "张", "2024-06-30", "已完成", "2024-06-01", "", ""],
            [True, "学习", "问题二", "措施", "王", "办", "张", "2024-06-30", "已完成", "2024-06-01", "", ""]]  # fmt: skip
    ledger = ledger_from_rows(rows, sheet="台账")
    assert [item.seq for item in ledger.items] == [1.0, None]
    assert [item.get("seq") for item in ledger.items] == ["1", "是"]


def test_items_are_made_once_and_only_when_asked(tmp_path):
    rows = [HEADER, *([i, "学习", f"问题{i}", "措施", "王", "办", "张", "2024-06-30", "正在整改", "", "", ""]
                      for i in range(1, 6))]  # fmt: skip
    ledger = ledger_from_rows(rows, sheet="台账")
    report = validate_ledger(ledger, AS_OF)
    assert report.rows == 5 and ledger.items._items is None  # judged without making Items
    first = ledger.items[0]
    assert ledger.items[0] is first and len(list(ledger.items)) == 5
    assert first.values["problem"] == "问题1" and first.values["seq"] == "1"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_the_readers_columns_give_the_snapshot_of_plain_items(grid):
    """The history snapshot taken from the reader's columns (joins kept by the reader, counts without full
    statistics) is the one taken from plain Items with their statistics, and survives its blob."""
    from toolkit.history import decode_items, encode_items, snapshot_from_ledger

    rows, merged, errors = grid
    ledger = ledger_from_rows(
        [list(r) for r in rows], sheet="台账", merged=merged, formula_errors=dict(errors)
    )
    columns = ledger.items
    assert isinstance(columns, ItemColumns)
    for field_id, joined in columns.joined.items():
        assert joined == "\x00".join(columns.column(field_id))
    by_columns = snapshot_from_ledger(ledger, None, AS_OF, content_hash="h")
    blob = encode_items(by_columns.items)
    ledger.items = [*columns]
    by_items = snapshot_from_ledger(ledger, ledger_stats(ledger, AS_OF), AS_OF, content_hash="h")
    assert [s.as_dict() for s in by_columns.items] == [s.as_dict() for s in by_items.items]
    assert [s.as_dict() for s in decode_items(blob)] == [s.as_dict() for s in by_items.items]
    assert by_columns.dimensions == by_items.dimensions
    counts = ("total", "completed", "closed", "long_term", "excluded", "overdue", "rate")
    assert [getattr(by_columns, c) for c in counts] == [getattr(by_items, c) for c in counts]


def test_the_reader_keeps_a_join_only_where_it_is_the_cells():
    good = [1.0, "学习", "问题一", "措施", "王", "办", "张", "2024-06-30", "已完成", "2024-06-01", "", ""]
    rows = [
        HEADER,
        good,
        [2.0, "学习", "问题二", "措施", "王", "财务科", "张", "2024-06-30", "正在整改", "", "", ""],
    ]
    columns = ledger_from_rows([list(r) for r in rows], sheet="台账").items
    assert columns.joined == {"problem": "问题一\x00问题二", "dept": "办\x00财务科"}
    # a blank-looking cell is read as "": the join of what was in the cells is not the column
    spaced = [
        HEADER,
        good,
        [2.0, "学习", "  ", "措施", "王", "办", "张", "2024-06-30", "已完成", "2024-06-01", "", ""],
    ]
    columns = ledger_from_rows([list(r) for r in spaced], sheet="台账").items
    assert "problem" not in columns.joined and columns.column("problem") == ["问题一", ""]
    # a note row among the items is no item: the joins held it, so none is kept
    noted = [HEADER, good, ["备注：以上为"], good]
    columns = ledger_from_rows([list(r) for r in noted], sheet="台账").items
    assert len(columns) == 2 and columns.joined == {}
    # notes below the table are cut off before the columns are joined
    noted = [HEADER, good, ["备注：以上为"], ["填报人：张三", "", "审核人：李四", "联系电话：123"]]
    columns = ledger_from_rows([list(r) for r in noted], sheet="台账").items
    assert len(columns) == 1 and columns.joined == {"problem": "问题一", "dept": "办"}
