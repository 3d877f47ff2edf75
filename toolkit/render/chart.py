"""The bar chart of completion rate per 方面, as PNG bytes for the 通报.

matplotlib is imported here only (Agg backend, no display needed). Chinese labels need a CJK font;
one is looked up at run time among the fonts matplotlib knows: Noto CJK on Linux (fonts-noto-cjk),
SimHei / Microsoft YaHei / 等线 on Windows, PingFang / Heiti on macOS.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

# most preferred first; simplified-Chinese faces before their JP/TC siblings
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "SimHei",
    "DengXian",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimSun",
    "FangSong",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Serif CJK JP",
    "Source Han Sans",
    "AR PL UMing CN",
)

MAX_BARS = 25
LABEL_WIDTH = 9  # characters a label line holds before wrapping


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    rate: float | None  # fraction 0..1, None when nothing counts
    text: str  # the formatted rate written at the end of the bar


@functools.cache
def find_cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    for name in sorted(installed):
        if "CJK" in name or "Hei" in name or "Song" in name:
            return name
    return None


def wrap_label(text: str, width: int = LABEL_WIDTH, lines: int = 2) -> str:
    """Break a long 方面 name into at most ``lines`` lines, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    parts = [text[i : i + width] for i in range(0, len(text), width)]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "…"
    return "\n".join(parts)


def bar_chart_png(bars: Sequence[Bar], *, title: str = "各方面整改完成率", dpi: int = 200) -> bytes | None:
    """A horizontal bar chart (long Chinese labels read better sideways); None without a CJK font."""
    font = find_cjk_font()
    if font is None or not bars:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(bars)[:MAX_BARS]
    height = 0.75 + 0.34 * len(shown) + 0.12 * sum(b.label.count("\n") for b in shown)
    fig = Figure(figsize=(6.4, max(1.8, height)), dpi=dpi)
    FigureCanvasAgg(fig)  # Agg without pyplot: no global backend state, no display
    ax = fig.add_subplot()
    props = {"family": font}
    labels = [b.label for b in shown][::-1]
    values = [(b.rate or 0.0) * 100 for b in shown][::-1]
    texts = [b.text for b in shown][::-1]
    positions = range(len(shown))
    ax.barh(positions, values, height=0.62, color="#c0392b")
    ax.set_yticks(list(positions))
    ax.set_yticklabels(labels, fontdict={**props, "size": 10})
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xticklabels([f"{v}%" for v in (0, 20, 40, 60, 80, 100)], fontdict={**props, "size": 8})
    for y, value, text in zip(positions, values, texts, strict=True):
        ax.text(value + 1.5, y, text, va="center", ha="left", fontdict={**props, "size": 9})
    ax.set_title(title, fontdict={**props, "size": 12})
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
