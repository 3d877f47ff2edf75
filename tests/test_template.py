"""Hostile and broken templates: each is refused with one Chinese sentence, exit 2, and no document."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from report_ledgers import AS_OF, INFO, write_report_ledger

from toolkit.errors import TemplateError
from toolkit.read import read_ledger
from toolkit.render import render_document
from toolkit.render.render import make_environment
from toolkit.render.template import default_template_bytes


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory) -> Path:
    return write_report_ledger(tmp_path_factory.mktemp("ledger") / "台账.xlsx", info=INFO)


@pytest.fixture(scope="module")
def ledger(ledger_file: Path):
    return read_ledger(ledger_file)


def template_with(tmp_path: Path, text: str, name: str = "模板.docx") -> Path:
    """The default template with one extra paragraph typed at the top, as a clerk would in Word."""
    doc = Document(io.BytesIO(default_template_bytes()))
    doc.paragraphs[0].insert_paragraph_before(text)
    path = tmp_path / name
    doc.save(str(path))
    return path


def refused(ledger, template: Path) -> str:
    with pytest.raises(TemplateError) as info:
        render_document(ledger, as_of=date.fromisoformat(AS_OF), template=template)
    message = str(info.value)
    assert message.endswith("。") and message.count("。") == 1, message
    assert "Traceback" not in message
    return message


CASES = [
    ("{{ title }", ["第1段", "{{ title }", "花括号不成对"]),
    ("{{ title title }}", ["第1段", "语法错误"]),
    ("{% for d in dimensions %}", ["{% for %}", "{% endfor %}"]),
    ("{% frobnicate %}", ["无法识别的标签“frobnicate”"]),
    ("{{ titel }}", ["“titel”", "无法识别", "docs/模板变量.md"]),
    ("{{ total.rat }}", ["“rat”", "无法识别"]),
    ("｛｛ title ｝｝", ["第1段", "全角字符“｛”", "半角的“{”"]),
    ("{{ title ｝｝", ["全角字符“｝”"]),
    ("{% if annex ％}是{% endif %}", ["全角字符“％”", "半角的“%”"]),
    ("{{ “甲” ~ title }}", ["全角字符““”", "弯引号"]),
    ("{{ total.rate（） }}", ["全角字符“（”", "半角的“(”"]),
    ("{{ title，unit }}", ["全角字符“，”"]),
    ("{{ ''.__class__.__mro__ }}", ["程序内部", "安全"]),
    ("{{ cycler.__init__.__globals__ }}", ["程序内部"]),
    ("{{ total|attr('__class__') }}", ["程序内部", "安全"]),
    ("{{ 'a' * 100000000 }}", ["过大的运算"]),
    ("{% for i in range(10**9) %}x{% endfor %}", ["过大的运算"]),
    ("{{ title|safe }}", ["过滤器“safe”"]),
    ("{% set x = dimensions.append(1) %}", ["安全"]),
]


@pytest.mark.parametrize(("text", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_bad_template_is_refused(tmp_path: Path, ledger, text: str, fragments: list[str]) -> None:
    message = refused(ledger, template_with(tmp_path, text))
    for fragment in fragments:
        assert fragment in message


def test_quoted_full_width_text_inside_a_tag_is_fine(tmp_path: Path, ledger) -> None:
    data, _context, _notes = render_document(
        ledger, as_of=date(2024, 12, 31), template=template_with(tmp_path, "{{ '（附）' ~ unit }}")
    )
    assert Document(io.BytesIO(data)).paragraphs[0].text == "（附）测试街道党工委"


def not_a_zip(path: Path) -> None:
    path.write_text("这不是 Word 文档", encoding="utf-8")


def old_doc(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)


def zip_without_document(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")


def truncated(path: Path) -> None:
    path.write_bytes(default_template_bytes()[:5000])


def broken_xml(path: Path) -> None:
    source = zipfile.ZipFile(io.BytesIO(default_template_bytes()))
    with zipfile.ZipFile(path, "w") as zf:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            zf.writestr(item, data)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (not_a_zip, "不是有效的 Word 文档"),
        (old_doc, "另存为 .docx"),
        (zip_without_document, "不是 Word 文档"),
        (truncated, "不是有效的 Word 文档"),
        (broken_xml, "无法作为 Word 文档打开"),
    ],
)
def test_unusable_template_file(tmp_path: Path, ledger_file: Path, ledger_cli, make, fragment: str) -> None:
    template = tmp_path / "坏模板.docx"
    make(template)
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", ledger_file, "--as-of", AS_OF, "-t", template, "-o", out)
    assert run.code == 2
    assert fragment in run.err and "Traceback" not in run.err
    assert not out.exists()


def test_missing_template(tmp_path: Path, ledger_file: Path, ledger_cli) -> None:
    run = ledger_cli("report", ledger_file, "--as-of", AS_OF, "-t", tmp_path / "没有.docx")
    assert run.code == 2 and "找不到模板文件" in run.err


@pytest.mark.parametrize(
    "text",
    ["{{ titel }}", "｛｛ title ｝｝", "{{ ''.__class__ }}", "{{ title }"],
)
def test_cli_refuses_and_writes_nothing(tmp_path: Path, ledger_file: Path, ledger_cli, text: str) -> None:
    template = template_with(tmp_path, text)
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", ledger_file, "--as-of", AS_OF, "-t", template, "-o", out)
    assert run.code == 2, run.err
    assert run.err.strip().count("\n") == 0 and "模板" in run.err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [template.name]


def test_xml_metacharacters_in_ledger_text_stay_literal(tmp_path: Path, ledger_cli) -> None:
    from report_ledgers import ROWS

    rows = [list(r) for r in ROWS]
    rows[0][3] = "A&B <w:p> \"引号\" '单引号' ]]> {{ title }} {% if %}"
    path = write_report_ledger(tmp_path / "台账.xlsx", rows, info=INFO)
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", path, "--as-of", AS_OF, "-o", out, "--annex")
    assert run.code == 0, run.err
    with zipfile.ZipFile(out) as zf:
        from lxml import etree

        etree.fromstring(zf.read("word/document.xml"))  # well-formed
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "A&B <w:p> \"引号\" '单引号' ]]> {{ title }} {% if %}" in text
    assert doc.tables[1].rows[1].cells[3].text.startswith("A&B <w:p>")


def test_environment_is_sandboxed_and_autoescaping() -> None:
    from jinja2.sandbox import SandboxedEnvironment

    env = make_environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.from_string("{{ x }}").render(x="<&>") == "&lt;&amp;&gt;"


@pytest.mark.parametrize(
    "text",
    ["", "整改落实情况通报", "甲\n", "甲\r\n乙\r丙\n\n", "\n", "第 { 页 } % #", "<w:t>a&amp;b</w:t>\n"],
)
def test_text_without_tags_renders_as_jinja_would(text: str) -> None:
    """Texts without tags skip Jinja's compiler (render.make_environment): the same result as compiling."""
    from jinja2 import Environment

    assert (
        make_environment().from_string(text).render({})
        == Environment(autoescape=True).from_string(text).render()
    )


