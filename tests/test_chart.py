"""Native Word charts read back from the .docx: parts, relationships, cached values, the embedded workbook,
the order Word's schema demands, and what LibreOffice draws of them."""

from __future__ import annotations

import io
import posixpath
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from report_ledgers import AS_OF, DIMENSIONS, INFO, SEED_ROWS, write_report_ledger

from toolkit.read import read_ledger
from toolkit.render.chart import (
    CT_CHART,
    CT_XLSX,
    FRAME_MM,
    MAX_BARS,
    MAX_HEIGHT_MM,
    RT_CHART,
    RT_PACKAGE,
    Bar,
    chart_xml,
    rate_chart,
    short_label,
    trend_chart,
)
from toolkit.stats import ledger_stats, percent

NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


# ---------------------------------------------------------------- reading a chart back from a .docx


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """rId → (type, absolute part name) of ``part``'s relationships."""
    folder, name = posixpath.split(part)
    root = etree.fromstring(zf.read(f"{folder}/_rels/{name}.rels"))
    return {
        rel.get("Id"): (rel.get("Type"), posixpath.normpath(posixpath.join(folder, rel.get("Target"))))
        for rel in root.findall("pr:Relationship", NS)
    }


def _content_type(zf: zipfile.ZipFile, part: str) -> str | None:
    root = etree.fromstring(zf.read("[Content_Types].xml"))
    for override in root.findall("ct:Override", NS):
        if override.get("PartName") == "/" + part:
            return override.get("ContentType")
    ext = part.rpartition(".")[2]
    return next(
        (d.get("ContentType") for d in root.findall("ct:Default", NS) if d.get("Extension") == ext), None
    )


def read_charts(path: Path) -> list[dict]:
    """Every chart the document body shows, in order: its kind, cached points, formulas and workbook."""
    charts = []
    with zipfile.ZipFile(path) as zf:
        document = etree.fromstring(zf.read("word/document.xml"))
        rels = _rels(zf, "word/document.xml")
        ids = [int(d.get("id")) for d in document.iter(f"{{{NS['wp']}}}docPr")]
        assert len(ids) == len(set(ids)), "wp:docPr ids are unique"
        for ref in document.xpath("//w:drawing/wp:inline/a:graphic/a:graphicData/c:chart", namespaces=NS):
            assert ref.getparent().get("uri") == NS["c"]
            kind, part = rels[ref.get(REL_ID)]
            assert kind == RT_CHART and part.startswith("word/charts/chart")
            assert _content_type(zf, part) == CT_CHART
            space = etree.fromstring(zf.read(part))
            external = space.find("c:externalData", NS)
            kind, embedded = _rels(zf, part)[external.get(REL_ID)]
            assert kind == RT_PACKAGE and embedded.startswith("word/embeddings/Microsoft_Excel_Worksheet")
            assert embedded.endswith(".xlsx") and _content_type(zf, embedded) == CT_XLSX
            ser = space.find(".//c:ser", NS)
            count = int(ser.find("c:cat//c:ptCount", NS).get("val"))
            values: list[float | None] = [None] * count
            for pt in ser.findall("c:val//c:pt", NS):
                values[int(pt.get("idx"))] = float(pt.findtext("c:v", namespaces=NS))
            book = openpyxl.load_workbook(io.BytesIO(zf.read(embedded)))
            charts.append(
                {
                    "kind": etree.QName(space.find("c:chart/c:plotArea", NS)[1]).localname,
                    "title": "".join(space.find("c:chart/c:title", NS).itertext()),
                    "categories": [
                        pt.findtext("c:v", namespaces=NS) for pt in ser.findall("c:cat//c:pt", NS)
                    ],
                    "values": values,
                    "formulas": [f.text for f in ser.iter(f"{{{NS['c']}}}f")],
                    "format": ser.findtext("c:val//c:formatCode", namespaces=NS),
                    "sheet": [list(row) for row in book["Sheet1"].iter_rows(values_only=True)],
                    "extent_mm": tuple(
                        round(
                            int(ref.xpath("ancestor::wp:inline/wp:extent", namespaces=NS)[0].get(k)) / 36000
                        )
                        for k in ("cx", "cy")
                    ),
                    "xml": space,
                }
            )
    return charts


