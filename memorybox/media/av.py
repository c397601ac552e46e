"""Sound and video: probing with ffprobe and transcoding with ffmpeg (built by ffmpeg-python).

Every run is hardened against hostile files (an HLS playlist hidden in an AVI once made
ffmpeg copy local files into its output):

- the demuxer is FORCED from the sniffed type (``-f mov`` / ``matroska`` / ``mp3`` /
  ``wav`` / ``ogg`` / ``aac``) and ``-format_whitelist`` allows only that demuxer, so
  ffmpeg never guesses the format, never opens a playlist or a concat list;
- ``-protocol_whitelist file``: nothing but the one local file can be opened, no network;
- only the first real video stream and the first audio stream are read
  (``-map 0:V:0? -map 0:a:0?``; capital ``V`` skips cover art), ``-map_metadata -1``
  and ``-map_chapters -1`` drop every tag and chapter, so data tracks (GPS telemetry such
  as ``gpmd`` / ``camm``, timecode), subtitles and attachments are never copied;
- ``-nostdin``, a hard time limit that kills the process group, a memory limit, an
  output size limit and a two-thread budget (the machines have two cores).

Outputs: video as H.264/AAC MP4 at most 1280x720 (720x1280 upright), even sizes,
``+faststart``, plus a JPEG poster frame; sound as AAC in an ``.m4a``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ffmpeg

from memorybox.media import errors, tools
from memorybox.media.errors import MediaError

PROBE_SECONDS = 30.0
MAX_VIDEO_SECONDS = 30 * 60
MAX_AUDIO_SECONDS = 3 * 60 * 60
MAX_TRANSCODE_SECONDS = 60 * 60
REMUX_SECONDS = 5 * 60
MAX_OUTPUT_BYTES = 2 * 1024**3
VIDEO_BOX = (1280, 720)  # 720p, turned round for upright videos
VIDEO_CRF = 23
AUDIO_BITRATE = "128k"

# The ffmpeg demuxer for each type that sniffing accepts. Never leave the choice to ffmpeg.
DEMUXER: dict[str, str] = {
    "video/mp4": "mov",
    "video/quicktime": "mov",
    "video/3gpp": "mov",
    "audio/mp4": "mov",
    "audio/3gpp": "mov",
    "video/webm": "matroska",
    "audio/webm": "matroska",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "audio/aac": "aac",
}

# Muxer and file extension for a metadata-free copy of the original in its own format.
REMUX: dict[str, tuple[str, str]] = {
    "video/mp4": ("mp4", "mp4"),
    "video/quicktime": ("mov", "mov"),
    "video/3gpp": ("3gp", "3gp"),
    "audio/3gpp": ("3gp", "3gp"),
    "audio/mp4": ("mp4", "m4a"),
    "video/webm": ("webm", "webm"),
    "audio/webm": ("webm", "webm"),
    "audio/mpeg": ("mp3", "mp3"),
    "audio/wav": ("wav", "wav"),
    "audio/ogg": ("ogg", "ogg"),
    "audio/aac": ("adts", "aac"),
}

FIRST_VIDEO = "V:0?"
FIRST_AUDIO = "a:0?"


@dataclass(frozen=True)
class Probe:
    duration: float | None
    width: int | None  # as stored; see display_size for as people see it
    height: int | None
    rotation: int  # 0, 90, 180 or 270
    video_codec: str | None
    audio_codec: str | None
    audio_channels: int | None
    audio_sample_rate: int | None
    taken_at: datetime | None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None and bool(self.width) and bool(self.height)

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int, int] | None:
        if not (self.width and self.height):
            return None
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class VideoResult:
    path: Path  # H.264/AAC MP4
    poster: Path  # JPEG
    width: int
    height: int
    duration: float | None


@dataclass(frozen=True)
class AudioResult:
    path: Path  # AAC in .m4a
    duration: float | None


def demuxer_for(content_type: str) -> str:
    try:
        return DEMUXER[content_type]
    except KeyError:
        raise MediaError(errors.NOT_ALLOWED) from None


def hardened_input(path: Path, content_type: str, **options: Any) -> Any:
    """An ffmpeg-python input with the demuxer forced and only local-file access."""
    demuxer = demuxer_for(content_type)
    extra: dict[str, Any] = {"enable_drefs": 0} if demuxer == "mov" else {}
    return ffmpeg.input(
        str(path),
        f=demuxer,
        format_whitelist=demuxer,
        protocol_whitelist="file",
        threads=tools.FFMPEG_THREADS,
        **extra,
        **options,
    )


def ffmpeg_command(output: Any) -> list[str]:
    """The full command line for an ffmpeg-python output node."""
    return [
        tools.binaries().ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-max_alloc",
        str(tools.FFMPEG_MAX_ALLOC_BYTES),
        "-filter_threads",
        "1",
        "-y",
        *ffmpeg.get_args(output),
    ]


def probe_command(path: Path, content_type: str) -> list[str]:
    demuxer = demuxer_for(content_type)
    entries = (
        "format=duration:format_tags=creation_time,com.apple.quicktime.creationdate"
        ":stream=index,codec_type,codec_name,width,height,duration,channels,sample_rate"
        ":stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation"
    )
    mov = ["-enable_drefs", "0"] if demuxer == "mov" else []
    return [
        tools.binaries().ffprobe,
        "-hide_banner",
        "-loglevel",
        "error",
        "-max_alloc",
        str(tools.FFMPEG_MAX_ALLOC_BYTES),
        "-of",
        "json",
        "-show_entries",
        entries,
        "-f",
        demuxer,
        "-format_whitelist",
        demuxer,
        "-protocol_whitelist",
        "file",
        *mov,
        "-i",
        str(path),
    ]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _rotation(stream: dict[str, Any]) -> int:
    found: Any = (stream.get("tags") or {}).get("rotate")
    for side in stream.get("side_data_list") or []:
        if isinstance(side, dict) and "rotation" in side:
            found = side["rotation"]
    try:
        number = float(found)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(number):
        return 0
    turned = int(round(number)) % 360
    return turned if turned in (0, 90, 180, 270) else 0


def parse_media_date(value: Any) -> datetime | None:
    """A creation date from container tags, or None when missing, zero or nonsense."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.year < 1900 or moment.year > 2200:
        return None
    if (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second) in (
        (1904, 1, 1, 0, 0, 0),
        (1970, 1, 1, 0, 0, 0),
    ):
        return None
    return moment


