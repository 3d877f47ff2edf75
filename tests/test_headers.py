"""Headers understood by meaning (issue 12): role words scored, conflicts resolved, the mapping shown, and the
clerk's corrections — the 配置 sheet's 表头对照, ``--columns`` and TOML — in Chinese field names."""

from __future__ import annotations

import pytest
from layouts import AS_OF, XUNCHA, Layout, write_xlsx

from toolkit.config import DEFAULT_CONFIG, FROM_COMMAND_LINE, load_config, parse_columns_option
from toolkit.errors import ConfigError
from toolkit.headers import Scorer, assign, locate_header, mapping_line
from toolkit.read import read_ledger


def understood(*headers: str, config=DEFAULT_CONFIG) -> list[tuple[str, str | None]]:
    """Each header of one row and the field it was given."""
    _columns, uses = assign(dict(enumerate(headers)), Scorer(config))
    return [(use.header, use.field) for use in uses]


# each header alone, as offices write them: the role its words name
ROLE_WORDS = {
    "整改任务": "problem", "整治事项": "problem", "巡察反馈问题": "problem", "审计发现的问题": "problem",
    "问题表现": "problem", "内容": "problem", "检视问题": "problem", "反馈意见": "problem",
    "主责单位": "dept", "牵头单位": "dept", "责任科室": "dept", "承办单位": "dept", "责任主体": "dept",
    "配合单位": None, "协办单位": None, "填报单位": None,
    "整改要求": "measures", "整改目标": "measures", "整治措施": "measures", "整改举措": "measures",
    "问题类型": "dimension", "问题类别": "dimension", "领域": "dimension", "问题来源": "source",
    "整改完成情况": "status", "是否完成": "status", "是否办结": "status", "是否已完成": "status", "是否整改到位": "status", "当前状态": "status", "状态": "status",
    "整改进展情况": "progress", "落实情况": "progress", "推进情况": "progress",
    "整改期限": "deadline", "时间节点": "deadline", "计划完成时间": "deadline", "完成时限": "deadline",
    "实际完成时间": "completed_on", "销号时间": "completed_on",
    "牵头领导": "lead", "分管领导": "lead", "具体责任人": "owner", "联系人": "owner",
    "整改结果": "outcome", "佐证材料": "evidence", "备注": "remarks", "编号": "seq",
    "联系电话": None, "问题数量": None,
}  # fmt: skip


def test_role_words_name_the_field():
    assert {h: understood(h)[0][1] for h in ROLE_WORDS} == ROLE_WORDS


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # the inspection's wording is the problem; the 具体表现 beside it is its detail
        (("巡察反馈问题", "具体表现"), [("巡察反馈问题", "problem"), ("具体表现", None)]),
        # a yes/no column is the status, the 完成情况 narrative beside it the progress
        (("完成情况", "是否完成"), [("完成情况", "progress"), ("是否完成", "status")]),
        # 问题类型 is the 方面, not the problem, even beside 问题
        (("问题类型", "问题", "状态"), [("问题类型", "dimension"), ("问题", "problem"), ("状态", "status")]),
        # a field's exact name beats role words: 整改措施 is the measures, 整改目标 stays unused
        (("整改目标", "整改措施"), [("整改目标", None), ("整改措施", "measures")]),
        # 配合单位 names no field even when it comes first
        (("配合单位", "牵头单位"), [("配合单位", None), ("牵头单位", "dept")]),
        # planned and actual dates
        (("计划完成时间", "实际完成时间"), [("计划完成时间", "deadline"), ("实际完成时间", "completed_on")]),
    ],
)
def test_conflicts_are_resolved_by_score(headers, expected):
    assert understood(*headers) == expected


# --- headers naming two roles -----------------------------------------------------------------------------

# each alone: the more important of its roles (责任部门 before 责任人, 整改时限 before 整改进展), the other named
COMBINED = {
    "责任单位及责任人": ("dept", ("owner",)), "责任单位（责任人）": ("dept", ("owner",)),
    "责任单位和责任人": ("dept", ("owner",)), "责任单位与责任人": ("dept", ("owner",)),
    "责任单位、责任人": ("dept", ("owner",)), "责任单位/责任人": ("dept", ("owner",)),
    "责任领导/责任单位": ("dept", ("lead",)), "责任领导／责任单位": ("dept", ("lead",)),
    "牵头领导及责任部门": ("dept", ("lead",)), "完成时限及进展": ("deadline", ("progress",)),
    "问题及整改措施": ("problem", ("measures",)), "整改措施及完成时限": ("deadline", ("measures",)),
    "整改进展及成效": ("progress", ("outcome",)), "完成情况和完成时间": ("status", ("completed_on",)),
}  # fmt: skip