def _rates(path: Path) -> list[tuple[str, float | None]]:
    stats = ledger_stats(read_ledger(path), date.fromisoformat(AS_OF))
    return [(g.name, None if g.rate is None else round(percent(g.rate) / 100, 3)) for g in stats.groups]


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> tuple[Path, Path]:
    """The seed-shaped ledger (five 方面 named by whole headings) and its 通报."""
    from conftest import run_ledger

    folder = tmp_path_factory.mktemp("seed")
    ledger = write_report_ledger(folder / "台账.xlsx", SEED_ROWS, info=INFO)
    out = folder / "通报.docx"
    run = run_ledger("report", ledger, "--as-of", AS_OF, "-o", out, "--no-history")
    assert run.code == 0, run.err
    return ledger, out


def test_rate_chart_holds_the_stats_per_dimension(tmp_path: Path, ledger_cli) -> None:
    ledger = write_report_ledger(tmp_path / "台账.xlsx", info=INFO)
    out = tmp_path / "通报.docx"
    assert ledger_cli("report", ledger, "--as-of", AS_OF, "-o", out, "--no-history").code == 0
    (chart,) = read_charts(out)
    rates = _rates(ledger)
    assert [name for name, _ in rates] == DIMENSIONS
    assert chart["kind"] == "barChart" and chart["title"] == "各方面整改完成率"
    assert list(zip(chart["categories"], chart["values"], strict=True)) == rates
    assert chart["values"] == [0.667, 1.0, 0.667, 0.667, 0.6]  # as the table writes them: 66.7% … 60.0%
    assert chart["format"] == "0.0%"
    assert chart["formulas"] == ["Sheet1!$B$1", "Sheet1!$A$2:$A$6", "Sheet1!$B$2:$B$6"]
    assert chart["sheet"] == [["方面", "整改完成率"], *map(list, rates)]
    assert chart["extent_mm"][0] == 150 and 45 <= chart["extent_mm"][1] <= 90


def test_long_dimension_names_become_short_wrapped_labels(seed) -> None:
    ledger, out = seed
    (chart,) = read_charts(out)
    assert chart["categories"] == [
        "学懂弄通做实习近平新时\n代中国特色社会主义思想",
        "坚持和加强党的全面领导",
        "履职尽责，担当作为",
        "学习贯彻党的十九\n届六中全会精神",
        "落实全面从严治党责任",
    ]
    assert [r for _, r in _rates(ledger)] == chart["values"]
    assert [row[0] for row in chart["sheet"][1:]] == chart["categories"]
    # two-line labels get taller rows, still well under half the 225 mm text area
    assert chart["extent_mm"][1] <= 90


def _label_pt(xml) -> float:
    """The category labels' size, as the chart part sets it."""
    size = xml.find("c:chart//c:catAx/c:txPr//a:defRPr", NS).get("sz")
    return int(size) / 100


@pytest.mark.parametrize("label", ["作风建设", "学懂弄通做实习近平新时代\n中国特色社会主义思想"])
def test_charts_stay_under_half_a_page(label: str) -> None:
    """A chart moved to the next page leaves its height empty: it stays under 45 % of the 225 mm text
    area, with room for every label, however many bars (the labels shrink, then go onto one line)."""
    sizes = []
    for count in range(1, MAX_BARS + 1):
        data = rate_chart([Bar(f"{label}{n}", 0.5) for n in range(count)])
        assert 45 <= data.height_mm <= MAX_HEIGHT_MM < 0.45 * 225, count
        lines = max(c.count("\n") + 1 for c in data.categories)
        assert (data.height_mm - FRAME_MM) / count >= 0.353 * data.label_pt * lines, count  # 1 pt = 0.353 mm
        assert _label_pt(etree.fromstring(chart_xml(data))) == data.label_pt
        sizes.append(data.label_pt)
    assert sizes[0] == 10.5 and set(sizes) <= {10.5, 9.0, 8.0}  # 五号 while it fits, never under 8 pt


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("作风建设", "作风建设"),
        ("在践行宗旨、为民造福方面", "践行宗旨、为民造福"),
        ("在廉洁自律方面", "廉洁自律"),
        ("方面", "方面"),
        (
            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
            "一二三四五六七八九十一二\n三四五六七八九十一二三…",
        ),
    ],
)
def test_short_label(name: str, label: str) -> None:
    assert short_label(name) == label


