"""Exceptions for input that cannot be used at all.

Everything that is merely wrong inside a usable ledger is a Finding, not an exception.
Every message is one Chinese sentence that quotes the bad value and says what to do;
the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import os


class LedgerError(Exception):
    """Base class: the input cannot be used; ``str(err)`` is the user-facing sentence."""

    exit_code = 2


class UnreadableFileError(LedgerError):
    """The file is missing, not a spreadsheet, broken or truncated."""


class EncryptedFileError(LedgerError):
    """The workbook has an opening password."""


class UnsafeFileError(LedgerError):
    """The file looks hostile: a zip bomb, an XML bomb, an absurd used range."""


class NoLedgerError(LedgerError):
    """The workbook was read but holds no recognisable ledger table."""


class ConfigError(LedgerError):
    """The TOML configuration or the 配置 sheet cannot be used."""


class TemplateError(LedgerError):
    """A user-edited Word template cannot be rendered safely."""


class OutputError(LedgerError):
    """A result could not be written (read-only folder, file open elsewhere, disk full)."""


ERROR_INVALID_NAME = 123  # Windows: a path with " * ? < > | in it (a stray quote from a .bat or a paste)


def invalid_name_message(exc: BaseException) -> str | None:
    """The sentence for a path Windows refuses as a name, or None when ``exc`` is something else."""
    if getattr(exc, "winerror", None) != ERROR_INVALID_NAME:
        return None
    return (
        f'“{getattr(exc, "filename", "")}”不是有效的文件名（不能含 * ? " < > | 等字符），请检查路径后再试。'
    )


# ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: another program (Excel, WPS, Word) holds the file open
# with a share mode that excludes us. Excel and WPS keep an open workbook so; WPS leaves no ``~$`` lock
# file to warn us beforehand.
_SHARING_VIOLATIONS = (32, 33)


def held_open(exc: OSError, path: str | os.PathLike | None = None) -> bool:
    """Whether ``exc`` (Windows) means another program has the file open.

    ``os.replace`` over an open file fails with a bare "access denied" (5); then ``path`` is opened for
    writing and deleting, as the replace would, and closed at once (nothing is changed), to tell a file
    held open from a folder we may not write in. (``open()`` cannot tell: the C runtime turns a sharing
    violation into a plain EACCES and drops the Windows error code.)"""
    if os.name != "nt" or not isinstance(exc, PermissionError):
        return False
    if getattr(exc, "winerror", None) in _SHARING_VIOLATIONS:
        return True
    return path is not None and _sharing_violation(path)


def _sharing_violation(path: str | os.PathLike) -> bool:
    import _winapi  # Windows only

    generic_write, delete, share_all, open_existing = 0x40000000, 0x00010000, 0x7, 3
    try:
        handle = _winapi.CreateFile(
            os.fspath(path), generic_write | delete, share_all, 0, open_existing, 0, 0
        )
    except OSError as probe:
        return getattr(probe, "winerror", None) in _SHARING_VIOLATIONS
    _winapi.CloseHandle(handle)
    return False


def in_use_message(name: str, outcome: str) -> str:
    """One sentence for a file another program holds open; ``outcome`` says what became of it."""
    return f"“{name}”正被其他程序（Excel、WPS 或 Word）打开，{outcome}，请在该程序中关闭它后再运行。"
