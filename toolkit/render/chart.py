"""Native Word charts for the 通报: DrawingML chart parts with their data in an embedded workbook.

A clerk must be able to change a chart in Word or WPS (右键 → 编辑数据), so each chart is a
``word/charts/chartN.xml`` part, related from the part that shows it, whose data lives in a real
.xlsx package (``word/embeddings/Microsoft_Excel_WorksheetN.xlsx``, ``c:externalData``). The chart
also carries the values themselves (``c:strCache``/``c:numCache``), so Word, WPS and LibreOffice draw
it without opening the workbook. Text uses the document's own fonts (仿宋_GB2312, 黑体 for the title).

Everything is written as text from plain data: no matplotlib, no numpy, no fonts needed at run time,
and no import heavier than ``zipfile``. The OPC plumbing (parts, relationships) goes through
python-docx's package objects, imported only when a chart is added to a document.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.stats import percent

MAX_BARS = 25
LABEL_WIDTH = 12  # characters a category label line holds before it wraps
LABEL_LINES = 2
WIDTH_MM = 150
FONT_LABEL = "仿宋_GB2312"  # the body font (GB/T 9704)
FONT_TITLE = "黑体"  # as the 一、 headings
FONT_LATIN = "Times New Roman"
LABEL_PT = 10.5  # 五号: readable at 150 mm
LABEL_SIZES = (10.5, 9.0, 8.0)  # what a label may shrink to, so that many bars stay in MAX_HEIGHT_MM
# A chart that does not fit at the foot of a page moves to the next one and leaves its own height empty
# there: under 45 % of the 225 mm text area (with its paragraph's spacing), that page stays half full.
MAX_HEIGHT_MM = 95
MIN_HEIGHT_MM = 45
TREND_HEIGHT_MM = 60
FRAME_MM = 22  # the title, the value axis and the padding around the plot
BAR_AIR_MM = 3.5  # between two bars' labels
TITLE_PT = 12  # 小四
BAR_COLOUR = "C0392B"
GRID_COLOUR = "D9D9D9"
SHEET = "Sheet1"

CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RT_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
RT_PACKAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"
URI_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_C = URI_CHART
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
EMU_PER_MM = 36000


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    rate: float | None  # fraction 0..1, None when nothing counts; shown rounded to the chart's decimals


@dataclass(frozen=True, slots=True)
class ChartData:
    """One chart as plain data: what is drawn, what the embedded sheet holds, how big it is."""

    kind: str  # "bar" (horizontal bars, one per category) or "line"
    title: str
    series: str  # the series name (cell B1)
    categories: tuple[str, ...]  # as shown; a label may hold a line break
    values: tuple[float | None, ...]  # fractions 0..1; None leaves a gap
    decimals: int  # decimals of the percentages shown
    width_mm: float
    height_mm: float
    label_pt: float = LABEL_PT  # category and data labels

    @property
    def number_format(self) -> str:
        return "0." + "0" * self.decimals + "%" if self.decimals > 0 else "0%"


def escape(text: str) -> str:
    """XML character data (xml.sax.saxutils would import urllib.request: 20 ms of a 0.3 s command)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;") + '"'


# ---------------------------------------------------------------- plain data for the two charts


def short_label(name: str) -> str:
    """A 方面 name as a category label.

    Names copied from a 通报's headings run to 90 characters ("学懂弄通做实……思想，把握正确政治方向，
    提高政治能力……方面"): the frame "在……方面" goes, the label keeps the first clause (joined with the
    next while it is shorter than six characters), and what remains wraps onto two lines or is cut.
    """
    text = "".join(name.split())
    text = text.removeprefix("在") if len(text) > 4 else text
    text = text.removesuffix("方面") if len(text) > 4 else text
    clauses = [c for c in _CLAUSE_END.split(text) if c]
    label = clauses[0] if clauses else text
    for clause in clauses[1:]:
        if len(label) >= 6:
            break
        label += "，" + clause
    return wrap_label(label)


_CLAUSE_END = re.compile(r"[，,；;。：:]")


