"""The kind of 整改: each kind's title and opening, from --kind, the 通报信息 sheet and the ledger's title."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from docx import Document
from report_ledgers import AS_OF, write_report_ledger

from toolkit.read import read_ledger
from toolkit.render import ReportOptions, render_document, write_default_template
from toolkit.render.kinds import KINDS

UNIT = "测试街道党工委"

# (kind as --kind says it, meeting or source as a clerk writes it, ledger title naming it, title, opening start)
CASES = [
    ("民主生活会", "民主生活会", "测试街道党工委2024年度民主生活会整改台账",
     "测试街道党工委关于2024年度民主生活会查摆问题整改落实情况的通报",
     "2024年度民主生活会召开以后，测试街道党工委领导班子主动反思，对照整改清单"),
    ("组织生活会", "2024年度组织生活会", "测试街道党工委2024年度组织生活会查摆问题整改台账",
     "测试街道党工委关于2024年度组织生活会查摆问题整改落实情况的通报",
     "2024年度组织生活会召开以后，测试街道党工委对照会上查摆的问题"),
    ("巡视巡察反馈", "区委第三巡察组反馈问题", "测试街道党工委关于区委第三巡察组反馈问题整改落实台账",
     "测试街道党工委关于区委第三巡察组反馈问题整改落实情况的通报",
     "区委第三巡察组反馈意见后，测试街道党工委把反馈问题整改作为重要政治任务"),
    ("审计发现问题", "区审计局", "测试街道党工委关于区审计局审计发现问题整改台账",
     "测试街道党工委关于区审计局审计发现问题整改落实情况的通报",
     "针对区审计局审计发现的问题，测试街道党工委逐项研究制定整改措施"),
    ("督察督查反馈", "区委督查室反馈意见", "测试街道党工委关于区委督查室反馈意见整改落实台账",
     "测试街道党工委关于区委督查室反馈意见整改落实情况的通报",
     "区委督查室反馈意见后，测试街道党工委对照反馈的问题"),
    ("主题教育检视问题", "学习贯彻习近平新时代中国特色社会主义思想主题教育",
     "测试街道党工委关于学习贯彻习近平新时代中国特色社会主义思想主题教育检视问题整改清单",
     "测试街道党工委关于学习贯彻习近平新时代中国特色社会主义思想主题教育检视问题整改落实情况的通报",
     "学习贯彻习近平新时代中国特色社会主义思想主题教育开展以来，测试街道党工委坚持边学习"),
    ("专项整治", "形式主义官僚主义专项整治", "测试街道党工委关于形式主义官僚主义专项整治问题整改台账",
     "测试街道党工委关于形式主义官僚主义专项整治排查问题整改落实情况的通报",
     "形式主义官僚主义专项整治开展以来，测试街道党工委对照整治任务"),
    ("其他整改", "", "测试街道党工委2024年度问题整改台账",
     "测试街道党工委关于2024年度问题整改落实情况的通报",
     "为推动问题整改落实落地，测试街道党工委对照整改台账"),
]  # fmt: skip
IDS = [case[0] for case in CASES]


def title_and_opening(path: Path, **options) -> tuple[str, str, str]:
    """(title as one line, opening paragraph, title_display) of the 通报 rendered from ``path``."""
    ledger = read_ledger(path)
    data, context, _notes = render_document(
        ledger, as_of=date.fromisoformat(AS_OF), options=ReportOptions(chart=False, **options)
    )
    doc = _document(data)
    texts = [p.text for p in doc.paragraphs]
    title = next(p.text for p in doc.paragraphs if p.style.name == "公文标题")
    return title.replace("\n", ""), texts[texts.index(title) + 2], context["title_display"]


def _document(data: bytes):
    import io

    return Document(io.BytesIO(data))


def info_rows(kind: str = "", meeting: str = "") -> list[list[object]]:
    rows = [["项目", "内容"], ["单位", UNIT], ["年度", "2024"]]
    if kind:
        rows.append(["整改类型", kind])
    if meeting:
        rows.append(["会议", meeting])
    return rows


@pytest.mark.parametrize(("kind", "meeting", "ledger_title", "title", "opening"), CASES, ids=IDS)
def test_kind_from_the_option(tmp_path: Path, kind, meeting, ledger_title, title, opening) -> None:
    path = write_report_ledger(tmp_path / "台账.xlsx", title=None, info=info_rows())
    got = title_and_opening(path, kind=kind, meeting=meeting or None)
    assert got[:2] == (title, got[1]) and got[1].startswith(opening), got
    assert got[1].endswith("现将整改落实情况通报如下：")
    assert "召开以后" not in got[1] or kind in ("民主生活会", "组织生活会")
    # the display title breaks between words into lines no wider than the type area
    assert all(len(line) <= 21 for line in got[2].split("\n")) and got[2].replace("\n", "") == title


@pytest.mark.parametrize(("kind", "meeting", "ledger_title", "title", "opening"), CASES, ids=IDS)
def test_kind_from_the_info_sheet(tmp_path: Path, kind, meeting, ledger_title, title, opening) -> None:
    # the ledger's title says 民主生活会: the 整改类型 row wins over it
    path = write_report_ledger(tmp_path / "台账.xlsx", info=info_rows(kind, meeting))
    got = title_and_opening(path)
    assert got[0] == title and got[1].startswith(opening), got


@pytest.mark.parametrize(("kind", "meeting", "ledger_title", "title", "opening"), CASES, ids=IDS)
def test_kind_from_the_ledger_title(tmp_path: Path, kind, meeting, ledger_title, title, opening) -> None:
    path = write_report_ledger(
        tmp_path / "台账.xlsx", title=ledger_title, info=[["项目", "内容"], ["年度", "2024"]]
    )
    got = title_and_opening(path)
    assert got[0] == title and got[1].startswith(opening), got


def test_a_title_without_a_unit_names_the_source() -> None:
    """The issue's example: a 巡察 ledger titled by its source alone."""
    from toolkit.render.context import parse_title

    assert parse_title("区委第三巡察组反馈问题整改落实台账") == {
        "meeting": "区委第三巡察组",
        "kind": "inspection",
    }