def parse_probe(data: dict[str, Any]) -> Probe:
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = data.get("format") or {}
    tags = fmt.get("tags") or {}
    duration = _number(fmt.get("duration"))
    if duration is None:
        durations = [_number(s.get("duration")) for s in (video, audio) if s]
        duration = max((d for d in durations if d is not None), default=None)
    taken = parse_media_date(tags.get("com.apple.quicktime.creationdate")) or parse_media_date(
        tags.get("creation_time")
    )
    return Probe(
        duration=duration,
        width=_integer(video.get("width")) if video else None,
        height=_integer(video.get("height")) if video else None,
        rotation=_rotation(video) if video else 0,
        video_codec=(video.get("codec_name") or "unknown") if video else None,
        audio_codec=(audio.get("codec_name") or "unknown") if audio else None,
        audio_channels=_integer(audio.get("channels")) if audio else None,
        audio_sample_rate=_integer(audio.get("sample_rate")) if audio else None,
        taken_at=taken,
    )


def probe(path: Path, content_type: str, kind: str = "video") -> Probe:
    """Read duration, size, rotation, codecs and creation date with ffprobe (30 s at most)."""
    done = tools.run(
        probe_command(path, content_type),
        timeout=PROBE_SECONDS,
        timeout_message=errors.TOO_SLOW.format(what=errors.WHAT.get(kind, "file")),
        memory_bytes=tools.FFMPEG_MEMORY_BYTES,
    )
    if done.returncode != 0:
        raise MediaError(errors.damaged(kind))
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise MediaError(errors.damaged(kind)) from None
    if not isinstance(data, dict):
        raise MediaError(errors.damaged(kind))
    return parse_probe(data)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def target_size(display: tuple[int, int]) -> tuple[int, int]:
    """At most 720p (1280x720, or 720x1280 upright), aspect kept, never enlarged, even."""
    width, height = display
    box_w, box_h = VIDEO_BOX if width >= height else VIDEO_BOX[::-1]
    scale = min(1.0, box_w / width, box_h / height)
    return _even(width * scale), _even(height * scale)


