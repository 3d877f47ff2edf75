"""Render a 通报 from a ledger through a docx template, safely.

A template is user input: it is opened with size guards, checked before rendering (Jinja syntax,
unknown variables, full-width punctuation typed inside a tag, attempts to reach Python internals)
and rendered through a sandboxed, autoescaping Jinja environment, so "&" or "<" in ledger text come
out literally and a template cannot run code. Nothing is written unless rendering succeeded; the
.docx is written to a temporary file beside the target and moved into place.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.errors import OutputError, TemplateError
from toolkit.model import Ledger, Report
from toolkit.render.context import CONTEXT_KEYS, ReportOptions, build_context
from toolkit.stats import Stats

DEFAULT_OPTIONS = ReportOptions()
MAX_TEMPLATE_BYTES = 50 * 1024 * 1024
MAX_TEMPLATE_UNPACKED = 200 * 1024 * 1024
MAX_TEMPLATE_MEMBERS = 2000
PDF_TIMEOUT = 180
DOCS_HINT = "可用的变量见 docs/模板变量.md"

FULL_WIDTH_IN_TAGS = {
    "｛": "{", "｝": "}", "％": "%", "“": '"', "”": '"', "‘": "'", "’": "'", "（": "(", "）": ")",
    "【": "[", "】": "]", "［": "[", "］": "]", "，": ",", "：": ":", "；": ";", "｜": "|", "．": ".",
    "＝": "=", "＋": "+", "－": "-", "＜": "<", "＞": ">", "！": "!", "＃": "#", "\u3000": "空格",
    "。": ".", "、": ",",
}  # fmt: skip
_TAG = re.compile(r"[{｛]\s*([{%％#｛])(.*?)([}%％#｝])\s*[}｝]")
_BROKEN_BRACE = re.compile(r"[{｛][{%％#｛]|[}%％#｝][}｝]")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass
class RenderResult:
    path: Path
    title: str
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the Jinja environment


def make_environment():
    """Sandboxed (no access to Python internals, no mutation of the data), autoescaping, strict."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class TemplateEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context, operator, left, right):  # bounded time and memory
            if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            if operator == "*":
                for seq, count in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(count, int) and count > 10_000:
                        raise SecurityError("repetition too large")
            return super().call_binop(context, operator, left, right)

        def from_string(self, source, globals=None, template_class=None):
            """A text without tags (docxtpl sends each document property and footer) renders as itself,
            by Jinja's newline rules, without compiling it: eight of the nine compilations of a report."""
            if isinstance(source, str) and not any(mark in source for mark in ("{{", "{%", "{#")):
                return _LiteralTemplate(source)
            return super().from_string(source, globals, template_class)

    env = TemplateEnvironment(autoescape=True, undefined=StrictUndefined)
    # "|safe" would let ledger text through unescaped and break the document's XML
    env.filters.pop("safe", None)
    return env


class _LiteralTemplate:
    """What Jinja makes of a text without tags: the text, newlines as "\\n", one trailing newline dropped."""

    __slots__ = ("_text",)

    def __init__(self, source: str) -> None:
        lines = re.split(r"\r\n|\r|\n", source)
        if lines[-1] == "":
            lines.pop()
        self._text = "\n".join(lines)

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self._text


class ChartImage:
    """A native chart for the template: its part is added when the tag renders, in the part being rendered.

    A template sees only its text (the drawing's XML); nothing else is reachable from it.
    """

    __slots__ = ("_data", "_tpl")

    def __init__(self, tpl: Any, data: Any) -> None:
        self._tpl = tpl
        self._data = data

    def __html__(self) -> str:
        from toolkit.render.chart import add_chart

        part = self._tpl.current_rendering_part
        # docxtpl numbers every wp:docPr of the body afresh after rendering; this id only has to be valid
        drawing = add_chart(part, self._data, shape_id=len(part.rels) + 1)
        return f'</w:t></w:r><w:r>{drawing}</w:r><w:r><w:t xml:space="preserve">'

    def __str__(self) -> str:
        return self.__html__()

    def __bool__(self) -> bool:
        return True


# ---------------------------------------------------------------- opening a template


