"""Rebuild workbooks/示例台账.xlsm (the ledger workbook with buttons, filled with the sample):
``python workbooks/build_xlsm.py [OUT]``.

The same builder as ``ledger new --sample``, with two differences for a file shipped to other machines:
xlwings.conf names no interpreter (xlwings then uses its add-in settings or the ``python``/``pythonw`` on
the PATH; ``ledger new`` on the clerk's own machine records the exact one), and the creation time is
fixed so that the same sources give the same bytes.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from toolkit.workbook import new_ledger  # noqa: E402

DEFAULT_PATH = ROOT / "workbooks" / "示例台账.xlsm"
CREATED = datetime(2024, 12, 31, 9, 0, 0)


def build_xlsm(path: str | Path = DEFAULT_PATH) -> Path:
    return new_ledger(path, sample=True, force=True, interpreter=None, created=CREATED)


if __name__ == "__main__":
    out = build_xlsm(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH)
    print(f"已生成 {out}")