def _time_limit(duration: float | None) -> float:
    return min(MAX_TRANSCODE_SECONDS, 60 + 4 * (duration or MAX_VIDEO_SECONDS))


def _check_duration(info: Probe, limit: float, kind: str) -> None:
    if info.duration is not None and info.duration > limit:
        raise MediaError(errors.TOO_LONG.format(what=errors.WHAT[kind]))


def transcode_video_command(
    path: Path, content_type: str, out: Path, size: tuple[int, int], has_audio: bool
) -> list[str]:
    source = hardened_input(path, content_type)
    streams = [source[FIRST_VIDEO]] + ([source[FIRST_AUDIO]] if has_audio else [])
    width, height = size
    options: dict[str, Any] = {
        "f": "mp4",
        "c:v": "libx264",
        "preset": "veryfast",
        "crf": VIDEO_CRF,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "vf": f"scale={width}:{height},setsar=1",
        "fpsmax": 60,
        "map_metadata": -1,
        "map_chapters": -1,
        "fflags": "+bitexact",
        "movflags": "+faststart",
        "write_tmcd": 0,
        "threads": tools.FFMPEG_THREADS,
        "t": MAX_VIDEO_SECONDS,
        "fs": MAX_OUTPUT_BYTES,
    }
    if has_audio:
        options.update({"c:a": "aac", "b:a": AUDIO_BITRATE, "ac": 2})
    return ffmpeg_command(ffmpeg.output(*streams, str(out), **options))


def poster_command(video: Path, out: Path, at_seconds: float) -> list[str]:
    source = hardened_input(video, "video/mp4", ss=f"{at_seconds:.3f}")
    options = {"f": "mjpeg", "frames:v": 1, "q:v": 3, "pix_fmt": "yuvj420p", "map_metadata": -1}
    return ffmpeg_command(ffmpeg.output(source[FIRST_VIDEO], str(out), **options))


def transcode_audio_command(path: Path, content_type: str, out: Path, info: Probe) -> list[str]:
    source = hardened_input(path, content_type)
    options: dict[str, Any] = {
        "f": "mp4",
        "c:a": "aac",
        "b:a": AUDIO_BITRATE,
        "vn": None,
        "map_metadata": -1,
        "map_chapters": -1,
        "fflags": "+bitexact",
        "movflags": "+faststart",
        "threads": tools.FFMPEG_THREADS,
        "t": MAX_AUDIO_SECONDS,
        "fs": MAX_OUTPUT_BYTES,
    }
    if (info.audio_channels or 0) > 2:
        options["ac"] = 2
    if (info.audio_sample_rate or 0) > 48000:
        options["ar"] = 48000
    return ffmpeg_command(ffmpeg.output(source[FIRST_AUDIO], str(out), **options))