def wrap_label(text: str, width: int = LABEL_WIDTH, lines: int = LABEL_LINES) -> str:
    """At most ``lines`` lines of ``width`` characters, balanced, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if len(text) > width * lines:
        text = text[: width * lines - 1] + "…"
    count = -(-len(text) // width)
    step = -(-len(text) // count)
    return "\n".join(text[i : i + step] for i in range(0, len(text), step))


def _lines(categories: Sequence[str]) -> int:
    return max((c.count("\n") + 1 for c in categories), default=1)


def bar_height_mm(categories: Sequence[str], label_pt: float = LABEL_PT) -> float:
    """Room for every label at ``label_pt`` (a line of it is 0.4 mm a point, leading included)."""
    per_bar = BAR_AIR_MM + 0.4 * label_pt * _lines(categories)
    return round(max(FRAME_MM + per_bar * len(categories), MIN_HEIGHT_MM), 1)


def fit_bars(categories: Sequence[str]) -> tuple[tuple[str, ...], float, float]:
    """The labels, their size and the chart's height: as large as fits in MAX_HEIGHT_MM.

    The labels shrink first (10.5, 9, 8 pt), then go onto one line; past that (twenty and more bars)
    the chart keeps MAX_HEIGHT_MM and the bars get thinner.
    """
    one_line = tuple(wrap_label(c.replace("\n", ""), width=LABEL_WIDTH + 4, lines=1) for c in categories)
    choices = [(tuple(categories), pt) for pt in LABEL_SIZES] + [(one_line, pt) for pt in LABEL_SIZES[1:]]
    for labels, pt in choices:
        height = bar_height_mm(labels, pt)
        if height <= MAX_HEIGHT_MM:
            return labels, pt, height
    return one_line, LABEL_SIZES[-1], MAX_HEIGHT_MM


def rate_chart(
    bars: Sequence[Bar], *, title: str = "各方面整改完成率", decimals: int = 1
) -> ChartData | None:
    """The completion rate per 方面 (or per unit), one bar each; None when there is nothing to draw."""
    shown = list(bars)[:MAX_BARS]
    if not shown:
        return None
    categories, label_pt, height = fit_bars([b.label for b in shown])
    return ChartData(
        kind="bar",
        title=title,
        series="整改完成率",
        categories=categories,
        values=tuple(
            None if b.rate is None else round(percent(b.rate, decimals) / 100, decimals + 2) for b in shown
        ),
        decimals=decimals,
        width_mm=WIDTH_MM,
        height_mm=height,
        label_pt=label_pt,
    )


def trend_chart(
    points: Sequence[dict], *, title: str = "整改完成率变化情况", decimals: int = 1
) -> ChartData | None:
    """The completion rate at each recorded date (``history_context()["trend"]``); None under three points."""
    if len(points) < 3:
        return None
    return ChartData(
        kind="line",
        title=title,
        series="整改完成率",
        categories=tuple(p["label"] for p in points),
        values=tuple(None if p["rate"] is None else round(p["rate"] / 100, decimals + 2) for p in points),
        decimals=decimals,
        width_mm=WIDTH_MM,
        height_mm=TREND_HEIGHT_MM,
    )


# ---------------------------------------------------------------- the chart part's XML


def _text_props(size: float, font: str = FONT_LABEL, *, colour: str = "000000", bold: bool = False) -> str:
    """``a:bodyPr … a:defRPr`` with the document's fonts (Latin and East Asian) at ``size`` points."""
    return (
        "<a:bodyPr/><a:lstStyle/><a:p><a:pPr>"
        f'<a:defRPr sz="{round(size * 100)}" b="{int(bold)}">'
        f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'
        f'<a:latin typeface="{FONT_LATIN}"/><a:ea typeface={quoteattr(font)}/><a:cs typeface="{FONT_LATIN}"/>'
        '</a:defRPr></a:pPr><a:endParaRPr lang="zh-CN"/></a:p>'
    )


def _title(text: str) -> str:
    run_props = (
        f'<a:rPr lang="zh-CN" sz="{TITLE_PT * 100}" b="0"><a:latin typeface="{FONT_LATIN}"/>'
        f'<a:ea typeface="{FONT_TITLE}"/></a:rPr>'
    )
    return (
        "<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr>"
        f'<a:defRPr sz="{TITLE_PT * 100}" b="0"><a:latin typeface="{FONT_LATIN}"/>'
        f'<a:ea typeface="{FONT_TITLE}"/></a:defRPr></a:pPr>'
        f"<a:r>{run_props}<a:t>{escape(text)}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
    )


