"""Exceptions for input that cannot be used at all.

Everything that is merely wrong inside a usable ledger is a Finding, not an exception.
Every message is one Chinese sentence that quotes the bad value and says what to do;
the CLI prints it and exits with code 2.
"""

from __future__ import annotations


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
