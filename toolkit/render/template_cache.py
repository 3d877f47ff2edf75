"""The built-in template kept between runs: building it with python-docx is a fifth of ``ledger report``.

The .docx bytes go to the user's cache folder under a name derived from the code that builds them (every
module of toolkit.render, python-docx's version), so a changed template is built again, never served
stale. The cache is only a shortcut: a folder that cannot be written, or a file that cannot be read or
opened, means building the template as before. ``LEDGER_CACHE_DIR`` moves the folder; empty, no cache.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import zlib
from pathlib import Path

CACHE_ENV = "LEDGER_CACHE_DIR"
PREFIX = "default-template-"


def cache_dir() -> Path | None:
    """Where this user's caches go, by the platform's convention (None: no cache)."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base, "zhenggai-toolkit", "Cache") if base else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "zhenggai-toolkit"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "zhenggai-toolkit")


def cache_path() -> Path | None:
    """The file for the template this code builds; None when there is no cache or no way to name it."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        import docx

        # CRC-32 names a version, it guards nothing (hashlib would load OpenSSL: 15 ms of a 0.2 s run)
        key = zlib.crc32(str(docx.__version__).encode())
        for source in sorted(Path(__file__).parent.glob("*.py")):
            key = zlib.crc32(source.name.encode() + b"\0" + source.read_bytes(), key)
    except (OSError, AttributeError):
        return None
    return folder / f"{PREFIX}{key:08x}.docx"


def load(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def store(path: Path | None, data: bytes) -> None:
    """Write atomically (a temporary file renamed), drop the files of older templates; errors are ignored."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=PREFIX, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        for old in path.parent.glob(f"{PREFIX}*.docx"):
            if old != path:
                with contextlib.suppress(OSError):
                    old.unlink()