def remux_command(path: Path, content_type: str, out: Path, kind: str) -> list[str]:
    """A stream copy of the first video and audio streams with every tag left behind."""
    muxer, _ = REMUX[content_type]
    source = hardened_input(path, content_type)
    streams = [source[FIRST_AUDIO]] if kind == "audio" else [source[FIRST_VIDEO]]
    if kind == "video":
        streams.append(source[FIRST_AUDIO])
    options: dict[str, Any] = {
        "f": muxer,
        "c": "copy",
        "map_metadata": -1,
        "map_chapters": -1,
        "fflags": "+bitexact",  # no encoder name or version tags either
        "fs": MAX_OUTPUT_BYTES,
    }
    if muxer in ("mp4", "mov", "3gp"):
        options.update({"movflags": "+faststart", "write_tmcd": 0})
    if muxer == "mp3":
        options["id3v2_version"] = 0
    return ffmpeg_command(ffmpeg.output(*streams, str(out), **options))


def _run_ffmpeg(command: list[str], out: Path, kind: str, seconds: float) -> None:
    """Run ffmpeg; on any failure nothing half-written is left at ``out``."""
    try:
        done = tools.run(
            command,
            timeout=seconds,
            timeout_message=errors.TOO_SLOW.format(what=errors.WHAT[kind]),
            memory_bytes=tools.FFMPEG_MEMORY_BYTES,
            capture_stdout=False,
        )
    except MediaError:
        out.unlink(missing_ok=True)
        raise
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        out.unlink(missing_ok=True)
        raise MediaError(errors.damaged(kind))


def transcode_video(
    path: Path, content_type: str, out_dir: Path, info: Probe | None = None
) -> VideoResult:
    """An H.264/AAC MP4 (at most 720p, +faststart) and a JPEG poster in ``out_dir``."""
    info = info or probe(path, content_type, "video")
    display = info.display_size
    if not info.has_video or display is None:
        raise MediaError(errors.DAMAGED_VIDEO)
    _check_duration(info, MAX_VIDEO_SECONDS, "video")
    out = out_dir / "video.mp4"
    size = target_size(display)
    command = transcode_video_command(path, content_type, out, size, info.has_audio)
    _run_ffmpeg(command, out, "video", _time_limit(info.duration))
    made = probe(out, "video/mp4", "video")
    if not made.has_video or made.display_size is None:
        out.unlink(missing_ok=True)
        raise MediaError(errors.DAMAGED_VIDEO)
    poster = make_poster(out, out_dir, made.duration)
    width, height = made.display_size
    return VideoResult(out, poster, width, height, made.duration)


def make_poster(video: Path, out_dir: Path, duration: float | None) -> Path:
    """A JPEG of one frame of our own MP4, a little way in (the first frame is often black)."""
    out = out_dir / "poster.jpg"
    moments = [min(1.0, duration / 4)] if duration else []
    for at in [*moments, 0.0]:
        out.unlink(missing_ok=True)
        try:
            _run_ffmpeg(poster_command(video, out, at), out, "video", 60)
        except MediaError:
            continue
        return out
    raise MediaError(errors.DAMAGED_VIDEO)


def transcode_audio(
    path: Path, content_type: str, out_dir: Path, info: Probe | None = None
) -> AudioResult:
    """AAC in an ``.m4a`` in ``out_dir``; its duration in seconds."""
    info = info or probe(path, content_type, "audio")
    if not info.has_audio:
        raise MediaError(errors.DAMAGED_SOUND)
    _check_duration(info, MAX_AUDIO_SECONDS, "audio")
    out = out_dir / "sound.m4a"
    command = transcode_audio_command(path, content_type, out, info)
    _run_ffmpeg(command, out, "audio", _time_limit(info.duration))
    made = probe(out, "audio/mp4", "audio")
    if not made.has_audio:
        out.unlink(missing_ok=True)
        raise MediaError(errors.DAMAGED_SOUND)
    return AudioResult(out, made.duration)


def remux_without_metadata(path: Path, content_type: str, out: Path, kind: str) -> None:
    """Copy the first video/audio streams into ``out`` in the same format, with no tags."""
    _run_ffmpeg(remux_command(path, content_type, out, kind), out, kind, REMUX_SECONDS)
