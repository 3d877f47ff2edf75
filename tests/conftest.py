"""Shared test helpers: run the real CLI in a child process, exactly as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def template_cache_of_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The built-in template's cache (toolkit.render.template_cache): one of the run's own, not the user's,
    for this process and the CLI runs it starts (unless the caller set one)."""
    with pytest.MonkeyPatch.context() as patch:
        if "LEDGER_CACHE_DIR" not in os.environ:
            patch.setenv("LEDGER_CACHE_DIR", str(tmp_path_factory.mktemp("ledger-cache")))
        yield


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_ledger(*args: str | os.PathLike, cwd: str | os.PathLike | None = None, timeout: float = 120) -> Run:
    """``python -m toolkit …`` with this checkout first on the path (works without installing)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_ledger_without_stderr(*args: str | os.PathLike, timeout: float = 120) -> Run:
    """``python -m toolkit …`` started with file descriptor 2 closed (a scheduled job's ``2>&-``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["PYTHONIOENCODING"] = "utf-8"
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        stdout=subprocess.PIPE,
        env=env,
        timeout=timeout,
        preexec_fn=lambda: os.close(2),
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8"), "")


@pytest.fixture
def ledger_cli():
    return run_ledger
