"""Wine 10 in a Debian trixie chroot, for running the Windows bundle on a Linux machine.

Debian bookworm's Wine 8 cannot load the Rust extensions the toolkit needs (python-calamine); trixie's
Wine 10 can. This module builds a ``debootstrap --variant=minbase trixie`` chroot with ``wine wine64``
(64-bit only: the bundle's python.exe is x64, so no i386 multiarch) and a zh_CN.UTF-8 locale (Wine
derives the ANSI/OEM code pages from it: cp936, as on a Chinese Windows PC). It uses the Debian mirror
that apt on this machine is configured with, and caches the result outside the repository.

    python packaging/windows/winechroot.py build            # build the cache when missing (root)
    python packaging/windows/winechroot.py run DIR -- CMD…  # run CMD in a fresh prefix, DIR bound in

The cache is built in a temporary folder beside its final place and renamed when complete, so an
interrupted build never passes for a good cache. Needs root (debootstrap, chroot, mount).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("ZHENGGAI_WINE_CHROOT", "/var/cache/zhenggai-toolkit/wine-trixie"))
SUITE = "trixie"
PACKAGES = ("wine", "wine64", "locales")
LOCALE = "zh_CN.UTF-8"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
STAMP = ".zhenggai-wine-ready"  # written last: its presence is what makes a cache good
WORK = "/mnt/work"  # where a session's host folder appears inside the chroot (Z:\mnt\work under Wine)


class ChrootError(RuntimeError):
    """The chroot cannot be built or used here (not root, no debootstrap, no mirror)."""


def ready(root: Path = CACHE) -> bool:
    return (root / STAMP).is_file()


def host_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive apt on this machine uses (the first ``…/debian`` URI), else deb.debian.org."""
    if env := os.environ.get("ZHENGGAI_DEBIAN_MIRROR"):
        return env
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    files += sorted((apt_dir / "sources.list.d").glob("*.sources"))
    for file in files:
        try:
            text = file.read_text(errors="replace")
        except OSError:
            continue
        if file.suffix == ".sources":
            uris = re.findall(r"^URIs:\s*(.+)$", text, flags=re.M)
            found = [u for line in uris for u in line.split()]
        else:
            found = re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, flags=re.M)
        for uri in found:
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _run(cmd: Sequence[str], **kwargs) -> None:
    subprocess.run(list(cmd), check=True, **kwargs)


@contextlib.contextmanager
def _mounted(root: Path, binds: dict[str, Path] | None = None) -> Iterator[None]:
    """/proc and /dev (and ``binds``: path in the chroot → host folder) mounted; always unmounted."""
    done: list[Path] = []
    try:
        for target, kind in (("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"])):
            point = root / target
            point.mkdir(exist_ok=True)
            _run(["mount", *kind, str(point)])
            done.append(point)
        for inside, host in (binds or {}).items():
            point = root / inside.lstrip("/")
            point.mkdir(parents=True, exist_ok=True)
            _run(["mount", "--bind", str(host), str(point)])
            done.append(point)
        yield
    finally:
        for point in reversed(done):
            if subprocess.run(["umount", str(point)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(point)], capture_output=True)  # busy: detach it


def build(root: Path = CACHE, mirror: str | None = None, log=sys.stderr) -> float:
    """Build the chroot at ``root`` unless a complete one is there; returns the seconds it took."""
    if ready(root):
        return 0.0
    if os.geteuid() != 0:
        raise ChrootError("building the Wine chroot needs root (debootstrap, chroot, mount)")
    if not shutil.which("debootstrap"):
        raise ChrootError("debootstrap is not installed (apt-get install debootstrap)")
    mirror = mirror or host_mirror()
    started = time.monotonic()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.building-", dir=root.parent))
    staging.chmod(0o755)  # a system's root folder (mkdtemp makes it private)
    try:
        _run(
            ["debootstrap", "--variant=minbase", "--arch=amd64", SUITE, str(staging), mirror],
            stdout=log,
            stderr=log,
        )
        locale_gen = f"s/^# *{re.escape(LOCALE)} /{LOCALE} /"
        script = (
            "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; "
            f"apt-get install -y -q --no-install-recommends {' '.join(PACKAGES)}; "
            f"sed -i '{locale_gen}' /etc/locale.gen; locale-gen; apt-get clean; "
            "rm -rf /var/lib/apt/lists/*"
        )
        with _mounted(staging):
            _run(["chroot", str(staging), "sh", "-c", script], stdout=log, stderr=log)
        (staging / STAMP).write_text(f"{SUITE} {mirror}\n")
        if root.exists():  # an old, incomplete cache (no stamp): replaced
            shutil.rmtree(root)
        staging.rename(root)
    except BaseException:
        with contextlib.suppress(OSError):
            _unmount_below(staging)
            shutil.rmtree(staging)
        raise
    return time.monotonic() - started


