"""Every validation rule, driven through the real CLI on workbooks built here."""

from __future__ import annotations

from datetime import date

from builders import HEADERS, row, write_ledger

AS_OF = "2024-12-31"


def findings(run) -> list[tuple[int | None, str | None, str]]:
    return [(i["row"], i["column"], i["code"]) for i in run.json()["issues"]]


def test_clean_ledger_exits_zero(tmp_path, ledger_cli):
    path = write_ledger(tmp_path / "ok.xlsx", [row(1), row(2, problem="作风不够扎实")])
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["rows"] == 2 and data["errors"] == 0 and data["issues"] == []
    assert data["sheet"] == "台账" and data["as_of"] == AS_OF and data["file"].endswith("ok.xlsx")


def test_commands_end_properly_with_no_stderr_at_all(tmp_path, ledger_cli):
    """A scheduled job started with 2>&-: same output and exit code, history warnings not on stdout."""
    from conftest import run_ledger_without_stderr

    path = write_ledger(tmp_path / "ok.xlsx", [row(1), row(2, problem="作风不够扎实", status="正在整改")])
    for args in (("validate", path, "--as-of", AS_OF, "--json"), ("stats", path, "--as-of", AS_OF, "--json")):
        normal, closed = ledger_cli(*args), run_ledger_without_stderr(*args)
        assert (closed.code, closed.json()) == (normal.code, normal.json())
    (tmp_path / "history-is-a-folder").mkdir()  # history cannot be written: the warning has nowhere to go
    closed = run_ledger_without_stderr(
        "validate", path, "--json", "--history", tmp_path / "history-is-a-folder"
    )
    assert closed.code == 0 and closed.json()["rows"] == 2


