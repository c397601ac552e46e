"""The decoding child: one job per process, warm spares, limits per job, nothing left behind.

Jobs go through :func:`tools.run_job` as the app calls it. Which process ran a job is read
from the debug line ``media job in child <pid> (spare|new)`` that ``tools`` logs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memorybox.media import _child, errors, tools
from memorybox.media.errors import MediaError
from tests.media import makers

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _gone(pids: list[int], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _waiting(pid: int) -> bool:
    """Started, imports done, blocked reading its job from the pipe."""
    try:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def _warm_spares(count: int = tools.SPARE_CHILDREN) -> list[int]:
    """Spares started and waiting for a job (imports done)."""
    tools.warm_up()
    pids = tools.spare_pids()
    assert len(pids) == count
    deadline = time.monotonic() + 30
    while not all(_waiting(pid) for pid in pids):
        assert time.monotonic() < deadline, "the spares never became ready"
        time.sleep(0.02)
    return pids


def _limits(pid: int) -> dict[str, str]:
    """``/proc/<pid>/limits`` as name -> "soft hard"."""
    found = {}
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]:
        name = line[:26].strip()
        found[name] = " ".join(line[26:].split()[:2])
    return found


@pytest.fixture(autouse=True)
def spares(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends with no spare waiting, spares on (the default)."""
    monkeypatch.delenv("MEMORYBOX_MEDIA_SPARES", raising=False)
    tools.discard_spares()
    yield
    tools.discard_spares()