def _unmount_below(folder: Path) -> None:
    """Anything still mounted inside ``folder`` (an interrupted build) is detached before removal."""
    with open("/proc/self/mounts") as fh:
        points = [line.split()[1] for line in fh]
    for point in sorted((p for p in points if p.startswith(str(folder) + "/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class Session:
    """A fresh Wine prefix in the chroot, with ``host_dir`` visible at WORK (Z:\\mnt\\work)."""

    def __init__(self, root: Path, host_dir: Path, user: str = "root") -> None:
        self.root = root
        self.host_dir = host_dir
        self.user = user
        self.prefix = f"/tmp/wineprefix-{os.getpid()}-{time.monotonic_ns()}"

    def env(self, extra: dict[str, str] | None = None) -> list[str]:
        env = {
            "WINEDEBUG": "-all",
            "WINEPREFIX": self.prefix,
            # no Mono/Gecko install prompts; no winedbg (a crash is reported by its exit code, not 200 lines)
            "WINEDLLOVERRIDES": "mscoree,mshtml=;winedbg.exe=d",
            "LANG": LOCALE,
            "LC_ALL": LOCALE,
            "HOME": "/root",
            "XDG_RUNTIME_DIR": "/tmp",  # or every wine call warns that it is unset
            "USER": self.user,
            "LOGNAME": self.user,
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        }
        env.update(extra or {})
        return [f"{k}={v}" for k, v in env.items()]

    def run(
        self,
        args: Sequence[str],
        cwd: str = WORK,
        env: dict[str, str] | None = None,
        timeout: float = 600,
        stdin: str | None = None,
        encoding: str = "utf-8",
    ) -> Result:
        """``args`` run in the chroot (``wine …`` or any Linux command), from ``cwd`` inside it."""
        cmd = ["chroot", str(self.root), "/usr/bin/env", "-i", "-C", cwd, *self.env(env), *args]
        started = time.monotonic()
        proc = subprocess.run(
            cmd, capture_output=True, timeout=timeout, input=stdin.encode() if stdin is not None else None
        )
        seconds = time.monotonic() - started
        return Result(
            proc.returncode,
            proc.stdout.decode(encoding, errors="replace"),
            proc.stderr.decode(encoding, errors="replace"),
            seconds,
        )

    def wine(self, *args: str, **kwargs) -> Result:
        return self.run(["wine", *args], **kwargs)

    def cmd(self, *args: str, **kwargs) -> Result:
        """``args`` run by Wine's cmd.exe, as a clerk's console or double-click would: Wine joins them
        into one command line, quoting those with spaces ("…"), which is how cmd.exe wants them."""
        return self.run(["wine", "cmd", "/c", *args], **kwargs)

    def start(self) -> float:
        started = time.monotonic()
        result = self.run(["wineboot", "-i"], timeout=300)
        if result.returncode:
            raise ChrootError(f"wineboot failed ({result.returncode}): {result.stderr[-2000:]}")
        return time.monotonic() - started

    def stop(self) -> None:
        self.run(["wineserver", "-k"], timeout=60)
        self.run(["wineserver", "-w"], timeout=60)
        self.run(["rm", "-rf", self.prefix], timeout=120)


@contextlib.contextmanager
def session(host_dir: Path, root: Path = CACHE, user: str = "root") -> Iterator[Session]:
    """A Wine session over ``host_dir``; everything mounted for it is unmounted afterwards."""
    if not ready(root):
        raise ChrootError(f"no Wine chroot at {root}: run `python {__file__} build` first")
    # the chroot's /tmp (the prefix, wineserver's socket folders) is a fresh folder of the host's, removed
    # afterwards: the cache stays as it was built
    scratch = Path(tempfile.mkdtemp(prefix="zhenggai-wine-tmp-"))
    scratch.chmod(0o1777)
    try:
        with _mounted(root, {WORK: host_dir, "/tmp": scratch}):
            wine = Session(root, host_dir, user)
            try:
                wine.start()
                yield wine
            finally:
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    wine.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def windows_path(inside: str) -> str:
    """A path inside the chroot as Wine's programs see it (Z: is the chroot's root)."""
    return "Z:" + inside.replace("/", "\\")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the cached chroot if missing")
    build_cmd.add_argument("--root", type=Path, default=CACHE)
    run_cmd = sub.add_parser("run", help=f"run a command in a fresh Wine prefix, DIR mounted at {WORK}")
    run_cmd.add_argument("--root", type=Path, default=CACHE)
    run_cmd.add_argument("dir", type=Path)
    run_cmd.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    if options.command == "build":
        seconds = build(options.root)
        print(f"Wine chroot ready at {options.root}" + (f" (built in {seconds:.0f} s)" if seconds else ""))
        return 0
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    with session(options.dir.resolve(), options.root) as wine:
        result = wine.run(args)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