def _str_ref(ref: str, texts: Sequence[str]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{escape(t)}</c:v></c:pt>' for i, t in enumerate(texts))
    return f'<c:strRef><c:f>{ref}</c:f><c:strCache><c:ptCount val="{len(texts)}"/>{points}</c:strCache></c:strRef>'


def _num_ref(ref: str, values: Sequence[float | None], number_format: str) -> str:
    points = "".join(
        f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>' for i, v in enumerate(values) if v is not None
    )
    return (
        f"<c:numRef><c:f>{ref}</c:f><c:numCache><c:formatCode>{number_format}</c:formatCode>"
        f'<c:ptCount val="{len(values)}"/>{points}</c:numCache></c:numRef>'
    )


def _data_labels(data: ChartData, position: str) -> str:
    return (
        f'<c:dLbls><c:numFmt formatCode="{data.number_format}" sourceLinked="0"/>'
        "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
        f"<c:txPr>{_text_props(data.label_pt)}</c:txPr>"
        f'<c:dLblPos val="{position}"/><c:showLegendKey val="0"/><c:showVal val="1"/>'
        '<c:showCatName val="0"/><c:showSerName val="0"/><c:showPercent val="0"/>'
        '<c:showBubbleSize val="0"/></c:dLbls>'
    )


def _series(data: ChartData) -> str:
    last = len(data.categories) + 1
    line = data.kind == "line"
    fill = (
        f'<c:spPr><a:ln w="28575" cap="rnd"><a:solidFill><a:srgbClr val="{BAR_COLOUR}"/></a:solidFill>'
        "<a:round/></a:ln></c:spPr>"
        '<c:marker><c:symbol val="circle"/><c:size val="6"/><c:spPr>'
        f'<a:solidFill><a:srgbClr val="{BAR_COLOUR}"/></a:solidFill>'
        f'<a:ln><a:solidFill><a:srgbClr val="{BAR_COLOUR}"/></a:solidFill></a:ln></c:spPr></c:marker>'
        if line
        else f'<c:spPr><a:solidFill><a:srgbClr val="{BAR_COLOUR}"/></a:solidFill></c:spPr>'
        '<c:invertIfNegative val="0"/>'
    )
    return (
        '<c:ser><c:idx val="0"/><c:order val="0"/>'
        f"<c:tx>{_str_ref(f'{SHEET}!$B$1', [data.series])}</c:tx>"
        f"{fill}{_data_labels(data, 't' if line else 'outEnd')}"
        f"<c:cat>{_str_ref(f'{SHEET}!$A$2:$A${last}', data.categories)}</c:cat>"
        f"<c:val>{_num_ref(f'{SHEET}!$B$2:$B${last}', data.values, data.number_format)}</c:val>"
        + ('<c:smooth val="0"/>' if line else "")
        + "</c:ser>"
    )


def _axes(data: ChartData) -> str:
    """The category axis and the 0–100 % value axis, each naming the other (``c:crossAx``)."""
    bar = data.kind == "bar"
    # horizontal bars: the first 方面 on top (maxMin), the value axis then crosses at the far end (bottom)
    orientation, cat_pos, val_pos = ("maxMin", "l", "b") if bar else ("minMax", "b", "l")
    plain_line = '<c:spPr><a:ln w="9525"><a:solidFill><a:srgbClr val="808080"/></a:solidFill></a:ln></c:spPr>'
    grid = f'<c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill><a:srgbClr val="{GRID_COLOUR}"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>'
    category = (
        f'<c:catAx><c:axId val="{CAT_AX}"/><c:scaling><c:orientation val="{orientation}"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{cat_pos}"/>'
        '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
        f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>{plain_line}'
        f"<c:txPr>{_text_props(data.label_pt)}</c:txPr>"
        f'<c:crossAx val="{VAL_AX}"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
    )
    value = (
        f'<c:valAx><c:axId val="{VAL_AX}"/><c:scaling><c:orientation val="minMax"/>'
        f'<c:max val="1"/><c:min val="0"/></c:scaling><c:delete val="0"/><c:axPos val="{val_pos}"/>{grid}'
        '<c:numFmt formatCode="0%" sourceLinked="0"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        "<c:spPr><a:ln><a:noFill/></a:ln></c:spPr>"
        f"<c:txPr>{_text_props(min(data.label_pt, LABEL_PT - 1.5))}</c:txPr>"
        f'<c:crossAx val="{CAT_AX}"/><c:crosses val="{"max" if bar else "autoZero"}"/>'
        # points in the middle of their dates (not on the axis): the first label clears the axis's
        f'<c:crossBetween val="between"/><c:majorUnit val="0.2"/></c:valAx>'
    )
    return category + value


CAT_AX = 50010001
VAL_AX = 50010002


def chart_xml(data: ChartData, external_rid: str | None = "rId1") -> bytes:
    """``c:chartSpace`` in schema order (CT_ChartSpace, CT_Chart, CT_PlotArea, CT_BarChart/CT_LineChart)."""
    if data.kind == "bar":
        plot = (
            '<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
            f'{_series(data)}<c:gapWidth val="60"/>'
            f'<c:axId val="{CAT_AX}"/><c:axId val="{VAL_AX}"/></c:barChart>'
        )
    else:
        plot = (
            '<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>'
            f'{_series(data)}<c:marker val="1"/>'
            f'<c:axId val="{CAT_AX}"/><c:axId val="{VAL_AX}"/></c:lineChart>'
        )
    external = (
        f'<c:externalData r:id="{external_rid}"><c:autoUpdate val="0"/></c:externalData>'
        if external_rid
        else ""
    )
    xml = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">'
        '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/>'
        f"<c:chart>{_title(data.title)}<c:plotArea><c:layout/>{plot}{_axes(data)}</c:plotArea>"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        '<c:spPr><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>'
        f"<c:txPr>{_text_props(data.label_pt)}</c:txPr>{external}</c:chartSpace>"
    )
    return xml.encode("utf-8")


