"""The public entry points the CLI and the Excel buttons share: plain data in, plain data out.

``check`` reads and validates a ledger; ``compare_with_history`` is what a 通报 says about the last one;
``record_history`` keeps a snapshot beside the workbook; ``check_and_record`` checks and records (``ledger
validate``), ``report`` writes the 通报 comparing and recording.
The history store and the Word renderer are imported by the calls that need them, so that a 校验 never
loads docxtpl and ``ledger validate --no-history`` never loads sqlite3.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.model import Ledger, Report
from toolkit.read import read_ledger
from toolkit.validate import validate_ledger

if TYPE_CHECKING:
    from toolkit.history import BegunSnapshot
    from toolkit.render import RenderResult, ReportOptions


def check(
    path: str | Path,
    as_of: date | None = None,
    sheet: str | None = None,
    config: Config | None = None,
) -> tuple[Ledger, Report]:
    """Read and validate a ledger file in one call (the workbook's 配置 sheet applies on top of ``config``)."""
    as_of = as_of or date.today()
    ledger = read_ledger(path, sheet=sheet, config=config or DEFAULT_CONFIG, as_of=as_of)
    return ledger, validate_ledger(ledger, as_of, ledger.config or DEFAULT_CONFIG)


def check_and_record(
    path: str | Path,
    as_of: date | None = None,
    sheet: str | None = None,
    config: Config | None = None,
    *,
    command: str,
    history_path: str | os.PathLike | None = None,
) -> tuple[Ledger, Report, str | None]:
    """``check``, then the ledger's snapshot recorded in its history as ``command`` (``ledger validate``);
    the third value is ``record_history``'s: None, or the sentence the caller tells as it sees fit.

    Why not ``check`` then ``record_history``: the snapshot would add its whole cost after the rules. Here
    a thread imports the history store and hashes the workbook while calamine parses the sheet (the parse
    lets other threads run), and the snapshot is begun as soon as the ledger is read, so that compressing
    it overlaps the rules (``toolkit.history.begin_snapshot``)."""
    import threading

    as_of = as_of or date.today()
    warming = threading.Thread(target=_warm_up_history, args=(path,), name="history-warm-up", daemon=True)
    warming.start()
    ledger = read_ledger(path, sheet=sheet, config=config or DEFAULT_CONFIG, as_of=as_of)
    warming.join()  # the workbook's hash: was today's snapshot of these bytes recorded already?
    from toolkit.history import begin_snapshot

    begun = begin_snapshot(ledger, as_of, history_path, command=command)
    report = validate_ledger(ledger, as_of, ledger.config or DEFAULT_CONFIG)
    failure = record_history(ledger, as_of, command=command, history_path=history_path, begun=begun)
    return ledger, report, failure


def _warm_up_history(path: str | Path) -> None:
    from toolkit.history import warm_up  # importing the package is half of the warm-up

    warm_up(path)


def _saved_file(ledger: Ledger) -> bool:
    """A workbook saved on this computer: only such a workbook has a folder to keep its history in."""
    return bool(ledger.path) and os.path.isfile(ledger.path)


def compare_with_history(
    ledger: Ledger,
    as_of: date,
    *,
    history_path: str | os.PathLike | None = None,
    decimals: int = 1,
    open_workbook: bool = False,
) -> dict | None:
    """The history part of a 通报's context (``toolkit.history.history_context``): the comparison of the
    ledger as it is now with the last recorded 通报, and the trend. Reads the history, writes nothing.

    ``open_workbook``: the ledger was read from a workbook open in Excel (the buttons); None when it is
    not saved as a file on this computer. A history that cannot be read gives no comparison, never an
    error."""
    if open_workbook and not _saved_file(ledger):
        return None
    from toolkit.history import history_context, snapshot_from_ledger

    # not stored: what tells its state apart is not needed, only its counts and items
    current = snapshot_from_ledger(ledger, None, as_of, content_hash="-")
    return history_context(ledger.path, as_of, history_path=history_path, current=current, decimals=decimals)


def record_history(
    ledger: Ledger,
    as_of: date,
    *,
    command: str,
    history_path: str | os.PathLike | None = None,
    begun: BegunSnapshot | None = None,
    open_workbook: bool = False,
) -> str | None:
    """Record a snapshot of the ledger in its history (``command`` says what recorded it: "validate",
    "report", "button-report"…). Returns None when recorded, or the sentence telling why it was not:
    a history that cannot be written never fails the caller, which tells the sentence as it sees fit.

    ``begun``: the snapshot ``toolkit.history.begin_snapshot`` built while the ledger was validated.
    ``open_workbook``: the ledger was read from a workbook open in Excel, whose unsaved edits the file
    does not show: its state is told apart by its items, and nothing is recorded unless it is saved as a
    file on this computer (a cloud or remote workbook has no folder of ours)."""
    if open_workbook and not _saved_file(ledger):
        return None
    from toolkit.history import HISTORY_FAILURES, failure_message, write_begun, write_snapshot

    try:
        if begun is not None:
            write_begun(begun, history_path, command=command)
        else:
            write_snapshot(ledger, None, as_of, history_path, command=command, hash_items=open_workbook)
    except HISTORY_FAILURES as exc:
        return failure_message(exc)
    return None


def report(
    ledger: Ledger,
    checked: Report,
    as_of: date,
    options: ReportOptions | None = None,
    *,
    template: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    folder: str | os.PathLike | None = None,
    history_path: str | os.PathLike | None = None,
    record_as: str | None = "report",
    open_workbook: bool = False,
) -> RenderResult:
    """Write the 通报 of a ledger already checked: compared with the last recorded 通报, then recorded in
    the history as ``record_as`` (None: not recorded, ``--no-history``). A history that cannot be
    written is a warning on stderr; the 通报 is written either way.

    ``out``: the file to write; without it the 通报 is named from its title, beside the workbook or in
    ``folder`` (the buttons: the workbook's folder, or the temp folder for a workbook not on disk).
    """
    from toolkit.history import warn
    from toolkit.render import ReportOptions, render_report

    options = options or ReportOptions(config=ledger.config or DEFAULT_CONFIG)
    history = compare_with_history(
        ledger,
        as_of,
        history_path=history_path,
        decimals=options.config.rate_decimals,
        open_workbook=open_workbook,
    )
    named = ledger  # the 通报's default name is made beside the path of the ledger it is given
    if folder is not None:  # a copy: the caller's ledger, and its history, stay with its workbook
        named = replace(ledger, path=str(Path(folder) / Path(ledger.path or "台账.xlsx").name))
    result = render_report(
        named,
        as_of=as_of,
        template=template,
        out=out,
        options=replace(options, history=history),
        report=checked,
    )
    if record_as is not None:
        failure = record_history(
            ledger, as_of, command=record_as, history_path=history_path, open_workbook=open_workbook
        )
        if failure:
            warn(failure)
    return result
