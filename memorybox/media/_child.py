"""The child process that decodes photos and documents (see :func:`tools.run_job`).

One process, one job. Started as ``python -c BOOTSTRAP <memory bytes>`` (under
``prlimit --data``), it first limits itself (data memory, no core dumps), imports what
photo jobs need and readies its heap (see :func:`_get_ready`), then waits on standard
input for ONE line, its job:
``{"job": name, "arguments": {...}, "memory_bytes": N, "cpu_seconds": S}``. It answers
``started`` at once (the parent then knows the job reached it), lowers its memory limit to
the job's, sets ``RLIMIT_CPU`` to ``S`` more seconds than it has used, runs the job, prints
one JSON line, ``{"ok": result}`` or ``{"error": message}``, and ends (``os._exit``: see
:func:`run`). The end of input instead of a job (a spare nobody needed, or its parent
gone) ends it quietly.

Only messages from :mod:`memorybox.media.errors` are ever sent; anything unexpected sends
``null`` and the parent uses its own "damaged" message.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import math
import os
import resource
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from memorybox.media.errors import MediaError

ACK = b"started\n"
MAX_REQUEST_BYTES = 64 * 1024
DEFAULT_MEMORY_BYTES = 1536 * 1024**2

# job name -> (module in memorybox.media, function)
JOBS = {
    "images.check": ("images", "check_here"),
    "images.renditions": ("images", "renditions_here"),
    "metadata.clean_image": ("metadata", "clean_image_here"),
    "metadata.photo": ("metadata", "photo_here"),
    "pdf.check": ("pdf", "check_here"),
    "pdf.preview": ("pdf", "preview_here"),
}
# What a waiting child imports before its job arrives: what photos need (most uploads),
# and the parts of Pillow it would otherwise import on first use (EXIF reading, and the
# five plugins ``Image.open`` always imports). PDFium (pdf) only comes with a PDF's job.
PRELOAD = ("memorybox.media.images", "memorybox.media.metadata", "PIL.TiffImagePlugin")
HEAP_READY_BYTES = 32 * 1024**2
HEAP_BLOCK_BYTES = 8 * 1024**2


def _job(name: str) -> Callable[..., dict[str, Any]]:
    module, function = JOBS[name]
    found: Callable[..., dict[str, Any]] = getattr(
        importlib.import_module(f"memorybox.media.{module}"), function
    )
    return found


def _lower(limit: int, value: int) -> None:
    """Lower both the soft and the hard ``limit`` to ``value`` (never raise them)."""
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(limit)
        if hard == resource.RLIM_INFINITY or value < hard:
            resource.setrlimit(limit, (value, value))


def _limit_cpu(seconds: int) -> None:
    """SIGXCPU (which ends the process) after ``seconds`` more CPU seconds, SIGKILL 1 s on."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(used.ru_utime + used.ru_stime) + max(1, seconds)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


def _say(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _get_ready() -> None:
    """Everything a photo job would otherwise do first: imports, and the heap it will use."""
    gc.disable()  # importing makes many objects and no garbage
    for module in PRELOAD:
        importlib.import_module(module)
    from PIL import Image

    Image.preinit()
    gc.enable()
    # Touch the memory a 12-megapixel photo's job uses, then give it back to the heap, which
    # keeps it (``tools.CHILD_MALLOC_ENV``): the job then finds its pages ready instead of
    # taking thousands of page faults. Blocks under the allocator's mmap threshold.
    held = [bytearray(HEAP_BLOCK_BYTES) for _ in range(HEAP_READY_BYTES // HEAP_BLOCK_BYTES)]
    del held


def main(argv: list[str]) -> int:
    # A second guard beside ``prlimit``, for machines without it.
    _lower(resource.RLIMIT_DATA, int(argv[1]) if len(argv) > 1 else DEFAULT_MEMORY_BYTES)
    _lower(resource.RLIMIT_CORE, 0)  # a crash never writes what it decoded to disk
    _get_ready()
    line = sys.stdin.buffer.readline(MAX_REQUEST_BYTES)
    if not line.endswith(b"\n"):
        return 0  # no job: a spare nobody needed
    _say(ACK)
    answer: dict[str, Any]
    try:
        request = json.loads(line)
        _lower(resource.RLIMIT_DATA, int(request["memory_bytes"]))
        _limit_cpu(int(request["cpu_seconds"]))
        job = _job(request["job"])
        answer = {"ok": job(**request["arguments"])}
    except MediaError as exc:
        answer = {"error": exc.message}
    except Exception:  # a decoder failing in any way (or MemoryError) means "damaged"
        answer = {"error": None}
    _say(json.dumps(answer).encode() + b"\n")
    return 0


def run(argv: list[str]) -> NoReturn:
    """:func:`main`, then end at once: the answer is sent and every file it wrote is
    closed, so the interpreter's tidying up (tens of milliseconds) is of no use."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run(sys.argv)