def test_each_rule_at_its_cell(tmp_path, ledger_cli):
    rows = [
        row(1),  # row 2: clean
        row(2, problem="问题二", owner=""),  # row 3: missing owner (G)
        row(3, problem="问题三", status="已完城"),  # row 4: unknown status (I)
        row(
            4, problem="问题四", deadline="明年再说", status="正在整改", completed_on=None
        ),  # row 5: bad deadline
        row(5, problem="问题五", completed_on="上个月"),  # row 6: bad completion date
        row(6, problem="问题六", completed_on=None),  # row 7: completed without date
        row(7, problem="问题七", completed_on=date(2025, 3, 1), deadline=date(2025, 6, 30)),  # row 8: future
        row(8, problem="问题八", completed_on=date(2024, 8, 1), deadline=date(2024, 6, 30)),  # row 9: late
        row(
            9, problem="问题九", status="正在整改", completed_on=None, deadline=date(2024, 9, 30)
        ),  # row 10: overdue
        row(
            10, problem="问题十", status="正在整改", completed_on=None, deadline=date(2025, 1, 5)
        ),  # row 11: due soon
        row(11, problem="问题十一", status="已销号", evidence=""),  # row 12: closed without evidence
        row(12, problem="问题二"),  # row 13: duplicate of row 3
        row(14, problem="问题十四"),  # row 14: seq gap (12 -> 14)
        row(14, problem="问题十五"),  # row 15: seq duplicate
        row(15, problem="问题十六", lead=""),  # row 16: lead empty: warning
        row(
            16,
            problem="问题十七",
            status="正在整改",
            completed_on=date(2024, 3, 1),
            deadline=date(2025, 6, 30),
        ),
    ]
    path = write_ledger(tmp_path / "faults.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 1, run.err
    assert findings(run) == [
        (3, "G", "missing-value"),
        (4, "I", "unknown-status"),
        (5, "H", "bad-deadline"),
        (6, "J", "bad-date"),
        (7, "J", "missing-completion-date"),
        (8, "J", "completion-in-future"),
        (9, "J", "late-completion"),
        (10, "H", "overdue"),
        (11, "H", "due-soon"),
        (12, "K", "closed-without-evidence"),
        (13, "C", "duplicate-problem"),
        (14, "A", "seq-gap"),
        (15, "A", "seq-duplicate"),
        (16, "E", "missing-value"),
        (17, "J", "unexpected-completion-date"),
    ]
    by_code: dict[str, dict] = {}
    for issue in run.json()["issues"]:
        by_code.setdefault(issue["code"], issue)
    assert by_code["missing-value"]["severity"] == "error"
    assert by_code["overdue"]["severity"] == "warning" and "超期92天" in by_code["overdue"]["message"]
    assert by_code["due-soon"]["severity"] == "info"
    assert by_code["unknown-status"]["value"] == "已完城"
    assert "I4" in by_code["unknown-status"]["message"]
    assert "（是否应为“已完成”？）" in by_code["unknown-status"]["message"]
    assert "第3行" in by_code["duplicate-problem"]["message"]
    lead = next(i for i in run.json()["issues"] if i["row"] == 16)
    assert lead["severity"] == "warning" and lead["field"] == "lead"


def test_unknown_status_is_never_counted_done(tmp_path, ledger_cli):
    rows = [row(1), row(2, problem="二", status="完成了")]
    path = write_ledger(tmp_path / "s.xlsx", rows)
    stats = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()
    assert stats["total"]["total"] == 2
    assert stats["total"]["completed"] == 1
    assert stats["total"]["unknown"] == 1
    assert stats["total"]["rate"] == 50.0


def _without(header: str, numbers=(1, 2, 3)) -> tuple[list[str], list[list[object]]]:
    drop = HEADERS.index(header)
    rows = [[v for i, v in enumerate(row(n, problem=f"问题{n}")) if i != drop] for n in numbers]
    return [h for h in HEADERS if h != header], rows


def test_missing_column_reported_once(tmp_path, ledger_cli):
    """Issue 12: in a ledger laid out elsewhere a missing 责任人 column is a warning (it was an error)."""
    headers, rows = _without("责任人")
    path = write_ledger(tmp_path / "m.xlsx", rows, headers)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0
    assert findings(run) == [(1, None, "missing-column")]
    issue = run.json()["issues"][0]
    assert issue["severity"] == "warning" and "责任人" in issue["message"]


def test_required_columns_are_configurable(tmp_path, ledger_cli):
    headers, rows = _without("责任人")
    path = write_ledger(tmp_path / "m.xlsx", rows, headers)
    config = tmp_path / "c.toml"
    config.write_text('required_columns = ["问题描述", "完成状态", "责任人"]\n', encoding="utf-8")
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json", "--config", config)
    assert run.code == 1
    assert [(i["code"], i["severity"]) for i in run.json()["issues"]] == [("missing-column", "error")]
    config.write_text('required_columns = ["问题描述", "负责同志"]\n', encoding="utf-8")
    run = ledger_cli("validate", path, "--json", "--config", config)
    assert run.code == 2 and "负责同志" in run.err


def test_missing_columns_in_a_foreign_ledger_are_warnings(tmp_path, ledger_cli):
    """Only a problem text and a way to know the status are errors; completion dates only warn."""
    keep = ["问题描述", "责任部门", "完成状态"]
    rows = [[f"问题{n}", "党政办", "已完成" if n % 2 else "正在整改"] for n in (1, 2, 3)]
    path = write_ledger(tmp_path / "f.xlsx", rows, keep)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0, run.out
    issues = run.json()["issues"]
    assert {(i["code"], i["severity"]) for i in issues} == {("missing-column", "warning")}
    assert [i["value"] for i in issues] == ["方面", "整改措施", "责任领导", "责任人", "整改时限", "完成时间"]
    assert "无法判断是否超期" in issues[4]["message"]
    no_status = write_ledger(tmp_path / "n.xlsx", [[*r[:2], "措施"] for r in rows], [*keep[:2], "整改措施"])
    run = ledger_cli("validate", no_status, "--as-of", AS_OF, "--json")
    assert run.code == 1
    [status] = [i for i in run.json()["issues"] if i["severity"] == "error"]
    assert status["code"] == "missing-column" and "3条问题都无法判断是否完成" in status["message"]


def test_ledger_new_keeps_its_required_columns(tmp_path, ledger_cli):
    """A workbook made by ledger new (its 配置 sheet's status block) keeps every required column."""
    import openpyxl

    from toolkit.workbook import new_ledger

    path = new_ledger(tmp_path / "ours.xlsx", unit="某街道", year=2024, sample=True, interpreter=None)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    before = {i["value"] for i in run.json()["issues"] if i["code"] == "missing-column"}
    book = openpyxl.load_workbook(path)
    sheet = book["台账"]
    owner = next(c.column for c in sheet[2] if c.value == "责任人")
    sheet.delete_cols(owner)
    book.save(path)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    missing = [(i["value"], i["severity"]) for i in run.json()["issues"] if i["code"] == "missing-column"]
    assert before == set() and missing == [("责任人", "error")]
    assert run.code == 1
    # the same rows without the 配置 sheet are a ledger laid out elsewhere: a warning only
    del book["配置"]
    book.save(path)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    missing = [(i["value"], i["severity"]) for i in run.json()["issues"] if i["code"] == "missing-column"]
    assert missing == [("责任人", "warning")]


def test_unknown_dimension_with_configured_list(tmp_path, ledger_cli):
    config = tmp_path / "c.toml"
    config.write_text('dimensions = ["理论学习", "作风建设"]\n', encoding="utf-8")
    rows = [
        row(1),
        row(2, problem="二", dimension="作风建设方面"),
        row(3, problem="三", dimension="党风廉政"),
    ]
    path = write_ledger(tmp_path / "d.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--config", config, "--json")
    assert findings(run) == [(4, "B", "unknown-dimension")]
    assert "理论学习、作风建设" in run.json()["issues"][0]["message"]


def test_error_values_pasted_as_text_are_formula_errors(tmp_path, ledger_cli):
    rows = [row(1), row(2, problem="二", owner="#REF!")]
    path = write_ledger(tmp_path / "g.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert findings(run) == [(3, "G", "formula-error")]


def test_error_values_as_text_in_optional_columns_too(tmp_path, ledger_cli):
    """备注 and 佐证材料 are read lazily when the guard saw no "#REF!"-like text; when it did, or when
    the value is split over rich-text runs, the error values there are still found."""
    import xlsxwriter

    headers = [*HEADERS, "备注"]
    rows = [
        [*row(1), "见3#楼会议室"],
        [*row(2, problem="二"), "#N/A"],
        [*row(3, problem="三", evidence="#REF!"), ""],
    ]
    path = write_ledger(tmp_path / "notes.xlsx", rows, headers)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert findings(run) == [(3, "L", "formula-error"), (4, "K", "formula-error")]

    rich = tmp_path / "rich.xlsx"  # "#RE" + "F!" in two differently formatted runs: one cell "#REF!"
    wb = xlsxwriter.Workbook(str(rich))
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, headers)
    for r, values in enumerate([[*row(1), ""], [*row(2, problem="二"), ""]], start=1):
        ws.write_row(r, 0, [v.isoformat() if isinstance(v, date) else v for v in values])
    ws.write_rich_string(2, 11, wb.add_format({"bold": True}), "#RE", "F!")
    wb.close()
    run = ledger_cli("validate", rich, "--as-of", AS_OF, "--json")
    assert findings(run) == [(3, "L", "formula-error")]


def test_findings_are_capped_and_the_cut_is_said(tmp_path, ledger_cli):
    config = tmp_path / "c.toml"
    config.write_text("max_findings = 5\n", encoding="utf-8")
    rows = [row(n, problem=f"问题{n}", owner="") for n in range(1, 11)]
    path = write_ledger(tmp_path / "many.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--config", config, "--json")
    assert len(run.json()["issues"]) == 5 and run.json()["truncated"] == 5
    text = ledger_cli("validate", path, "--as-of", AS_OF, "--config", config)
    assert "另有 5 处未列出" in text.out


def test_readable_table_output(tmp_path, ledger_cli):
    path = write_ledger(tmp_path / "t.xlsx", [row(1), row(2, problem="二", status="已完城")])
    run = ledger_cli("validate", path, "--as-of", AS_OF)
    assert run.code == 1
    assert "发现 1 处错误、0 处提醒" in run.out
    assert "I3" in run.out and "已完城" in run.out


def test_seq_restarting_per_section_is_not_a_gap(tmp_path, ledger_cli):
    rows = [
        row(1),
        row(2, problem="二"),
        row(1, problem="三", dimension="作风建设"),
        row(2, problem="四", dimension="作风建设"),
    ]
    path = write_ledger(tmp_path / "seq.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert findings(run) == []


def test_required_columns_from_the_config_sheet(tmp_path, ledger_cli):
    """The 配置 sheet's 必需列 parameter, in Chinese column names, makes a missing column an error."""
    import openpyxl

    headers, rows = _without("责任人")
    path = write_ledger(tmp_path / "m.xlsx", rows, headers)
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet("配置")
    sheet.append(["参数", "值"])
    sheet.append(["必需列", "问题描述、完成状态、责任人"])
    book.save(path)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert [(i["code"], i["severity"], i["value"]) for i in run.json()["issues"]] == [
        ("missing-column", "error", "责任人")
    ]
    assert run.code == 1
    sheet["B2"] = "问题描述、负责同志"
    book.save(path)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 2 and "负责同志" in run.err


def test_rules_declare_their_messages():
    """The rule catalogue is data: one message per code, a known severity, every rule saying what it gives."""
    from toolkit.checks import ITEM_RULES, LEDGER_RULES, MESSAGES
    from toolkit.model import ERROR, INFO, WARNING

    declared = [m for rule in (*LEDGER_RULES, *ITEM_RULES) for m in rule.messages]
    assert all(rule.messages for rule in (*LEDGER_RULES, *ITEM_RULES))
    assert {m.code: m for m in declared} == MESSAGES and set(declared) == set(MESSAGES.values())
    assert {m.severity for m in declared} == {ERROR, WARNING, INFO}
    assert {m.public_code for m in declared} <= set(MESSAGES)


def test_each_distinct_value_is_judged_once(tmp_path, monkeypatch):
    """A rule that ``judges`` values is asked once per distinct value, and words each flagged value once."""
    from toolkit.checks import BadDeadline, UnknownStatus
    from toolkit.read import read_ledger
    from toolkit.validate import validate_ledger

    calls: dict[str, list[object]] = {"judge": [], "say": []}

    def counted(name, method):
        def wrapper(self, value):
            calls[name].append(value)
            return method(self, value)

        return wrapper

    monkeypatch.setattr(BadDeadline, "judge", counted("judge", BadDeadline.judge))
    monkeypatch.setattr(UnknownStatus, "say", counted("say", UnknownStatus.say))
    rows = [
        row(i + 1, problem=f"问题{i}", deadline=("明年再说", "以后", date(2024, 6, 30))[i % 3],
            status=("已完城", "已完成")[i % 2])
        for i in range(60)
    ]  # fmt: skip
    report = validate_ledger(read_ledger(str(write_ledger(tmp_path / "d.xlsx", rows))), date(2024, 12, 31))
    codes = [f.code for f in report.findings]
    assert codes.count("bad-deadline") == 40 and codes.count("unknown-status") == 30
    assert len(calls["judge"]) == len({id(v) for v in calls["judge"]}) <= 3
    assert calls["say"] == ["已完城"]