def test_a_header_naming_two_roles_takes_the_more_important():
    got = {}
    for header in COMBINED:
        _columns, [use] = assign({0: header}, Scorer(DEFAULT_CONFIG))
        got[header] = (use.field, use.also) if use.how == "combined" else use.how
    assert got == COMBINED


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # the more important role is claimed by a column named for it alone: the next one still free
        (("责任单位", "责任单位及责任人"), [("责任单位", "dept"), ("责任单位及责任人", "owner")]),
        (("主责单位", "责任单位及责任人"), [("主责单位", "dept"), ("责任单位及责任人", "owner")]),
        (("责任单位及责任人", "责任人"), [("责任单位及责任人", "dept"), ("责任人", "owner")]),
        (("整改时限", "完成时限及进展"), [("整改时限", "deadline"), ("完成时限及进展", "progress")]),
        # two such columns: the one naming 责任部门 first (not after a 领导) is the department, in either order
        (("牵头领导及责任部门", "责任单位（责任人）"), [("牵头领导及责任部门", "lead"), ("责任单位（责任人）", "dept")]),
        (("责任单位（责任人）", "牵头领导及责任部门"), [("责任单位（责任人）", "dept"), ("牵头领导及责任部门", "lead")]),
        # every role taken: the column stays unused rather than displace one
        (("责任单位", "责任人", "责任单位及责任人"), [("责任单位", "dept"), ("责任人", "owner"), ("责任单位及责任人", None)]),
    ],
)  # fmt: skip
def test_a_header_naming_two_roles_takes_what_is_free(headers, expected):
    assert understood(*headers) == expected


# joined words that name one role, or a joiner inside a word: read as before, by the whole header
ONE_ROLE = {
    "完成与否": ("status", "role"), "问题（事项）": ("problem", "role"), "整改措施及要求": ("measures", "role"),
    "完成状态：是/否": ("status", "role"), "是否完成（是/否）": ("status", "role"),
    "责任单位（盖章）": ("dept", "alias"), "参与单位": (None, ""), "配合单位及联系人": (None, ""),
}  # fmt: skip


def test_joined_words_naming_one_role_are_read_as_one_header():
    got = {}
    for header in ONE_ROLE:
        _columns, [use] = assign({0: header}, Scorer(DEFAULT_CONFIG))
        got[header] = (use.field, use.how)
    assert got == ONE_ROLE


def test_a_column_named_for_one_role_beats_every_combined_one():
    from toolkit.headers import COMBINED_ORDER, ROLES

    assert sorted(COMBINED_ORDER) == sorted(spec.id for spec in DEFAULT_CONFIG.fields)
    least_role = min(role.weight + min(map(len, role.words)) for role in ROLES)
    scorer = Scorer(DEFAULT_CONFIG)
    assert max(score for h in COMBINED for score, *_ in scorer.candidates(h)) < least_role


def test_mapping_line_says_which_roles_a_column_joins():
    _columns, uses = assign(
        dict(enumerate(["序号", "问题", "责任单位及责任人", "完成时限及进展", "状态"])),
        Scorer(DEFAULT_CONFIG),
    )
    assert mapping_line(uses, DEFAULT_CONFIG) == (
        "表头识别：问题→问题描述；责任单位及责任人→责任部门（与责任人合写）；完成时限及进展→整改时限（与整改进展合写）；"
        "状态→完成状态；其余 1 列与标准表头一致。"
    )


def test_a_title_row_is_no_header_and_notes_in_brackets_are_read_through():
    rows = [
        ["问题整改情况一览表"],
        ["序号", "问题（事项）", "整改措施*", "责任单位（盖章）", "完成状态：是/否"],
        [1, "甲", "乙", "丙", "是"],
    ]
    header = locate_header(rows, [], DEFAULT_CONFIG)
    assert header is not None and header.row == 1
    assert header.columns == {"seq": 0, "problem": 1, "measures": 2, "dept": 3, "status": 4}