def test_no_chart_adds_no_parts(tmp_path: Path, ledger_cli) -> None:
    ledger = write_report_ledger(tmp_path / "台账.xlsx", info=INFO)
    out = tmp_path / "通报.docx"
    assert ledger_cli("report", ledger, "--as-of", AS_OF, "-o", out, "--no-history", "--no-chart").code == 0
    with zipfile.ZipFile(out) as zf:
        assert [n for n in zf.namelist() if "chart" in n or "embeddings" in n] == []
    assert read_charts(out) == []


def test_trend_chart_points_equal_the_history(tmp_path: Path, ledger_cli) -> None:
    from unit_workbooks import write_unit_ledger

    wb = tmp_path / "台账.xlsx"
    for n, (as_of, done) in enumerate((("2024-11-01", 10), ("2024-12-01", 12), ("2025-01-01", 14))):
        write_unit_ledger(wb, unit="某某街道", done=done, total=17, deadline=date(2024, 11, 15))
        out = tmp_path / f"通报{n}.docx"
        assert ledger_cli("report", wb, "--as-of", as_of, "-o", out).code == 0
        charts = read_charts(out)
        assert [c["kind"] for c in charts] == ["barChart"] * (n < 2) + ["barChart", "lineChart"] * (n == 2)
    snapshots = ledger_cli("history", wb, "--json").json()["snapshots"]
    trend = charts[1]
    assert trend["title"] == "整改完成率变化情况"
    assert trend["categories"] == ["2024年11月1日", "2024年12月1日", "2025年1月1日"]
    assert trend["values"] == [round(s["rate"] / 100, 3) for s in snapshots] == [0.588, 0.706, 0.824]
    assert trend["sheet"] == [
        ["日期", "整改完成率"],
        *map(list, zip(trend["categories"], trend["values"], strict=True)),
    ]
    # two charts, two parts, two workbooks
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert sorted(n for n in names if n.startswith("word/charts/chart")) == [
        "word/charts/chart1.xml",
        "word/charts/chart2.xml",
    ]
    assert len([n for n in names if n.startswith("word/embeddings/")]) == 2


def test_trend_chart_needs_three_points() -> None:
    points = [{"label": f"{m}月1日", "rate": r} for m, r in ((10, 50.0), (11, 60.0), (12, None))]
    assert trend_chart(points[:2]) is None
    data = trend_chart(points)
    assert data is not None and data.values == (0.5, 0.6, None)


def test_district_chart_ranks_the_units(tmp_path: Path) -> None:
    from unit_workbooks import write_unit_ledger

    from toolkit.district import DistrictOptions, render_district_report

    write_unit_ledger(tmp_path / "01甲.xlsx", unit="甲街道", done=17, total=17)
    write_unit_ledger(tmp_path / "02乙.xlsx", unit="乙街道", done=12, total=17, overdue=3)
    options = DistrictOptions(issuer="某某区委组织部", meeting="民主生活会", date=date(2024, 12, 5), jobs=1)
    out = render_district_report(
        [tmp_path], as_of=date(2024, 12, 1), out=tmp_path / "区.docx", options=options
    )
    (chart,) = read_charts(out.path)
    assert chart["title"] == "各单位整改完成率"
    assert list(zip(chart["categories"], chart["values"], strict=True)) == [
        ("甲街道", 1.0),
        ("乙街道", 0.706),
    ]


# ---------------------------------------------------------------- what Word needs (we cannot run Word here)