def _zip_guard(data: bytes, name: str) -> None:
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"模板“{name}”超过 50 MB，请删去其中的大图片后重试。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_TEMPLATE_MEMBERS or sum(i.file_size for i in infos) > MAX_TEMPLATE_UNPACKED:
                raise TemplateError(f"模板“{name}”解压后过大，可能已损坏或不安全，请换用正常的 Word 文档。")
            if "word/document.xml" not in zf.namelist():
                raise TemplateError(f"模板“{name}”不是 Word 文档（.docx），请在 Word 中另存为 .docx 后重试。")
    except zipfile.BadZipFile:
        hint = "（旧版 .doc 请在 Word 中另存为 .docx）" if data[:4] == b"\xd0\xcf\x11\xe0" else ""
        raise TemplateError(f"模板“{name}”不是有效的 Word 文档（.docx）{hint}，请检查文件后重试。") from None


def load_template_bytes(template: str | os.PathLike | None) -> tuple[bytes, str]:
    """The template's bytes and a display name; the default template when ``template`` is None."""
    if template is None:
        from toolkit.render.template import default_template_bytes

        return default_template_bytes(), "默认模板"
    path = Path(template)
    name = path.name
    if not path.is_file():
        raise TemplateError(f"找不到模板文件“{path}”，请检查路径，或用 ledger template 生成一份默认模板。")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"模板“{name}”超过 50 MB，请删去其中的大图片后重试。")
    data = path.read_bytes()
    _zip_guard(data, name)
    return data, name


def open_template(data: bytes, name: str):
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(data))
    try:
        tpl.init_docx()
    except Exception:  # python-docx raises several kinds for a broken package
        raise TemplateError(
            f"模板“{name}”无法作为 Word 文档打开，可能已损坏，请在 Word 中另存后重试。"
        ) from None
    return tpl


def default_template():
    """The built-in template, not checked (it is ours, and tests/test_template.py checks it like any
    other), from the user's cache when this version built it before (toolkit.render.template_cache):
    the check and the building would each cost a tenth of ``ledger report``."""
    from docxtpl import DocxTemplate

    from toolkit.render import template_cache
    from toolkit.render.template import default_template_bytes

    path = template_cache.cache_path()
    cached = template_cache.load(path)
    if cached is not None:
        tpl = DocxTemplate(io.BytesIO(cached))
        try:
            tpl.init_docx()
            return tpl
        except Exception:  # a damaged file: build the template again, and replace it
            pass
    data = default_template_bytes()
    template_cache.store(path, data)
    return open_template(data, "默认模板")


# ---------------------------------------------------------------- checks before rendering


@dataclass
class Part:
    label: str  # 正文 / 页眉 / 页脚
    element: Any  # the part's root element (w:body, w:hdr, w:ftr)
    part: Any


def template_parts(tpl) -> Iterator[Part]:
    document = tpl.docx
    yield Part("正文", document.element.body, document.part)
    for rel in document.part.rels.values():
        if rel.reltype == tpl.HEADER_URI:
            yield Part("页眉", _parse(rel.target_part.blob), rel.target_part)
        elif rel.reltype == tpl.FOOTER_URI:
            yield Part("页脚", _parse(rel.target_part.blob), rel.target_part)


def _parse(blob: bytes):
    from docx.oxml import parse_xml

    return parse_xml(blob)


def paragraph_texts(element) -> list[str]:
    return ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in element.iter(f"{_W}p")]


def _where(part: Part, index: int) -> str:
    return f"第{index}段" if part.label == "正文" else f"{part.label}第{index}段"