def test_mapping_line_on_our_own_ledger_is_one_count():
    from builders import HEADERS

    _columns, uses = assign(dict(enumerate(HEADERS)), Scorer(DEFAULT_CONFIG))
    assert mapping_line(uses, DEFAULT_CONFIG) == "表头识别：11 列与标准表头一致。"


# --- no ledger found --------------------------------------------------------------------------------------

ODD = Layout(
    "生僻表头",
    [["某单位整改台账"], ["排序", "检视剖析", "对策", "主抓", "进度"], [1, "学习不深", "加强学习", "办公室", "已完成"],
     [2, "作风不实", "改进作风", "办公室", "正在整改"]],
    {"排序": None, "检视剖析": "problem", "对策": "measures", "主抓": "dept", "进度": "status"},
    total=2,
    completed=1,
)  # fmt: skip
ODD_PAIRS = [("检视剖析", "问题描述"), ("对策", "整改措施"), ("主抓", "责任部门"), ("进度", "完成状态")]


def test_no_ledger_found_lists_the_headers_seen_and_what_is_missing(tmp_path, ledger_cli):
    run = ledger_cli("validate", write_xlsx(ODD, tmp_path / "odd.xlsx"), "--as-of", AS_OF)
    assert run.code == 2 and "Traceback" not in run.err
    message = run.err.strip()
    assert "最像表头的是第2行（排序、检视剖析、对策、主抓、进度）" in message
    assert "其中认出进度→整改进展" in message
    assert "还缺少问题描述、完成状态、责任部门、整改时限等列" in message
    assert "表头对照" in message and '--columns "' in message


def _used(ledger) -> dict[str, str | None]:
    return {use.header: use.field for use in ledger.mapping}


def test_config_sheet_table_corrects_the_headers(tmp_path, ledger_cli):
    table = [["台账中的表头", "对应字段"], *map(list, ODD_PAIRS)]
    path = write_xlsx(ODD, tmp_path / "odd.xlsx", {"配置": table})
    assert _used(read_ledger(path)) == ODD.columns
    run = ledger_cli("validate", path, "--as-of", AS_OF)
    assert run.code == 0, run.out + run.err
    assert "检视剖析→问题描述（按表头对照）" in run.out and "未使用：排序" in run.out
    stats = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()["total"]
    assert (stats["total"], stats["completed"], stats["rate"]) == (2, 1, 50.0)


def test_columns_option_in_chinese(tmp_path, ledger_cli):
    path = write_xlsx(ODD, tmp_path / "odd.xlsx")
    given = "，".join(f"{h}={f}" for h, f in ODD_PAIRS)  # full-width commas: clerks type them
    data = ledger_cli("validate", path, "--as-of", AS_OF, "--json", "--columns", given).json()
    assert {c["header"]: (c["field"], c["how"]) for c in data["columns"].values()} == {
        "排序": (None, None), "检视剖析": ("problem", "user"), "对策": ("measures", "user"),
        "主抓": ("dept", "user"), "进度": ("status", "user"),
    }  # fmt: skip
    stats = ledger_cli("stats", path, "--as-of", AS_OF, "--json", "--columns", given).json()["total"]
    assert (stats["total"], stats["completed"]) == (2, 1)


def test_columns_option_beats_role_words_and_the_config_sheet(tmp_path, ledger_cli):
    # the clerk says the detail is the problem, and the inspection's wording is not counted
    path = write_xlsx(
        XUNCHA, tmp_path / "巡察.xlsx", {"配置": [["台账中的表头", "对应字段"], ["具体表现", "备注"]]}
    )
    ledger = read_ledger(path, config=DEFAULT_CONFIG.with_corrections(
        parse_columns_option("具体表现=问题描述,巡察反馈问题=不使用,配合单位=责任单位"), FROM_COMMAND_LINE
    ))  # fmt: skip
    used = _used(ledger)
    assert (used["具体表现"], used["巡察反馈问题"], used["配合单位"], used["牵头单位"]) == (
        "problem",
        None,
        "dept",
        None,
    )
    assert ledger.items.column("problem")[0] == "专题研究次数少"
    # without the command line the 配置 sheet's word holds
    assert _used(read_ledger(path))["具体表现"] == "remarks"


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("检视=问题描述", ["“检视”", "找不到", "检视剖析"]),  # a header the ledger does not have
        ("检视剖析=问题", ["“问题”无法识别", "问题描述、整改措施"]),  # a field name that is none
        ("检视剖析", ["看不懂", "台账中的表头=字段名"]),
    ],
)
def test_columns_option_mistakes_are_one_sentence(tmp_path, ledger_cli, given, words):
    run = ledger_cli("validate", write_xlsx(ODD, tmp_path / "odd.xlsx"), "--columns", given)
    assert run.code == 2 and "Traceback" not in run.err
    assert all(w in run.err for w in words), run.err