def test_sandbox_itself_refuses_python_internals() -> None:
    from jinja2.sandbox import SecurityError

    env = make_environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.append(1) }}").render(x=[])


def test_the_default_template_passes_the_checks_it_skips() -> None:
    """render_document trusts the built-in template (no check, every variable taken as used): it must
    pass the checks a user's template gets, and show both charts."""
    from toolkit.render.render import check_template, open_template

    tpl = open_template(default_template_bytes(), "默认模板")
    assert {"chart", "trend_chart"} <= check_template(tpl, make_environment())


def test_the_default_template_renders_as_its_saved_copy(ledger, tmp_path: Path) -> None:
    """The built-in template goes to docxtpl as built; saved by `ledger template` it renders the same."""
    saved = tmp_path / "通报模板.docx"
    saved.write_bytes(default_template_bytes())
    as_of = date.fromisoformat(AS_OF)
    built, _, _ = render_document(ledger, as_of=as_of)
    copied, _, _ = render_document(ledger, as_of=as_of, template=saved)
    with zipfile.ZipFile(io.BytesIO(built)) as a, zipfile.ZipFile(io.BytesIO(copied)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in ("word/document.xml", "word/styles.xml", "word/charts/chart1.xml"):
            assert a.read(name) == b.read(name), name


def test_the_default_template_is_cached_between_runs(
    ledger_file: Path, tmp_path: Path, ledger_cli, monkeypatch
) -> None:
    """The first report builds the template and keeps it; the next ones open that file. A damaged file
    is built again, and a cache that cannot be written costs nothing but the time."""
    from toolkit.render.template_cache import CACHE_ENV, cache_path

    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    cache.mkdir()
    stale = cache / "default-template-0123.docx"  # an older version's
    stale.write_bytes(b"old")

    def report(name: str) -> str:
        out = tmp_path / name
        run = ledger_cli("report", ledger_file, "--as-of", AS_OF, "-o", out, "--no-history")
        assert run.code == 0, run.err
        return zipfile.ZipFile(out).read("word/document.xml").decode()

    def members(data: bytes) -> dict[str, bytes]:  # the zip's times are when it was built
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {name: zf.read(name) for name in zf.namelist()}

    first = report("1.docx")
    kept = cache_path()
    assert kept is not None and kept.parent == cache
    assert members(kept.read_bytes()) == members(default_template_bytes())
    assert [p.name for p in cache.iterdir()] == [kept.name]
    template_with(tmp_path, "缓存里的模板", "变体.docx").replace(kept)
    assert "缓存里的模板" in report("2.docx")  # what the cache holds is what renders
    kept.write_bytes(b"PK\x03\x04 damaged")
    assert report("3.docx") == first
    assert members(kept.read_bytes()) == members(default_template_bytes())
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "1.docx"))  # a file where the folder should be
    assert report("4.docx") == first
