"""Saving over a user's only copy without ever leaving it half-written.

The steps, in order: refuse when the workbook is open (Excel/WPS ``~$name``, LibreOffice
``.~lock.name#``) or read-only; write a temporary file in the same folder; fsync it; read it back with
the caller's check; copy the original into a timestamped backup (the last ``KEEP_BACKUPS`` are kept);
make sure the original did not change meanwhile; ``os.replace`` (atomic on one file system); fsync the
folder. Any failure before the replace leaves the original untouched and raises ``OutputError`` with one
Chinese sentence.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from toolkit.errors import OutputError, held_open, in_use_message

KEEP_BACKUPS = 5
BACKUP_DIR = "整改台账备份"


class FileInUseError(OutputError):
    """The workbook is open in Excel, WPS or LibreOffice (a lock file sits beside it)."""


class FileChangedError(OutputError):
    """The workbook changed on disk while we were working on it."""


@dataclass
class SaveResult:
    path: Path
    backup: Path | None


def lock_files(path: Path) -> list[Path]:
    """Lock files that say ``path`` is open: ``~$name`` (Excel, WPS) and ``.~lock.name#`` (LibreOffice).

    (Word shortens long names to ``~$`` + name[2:]; Excel does not, and checking that form too would
    mistake the lock of ``台账.xlsx`` for one of ``新台账.xlsx``.)"""
    folder, name = path.parent, path.name
    candidates = [folder / f"~${name}", folder / f".~lock.{name}#"]
    return [c for c in candidates if c.exists()]


NAME_BYTES = 255  # a file name's limit on ext4, APFS and NTFS (UTF-8 bytes are the strictest count)


def fit_name(stem: str, tail: str, limit: int = NAME_BYTES) -> str:
    """``stem + tail`` when it fits in ``limit`` bytes, else the stem cut short plus a digest of the
    whole stem, so that two long names that share their beginning never share a backup or sidecar."""
    if len((stem + tail).encode()) <= limit:
        return stem + tail
    import hashlib

    mark = "~" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    room = limit - len((mark + tail).encode())
    cut = stem.encode()[: max(room, 0)].decode("utf-8", "ignore")
    return cut + mark + tail


def _os_message(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return f"“{path.name}”的文件名太长，无法在旁边保存，原文件未改动，请把文件名改短一些后再试。"
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        return f"磁盘空间不足，未能保存“{path.name}”，原文件未改动，请清理磁盘后再试。"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = Path(os.path.abspath(path)).parent  # never “.”: the folder as the user knows it
        return f"没有权限在“{folder}”中写入“{path.name}”，原文件未改动，请检查文件夹是否只读或换一个位置。"
    return f"保存“{path.name}”失败（{exc.strerror or exc}），原文件未改动，请稍后再试。"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; NTFS journals the rename anyway
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


TEMP_PREFIX = ".~整改台账-"
_STARTED = time.time()  # temporary files of ours older than this process, of a process gone, are stale
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(?:(\d+)-)?[^/\\]*$")
LEGACY_TEMP_AGE = 3600  # seconds: a temp name without its writer's process id (older versions)


def _temp_prefix() -> str:
    """Our temporary files carry the writer's process id, so a later run can tell a crashed run's
    leftovers from the file another live run is writing right now."""
    return f"{TEMP_PREFIX}{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        try:
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            handle = kernel32.OpenProcess(0x100000, False, pid)  # SYNCHRONIZE
            if not handle:
                return kernel32.GetLastError() == 5  # access denied: it exists
            try:
                return kernel32.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT: still running
            finally:
                kernel32.CloseHandle(handle)
        except Exception:
            return True  # when in doubt, it is someone's live file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: alive, another user's
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temporary files a killed run of ours left in ``folder`` (full hidden copies of a workbook):
    older than this command and written by a process that is gone. Returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime > _STARTED:
                continue
            if m[1] is not None and _process_alive(int(m[1])):
                continue
            if m[1] is None and info.st_mtime > time.time() - LEGACY_TEMP_AGE:
                continue
            os.unlink(entry.path)  # on Windows a file another process holds open cannot be deleted
            removed.append(Path(entry.path))
        except (OSError, ValueError, OverflowError):
            continue
    return removed


def _write_temp(folder: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(), suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def is_read_only(path: Path) -> bool:
    """Read-only by its permission bits (also true for root, who could write anyway)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not mode & stat.S_IWUSR


def backup_path(path: Path, now: datetime | None = None) -> Path:
    now = now or datetime.now()
    folder = path.parent / BACKUP_DIR
    stem = _backup_stem(path)
    base = f"{stem}-{now:%Y%m%d-%H%M%S}"
    candidate = folder / f"{base}{path.suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{base}-{n}{path.suffix}"
        n += 1
    return candidate


def _backup_stem(path: Path) -> str:
    """The stem backups of ``path`` start with, shortened when the name is long (room for "-date-n")."""
    tail = "-20240101-120000-99" + path.suffix
    return fit_name(path.stem, tail)[: -len(tail)]