@pytest.fixture
def used(caplog: pytest.LogCaptureFixture) -> Iterator[list[tuple[int, str]]]:
    """(pid, "spare" or "new") of every child a job ran in, in order."""
    caplog.set_level(logging.DEBUG, logger="memorybox.media.tools")
    seen: list[tuple[int, str]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = re.fullmatch(r"media job in child (\d+) \((spare|new)\)", record.getMessage())
            if found:
                seen.append((int(found[1]), found[2]))

    handler = Collect(logging.DEBUG)
    logger = logging.getLogger("memorybox.media.tools")
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


@pytest.fixture(scope="module")
def small_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("child") / "small.jpg"
    makers.picture(64, 48).save(path, "JPEG")
    return path


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 megapixels, stored without compression: about a second of work to render."""
    path = tmp_path_factory.mktemp("child") / "big.png"
    makers.picture(6000, 6000).save(path, "PNG", compress_level=0)
    return path


def _check(path: Path, memory_bytes: int = tools.CHILD_MEMORY_BYTES) -> dict[str, object]:
    arguments = {"path": str(path), "content_type": "image/jpeg"}
    return tools.run_job(
        "images.check", arguments, kind="photo", timeout=30, memory_bytes=memory_bytes
    )


def _renditions(
    path: Path, out: Path, timeout: float = 60, memory_bytes: int = tools.CHILD_MEMORY_BYTES
) -> dict[str, object]:
    arguments = {"path": str(path), "content_type": "image/png", "out_dir": str(out)}
    return tools.run_job(
        "images.renditions", arguments, kind="photo", timeout=timeout, memory_bytes=memory_bytes
    )


def test_every_job_runs_in_a_process_of_its_own_which_then_ends(small_jpeg, used):
    for _ in range(5):
        assert _check(small_jpeg) == {"width": 64, "height": 48}
        pid, _how = used[-1]
        assert _gone([pid], 5), "the job's process ended with its job"
        assert pid not in tools.spare_pids()
    pids = [pid for pid, _ in used]
    assert len(set(pids)) == 5, "no two jobs shared a process"
    assert [how for _, how in used] == ["new"] + ["spare"] * 4
    assert len(tools.spare_pids()) == tools.SPARE_CHILDREN, "bounded, and replaced"


def test_a_child_takes_one_job_and_ignores_anything_more(small_jpeg):
    child = tools._Child.start(tools.CHILD_MEMORY_BYTES)
    request = {
        "job": "images.check",
        "arguments": {"path": str(small_jpeg), "content_type": "image/jpeg"},
        "memory_bytes": tools.CHILD_MEMORY_BYTES,
        "cpu_seconds": 10,
    }
    line = json.dumps(request).encode() + b"\n"
    child.hand_over(line + line + line)
    done = child.answer(30, "slow")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] + b"\n" == _child.ACK
    assert [json.loads(x) for x in lines[1:]] == [{"ok": {"width": 64, "height": 48}}]


def test_a_spare_with_no_job_ends_quietly():
    child = tools._Child.start(tools.CHILD_MEMORY_BYTES)
    assert child.proc.stdin is not None
    child.proc.stdin.close()
    assert child.proc.wait(timeout=30) == 0
    child.discard()


def test_a_warm_child_still_stops_at_its_time_limit(big_png, tmp_path, used):
    spares = _warm_spares()
    started = time.monotonic()
    with pytest.raises(MediaError) as failed:
        _renditions(big_png, tmp_path, timeout=0.2)
    assert str(failed.value) == errors.TOO_SLOW.format(what="photo")
    assert time.monotonic() - started < 5
    pid, how = used[-1]
    assert (how, pid) == ("spare", spares[0])
    assert _gone([pid], 5), "killed"


def test_a_warm_child_is_held_to_the_jobs_memory_limit(big_png, tmp_path, used):
    spares = _warm_spares()
    with pytest.raises(MediaError) as failed:
        _renditions(big_png, tmp_path, memory_bytes=64 * 1024**2)
    assert str(failed.value) in {errors.TOO_BIG_PHOTO, errors.DAMAGED_PHOTO}
    assert used[-1] == (spares[0], "spare")
    # the same file with the usual limit, in the next spare: it was the limit that refused it
    made = _renditions(big_png, tmp_path)
    assert made["width"] == 6000
    assert used[-1] == (spares[1], "spare")


def test_limits_that_belong_to_the_job_are_set_when_it_arrives(big_png, tmp_path, used):
    (spare, _) = _warm_spares()
    before = _limits(spare)
    assert before["Max cpu time"] == "unlimited unlimited"
    assert before["Max data size"] == f"{tools.CHILD_MEMORY_BYTES} {tools.CHILD_MEMORY_BYTES}"
    assert before["Max core file size"] == "0 0"
    memory = 1024**3
    job = threading.Thread(
        target=_renditions, args=(big_png, tmp_path), kwargs={"memory_bytes": memory}
    )
    job.start()
    try:
        deadline = time.monotonic() + 10
        during = before
        while during["Max cpu time"] == "unlimited unlimited" and time.monotonic() < deadline:
            time.sleep(0.005)
            during = _limits(spare)
    finally:
        job.join()
    assert used[-1] == (spare, "spare")
    soft, hard = (int(x) for x in during["Max cpu time"].split())
    # The job's CPU budget (60 s of wall time on every core, plus one) on top of the few
    # CPU seconds the spare used while it started: exactly that, give or take its start-up.
    budget = tools.cpu_seconds_for(60)
    assert budget < soft <= budget + 2
    assert hard == soft + 1
    assert during["Max data size"] == f"{memory} {memory}"


def test_running_out_of_cpu_time_is_too_slow(monkeypatch):
    said = tools.Completed(-signal.SIGXCPU, _child.ACK, 1.0)
    monkeypatch.setattr(tools, "_run_in_child", lambda *args: said)
    with pytest.raises(MediaError) as failed:
        tools.run_job("images.check", {}, kind="photo", timeout=1)
    assert str(failed.value) == errors.TOO_SLOW.format(what="photo")


def test_a_spare_that_died_is_replaced_and_the_next_job_works(small_jpeg, used):
    spares = _warm_spares()
    for pid in spares:
        os.kill(pid, signal.SIGKILL)
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert used[-1][0] not in spares
    assert not set(tools.spare_pids()) & set(spares)
    assert _gone(spares, 5)


def test_a_spare_killed_after_it_was_handed_the_job_is_tried_again(small_jpeg, used, monkeypatch):
    """It never read the job (no acknowledgement), so the file is not to blame."""
    monkeypatch.setenv("MEMORYBOX_MEDIA_SPARES", "1")
    (spare,) = _warm_spares(1)
    monkeypatch.setattr(tools._Child, "fresh", lambda self: True)  # looks alive when taken
    os.kill(spare, signal.SIGKILL)
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert used[0] == (spare, "spare")
    assert len(used) == 2 and used[1][0] != spare


def test_when_every_spare_died_at_once_the_second_try_is_a_fresh_child(
    small_jpeg, used, monkeypatch
):
    """Both spares killed (and, just killed, still looking alive): the first try takes one,
    the second does not take the other but starts a new child."""
    spares = _warm_spares()
    assert len(spares) == 2
    monkeypatch.setattr(tools._Child, "fresh", lambda self: True)
    for pid in spares:
        os.kill(pid, signal.SIGKILL)
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert used[0][0] in spares and used[0][1] == "spare"
    assert used[1][1] == "new" and used[1][0] not in spares


def test_a_child_that_never_takes_its_job_is_not_ready_not_damaged(small_jpeg, monkeypatch):
    monkeypatch.setattr(
        tools, "CHILD_BOOTSTRAP", "import sys; sys.exit(3)"
    )  # every child fails before it reads its job
    with pytest.raises(MediaError) as failed:
        _check(small_jpeg)
    assert str(failed.value) == errors.NOT_READY


def test_a_child_that_crashes_mid_job_is_damaged_and_the_next_job_works(
    big_png, small_jpeg, tmp_path, used
):
    _warm_spares()
    failed: list[BaseException] = []

    def job() -> None:
        try:
            _renditions(big_png, tmp_path)
        except MediaError as exc:
            failed.append(exc)

    running = threading.Thread(target=job)
    running.start()
    deadline = time.monotonic() + 10
    while not used and time.monotonic() < deadline:
        time.sleep(0.005)
    crashed, _ = used[0]
    time.sleep(0.1)  # well into its job
    os.kill(crashed, signal.SIGSEGV)  # what a decoder bug would do
    running.join()
    assert [str(exc) for exc in failed] == [errors.DAMAGED_PHOTO]
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert used[-1][0] != crashed and not _alive(crashed)


def test_failed_jobs_leave_the_next_job_working(tmp_path, small_jpeg, used):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(small_jpeg.read_bytes()[:200])
    with pytest.raises(MediaError, match="damaged"):
        _check(broken)
    with pytest.raises(MediaError, match="damaged"):
        tools.run_job("os.system", {"command": "true"}, kind="photo", timeout=10)
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert len({pid for pid, _ in used}) == 3


def test_an_old_spare_is_thrown_away(small_jpeg, used, monkeypatch):
    spares = _warm_spares()
    monkeypatch.setattr(tools, "SPARE_MAX_AGE_SECONDS", 0.0)
    assert _check(small_jpeg) == {"width": 64, "height": 48}
    assert used[-1][1] == "new"
    assert _gone(spares, 5)


def test_spares_can_be_turned_off(small_jpeg, used, monkeypatch):
    monkeypatch.setenv("MEMORYBOX_MEDIA_SPARES", "0")
    _check(small_jpeg)
    _check(small_jpeg)
    assert [how for _, how in used] == ["new", "new"]
    assert tools.spare_pids() == []


def test_a_job_needing_more_memory_than_a_spare_has_gets_its_own_child(small_jpeg, used):
    spares = _warm_spares()
    _check(small_jpeg, memory_bytes=tools.CHILD_MEMORY_BYTES + 1024**2)
    assert used[-1][1] == "new"
    assert tools.spare_pids() == spares, "the spares wait for the next ordinary job"


def test_a_forked_copy_of_the_process_forgets_its_parents_spares():
    spares = _warm_spares()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked copy
        os._exit(0 if tools.spare_pids() == [] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert tools.spare_pids() == spares
    assert all(_alive(pid) for pid in spares), "the copy left the parent's spares alone"


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from memorybox.media import tools
    tools.run_job(
        "images.check", {"path": sys.argv[1], "content_type": "image/jpeg"},
        kind="photo", timeout=30,
    )
    print(" ".join(map(str, tools.spare_pids())), flush=True)
    if sys.argv[2] == "hang":
        time.sleep(60)
    """
)


@pytest.mark.parametrize("how", ["exit", "killed"])
def test_no_child_is_left_behind_when_the_process_ends(small_jpeg, how):
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SCRIPT, str(small_jpeg), "hang" if how == "killed" else "-"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    pids = [int(x) for x in proc.stdout.readline().split()]
    assert len(pids) == tools.SPARE_CHILDREN
    if how == "killed":
        proc.kill()
    proc.wait(timeout=30)
    assert _gone(pids), "the spares ended with the process"


def test_a_spare_sees_almost_nothing_of_our_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-pass-this-on")
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    (spare, _) = _warm_spares()
    seen = dict(
        entry.split(b"=", 1)
        for entry in Path(f"/proc/{spare}/environ").read_bytes().split(b"\0")
        if entry
    )
    assert set(seen) == {b"PATH", b"LC_ALL", b"LANG"} | {
        name.encode() for name in tools.CHILD_MALLOC_ENV
    }