def test_option_wins_over_the_sheet_and_the_title(tmp_path: Path) -> None:
    path = write_report_ledger(tmp_path / "台账.xlsx", info=info_rows("民主生活会"))
    got = title_and_opening(path, kind="审计", meeting="区审计局")
    assert got[0] == "测试街道党工委关于区审计局审计发现问题整改落实情况的通报"


def test_unknown_kind_in_the_sheet_is_reported_and_the_title_decides(tmp_path: Path) -> None:
    path = write_report_ledger(tmp_path / "台账.xlsx", info=info_rows("年终考核"))
    ledger = read_ledger(path)
    _data, context, notes = render_document(
        ledger, as_of=date.fromisoformat(AS_OF), options=ReportOptions(chart=False)
    )
    assert context["kind"] == "民主生活会"
    assert any("整改类型“年终考核”无法识别" in note for note in notes)


@pytest.mark.parametrize("kind", KINDS, ids=[k.label for k in KINDS])
def test_template_of_each_kind_renders_its_wording(tmp_path: Path, kind) -> None:
    case = next(c for c in CASES if c[0] == kind.label)
    template = write_default_template(tmp_path / "模板.docx", kind=kind.label)
    tpl = Document(str(template))
    # the kind's words are in the template itself, where the clerk can edit them
    assert "{{" in tpl.paragraphs[0].text and "{{ title" not in tpl.paragraphs[0].text
    path = write_report_ledger(tmp_path / "台账.xlsx", title=None, info=info_rows(kind.label, case[1]))
    ledger = read_ledger(path)
    data, _context, _notes = render_document(
        ledger, as_of=date.fromisoformat(AS_OF), template=template, options=ReportOptions(chart=False)
    )
    doc = _document(data)
    assert doc.paragraphs[0].text == case[3]
    assert doc.paragraphs[2].text.startswith(case[4])


def test_cli_kind_options(tmp_path: Path, ledger_cli) -> None:
    template = tmp_path / "巡察模板.docx"
    run = ledger_cli("template", template, "--kind", "巡察")
    assert run.code == 0, run.err
    assert (
        Document(str(template)).paragraphs[0].text == "{{ unit }}关于{{ meeting }}反馈问题整改落实情况的通报"
    )
    bad = ledger_cli("template", tmp_path / "x.docx", "--kind", "年终考核")
    assert bad.code == 2 and "无法识别的整改类型“年终考核”" in bad.err
    assert not (tmp_path / "x.docx").exists()
    path = write_report_ledger(tmp_path / "台账.xlsx", info=info_rows())
    out = tmp_path / "通报.docx"
    run = ledger_cli(
        "report", path, "--as-of", AS_OF, "--kind", "督查", "-o", out, "--no-chart", "--no-history"
    )
    assert run.code == 0, run.err
    title = next(p.text for p in Document(str(out)).paragraphs if p.style.name == "公文标题")
    assert title.replace("\n", "") == "测试街道党工委关于督查反馈意见整改落实情况的通报"