# ---------------------------------------------------------------- the embedded workbook


def workbook_bytes(data: ChartData) -> bytes:
    """A minimal .xlsx holding the chart's data in Sheet1 (A: categories, B: rates), as Word expects.

    Written by hand (five small XML files) rather than through XlsxWriter: it is the same package Excel
    and WPS open for 编辑数据, at a fraction of the import and build time.
    """
    strings = ["", data.series, *data.categories]
    shared = {text: i for i, text in enumerate(dict.fromkeys(strings))}
    header = "方面" if data.kind == "bar" else "日期"
    shared.setdefault(header, len(shared))

    def text_cell(ref: str, text: str, style: int = 0) -> str:
        return f'<c r="{ref}" t="s" s="{style}"><v>{shared[text]}</v></c>'

    rows = [f'<row r="1">{text_cell("A1", header, 2)}{text_cell("B1", data.series, 2)}</row>']
    for index, (label, value) in enumerate(zip(data.categories, data.values, strict=True), start=2):
        cells = text_cell(f"A{index}", label, 2)
        if value is not None:
            cells += f'<c r="B{index}" s="1"><v>{value!r}</v></c>'
        rows.append(f'<row r="{index}">{cells}</row>')
    last = len(data.categories) + 1
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:B{last}"/>'
        '<sheetViews><sheetView workbookViewId="0" tabSelected="1"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        '<cols><col min="1" max="1" width="32" customWidth="1"/><col min="2" max="2" width="14" customWidth="1"/></cols>'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    )
    ordered = sorted(shared, key=shared.get)
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(ordered)}" uniqueCount="{len(ordered)}">'
        + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in ordered)
        + "</sst>"
    )
    styles = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{data.number_format}"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment wrapText="1" vertical="center"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    office_rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package_rel = "http://schemas.openxmlformats.org/package/2006/relationships"
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{main}" xmlns:r="{office_rel}"><bookViews><workbookView/></bookViews>'
        f'<sheets><sheet name="{SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{package_rel}">'
        f'<Relationship Id="rId1" Type="{office_rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{office_rel}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{office_rel}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{package_rel}">'
        f'<Relationship Id="rId1" Type="{office_rel}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{sml}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sml}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{sml}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sml}.sharedStrings+xml"/>'
        "</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", root_rels),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", workbook_rels),
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/styles.xml", styles),
            ("xl/sharedStrings.xml", sst),
        ):
            zf.writestr(name, text)
    return buffer.getvalue()


# ---------------------------------------------------------------- into the document


def inline_xml(rid: str, shape_id: int, data: ChartData) -> str:
    """``w:drawing/wp:inline`` showing chart ``rid`` at the chart's size (namespaces declared locally)."""
    cx, cy = round(data.width_mm * EMU_PER_MM), round(data.height_mm * EMU_PER_MM)
    return (
        f'<w:drawing><wp:inline xmlns:wp="{NS_WP}" distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{shape_id}" name={quoteattr(f"图表 {shape_id}")} descr={quoteattr(data.title)}/>'
        f'<wp:cNvGraphicFramePr/><a:graphic xmlns:a="{NS_A}"><a:graphicData uri="{URI_CHART}">'
        f'<c:chart xmlns:c="{NS_C}" xmlns:r="{NS_R}" r:id="{rid}"/>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing>"
    )


def add_chart(part, data: ChartData, shape_id: int) -> str:
    """Add the chart part and its workbook to ``part``'s package; the ``w:drawing`` XML that shows it."""
    from docx.opc.part import Part

    package = part.package
    chart_name = package.next_partname("/word/charts/chart%d.xml")
    chart = Part(chart_name, CT_CHART, b"", package)
    rid = part.relate_to(chart, RT_CHART)
    embedding_name = package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx")
    embedding = Part(embedding_name, CT_XLSX, workbook_bytes(data), package)
    chart._blob = chart_xml(data, chart.relate_to(embedding, RT_PACKAGE))
    return inline_xml(rid, shape_id, data)
