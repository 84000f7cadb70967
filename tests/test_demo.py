"""The README's main job, as a new user runs it: `hefa demo` completes all five kinds."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import hefa_bin

pytestmark = pytest.mark.prefect


def test_hefa_demo_closes_every_kind_and_the_chain_verifies(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEFA_", "PREFECT_"))}
    done = subprocess.run([hefa_bin(), "demo", "--home", str(tmp_path / "demo")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    out = done.stdout
    assert "办结 5/5 个事项" in out and "审计链完整" in out and "演示通过" in out
    assert "deliberation  拒绝" in out  # the refused bypass
    assert out.count("opinion       接受") >= 6  # unlawful, then lawful after revision, and the others
    assert "身份验证失败" in out  # the wrong one-time code through the form
    assert "/runs/flow-run/" in out
    port = int(re.search(r"Prefect UI: http://127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    with pytest.raises(OSError):  # the demo stopped the server it started
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not (tmp_path / "demo" / "run" / "desk.sock").exists()


def test_a_failing_demo_says_why_and_never_wipes_a_home_in_use(tmp_path: Path) -> None:
    """Another demo's `hefa serve` holds the home: this one refuses, says so, and exits 1."""
    import fcntl

    home = tmp_path / "demo"
    home.mkdir()
    (home / "keep.txt").write_text("another demo's data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEFA_", "PREFECT_"))}
    with (home / "serve.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run([hefa_bin(), "demo", "--home", str(home)], env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 1
    assert "演示未通过" in done.stdout and "正被另一个 hefa serve" in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert (home / "keep.txt").exists()
