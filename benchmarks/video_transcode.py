"""(c) Video processing wall time: ``av.transcode_video`` against one bare ffmpeg command.

Run: ``.venv/bin/python -m benchmarks.video_transcode``.

Input: a 10 s 1920x1080 30 fps H.264 (high profile, about 12 Mbit/s, a keyframe every
second) + 48 kHz stereo AAC MP4, like a phone's, made here from ffmpeg's ``testsrc2`` and
``sine`` sources.

Ours: :func:`memorybox.media.av.transcode_video` with no probe given, i.e. everything it
does: ffprobe the input; one hardened ffmpeg run (forced demuxer, whitelists, memory and
time limits, ``-filter_threads 1``, no metadata) to a 720p H.264/AAC ``+faststart`` MP4;
ffprobe the result; a second ffmpeg run for the JPEG poster one second in.

Baseline: the single plain ffmpeg command a person would write for the same outputs, with
the same binary and the same encoder settings (libx264 veryfast, CRF 23, high profile,
yuv420p, 1280x720, AAC 128k stereo, ``+faststart``, ``-threads 2`` for decoding and
encoding, poster ``-q:v 3``), the poster taken from the same decode (``split``, then
``trim`` to the one frame at 1 s, so only that frame is converted for the JPEG). No
probes, no limits, no whitelists, ffmpeg's default filter threads.

They run interleaved; RATIO = our median wall time / the bare command's (<= 1.1 passes).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from benchmarks._common import Result, main_for, median, timed
from memorybox.media import av, tools

TARGET = 1.1
CLIP_SECONDS = 10


def make_clip(out: Path) -> Path:
    """A phone-like 10 s 1080p30 H.264 + AAC MP4."""
    command = [
        tools.binaries().ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1920x1080:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        str(CLIP_SECONDS),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-b:v",
        "12M",
        "-maxrate",
        "15M",
        "-bufsize",
        "24M",
        "-g",
        "30",
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        str(out),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - a fixed argument list
    return out


def bare_command(source: Path, out_dir: Path, extra_global: tuple[str, ...] = ()) -> list[str]:
    width, height = av.VIDEO_BOX
    return [
        tools.binaries().ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        *extra_global,
        "-threads",
        str(tools.FFMPEG_THREADS),
        "-i",
        str(source),
        "-filter_complex",
        # the poster branch keeps one frame, one second in, and then ends
        f"[0:v:0]scale={width}:{height},setsar=1,split=2[v][p0];"
        "[p0]trim=start=1,trim=end_frame=1[p]",
        "-map",
        "[v]",
        "-map",
        "0:a:0",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        str(av.VIDEO_CRF),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        str(tools.FFMPEG_THREADS),
        "-c:a",
        "aac",
        "-b:a",
        av.AUDIO_BITRATE,
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        str(out_dir / "bare.mp4"),
        "-map",
        "[p]",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "-pix_fmt",
        "yuvj420p",
        str(out_dir / "bare.jpg"),
    ]


def run(args: argparse.Namespace) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        root = Path(tmp)
        print("making a 10 s 1080p phone-like clip ...", flush=True)
        clip = make_clip(root / "phone.mp4")
        out = root / "out"
        out.mkdir()

        def ours() -> None:
            made = av.transcode_video(clip, "video/mp4", out)
            assert (made.width, made.height) == av.VIDEO_BOX and made.poster.is_file()

        def bare(extra: tuple[str, ...] = ()) -> None:
            subprocess.run(bare_command(clip, out, extra), check=True)  # noqa: S603
            assert (out / "bare.mp4").stat().st_size > 0 and (out / "bare.jpg").is_file()

        ours_s: list[float] = []
        bare_s: list[float] = []
        bare1_s: list[float] = []
        print(f"timing {args.rounds} rounds (ours, bare, bare with -filter_threads 1) ...")
        for round_ in range(args.rounds):
            steps = [
                ("ours", ours),
                ("bare", bare),
                ("bare1", lambda: bare(("-filter_threads", "1"))),
            ]
            if round_ % 2:
                steps.reverse()
            for name, step in steps:
                seconds = timed(step)
                {"ours": ours_s, "bare": bare_s, "bare1": bare1_s}[name].append(seconds)
                print(f"  {name:5s} {seconds:6.2f} s", flush=True)
        our_bytes = (out / "video.mp4").stat().st_size
        bare_bytes = (out / "bare.mp4").stat().st_size
    ratio = median(ours_s) / median(bare_s)
    return Result(
        name="video_transcode",
        title="(c) Video: 10 s 1080p H.264 phone clip -> 720p H.264/AAC MP4 + poster",
        ours=f"{median(ours_s):.2f} s (av.transcode_video: probe, transcode, probe, poster)",
        baseline=f"{median(bare_s):.2f} s (one plain ffmpeg command, same encoder settings)",
        ratio=ratio,
        ratio_meaning="ours / bare ffmpeg, wall time",
        target=f"<= {TARGET}",
        passed=ratio <= TARGET,
        notes=[
            f"{args.rounds} rounds, interleaved; medians; ffmpeg {tools.binaries().ffmpeg}",
            f"the bare command with -filter_threads 1 as ours has: {median(bare1_s):.2f} s "
            f"(ratio {median(ours_s) / median(bare1_s):.3f})",
            f"MP4 sizes: ours {our_bytes / 1024:.0f} KiB, bare {bare_bytes / 1024:.0f} KiB",
        ],
        details={"ours_seconds": ours_s, "bare_seconds": bare_s, "bare_filter1_seconds": bare1_s},
    )


def main() -> None:
    main_for("video_transcode", run, rounds=(int, 5, "how many times to time each side"))


if __name__ == "__main__":
    main()