def _snippet(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_punctuation(parts: list[Part]) -> None:
    """Full-width characters typed inside {{ }} / {% %} (an IME left on) — Jinja would not see the tag."""
    for part in parts:
        for index, text in enumerate(paragraph_texts(part.element), start=1):
            if "{" not in text and "｛" not in text:
                continue
            for match in _BROKEN_BRACE.finditer(text):
                for ch in match.group(0):
                    if ch in "｛｝％":
                        raise TemplateError(
                            f"模板{_where(part, index)}“{_snippet(text)}”的标签里有全角字符“{ch}”，"
                            f"请改为半角的“{FULL_WIDTH_IN_TAGS[ch]}”后重试。"
                        )
            for match in _TAG.finditer(text):
                inner = _STRING.sub("", match.group(2))
                for ch in inner:
                    if ch in FULL_WIDTH_IN_TAGS:
                        half = FULL_WIDTH_IN_TAGS[ch]
                        half_text = "半角空格" if half == "空格" else f"半角的“{half}”"
                        hint = (
                            "（Word 会把直引号自动换成弯引号，可在“自动更正选项”中关闭）"
                            if half in "\"'"
                            else ""
                        )
                        raise TemplateError(
                            f"模板{_where(part, index)}“{_snippet(text)}”的标签里有全角字符“{ch}”，"
                            f"请改为{half_text}后重试{hint}。"
                        )
                if "__" in inner or re.search(r"\.\s*_", inner):
                    raise TemplateError(
                        f"模板{_where(part, index)}“{_snippet(text)}”试图访问程序内部属性，"
                        "出于安全考虑已拒绝，请删去其中以下划线开头的名称。"
                    )


_SYNTAX_REASONS = (
    (re.compile(r"unexpected end of template"), "标签没有结束（如 {% for %} 缺少 {% endfor %}，{% if %} 缺少 {% endif %}）"),
    (re.compile(r"unexpected '}'"), "花括号不成对"),
    (re.compile(r"unexpected char '(.)'"), "含有无法识别的字符“{0}”"),
    (re.compile(r"Encountered unknown tag '(\w+)'"), "无法识别的标签“{0}”"),
    (re.compile(r"expected token 'end of print statement', got '(.+?)'"), "变量写法有误（多了“{0}”）"),
    (re.compile(r"Unexpected end of template.*?'(\w+)'"), "标签没有结束（缺少 {{% {0} %}}）"),
    (re.compile(r"No filter named '(\w+)'"), "不能使用过滤器“{0}”"),
    (re.compile(r"unexpected '(.+?)'"), "出现了多余的“{0}”"),
)  # fmt: skip


def _syntax_reason(message: str) -> str:
    for pattern, reason in _SYNTAX_REASONS:
        found = pattern.search(message)
        if found:
            return reason.format(*found.groups())
    return f"Jinja 提示：{message}"


def _locate(part: Part, line_text: str) -> str:
    """Which paragraph of the part holds the text of a patched-XML line (best effort)."""
    probe = "".join(line_text.split())
    if not probe:
        return part.label
    originals = paragraph_texts(part.element)
    texts = ["".join(t.split()) for t in originals]
    for length in (30, 12, 6):
        for index, text in enumerate(texts, start=1):
            if probe[:length] in text:
                return _where(part, index) + f"“{_snippet(originals[index - 1])}”"
    return f"{part.label}“{_snippet(line_text)}”"


def patched_xml(tpl, part: Part) -> str:
    """The part's XML as docxtpl hands it to Jinja (tags merged across runs, one paragraph a line)."""
    xml = tpl.xml_to_string(part.element)
    xml = tpl.patch_xml(xml)
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def check_syntax_and_names(tpl, parts: list[Part], env) -> set[str]:
    """Parse every part; raise on syntax errors and unknown variables; return the names used."""
    from jinja2 import TemplateSyntaxError, meta

    used: set[str] = set()
    for part in parts:
        xml = patched_xml(tpl, part)
        try:
            ast = env.parse(xml)
            used |= meta.find_undeclared_variables(ast)  # compiles: unknown filters/tests fail here
        except TemplateSyntaxError as exc:
            block = re.search(r"Unexpected end of template.*?'(\w+)'", exc.message or "", re.S)
            if block:  # the line would be the end of the document: name the unclosed block instead
                closing = block.group(1)
                opening = closing.removeprefix("end")
                raise TemplateError(
                    f"模板{part.label}中的 {{% {opening} %}} 标签没有结束，请在相应位置补上 {{% {closing} %}} 后重试。"
                ) from None
            lines = xml.splitlines()
            line = lines[exc.lineno - 1] if exc.lineno and exc.lineno <= len(lines) else ""
            line_text = re.sub(r"<[^>]+>", "", line)
            raise TemplateError(
                f"模板{_locate(part, line_text)}有语法错误：{_syntax_reason(exc.message or '')}，请修改模板后重试。"
            ) from None
    unknown = sorted(used - set(CONTEXT_KEYS) - set(env.globals))
    if unknown:
        names = "、".join(f"“{n}”" for n in unknown)
        raise TemplateError(f"模板中的变量{names}无法识别，请检查拼写（{DOCS_HINT}）。")
    return used


def check_template(tpl, env) -> set[str]:
    parts = list(template_parts(tpl))
    check_punctuation(parts)
    return check_syntax_and_names(tpl, parts, env)


# ---------------------------------------------------------------- rendering

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_strings(value: Any) -> Any:
    """Drop characters XML cannot hold (Excel cells sometimes carry \\x0b or \\x07)."""
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    if isinstance(value, dict):
        return {k: clean_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    return value


def _render_error(exc: Exception, name: str) -> TemplateError:
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SecurityError

    message = str(exc)
    if isinstance(exc, SecurityError | OverflowError | RecursionError | MemoryError):
        return TemplateError(
            f"模板“{name}”试图访问程序内部或执行过大的运算，出于安全考虑已拒绝，请删去相关标签后重试。"
        )
    if isinstance(exc, UndefinedError):
        found = re.search(r"has no attribute '([^']+)'|'([^']+)' is undefined", message)
        attr = next((g for g in found.groups() if g), message) if found else message
        return TemplateError(f"模板中的“{attr}”无法识别，请检查拼写（{DOCS_HINT}）。")
    if isinstance(exc, TemplateSyntaxError):
        return TemplateError(
            f"模板“{name}”有语法错误：{_syntax_reason(exc.message or '')}，请修改模板后重试。"
        )
    return TemplateError(
        f"模板“{name}”无法渲染（{type(exc).__name__}: {_snippet(message, 80)}），请检查模板后重试。"
    )


def _chart(context: dict, stats: Stats, tpl, decimals: int) -> None:
    """The completion rate per 方面, as a native chart (the rates as the table shows them)."""
    from toolkit.render.chart import Bar, rate_chart, short_label

    rates = {g.name: g.rate for g in stats.groups}
    bars = [Bar(short_label(d["name"]), rates.get(d["name"])) for d in context["dimensions"]]
    data = rate_chart(bars, decimals=decimals)
    if data is not None:
        context["chart"] = ChartImage(tpl, data)


def _trend_chart(context: dict, tpl, decimals: int) -> None:
    """The completion rate over the recorded 通报 (three or more), from the history's trend points."""
    from toolkit.render.chart import trend_chart

    data = trend_chart(context["history"].get("trend", []), decimals=decimals)
    if data is not None:
        context["trend_chart"] = ChartImage(tpl, data)


def render_document(
    ledger: Ledger,
    *,
    as_of: date,
    template: str | os.PathLike | None = None,
    options: ReportOptions = DEFAULT_OPTIONS,
    report: Report | None = None,
) -> tuple[bytes, dict, list[str]]:
    """Render to .docx bytes (nothing written); returns the bytes, the context and notes for the user."""
    from toolkit.stats import ledger_stats

    env = make_environment()
    if template is None:
        tpl, name, used = default_template(), "默认模板", set(CONTEXT_KEYS)
    else:
        data, name = load_template_bytes(template)
        tpl = open_template(data, name)
        used = check_template(tpl, env)

    stats = ledger_stats(ledger, as_of, config=options.config)
    context, notes = build_context(ledger, stats, as_of=as_of, report=report, options=options)
    context = clean_strings(context)
    if options.chart and "chart" in used:
        _chart(context, stats, tpl, options.config.rate_decimals)
    if options.chart and "trend_chart" in used:
        _trend_chart(context, tpl, options.config.rate_decimals)

    return render_checked(tpl, env, context, name), context, notes


def render_checked(tpl, env, context: dict, name: str) -> bytes:
    """Render, place the signature, save, and prove the result is a well-formed document."""
    from toolkit.render.layout import fit_summary_and_annex, place_signature

    try:
        tpl.render(context, jinja_env=env)
        place_signature(tpl.docx)
        fit_summary_and_annex(tpl.docx)
        buffer = io.BytesIO()
        tpl.save(buffer)
    except TemplateError:
        raise
    except Exception as exc:  # Jinja and docxtpl raise many kinds; each becomes one sentence
        raise _render_error(exc, name) from None
    out = buffer.getvalue()
    check_output(out, name)
    return out


def check_output(data: bytes, name: str) -> None:
    """The rendered document must be well-formed XML (docxtpl's table fix-up would otherwise hide damage)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            etree.fromstring(zf.read("word/document.xml"))
    except (etree.XMLSyntaxError, KeyError, zipfile.BadZipFile) as exc:
        raise TemplateError(
            f"用模板“{name}”生成的文档结构无效（{_snippet(str(exc), 60)}），请检查模板中的标签。"
        ) from None


# ---------------------------------------------------------------- writing


def safe_filename(title: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", title).strip(" .")
    return name[:120] or "整改落实情况通报"


def _lock_files(path: Path) -> list[Path]:
    name = path.name
    return [path.with_name("~$" + name), path.with_name("~$" + name[2:]), path.with_name("~$" + name[1:])]


def write_atomic(data: bytes, target: Path, *, backup: bool = True) -> Path:
    """Temp file beside the target + atomic swap (toolkit.safesave); the previous file is kept as *.bak.docx."""
    from toolkit.safesave import replacing

    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"输出文件夹“{folder}”不存在，请先创建或换一个位置。")
    if any(p.exists() for p in _lock_files(target)) and target.exists():
        raise OutputError(f"“{target.name}”正在 Word 或 WPS 中打开，请关闭后重试。")
    try:
        if backup and target.exists():
            shutil.copy2(target, target.with_name(f"{target.stem}.bak{target.suffix}"))
    except OSError as exc:
        raise OutputError(f"无法备份“{target}”（{exc.strerror}），请检查磁盘空间和权限。") from None
    with replacing(target, keep_mode=False) as tmp:
        tmp.write_bytes(data)
    return target


def default_output(ledger: Ledger, title: str) -> Path:
    base = Path(ledger.path).parent if ledger.path else Path.cwd()
    return base / f"{safe_filename(title)}.docx"


def render_report(
    ledger: Ledger,
    *,
    as_of: date,
    template: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    options: ReportOptions = DEFAULT_OPTIONS,
    report: Report | None = None,
) -> RenderResult:
    """Render and write the 通报; the result says where it went and what the user should know."""
    data, context, notes = render_document(
        ledger, as_of=as_of, template=template, options=options, report=report
    )
    target = Path(out) if out else default_output(ledger, context["title"])
    if target.suffix.lower() != ".docx":
        raise OutputError(f"输出文件“{target.name}”应以 .docx 结尾，请修改文件名后重试。")
    write_atomic(data, target)
    return RenderResult(target, context["title"], notes)


def write_default_template(path: str | os.PathLike, *, force: bool = False, kind: str | None = None) -> Path:
    """``ledger template``: the default template, for the user to edit in Word; with ``kind`` (a label or
    alias of toolkit.render.kinds) its title and opening are that kind's wording, written out."""
    from toolkit.render.kinds import kind_choices, kind_named
    from toolkit.render.template import default_template_bytes

    target = Path(path)
    if target.suffix.lower() != ".docx":
        raise OutputError(f"模板文件“{target.name}”应以 .docx 结尾，请修改文件名后重试。")
    kind_id = None
    if kind:
        found = kind_named(kind)
        if found is None:
            raise OutputError(f"无法识别的整改类型“{kind}”，请改为以下之一：{kind_choices()}。")
        kind_id = found.id
    if target.exists() and not force:
        raise OutputError(f"“{target}”已存在，如需覆盖请加 --force。")
    return write_atomic(default_template_bytes(kind_id), target, backup=False)


# ---------------------------------------------------------------- PDF through LibreOffice


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in (
        r"C:\Program Files\LibreOffice\program\soffice.exe",
        r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ):
        if os.path.exists(candidate):
            return candidate
    return None


def convert_to_pdf(
    docx: str | os.PathLike, pdf: str | os.PathLike | None = None, *, timeout: float = PDF_TIMEOUT
) -> Path:
    """``soffice --headless --convert-to pdf`` with a profile of its own (parallel runs don't collide)."""
    import subprocess

    source = Path(docx)
    target = Path(pdf) if pdf else source.with_suffix(".pdf")
    soffice = find_soffice()
    if soffice is None:
        raise OutputError(
            "未找到 LibreOffice，无法生成 PDF：请安装 LibreOffice（Debian/Ubuntu：sudo apt-get install "
            "libreoffice-writer fonts-noto-cjk；Windows/macOS：从 https://zh-cn.libreoffice.org 下载），"
            "或在 Word/WPS 中打开通报后另存为 PDF。"
        )
    with tempfile.TemporaryDirectory(prefix="ledger-pdf-") as work:
        profile = Path(work, "profile").as_uri()
        outdir = Path(work, "out")
        outdir.mkdir()
        command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(outdir), str(source)]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise OutputError(
                f"LibreOffice 转换 PDF 超过 {int(timeout)} 秒仍未完成，请稍后重试或在 Word 中另存为 PDF。"
            ) from None
        produced = outdir / (source.stem + ".pdf")
        if not produced.exists():
            raise OutputError(
                f"LibreOffice 未能把“{source.name}”转换为 PDF，请在 Word/WPS 中打开后另存为 PDF。"
            )
        write_atomic(produced.read_bytes(), target)
    return target