# Child order of the CT_* types we write, from ECMA-376 Part 1 dml-chart.xsd (each a xsd:sequence;
# elements of a xsd:choice share a rank). Required children are listed in REQUIRED.
ORDER: dict[str, list[str | tuple[str, ...]]] = {
    "chartSpace": ["date1904", "lang", "roundedCorners", "AlternateContent", "style", "clrMapOvr",
                   "pivotSource", "protection", "chart", "spPr", "txPr", "externalData", "printSettings",
                   "userShapes", "extLst"],
    "chart": ["title", "autoTitleDeleted", "pivotFmts", "view3D", "floor", "sideWall", "backWall", "plotArea",
              "legend", "plotVisOnly", "dispBlanksAs", "showDLblsOverMax", "extLst"],
    "title": ["tx", "layout", "overlay", "spPr", "txPr", "extLst"],
    "plotArea": ["layout", ("barChart", "lineChart"), ("catAx", "valAx"), "dTable", "spPr", "extLst"],
    "barChart": ["barDir", "grouping", "varyColors", "ser", "dLbls", "gapWidth", "overlap", "serLines", "axId",
                 "extLst"],
    "lineChart": ["grouping", "varyColors", "ser", "dLbls", "dropLines", "hiLowLines", "upDownBars", "marker",
                  "smooth", "axId", "extLst"],
    "ser": ["idx", "order", "tx", "spPr", "invertIfNegative", "pictureOptions", "marker", "dPt", "dLbls",
            "trendline", "errBars", "cat", "val", "smooth", "shape", "extLst"],
    "dLbls": ["dLbl", "delete", "numFmt", "spPr", "txPr", "dLblPos", "showLegendKey", "showVal", "showCatName",
              "showSerName", "showPercent", "showBubbleSize", "separator", "showLeaderLines", "leaderLines",
              "extLst"],
    "catAx": ["axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", ("crosses", "crossesAt"),
              "auto", "lblAlgn", "lblOffset", "tickLblSkip", "tickMarkSkip", "noMultiLvlLbl", "extLst"],
    "valAx": ["axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", ("crosses", "crossesAt"),
              "crossBetween", "majorUnit", "minorUnit", "dispUnits", "extLst"],
    "scaling": ["logBase", "orientation", "max", "min", "extLst"],
    "strRef": ["f", "strCache", "extLst"],
    "numRef": ["f", "numCache", "extLst"],
    "strCache": ["ptCount", "pt", "extLst"],
    "numCache": ["formatCode", "ptCount", "pt", "extLst"],
    "marker": ["symbol", "size", "spPr", "extLst"],
}  # fmt: skip
REQUIRED = {
    "chartSpace": {"chart"},
    "chart": {"plotArea"},
    "barChart": {"barDir", "axId"},
    "lineChart": {"grouping", "axId"},
    "ser": {"idx", "order"},
    "dLbls": {"showLegendKey", "showVal", "showCatName", "showSerName", "showPercent", "showBubbleSize"},
    "catAx": {"axId", "scaling", "axPos", "crossAx"},
    "valAx": {"axId", "scaling", "axPos", "crossAx"},
    "strRef": {"f"},
    "numRef": {"f"},
}


def schema_problems(root) -> list[str]:
    """Children out of schema order or missing, for the chart types in ORDER (c: namespace only)."""
    problems = []
    for element in root.iter(f"{{{NS['c']}}}*"):
        name = etree.QName(element).localname
        if name not in ORDER or (name == "marker" and etree.QName(element.getparent()).localname != "ser"):
            continue
        rank = {
            n: i
            for i, entry in enumerate(ORDER[name])
            for n in (entry if isinstance(entry, tuple) else (entry,))
        }
        children = [etree.QName(child).localname for child in element]
        positions = [rank.get(child, -1) for child in children]
        if -1 in positions:
            problems.append(f"{name}: unexpected {children[positions.index(-1)]}")
        elif positions != sorted(positions):
            problems.append(f"{name}: children out of order {children}")
        missing = REQUIRED.get(name, set()) - set(children)
        if missing:
            problems.append(f"{name}: missing {sorted(missing)}")
    return problems


