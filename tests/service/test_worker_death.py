"""A worker killed with SIGKILL (as the OOM killer does) leaves no process behind: the scheduler process
RQ forks from it exits with it. A real ``inspector worker`` process, a private Redis, SQLite."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from inspector.settings import PROJECT_ROOT


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_worker_leaves_no_child_behind(tmp_path: Path, redis_url: str) -> None:
    env = {
        **os.environ,
        "INSPECTOR_DATA_DIR": str(tmp_path / "data"),
        "INSPECTOR_REDIS_URL": redis_url,
        "INSPECTOR_QUEUE__NAME": f"test-death-{uuid.uuid4().hex[:8]}",  # its own scheduler lock
    }
    env.pop("INSPECTOR_DATABASE_URL", None)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "inspector"), "worker"], env=env, cwd=PROJECT_ROOT,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # the worker loads the speech models before it forks
        children: list[int] = []
        while not children:
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker started no scheduler process"
            time.sleep(0.2)
            children = [pid for pid in _children(worker.pid) if _alive(pid)]

        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "a child of the killed worker is still running"
    finally:
        with contextlib.suppress(ProcessLookupError):  # also takes down any survivor (same session)
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