def test_toml_takes_chinese_field_names(tmp_path, ledger_cli):
    config = tmp_path / "c.toml"
    config.write_text(
        '[aliases]\n"问题描述" = ["检视剖析"]\n"整改措施" = ["对策"]\n'
        '[columns]\n"主抓" = "责任部门"\n"进度" = "完成状态"\n"排序" = "不使用"\n',
        encoding="utf-8",
    )
    loaded = load_config(config)
    assert "检视剖析" in loaded.spec("problem").aliases
    assert [(c.header, c.field) for c in loaded.corrections] == [
        ("主抓", "dept"),
        ("进度", "status"),
        ("排序", ""),
    ]
    path = write_xlsx(ODD, tmp_path / "odd.xlsx")
    run = ledger_cli("stats", path, "--as-of", AS_OF, "--json", "--config", config)
    assert run.code == 0, run.err
    assert (run.json()["total"]["total"], run.json()["total"]["completed"]) == (2, 1)
    config.write_text('[aliases]\n"负责同志" = ["主抓"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="负责同志"):
        load_config(config)


def test_the_docs_list_every_header_word():
    """docs/台账识别.md shows the clerk every word the reader goes by: a word added to ROLES or FIELDS is
    added to the page too."""
    from pathlib import Path

    from toolkit.config import FIELDS
    from toolkit.headers import ROLES

    page = (Path(__file__).resolve().parents[1] / "docs" / "台账识别.md").read_text(encoding="utf-8")
    section = page[page.index("## 表头识别") :]
    cells = {
        w
        for line in section.splitlines()
        if line.startswith("|")
        for w in line.replace("|", "、").split("、")
    }
    words = {w for role in ROLES for w in (*role.words, *role.needs, *role.unless)}
    words |= {name for spec in FIELDS for name in spec.names}
    assert sorted(w for w in words if w not in {c.strip() for c in cells}) == []


def test_a_toml_file_serves_ledgers_without_some_of_its_headers(tmp_path, ledger_cli):
    """A TOML file may be shared by ledgers laid out differently: a [columns] header one of them lacks is no
    error there (the command line and the 配置 sheet, which speak of one ledger, are held to theirs)."""
    config = tmp_path / "c.toml"
    config.write_text(
        '[columns]\n"主抓" = "责任部门"\n"检视剖析" = "问题描述"\n"对策" = "整改措施"\n', encoding="utf-8"
    )
    run = ledger_cli(
        "stats", write_xlsx(XUNCHA, tmp_path / "巡察.xlsx"), "--as-of", AS_OF, "--json", "--config", config
    )
    assert run.code == 0, run.err
    assert (run.json()["total"]["total"], run.json()["total"]["completed"]) == (
        XUNCHA.total,
        XUNCHA.completed,
    )
    path = write_xlsx(
        XUNCHA, tmp_path / "配置.xlsx", {"配置": [["台账中的表头", "对应字段"], ["主抓", "责任部门"]]}
    )
    run = ledger_cli("stats", path, "--as-of", AS_OF)
    assert run.code == 2 and "“配置”表的表头对照中的表头“主抓”" in run.err


def test_config_sheet_correction_without_a_field_says_so(tmp_path, ledger_cli):
    table = [["台账中的表头", "对应字段"], ["检视剖析", ""]]
    run = ledger_cli("validate", write_xlsx(ODD, tmp_path / "odd.xlsx", {"配置": table}), "--as-of", AS_OF)
    assert run.code == 2 and "Traceback" not in run.err
    assert "“配置”表的表头对照中“检视剖析”没有写对应的字段，请写上字段名或删去这一项" in run.err, run.err


def test_columns_option_is_for_one_ledger(tmp_path, ledger_cli):
    (tmp_path / "units").mkdir()
    write_xlsx(XUNCHA, tmp_path / "units" / "甲.xlsx")
    run = ledger_cli("stats", tmp_path / "units", "--by", "unit", "--columns", "牵头单位=责任部门")
    assert run.code == 2 and "--columns" in run.err and "Traceback" not in run.err
