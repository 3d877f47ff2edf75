"""Many ledgers at once: one per unit, rolled up for a district office.

The stages, in the order a roll-up runs them:

- ``collect``  finding the unit workbooks in the folders and files given;
- ``summary``  one file boiled down to a small ``UnitResult`` (in a worker process; never raises);
- ``run``      the executors that run ``summarize_file`` over many files, results in file order;
- ``rollup``   one row per unit and a total (``ledger stats DIR --by unit``);
- ``merge``    the merged workbook (``ledger merge``).

The district 通报 built on these lives in toolkit.district; the units × 方面 table for pandas users in
toolkit.frames.
"""

from toolkit.units.collect import NoLedgerFilesError, collect_files
from toolkit.units.merge import FINDINGS_SHEET, MERGED_SHEET, MergeResult, merge_ledgers
from toolkit.units.rollup import (
    NothingReadError,
    UnitsStats,
    nothing_read_message,
    repeated_units,
    repeated_units_notes,
    stats_by_unit,
    sum_groups,
    units_table,
)
from toolkit.units.run import FORKED_WORKERS, WORKER_DIED, run_many
from toolkit.units.summary import UnitResult, canonical_rows, summarize_file

__all__ = [
    "FINDINGS_SHEET",
    "FORKED_WORKERS",
    "MERGED_SHEET",
    "WORKER_DIED",
    "MergeResult",
    "NoLedgerFilesError",
    "NothingReadError",
    "UnitResult",
    "UnitsStats",
    "canonical_rows",
    "collect_files",
    "merge_ledgers",
    "nothing_read_message",
    "repeated_units",
    "repeated_units_notes",
    "run_many",
    "stats_by_unit",
    "sum_groups",
    "summarize_file",
    "units_table",
]
