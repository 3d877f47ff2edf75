"""Status as offices write it: vocabulary words, yes/no answers, narrative text, and no status at all."""

from __future__ import annotations

from datetime import date

import pytest
from builders import write_ledger

from toolkit.columns import cell_text
from toolkit.config import DEFAULT_CONFIG
from toolkit.read import read_ledger
from toolkit.status import StatusReader, read_narrative

AS_OF = "2024-12-31"

# every synonym the vocabulary had before issue 12 keeps its meaning
BEFORE_ISSUE_12 = {
    "completed": ("已完成", "已整改", "完成整改", "整改到位", "已办结", "完成"),
    "closed": ("已销号", "已整改销号"),
    "substantially_done": ("基本完成",),
    "long_term": ("长期坚持", "持续整改", "持续推进", "长期推进"),
    "in_progress": ("正在整改", "整改中", "推进中", "正在推进", "部分整改"),
    "extended": ("申请延期", "已延期"),
    "not_started": ("未启动", "未整改", "尚未启动"),
    "excluded": ("不适用", "已合并"),
}


def test_existing_synonyms_keep_their_meaning():
    assert {w: DEFAULT_CONFIG.status_for(w) for ws in BEFORE_ISSUE_12.values() for w in ws} == {
        w: status for status, ws in BEFORE_ISSUE_12.items() for w in ws
    }


def test_wider_vocabulary():
    words = ["进行中", "推进中", "持续推进", "阶段性完成", "部分完成", "部分整改", "未完成", "已办结",
             "已整改到位", "已完成整改", "待定", "已全部完成", " 已 完成 ", "未开始"]  # fmt: skip
    assert [DEFAULT_CONFIG.status_for(w) for w in words] == [
        "in_progress", "in_progress", "long_term", "in_progress", "in_progress", "in_progress", "in_progress",
        "completed", "completed", "completed", "undecided", "completed", "completed", "not_started",
    ]  # fmt: skip


def test_no_word_belongs_to_two_statuses():
    seen: dict[str, str] = {}
    for spec in DEFAULT_CONFIG.statuses:
        for word in (spec.label, *spec.synonyms):
            assert seen.setdefault(word, spec.id) == spec.id, word


@pytest.mark.parametrize(
    ("header", "values", "expected"),
    [
        ("是否完成", ["是", "否", "√", "×", "✓", "✗", "Y", "n", "已完成", "未完成", "完成", True, False],
         ["completed", "in_progress", "completed", "in_progress", "completed", "in_progress", "completed",
          "in_progress", "completed", "in_progress", "completed", "completed", "in_progress"]),
        ("是否销号", ["是", "否", "已销号"], ["closed", "in_progress", "closed"]),
        ("完成状态", ["已完城", "完成了", "", None, "#REF!", "2024-06-30"], [None] * 6),
    ],
)  # fmt: skip
def test_yes_no_and_short_words(header, values, expected):
    reader = StatusReader(DEFAULT_CONFIG, header, skip={"#REF!"}, to_text=cell_text)
    assert [reader(v) for v in values] == expected
    assert reader.narratives == {}


@pytest.mark.parametrize(
    ("text", "status", "phrase", "doubt"),
    [
        ("一是建立学习制度；二是开展专题研讨，已全部完成。", "completed", "已全部完成", ""),
        ("经核查，该问题已整改到位", "completed", "已整改到位", ""),
        ("组织开展自查自纠，已完成整改。", "completed", "已完成整改", ""),
        ("已完成整改3项，其余2项正在推进", "in_progress", "", "正在"),
        ("已完成前期调研工作，形成报告", "in_progress", "", ""),
        ("已完成，下一步将建立长效机制", "in_progress", "", "下一步"),
        ("已制定方案，持续推进中", "in_progress", "", "持续"),
        ("尚未完成整改，计划年底前完成整改", "in_progress", "", "尚未"),
        ("将于6月底前完成整改", "in_progress", "", "将"),
        ("一是建立台账；二是每月调度", "in_progress", "", ""),
    ],
)
def test_narrative_reading(text, status, phrase, doubt):
    reading = read_narrative(text)
    assert (reading.status, reading.done_phrase, reading.doubt) == (status, phrase, doubt)


def _findings(run) -> list[tuple[int | None, str | None, str, str]]:
    return [(i["row"], i["column"], i["code"], i["severity"]) for i in run.json()["issues"]]