def _axes_problems(root) -> list[str]:
    plot = root.find("c:chart/c:plotArea", NS)
    chart = plot[1]
    ids = [a.get("val") for a in chart.findall("c:axId", NS)]
    axes = {
        ax.find("c:axId", NS).get("val"): ax for ax in plot if etree.QName(ax).localname in ("catAx", "valAx")
    }
    problems = []
    if len(ids) != 2 or set(ids) != set(axes):
        problems.append(f"chart names axes {ids}, plot area has {sorted(axes)}")
    for axis_id, axis in axes.items():
        cross = axis.find("c:crossAx", NS).get("val")
        if cross == axis_id or cross not in axes:
            problems.append(f"axis {axis_id} crosses {cross}")
    if sorted(etree.QName(a).localname for a in axes.values()) != ["catAx", "valAx"]:
        problems.append("needs one category and one value axis")
    return problems


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_chart_xml_follows_the_schema_order(kind: str) -> None:
    bars = [Bar("理论学习", 0.5), Bar("作风 & <建设>", None), Bar("担当作为", 1.0)]
    points = [
        {"label": "11月1日", "rate": 50.0},
        {"label": "12月1日", "rate": 60.0},
        {"label": "1月1日", "rate": 75.5},
    ]
    data = rate_chart(bars) if kind == "bar" else trend_chart(points)
    root = etree.fromstring(chart_xml(data))
    assert schema_problems(root) == []
    assert _axes_problems(root) == []
    # the value axis runs 0–100 %, labels show percentages, text in the document's fonts
    scaling = root.find(".//c:valAx/c:scaling", NS)
    assert (scaling.find("c:min", NS).get("val"), scaling.find("c:max", NS).get("val")) == ("0", "1")
    assert root.find(".//c:ser/c:dLbls/c:numFmt", NS).get("formatCode") == "0.0%"
    assert root.find(".//c:ser/c:dLbls/c:showVal", NS).get("val") == "1"
    assert {ea.get("typeface") for ea in root.iter(f"{{{NS['a']}}}ea")} == {"仿宋_GB2312", "黑体"}
    assert root.find("c:externalData", NS).get(REL_ID) == "rId1"


def test_the_schema_check_catches_disorder() -> None:
    """The check above can fail: swap two children Word insists on ordering, drop a required one."""
    root = etree.fromstring(chart_xml(rate_chart([Bar("理论学习", 0.5)])))
    bar = root.find(".//c:barChart", NS)
    bar.insert(0, bar.find("c:grouping", NS))
    root.find(".//c:dLbls", NS).remove(root.find(".//c:dLbls/c:showPercent", NS))
    root.find(".//c:valAx/c:crossAx", NS).set("val", "1")
    assert schema_problems(root) == [
        "barChart: children out of order ['grouping', 'barDir', 'varyColors', 'ser', 'gapWidth', 'axId', 'axId']",
        "dLbls: missing ['showPercent']",
    ]
    assert len(_axes_problems(root)) == 1


def test_rendered_charts_follow_the_schema_order(seed) -> None:
    (chart,) = read_charts(seed[1])
    assert schema_problems(chart["xml"]) == [] and _axes_problems(chart["xml"]) == []


# ---------------------------------------------------------------- LibreOffice draws it


