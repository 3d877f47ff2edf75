"""Set-up of the offline Windows bundle for one user, and its drag-and-drop actions.

The bundle's ``.bat`` files are tiny and ASCII-only; they run ``python -m toolkit.winsetup …`` with the
bundled interpreter, so that everything here is ordinary, testable Python:

- ``install [/quiet]`` (安装.bat): copies the unzipped kit to ``%LOCALAPPDATA%\\整改台账工具箱`` (no admin
  rights needed), points the workbook buttons at its ``pythonw.exe`` in ``%USERPROFILE%\\.xlwings\\xlwings.conf``
  (merged with what is there), adds 发送到 (SendTo) entries, and ends with a self-check in one sentence;
- ``uninstall [/quiet]`` (卸载.bat): undoes all that, keeping any file of the user's;
- ``validate|report|clear FILE…`` (校验台账.bat, 生成通报.bat, 清除标记.bat): the same as ``ledger validate
  --mark``, ``ledger report --allow-errors`` (the button's answer after its question; the window shows the
  warning), ``ledger clear`` on each file dropped on the icon or sent to it.

Encodings: xlwings' VBA reads xlwings.conf with ``Input #``, i.e. in the ANSI code page (cp936 on Chinese
Windows), and cmd.exe reads .bat files in the OEM code page (also cp936 there); both files are written in
those code pages, and a path that cannot be written in them is refused with a sentence, never garbled.
The interpreter's path is stored with ``%LOCALAPPDATA%`` unexpanded (xlwings expands it), so a Chinese
user name never has to pass through a code page at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

KIT_NAME = "整改台账工具箱"
INTERPRETER_KEY = "INTERPRETER_WIN"
INTERPRETER_VALUE = f"%LOCALAPPDATA%\\{KIT_NAME}\\python\\pythonw.exe"
BACKUP_NAME = "xlwings.conf.bak"  # the user's xlwings.conf as found, when it named another interpreter
MANIFEST = Path("python") / "kit-manifest.txt"  # the files the set-up put there: sha256, relative path
SENDTO_MARK = "rem zhenggai-toolkit SendTo entry"
# 发送到 menu entry (file name in SendTo) -> the kit's .bat it calls
SENDTO_ENTRIES = {
    "整改台账 校验台账.bat": "校验台账.bat",
    "整改台账 生成通报.bat": "生成通报.bat",
    "整改台账 清除标记.bat": "清除标记.bat",
}
# what each drag-and-drop action runs: the same command line as `ledger …`
ACTIONS = {
    "validate": (["validate"], ["--mark"], "校验台账"),
    "report": (["report"], ["--allow-errors"], "生成通报"),  # as the button does once the user says yes
    "clear": (["clear"], [], "清除标记"),
}
# modules the buttons and the command line need: the self-check imports them with the installed interpreter
SELF_CHECK_IMPORTS = "import toolkit.cli, toolkit.excel, xlwings, win32com.client, python_calamine, openpyxl"


class SetupError(Exception):
    """Something the user can fix; the message is one Chinese sentence saying what and how."""


@dataclass(frozen=True)
class Places:
    """Where a Windows user's things are, and the code pages the files there are read in."""

    localappdata: Path
    appdata: Path
    userprofile: Path
    ansi: str = "cp936"  # xlwings' VBA reads xlwings.conf in it
    oem: str = "cp936"  # cmd.exe reads .bat files in it

    @property
    def kit(self) -> Path:
        return self.localappdata / KIT_NAME

    @property
    def conf(self) -> Path:
        return self.userprofile / ".xlwings" / "xlwings.conf"

    @property
    def sendto(self) -> Path:
        return self.appdata / "Microsoft" / "Windows" / "SendTo"

    def interpreter(self) -> Path:
        """The path xlwings will get after expanding INTERPRETER_VALUE."""
        return self.kit / "python" / "pythonw.exe"

    @classmethod
    def of_this_user(cls) -> Places:
        missing = [v for v in ("LOCALAPPDATA", "APPDATA", "USERPROFILE") if not os.environ.get(v)]
        if missing:
            raise SetupError(
                f"找不到环境变量 {'、'.join(missing)}，请在 Windows 的普通用户桌面中运行本程序。"
            )
        ansi, oem = "cp936", "cp936"
        if sys.platform == "win32":
            import ctypes

            ansi = f"cp{ctypes.windll.kernel32.GetACP()}"
            oem = f"cp{ctypes.windll.kernel32.GetOEMCP()}"
        return cls(
            Path(os.environ["LOCALAPPDATA"]),
            Path(os.environ["APPDATA"]),
            Path(os.environ["USERPROFILE"]),
            ansi,
            oem,
        )


