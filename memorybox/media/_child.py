"""The child process that decodes photos and documents (see :func:`tools.run_job`).

It reads ``{"arguments": {...}, "memory_bytes": N}`` on standard input, runs the job and
prints one JSON line: ``{"ok": result}`` or ``{"error": message}``. Only messages from
:mod:`memorybox.media.errors` are ever sent; anything unexpected sends ``null`` and the
parent uses its own "damaged" message. Started by :func:`memorybox.media.tools.run_job`.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable
from typing import Any

from memorybox.media.errors import MediaError


def _jobs() -> dict[str, Callable[..., dict[str, Any]]]:
    from memorybox.media import images, metadata, pdf

    return {
        "images.check": images.check_here,
        "images.renditions": images.renditions_here,
        "metadata.clean_image": metadata.clean_image_here,
        "metadata.photo": metadata.photo_here,
        "pdf.check": pdf.check_here,
        "pdf.preview": pdf.preview_here,
    }


def _limit_memory(memory_bytes: int) -> None:
    """A second guard beside ``prlimit``, for machines without it."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard == resource.RLIM_INFINITY or memory_bytes < hard:
            resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, hard))
    except (ValueError, OSError):
        pass


def main(argv: list[str]) -> int:
    request = json.loads(sys.stdin.read())
    _limit_memory(int(request.get("memory_bytes", 0)) or 1536 * 1024**2)
    answer: dict[str, Any]
    try:
        job = _jobs()[argv[1]]
        answer = {"ok": job(**request["arguments"])}
    except MediaError as exc:
        answer = {"error": exc.message}
    except Exception:  # a decoder failing in any way (or MemoryError) means "damaged"
        answer = {"error": None}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