@pytest.mark.office
def test_libreoffice_draws_the_chart(seed, tmp_path: Path) -> None:
    if (
        shutil.which("soffice") is None
        or shutil.which("pdftotext") is None
        or shutil.which("pdftoppm") is None
    ):
        pytest.skip("LibreOffice or poppler not installed")
    from toolkit.render import convert_to_pdf

    pdf = convert_to_pdf(seed[1], tmp_path / "通报.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    # the chart's title, axis ticks and the wrapped first label exist only in the chart
    (page,) = [n for n, p in enumerate(pages, start=1) if "各方面整改完成率" in p]
    assert {"20%", "40%", "80%"} <= set(pages[page - 1].split())
    assert "代中国特色社会主义思想" in pages[page - 1].replace(" ", "")
    # and its bars are drawn: the page holds a good area of the bar colour (#C0392B)
    ppm = subprocess.run(["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), str(pdf)],
                         capture_output=True, check=True).stdout  # fmt: skip
    magic, width, height, _depth, pixels = ppm.split(maxsplit=4)
    assert magic == b"P6"
    red = sum(
        1
        for i in range(0, len(pixels) - 2, 3)
        if pixels[i] > 160 and pixels[i + 1] < 90 and pixels[i + 2] < 80
    )
    assert red > int(width) * int(height) * 0.01


# ---------------------------------------------------------------- no page left half empty

TEXT_TOP_MM, TEXT_BOTTOM_MM, PAGE_MM = 37, 262, 297  # GB/T 9704 margins: the 225 mm text area of A4


def page_fills(pdf: Path, folder: Path) -> list[float]:
    """How far down its text area each page is used (0–1): the lowest row of ink above the footer."""
    subprocess.run(["pdftoppm", "-r", "25", str(pdf), str(folder / "page")], check=True)
    fills = []
    for image in sorted(folder.glob("page-*.ppm")):
        magic, width, height, _depth, pixels = image.read_bytes().split(maxsplit=4)
        assert magic == b"P6"
        width, height = int(width), int(height)
        row_bytes = width * 3
        bottom = int(height * TEXT_BOTTOM_MM / PAGE_MM)
        inked = [y for y in range(bottom) if min(pixels[y * row_bytes : (y + 1) * row_bytes]) < 160]
        top = height * TEXT_TOP_MM / PAGE_MM
        fills.append(round((max(inked, default=top) - top) / (bottom - top), 2))
    return fills


def _office_tools() -> None:
    if any(shutil.which(tool) is None for tool in ("soffice", "pdftoppm")):
        pytest.skip("LibreOffice or poppler not installed")


@pytest.mark.office
@pytest.mark.parametrize("ledger_kind", ["seed", "sample", "seed with trend"])
def test_no_page_before_the_last_is_half_empty(ledger_kind: str, tmp_path: Path, ledger_cli) -> None:
    """A chart that does not fit under the table moves to the next page: what it leaves stays small."""
    _office_tools()
    from toolkit.render import convert_to_pdf

    if ledger_kind == "sample":
        ledger = Path(shutil.copy(Path(__file__).parents[1] / "workbooks" / "示例台账.xlsx", tmp_path))
    else:
        ledger = write_report_ledger(tmp_path / "台账.xlsx", SEED_ROWS, info=INFO)
    out = tmp_path / "通报.docx"
    history = ["--no-history"]
    if ledger_kind == "seed with trend":  # two earlier 通报: the trend chart follows the rate chart
        history = []
        for as_of in ("2024-10-31", "2024-11-30"):
            assert ledger_cli("report", ledger, "--as-of", as_of, "-o", out, "--allow-errors").code == 0
    run = ledger_cli("report", ledger, "--as-of", AS_OF, "-o", out, "--allow-errors", *history)
    assert run.code == 0, run.err
    assert len(read_charts(out)) == (2 if history == [] else 1)
    pdf = convert_to_pdf(out, tmp_path / "通报.pdf")
    (tmp_path / "pages").mkdir()
    fills = page_fills(pdf, tmp_path / "pages")
    assert len(fills) >= 2 and min(fills[:-1]) >= 0.5, fills


@pytest.mark.office
def test_page_fills_sees_a_half_empty_page(tmp_path: Path) -> None:
    """The measure itself: three lines, a page break, a full page of text."""
    _office_tools()
    from docx import Document

    from toolkit.render import convert_to_pdf

    document = Document()
    for _ in range(3):
        document.add_paragraph("整改落实情况")
    document.add_page_break()
    document.add_paragraph("整改落实情况。" * 600)
    document.save(str(tmp_path / "半页.docx"))
    pdf = convert_to_pdf(tmp_path / "半页.docx", tmp_path / "半页.pdf")
    (tmp_path / "pages").mkdir()
    fills = page_fills(pdf, tmp_path / "pages")
    assert fills[0] < 0.2 and fills[1] > 0.9, fills