# --- xlwings.conf ---------------------------------------------------------------------------------------


def _parse_conf(text: str) -> list[tuple[str, str]]:
    """Lines as xlwings writes them (``"KEY","value"``, VBA's ``Write #``); anything else is kept verbatim."""
    entries = []
    for line in text.splitlines():
        key, sep, value = line.partition(",")
        key, value = key.strip(), value.strip()
        if sep and len(key) >= 2 and key[0] == key[-1] == '"':
            key = key[1:-1]
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            entries.append((key, value))
        elif line.strip():
            entries.append(("", line))
    return entries


def _format_conf(entries: Sequence[tuple[str, str]]) -> str:
    return "".join((f'"{k}","{v}"' if k else v) + "\r\n" for k, v in entries)


def read_conf(places: Places) -> list[tuple[str, str]]:
    """The user's xlwings.conf as (key, value) pairs. UTF-8 first (xlwings' own Python side may write it so; text
    in the ANSI code page is almost never valid UTF-8, while UTF-8 text often decodes as cp936 garbage)."""
    if not places.conf.exists():
        return []
    return _decode_conf(places.conf.read_bytes(), places.ansi)


def _decode_conf(raw: bytes, ansi: str) -> list[tuple[str, str]]:
    for encoding in ("utf-8-sig", ansi):
        try:
            return _parse_conf(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    return _parse_conf(raw.decode(ansi, "replace"))


def write_conf(places: Places, entries: Sequence[tuple[str, str]]) -> None:
    text = _format_conf(entries)
    try:
        data = text.encode(places.ansi)
    except UnicodeEncodeError:
        raise SetupError(
            f"xlwings 设置文件“{places.conf}”里有本机代码页（{places.ansi}）写不出的字符，请检查该文件后重试。"
        ) from None
    places.conf.parent.mkdir(parents=True, exist_ok=True)
    _replace_bytes(places.conf, data)


def conf_value(entries: Sequence[tuple[str, str]], key: str) -> str | None:
    for k, v in entries:
        if k.upper() == key.upper():
            return v
    return None


def set_interpreter(places: Places) -> None:
    """Our interpreter in the user's xlwings.conf; every other setting is kept as it was."""
    try:
        INTERPRETER_VALUE.encode(places.ansi)
    except UnicodeEncodeError:
        raise SetupError(
            f"本机的代码页（{places.ansi}）写不出“{KIT_NAME}”，按钮无法使用；请改用右键“发送到”或拖放方式。"
        ) from None
    entries = read_conf(places)
    if places.conf.exists() and conf_value(entries, INTERPRETER_KEY) not in (None, INTERPRETER_VALUE):
        backup = places.conf.with_name(BACKUP_NAME)
        if not backup.exists():  # the user's own interpreter setting, kept once
            shutil.copy2(places.conf, backup)
    kept = [(k, v) for k, v in entries if k.upper() != INTERPRETER_KEY]
    write_conf(places, [*kept, (INTERPRETER_KEY, INTERPRETER_VALUE)])


def unset_interpreter(places: Places) -> None:
    """Takes our interpreter out of xlwings.conf (only ours) and puts back the one the set-up found there;
    removes the file if nothing else is left."""
    if not places.conf.exists():
        return
    entries = read_conf(places)
    kept = [(k, v) for k, v in entries if not (k.upper() == INTERPRETER_KEY and v == INTERPRETER_VALUE)]
    if len(kept) == len(entries):
        return
    backup = places.conf.with_name(BACKUP_NAME)
    if backup.is_file():
        theirs = conf_value(_decode_conf(backup.read_bytes(), places.ansi), INTERPRETER_KEY)
        if theirs:
            kept.append((INTERPRETER_KEY, theirs))
        backup.unlink()
    if kept:
        write_conf(places, kept)
    else:
        places.conf.unlink()
        with contextlib.suppress(OSError):
            places.conf.parent.rmdir()


def _replace_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- SendTo -----------------------------------------------------------------------------------------------


def sendto_script(places: Places, kit_bat: str) -> bytes:
    """A SendTo entry: calls the installed kit's .bat with the files it is given, in the OEM code page."""
    target = f"%LOCALAPPDATA%\\{KIT_NAME}\\{kit_bat}"
    text = f'@echo off\r\n{SENDTO_MARK}\r\ncall "{target}" %*\r\n'
    try:
        return text.encode(places.oem)
    except UnicodeEncodeError:
        raise SetupError(
            f"本机命令行的代码页（{places.oem}）写不出“{KIT_NAME}”，无法添加“发送到”菜单；"
            f"请直接把台账文件拖到 {places.kit} 里的 {kit_bat} 上。"
        ) from None


def add_sendto(places: Places) -> None:
    places.sendto.mkdir(parents=True, exist_ok=True)
    for entry, kit_bat in SENDTO_ENTRIES.items():
        _replace_bytes(places.sendto / entry, sendto_script(places, kit_bat))


def remove_sendto(places: Places) -> None:
    for entry in SENDTO_ENTRIES:
        path = places.sendto / entry
        if path.is_file() and SENDTO_MARK.encode("ascii") in path.read_bytes():
            path.unlink()


# --- the kit folder -------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def read_manifest(kit: Path) -> dict[str, str]:
    path = kit / MANIFEST
    if not path.is_file():
        return {}
    result = {}
    for line in path.read_text("utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        if rel:
            result[rel] = digest
    return result


def user_files(kit: Path) -> list[str]:
    """Files in an installed kit, outside its python folder, that the set-up did not put there or that were
    changed since (a ledger the clerk filled in the kit's 台账.xlsm, reports, backups): never deleted or
    overwritten. The python folder is ours alone (Python writes its __pycache__ there)."""
    manifest = read_manifest(kit)
    return [
        rel
        for rel in _files(kit)
        if not rel.startswith("python/") and (rel not in manifest or _sha256(kit / rel) != manifest[rel])
    ]


def _write_manifest(kit: Path) -> None:
    lines = [f"{_sha256(kit / rel)}  {rel}\n" for rel in _files(kit) if rel != MANIFEST.as_posix()]
    (kit / MANIFEST).write_text("".join(lines), "utf-8")


def copy_kit(source: Path, places: Places) -> None:
    """The unzipped kit into %LOCALAPPDATA%: copied beside, then swapped in; an older kit's user files move
    into the new one (theirs win over ours), and the older kit goes only once the swap has worked."""
    target = places.kit
    if source.resolve() == target.resolve():
        if not (target / MANIFEST).exists():
            _write_manifest(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(KIT_NAME + ".new")
    old = target.with_name(KIT_NAME + ".old")
    for leftover in (fresh, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(source, fresh, ignore=shutil.ignore_patterns("__pycache__"))
    _write_manifest(fresh)
    if target.exists():
        for rel in user_files(target):
            dest = fresh / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target / rel, dest)
        try:
            os.replace(target, old)
        except OSError:
            shutil.rmtree(fresh, ignore_errors=True)
            raise SetupError(
                f"旧版本的“{target}”正在使用，请关闭 Excel、WPS 和工具箱的窗口后重新运行安装。"
            ) from None
    os.replace(fresh, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_kit(places: Places) -> list[str]:
    """Deletes what the set-up put into the kit folder; returns the user's files, which stay."""
    kit = places.kit
    if not kit.exists():
        return []
    keep = set(user_files(kit))
    for rel in read_manifest(kit):
        path = kit / rel
        if rel not in keep and not rel.startswith("python/") and path.is_file():
            path.unlink()
    busy: list[str] = []
    if sys.version_info >= (3, 12):
        shutil.rmtree(kit / "python", onexc=lambda _f, p, _e: busy.append(p))
    else:
        shutil.rmtree(kit / "python", onerror=lambda _f, p, _e: busy.append(p))
    for folder in sorted((p for p in kit.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
    if (
        busy and sys.platform == "win32"
    ):  # the running interpreter itself, when 卸载.bat is started from the kit
        _remove_later(kit / "python")
    with contextlib.suppress(OSError):
        kit.rmdir()
    return sorted(keep)


def _remove_later(folder: Path) -> None:
    """Windows keeps a running program's files: a detached cmd removes the folder once we have exited."""
    command = f'ping -n 3 127.0.0.1 >nul & rd /s /q "{folder}" & rd "{folder.parent}"'
    flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(subprocess, "CREATE_NO_WINDOW", 0)
    subprocess.Popen(["cmd", "/c", command], creationflags=flags, close_fds=True)


# --- install, uninstall, self-check ------------------------------------------------------------------------


def self_check(places: Places, run_python: bool) -> list[str]:
    """What is not ready, in short Chinese phrases (empty when all is)."""
    problems = []
    interpreter = places.interpreter()
    if not interpreter.is_file() or not interpreter.with_name("python.exe").is_file():
        problems.append(f"找不到 {interpreter}")
    value = conf_value(read_conf(places), INTERPRETER_KEY)
    if value != INTERPRETER_VALUE:
        problems.append(f"xlwings 设置文件 {places.conf} 没有指向工具箱的 Python")
    for entry in SENDTO_ENTRIES:
        if not (places.sendto / entry).is_file():
            problems.append(f"“发送到”菜单缺少“{Path(entry).stem}”")
    if run_python and not problems:
        try:
            proc = subprocess.run(
                [str(interpreter.with_name("python.exe")), "-X", "utf8", "-c", SELF_CHECK_IMPORTS],
                capture_output=True,
                timeout=300,
            )
            if proc.returncode != 0:
                tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                problems.append(f"工具箱的 Python 无法载入所需模块（{''.join(tail)}）")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"工具箱的 Python 无法运行（{exc}）")
    return problems


def install(source: Path, places: Places, run_python: bool = True) -> str:
    """Copies the kit, writes xlwings.conf and the SendTo entries; returns the self-check's sentence."""
    if not (source / "python" / "pythonw.exe").is_file() or not (source / "ledger.bat").is_file():
        raise SetupError(
            f"“{source}”不是完整的整改台账工具箱文件夹，请把下载的压缩包完整解压后再运行 安装.bat。"
        )
    copy_kit(source, places)
    set_interpreter(places)
    add_sendto(places)
    problems = self_check(places, run_python)
    if problems:
        raise SetupError(f"安装未完成（{'；'.join(problems)}），请重新解压压缩包后再运行 安装.bat。")
    return (
        f"安装完成：工具箱已装到 {places.kit}，打开 台账.xlsm 即可使用按钮，"
        "也可以在台账文件上点右键“发送到”→“整改台账 校验台账”。"
    )


def uninstall(places: Places) -> str:
    remove_sendto(places)
    unset_interpreter(places)
    kept = remove_kit(places)
    if kept:
        return f"卸载完成；{places.kit} 里您自己的 {len(kept)} 个文件（如 {kept[0]}）已保留，请自行处理。"
    return "卸载完成：工具箱、按钮设置和“发送到”菜单都已移除。"


# --- drag and drop -----------------------------------------------------------------------------------------


def run_action(action: str, files: Sequence[str], cli: Callable[[list[str]], int] | None = None) -> int:
    """The drag-and-drop / SendTo action on each file; the highest exit code of the ``ledger`` commands."""
    before, after, title = ACTIONS[action]
    if not files:
        print(f"请把台账文件拖到“{title}”图标上，或在台账文件上点右键，选“发送到”→“整改台账 {title}”。")
        return 2
    cli = cli or _run_cli
    worst = 0
    for i, name in enumerate(files):
        if len(files) > 1:
            gap = "\n" if i else ""
            print(f"{gap}【{i + 1}/{len(files)}】{name}", flush=True)  # before the child's output
        worst = max(worst, cli([*before, name, *after]))
    return worst


def _run_cli(args: list[str]) -> int:
    """``ledger ARGS`` in a child process sharing this window: the command ends its process when done (it
    exits without tearing down what it read), and one file's failure cannot stop the next."""
    try:
        return subprocess.run([sys.executable, "-X", "utf8", "-m", "toolkit", *args]).returncode
    except OSError as exc:
        print(f"无法启动工具箱的 Python（{exc}），请重新运行 安装.bat。")
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    quiet = {"/quiet", "/q", "-q", "--quiet"}
    command = args[0] if args else ""
    rest = [a for a in args[1:] if a.lower() not in quiet]
    try:
        if command in ACTIONS:
            return run_action(command, rest)
        if command == "install":
            source = Path(sys.executable).resolve().parent.parent
            print(install(source, Places.of_this_user()))
            return 0
        if command == "uninstall":
            print(uninstall(Places.of_this_user()))
            return 0
    except SetupError as exc:
        print(exc)
        return 2
    except OSError as exc:
        print(f"操作未完成（{exc.strerror or exc}：{exc.filename or ''}），请关闭 Excel、WPS 后重试。")
        return 2
    print("用法：python -m toolkit.winsetup install|uninstall [/quiet] 或 validate|report|clear 文件…")
    return 2


if __name__ == "__main__":
    sys.exit(main())