def test_narrative_status_column_read_with_an_info_finding(tmp_path, ledger_cli):
    headers = ["序号", "问题描述", "整改措施", "责任部门", "完成情况"]
    texts = [
        "已完成",
        "一是建立学习制度；二是开展专题研讨，已全部完成。",
        "已完成整改3项，其余2项正在推进",
        "是",
        "完成了",
    ]
    rows = [[n + 1, f"问题{n + 1}", "措施", "党政办", text] for n, text in enumerate(texts)]
    path = write_ledger(tmp_path / "n.xlsx", rows, headers)
    ledger = read_ledger(path)
    assert list(ledger.items.statuses) == ["completed", "completed", "in_progress", "completed", None]
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    flagged = [f for f in _findings(run) if f[2] != "missing-column"]
    assert flagged == [
        (3, "E", "status-from-text", "info"),
        (4, "E", "status-from-text", "info"),
        (6, "E", "unknown-status", "error"),
    ]
    messages = [i["message"] for i in run.json()["issues"] if i["code"] == "status-from-text"]
    assert "已全部完成" in messages[0] and "计为“已完成”" in messages[0]
    assert "含“正在”" in messages[1] and "计为未完成" in messages[1]
    stats = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()["total"]
    assert (stats["total"], stats["completed"], stats["in_progress"], stats["unknown"], stats["no_status"]) == (
        5, 3, 1, 1, 0
    )  # fmt: skip


def test_status_read_from_progress_without_a_status_column(tmp_path, ledger_cli):
    headers = ["序号", "问题描述", "整改措施", "责任部门", "整改时限", "整改进展"]
    progress = ["经核查，已整改到位。", "正在推进", "", "召开专题会议研究，下一步完善制度"]
    rows = [[n + 1, f"问题{n + 1}", "措施", "党政办", date(2024, 6, 30), p] for n, p in enumerate(progress)]
    path = write_ledger(tmp_path / "p.xlsx", rows, headers)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0, run.out
    found = [f for f in _findings(run) if f[2] != "missing-column"]
    assert found == [
        (1, None, "status-from-progress", "info"),
        (2, "F", "status-from-text", "info"),
        (3, "E", "overdue", "warning"),
        (5, "F", "status-from-text", "info"),
        (5, "E", "overdue", "warning"),
    ]
    data = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()
    assert (data["has_status_column"], data["status_from"]) == (False, "progress")
    total = data["total"]
    assert (total["completed"], total["in_progress"], total["no_status"], total["rate"]) == (1, 2, 1, 25.0)
    text = ledger_cli("stats", path, "--as-of", AS_OF).out
    assert "有1条问题的“整改进展”为空" in text and "按“整改进展”的文字判断" in text


def test_no_status_at_all_is_said_plainly(tmp_path, ledger_cli):
    headers = ["序号", "方面", "问题描述", "整改措施", "责任部门"]
    rows = [[n, "作风建设" if n < 3 else "理论学习", f"问题{n}", "措施", "党政办"] for n in (1, 2, 3)]
    path = write_ledger(tmp_path / "none.xlsx", rows, headers)
    data = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()
    assert (data["has_status_column"], data["status_from"]) == (False, None)
    assert [(g["name"], g["no_status"], g["rate"]) for g in [*data["dimensions"], data["total"]]] == [
        ("作风建设", 2, None),
        ("理论学习", 1, None),
        ("合计", 3, None),
    ]
    text = ledger_cli("stats", path, "--as-of", AS_OF).out
    assert "整改完成率 —（台账没有完成状态列）" in text
    assert "3条问题无法判断是否完成" in text
    assert "0.0%" not in text
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    errors = [i for i in run.json()["issues"] if i["severity"] == "error"]
    assert run.code == 1 and [e["code"] for e in errors] == ["missing-column"]
    assert "3条问题都无法判断是否完成" in errors[0]["message"]


def test_blank_status_cells_are_counted_apart_from_unknown_words(tmp_path, ledger_cli):
    headers = ["问题描述", "整改措施", "责任部门", "整改状态"]
    rows = [
        ["问题1", "措施", "党政办", "已完成"],
        ["问题2", "措施", "党政办", "已完城"],
        ["问题3", "措施", "党政办", ""],
    ]
    path = write_ledger(tmp_path / "b.xlsx", rows, headers)
    data = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()
    total = data["total"]
    assert (data["has_status_column"], total["unknown"], total["no_status"], total["rate"]) == (
        True,
        2,
        1,
        33.3,
    )