def prune_backups(path: Path, keep: int = KEEP_BACKUPS) -> None:
    folder = path.parent / BACKUP_DIR
    pattern = re.compile(
        re.escape(_backup_stem(path)) + r"-\d{8}-\d{6}(?:-\d+)?" + re.escape(path.suffix) + "$"
    )
    try:
        found = sorted(
            (p for p in folder.iterdir() if pattern.match(p.name)), key=lambda p: (p.stat().st_mtime, p.name)
        )
    except OSError:
        return
    for old in found[:-keep] if keep else found:
        with contextlib.suppress(OSError):
            old.unlink()


def make_backup(path: Path, original: bytes) -> Path:
    target = backup_path(path)
    target.parent.mkdir(exist_ok=True)
    tmp = _write_temp(target.parent, original)
    try:
        shutil.copystat(path, tmp)  # the backup keeps the original's mode and times
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    prune_backups(path)
    return target


def replace_file(
    path: str | os.PathLike,
    data: bytes,
    *,
    original: bytes,
    verify: Callable[[Path], None] | None = None,
    backup: bool = True,
) -> SaveResult:
    """Atomically put ``data`` in place of ``path``, whose current content is ``original``.

    ``verify(temp_path)`` reads the written file back and raises when anything is off.
    """
    link = Path(path)
    try:
        path = Path(os.path.realpath(link))  # a symlink stays a link: the file it points to is replaced
    except OSError:  # Windows, a \\?\ path of over 260 characters: GetFinalPathNameByHandle may refuse it
        path = link
    locks = lock_files(path) + (lock_files(link) if link != path else [])
    if locks:
        raise FileInUseError(
            f"“{path.name}”正在被 Excel/WPS 打开（发现“{locks[0].name}”），原文件未改动，请关闭后再运行。"
        )
    if is_read_only(path):
        raise OutputError(f"“{path.name}”是只读文件，原文件未改动，请取消只读属性后再运行。")
    before = path.stat()
    remove_stale_temps(path.parent)
    if backup:
        remove_stale_temps(path.parent / BACKUP_DIR)
    tmp: Path | None = None
    backup_file: Path | None = None
    try:
        tmp = _write_temp(path.parent, data)
        _check_written(
            tmp, verify, f"写出的“{path.name}”未通过读回检查，原文件未改动，请把此文件反馈给维护人员。"
        )
        os.chmod(tmp, stat.S_IMODE(before.st_mode))
        if backup:
            backup_file = make_backup(path, original)
        now = path.stat()
        if (now.st_size, now.st_mtime_ns) != (
            before.st_size,
            before.st_mtime_ns,
        ) or path.read_bytes() != original:
            raise FileChangedError(f"“{path.name}”在处理期间被修改过，原文件未改动，请保存并关闭后重新运行。")
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as exc:
        if held_open(exc, path):
            raise FileInUseError(in_use_message(path.name, "原文件未改动")) from exc
        raise OutputError(_os_message(exc, path)) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return SaveResult(path, backup_file)


def _check_written(tmp: Path, verify: Callable[[Path], None] | None, failure: str) -> None:
    """The caller's read-back check of what was written; any failure but ours becomes ``failure``."""
    if verify is None:
        return
    try:
        verify(tmp)
    except OutputError:
        raise
    except Exception as exc:
        raise OutputError(failure) from exc


def write_new(
    path: str | os.PathLike, data: bytes, *, verify: Callable[[Path], None] | None = None
) -> SaveResult:
    """Write a file of our own (a results copy) atomically; overwrites an earlier copy of ours."""
    path = Path(path)
    with replacing(path, keep_mode=False) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
        _check_written(tmp, verify, f"写出的“{path.name}”未通过读回检查，请把原文件反馈给维护人员。")
    return SaveResult(path, None)


@contextlib.contextmanager
def replacing(path: str | os.PathLike, *, keep_mode: bool = True) -> Iterator[Path]:
    """A temporary file beside ``path`` for a writer that wants a file name (XlsxWriter, python-docx).

    When the block ends without an error the file is flushed to disk, given ordinary permissions
    (mkstemp makes it private; a result on a shared folder must open for colleagues) or those of
    the file it replaces, and swapped in atomically. On any error ``path`` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        remove_stale_temps(folder)
        fd, name = tempfile.mkstemp(prefix=_temp_prefix(), suffix=path.suffix, dir=folder)
        os.close(fd)
    except OSError as exc:
        raise OutputError(_os_message(exc, path)) from None
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "r+b") as fh:  # Windows flushes (FlushFileBuffers) only a handle open for writing
            os.fsync(fh.fileno())
        mode = stat.S_IMODE(path.stat().st_mode) if keep_mode and path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(folder)
    except OSError as exc:
        if held_open(exc, path):
            raise FileInUseError(in_use_message(path.name, "未能保存")) from None
        raise OutputError(_os_message(exc, path)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
