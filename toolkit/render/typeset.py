"""Typesetting measures taken before and after rendering: how wide text runs, where a long title breaks.

Widths are in em, the characters of the text's own size (2号 for the title, 3号 body, table text): what
GB/T 9704 counts in ("28 characters a line"), so one measure serves the title, the 落款 and the tables.
Plain text only (no python-docx), so the context can use it without loading Word libraries.
"""

from __future__ import annotations

import itertools
import re


def text_width(text: str) -> float:
    """Width in em: Chinese characters and what the Chinese fonts set full width from U+2000 on (“ ” — …,
    full-width punctuation) 1, Latin letters, digits and ASCII punctuation 0.5."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


TITLE_CHARS_PER_LINE = 19  # 156 mm holds 20 characters of 2号 (22 pt); keep one for spacing around digits
# where a title may break so that each line keeps its words whole (GB/T 9704 7.3.1: 回行时词意完整)
_TITLE_BREAKS = re.compile(
    r"(?=关于)|(?=(?:查摆|反馈|发现|检视|排查)(?:问题|意见)整改)|(?=整改落实情况的?通报)|(?<=年度)"
)


def title_display(title: str, unit: str = "", year: str = "") -> str:
    """Break a long title in as few lines as fit, between words where it can, the lines as even as can be
    (GB/T 9704 7.3.1: 回行时词意完整、排列对称). ``unit`` and ``year`` are word boundaries too."""
    if text_width(title) <= TITLE_CHARS_PER_LINE:
        return title
    words = {m.start() for m in _TITLE_BREAKS.finditer(title)}
    for known in (unit, f"{year}年度" if year else ""):
        at = title.find(known) if known else -1
        if at >= 0:
            words |= {at, at + len(known)}
    # any other place only between two Chinese characters (never inside a number or before punctuation)
    others = {
        i
        for i in range(1, len(title))
        if "\u4e00" <= title[i - 1] <= "\u9fff" and "\u4e00" <= title[i] <= "\u9fff"
    }
    points = sorted((words | others) - {0, len(title)})
    best: tuple[int, float, list[str]] | None = None
    for count in (1, 2, 3):
        for cut in itertools.combinations(points, count):
            lines = [title[a:b] for a, b in itertools.pairwise([0, *cut, len(title)])]
            widths = [text_width(line) for line in lines]
            if max(widths) > TITLE_CHARS_PER_LINE:
                continue
            score = (sum(1 for c in cut if c not in words), max(widths) - min(widths), lines)
            if best is None or score[:2] < best[:2]:
                best = score
        if best is not None:
            return "\n".join(best[2])
    return title