def test_undecided_is_visible_and_open(tmp_path, ledger_cli):
    headers = ["问题描述", "整改措施", "责任部门", "整改时限", "状态"]
    rows = [[f"问题{n}", "措施", "党政办", date(2024, 6, 30), "待定"] for n in (1, 2)]
    path = write_ledger(tmp_path / "u.xlsx", rows, headers)
    total = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()["total"]
    assert (total["undecided"], total["unknown"], total["overdue"], total["rate"]) == (2, 0, 2, 0.0)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0 and {i["code"] for i in run.json()["issues"]} == {"missing-column", "overdue"}


def _report_text(ledger_cli, path, out) -> str:
    from docx import Document

    run = ledger_cli(
        "report", path, "--as-of", AS_OF, "--allow-errors", "--no-history", "--no-chart", "-o", out
    )
    assert run.code == 0, run.err
    return "\n".join(p.text for p in Document(str(out)).paragraphs)


def test_the_report_says_status_is_missing(tmp_path, ledger_cli):
    headers = ["序号", "方面", "问题描述", "整改措施", "责任部门"]
    rows = [[n, "作风建设" if n < 3 else "理论学习", f"问题{n}", "措施", "党政办"] for n in (1, 2, 3)]
    text = _report_text(ledger_cli, write_ledger(tmp_path / "none.xlsx", rows, headers), tmp_path / "a.docx")
    assert "共梳理问题3个，均未注明是否完成整改，无法计算整改完成率。台账未设完成状态列。" in text
    assert "该方面共梳理问题2个，均未注明是否完成整改" in text
    assert "3个问题均未注明是否完成整改" in text and "完成率0" not in text and "已完成整改0个" not in text
    # some status cells blank: counted as not done, and the report says how many
    rows = [[n, "作风建设", f"问题{n}", "措施", "党政办", "已完成" if n == 1 else ""] for n in (1, 2, 3)]
    path = write_ledger(tmp_path / "blank.xlsx", rows, [*headers, "完成状态"])
    text = _report_text(ledger_cli, path, tmp_path / "b.docx")
    assert (
        "整改完成率33.3%" in text
        and "其中2个问题的完成状态未填写，无法判断是否完成整改，按未完成计。" in text
    )


def test_the_docs_list_every_status_word():
    """docs/台账识别.md documents each class with all its words, and the yes/no answers."""
    from pathlib import Path

    from toolkit.config import NARRATIVE_DOUBT, NO_WORDS, STATUSES, YES_WORDS

    doc = (Path(__file__).parents[1] / "docs" / "台账识别.md").read_text(encoding="utf-8")
    section = doc.split("## 完成状态", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| ")}
    for spec in STATUSES:
        cells = [c.strip() for c in rows[spec.label].split("|")[1:-1]]
        assert cells[1] == spec.label and cells[2].split("、") == list(spec.synonyms)
        assert cells[3].startswith("是") == spec.completed
    yes_row = next(line for line in section.splitlines() if line.startswith("| 是、"))
    no_row = next(line for line in section.splitlines() if line.startswith("| 否、"))
    assert yes_row.split("|")[1].strip().split("、")[: len(YES_WORDS)] == list(YES_WORDS)
    assert no_row.split("|")[1].strip().split("、")[: len(NO_WORDS)] == list(NO_WORDS)
    doubts = "".join(section.split("文字中出现“", 1)[1].split("”", 1)[0].split()).split("、")
    assert doubts == [w for w in NARRATIVE_DOUBT if w not in "?？"]


def test_units_without_status_are_named_in_the_roll_up(tmp_path, ledger_cli):
    folder = tmp_path / "各单位"
    folder.mkdir()
    headers = ["序号", "问题描述", "整改措施", "责任部门"]
    write_ledger(folder / "甲.xlsx", [[n, f"问题{n}", "措施", "党政办"] for n in (1, 2, 3)], headers)
    rows = [[n, f"问题{n}", "措施", "党政办", "已完成"] for n in (1, 2)]
    write_ledger(folder / "乙.xlsx", rows, [*headers, "完成状态"])
    run = ledger_cli("stats", folder, "--by", "unit", "--as-of", AS_OF, "--jobs", "1")
    assert run.code == 0, run.err
    notes = [line for line in run.out.splitlines() if "没有完成状态" in line]
    assert len(notes) == 1 and "（3条）" in notes[0] and "乙" not in notes[0]
    from toolkit.district import district_context

    data = district_context([folder], date(2024, 12, 31), jobs=1)
    assert (data["no_status"], [(r["name"], r["no_status"], r["rate"]) for r in data["ranking"]]) == (
        3,
        [("乙", 0, 100.0), ("甲", 3, None)],
    )
    assert data["summary"].endswith("另有甲3个问题未注明完成状态，无法判断是否完成，按未完成计入整体完成率。")
