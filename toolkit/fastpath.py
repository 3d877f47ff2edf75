"""The speed tricks of the command line, kept apart from what the code means.

Each trick here saves time on big workbooks and changes nothing a clerk sees. They are all behind one
switch so that a maintainer can take them out of the picture when hunting a bug:
``LEDGER_FASTPATH=0`` runs everything the plain way (no forks, no exit hand-over, no kept readers).
"""

from __future__ import annotations

import os

SWITCH = "LEDGER_FASTPATH"


def enabled() -> bool:
    """False when the maintainer asked for the plain path (``LEDGER_FASTPATH=0``)."""
    return os.environ.get(SWITCH, "1") != "0"
