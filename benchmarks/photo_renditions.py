"""(b) Photo renditions per second on 12-megapixel JPEGs: ours against pyvips.

Run: ``.venv/bin/python -m benchmarks.photo_renditions`` (needs the ``bench`` extra).

Inputs: a few different 4000x3000 JPEGs (quality 90, gradients + shapes + texture + grain,
about 3.6 MB each, one of them with EXIF orientation 6), made here with Pillow.

Ours: :func:`memorybox.media.images.make_renditions`, exactly as the worker calls it: the
job runs in a child process of its own (``prlimit`` memory cap, CPU and wall-clock limits,
one job per process) that opens the JPEG with only the JPEG decoder and the bomb checks,
decodes it once at a reduced scale, and writes the 320 and 1600 px WebP renditions
(quality ``WEBP_QUALITY``, method ``WEBP_METHOD``, EXIF orientation applied, no metadata
but the ICC profile). As in the worker, the child is a warm spare started while the
previous job ran, and taking it starts its replacement, whose start-up (interpreter,
imports) then runs beside this job on the same two cores: that cost is inside the timing.

Baseline: ``pyvips.Image.thumbnail(file, size, height=size, size="down")`` then
``webpsave(Q=WEBP_QUALITY, effort=WEBP_METHOD, keep=ICC)`` for each of the same two sizes,
from the same files, in this process, libvips' own threading (all cores) and its
operation cache turned off (each real upload is a new file). No child process, no limits.

How it is timed: sequential throughput. Each side does all the photos back to back and
the batch's wall time is divided by the number of photos; right before each batch one
untimed photo goes through the same side (a lead-in), so our batch starts the way it
would in the middle of a stream of uploads (the spares are the ones started during the
job before, still warming up or just warm) and the replacements started during the batch
are paid for in it. Sides take turns in a rotating order each round (ours, pyvips, ...)
so that load from anything else on the machine falls on all alike; the figure is the
median over rounds. Both sides write the same sizes (checked) in the same format, quality
and effort. RATIO = our renditions per second / pyvips renditions per second (>= 1.0
means ours is at least as fast). For the record it also measures: the same work in this
process without any child; ours with the spares turned off (a child started for each
job: what the spare saves); the pipeline's whole photo step; and two photos at a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import Result, main_for, make_photos, median, timed
from memorybox.media import images, metadata, tools

TARGET = 1.0
SPARES_VARIABLE = "MEMORYBOX_MEDIA_SPARES"


def _vips() -> Any:
    try:
        import pyvips
    except ImportError as exc:  # pragma: no cover - a message for people
        raise SystemExit(
            "pyvips is missing: .venv/bin/pip install -e '.[bench]' (pyvips + pyvips-binary)"
        ) from exc
    pyvips.cache_set_max(0)
    return pyvips


def ours(photo: Path, out: Path) -> list[tuple[int, int]]:
    made = images.make_renditions(photo, "image/jpeg", out)
    return sorted((r.width, r.height) for r in made.renditions)


def theirs(pyvips: Any, photo: Path, out: Path) -> list[tuple[int, int]]:
    sizes = []
    for longest in images.RENDITION_SIZES:
        thumb = pyvips.Image.thumbnail(str(photo), longest, height=longest, size="down")
        thumb.webpsave(
            str(out / f"vips-{longest}.webp"),
            Q=images.WEBP_QUALITY,
            effort=images.WEBP_METHOD,
            keep=pyvips.enums.ForeignKeep.ICC,
        )
        sizes.append((thumb.width, thumb.height))
    return sorted(sizes)


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.webp"))


def _batch(step: Callable[[Path, Path], object], photos: list[Path], root: Path) -> float:
    """Seconds per photo for ``photos`` back to back, after one untimed lead-in photo."""
    step(photos[-1], _fresh(root / "lead-in"))
    folders = [_fresh(root / f"batch-{index}") for index in range(len(photos))]
    started = time.perf_counter()
    for photo, folder in zip(photos, folders, strict=True):
        step(photo, folder)
    return (time.perf_counter() - started) / len(photos)


def _cold(photo: Path, out: Path) -> object:
    """Ours with no spare: a child started for this job (and none left waiting)."""
    os.environ[SPARES_VARIABLE] = "0"
    try:
        tools.discard_spares()
        return ours(photo, out)
    finally:
        os.environ.pop(SPARES_VARIABLE)


def run(args: argparse.Namespace) -> Result:
    pyvips = _vips()
    os.environ.pop(SPARES_VARIABLE, None)  # the worker's default
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as tmp:
        root = Path(tmp)
        print(f"making {args.photos} photos of 4000x3000 ...", flush=True)
        photos = make_photos(root / "in", args.photos)
        out_ours, out_vips = root / "ours", root / "vips"
        our_bytes, vips_bytes = [], []
        for photo in photos:  # warm-up (page cache, libvips start-up) and a like-for-like check
            a = ours(photo, _fresh(out_ours))
            b = theirs(pyvips, photo, _fresh(out_vips))
            if a != b:
                raise SystemExit(f"sizes differ for {photo.name}: ours {a}, pyvips {b}")
            our_bytes.append(_bytes(out_ours))
            vips_bytes.append(_bytes(out_vips))
        one: dict[str, Callable[[Path, Path], object]] = {
            "ours": ours,
            "vips": lambda p, f: theirs(pyvips, p, f),
            "here": lambda p, f: images.renditions_here(str(p), "image/jpeg", str(f)),
            "cold": _cold,
            "pipeline": lambda p, f: metadata.clean_photo(p, "image/jpeg", f),
        }
        times: dict[str, list[float]] = {side: [] for side in one}
        pair_rates: dict[str, list[float]] = {"ours": [], "vips": []}
        print(f"timing {args.rounds} rounds x {len(photos)} photos ...", flush=True)
        with ThreadPoolExecutor(2) as pool:
            for round_ in range(args.rounds):
                order = list(one)
                shift = round_ % len(order)
                for side in order[shift:] + order[:shift]:
                    times[side].append(_batch(one[side], photos, root / side))
                # Both sides two photos at a time (as the worker's two threads would).
                for side in ("ours", "vips") if round_ % 2 == 0 else ("vips", "ours"):
                    step = one[side]
                    step(photos[-1], _fresh(root / "lead-in"))
                    folders = [_fresh(root / f"pair-{i}") for i in range(len(photos))]
                    jobs = [
                        lambda s=step, p=p, f=f: s(p, f)
                        for p, f in zip(photos, folders, strict=True)
                    ]
                    seconds = timed(lambda jobs=jobs: [j.result() for j in map(pool.submit, jobs)])
                    pair_rates[side].append(len(photos) * len(images.RENDITION_SIZES) / seconds)
    tools.discard_spares()
    ours_s, vips_s, here_s = times["ours"], times["vips"], times["here"]
    cold_s, pipeline_s = times["cold"], times["pipeline"]
    count = len(images.RENDITION_SIZES)
    our_rate = count / median(ours_s)
    vips_rate = count / median(vips_s)
    ratio = our_rate / vips_rate
    return Result(
        name="photo_renditions",
        title="(b) Photo renditions per second, 12 MP JPEG -> 320 + 1600 px WebP",
        ours=(
            f"{our_rate:.2f} renditions/s ({median(ours_s) * 1000:.0f} ms per photo, "
            "make_renditions: one child process per job, warm spares)"
        ),
        baseline=(
            f"{vips_rate:.2f} renditions/s ({median(vips_s) * 1000:.0f} ms per photo, "
            f"pyvips {pyvips.__version__} / libvips {pyvips.version(0)}.{pyvips.version(1)}"
            f".{pyvips.version(2)} thumbnail + webpsave)"
        ),
        ratio=ratio,
        ratio_meaning="ours / pyvips, renditions per second",
        target=f">= {TARGET}",
        passed=ratio >= TARGET,
        notes=[
            f"sequential throughput: {len(photos)} photos back to back per side and round "
            f"(after one untimed lead-in photo), {args.rounds} rounds in rotating order; "
            f"medians of the per-photo times; WebP Q={images.WEBP_QUALITY}, "
            f"method/effort={images.WEBP_METHOD} on both sides",
            f"ours: each job in a new child process (never reused), taken warm from "
            f"{tools.SPARE_CHILDREN} spares; the replacement's start-up runs during the "
            "timed jobs, on the same 2 cores",
            f"output size per photo (both renditions): ours {median(our_bytes) / 1024:.0f} KiB, "
            f"pyvips {median(vips_bytes) / 1024:.0f} KiB",
            f"two photos at a time (as the worker's two threads would), for the record: ours "
            f"{median(pair_rates['ours']):.2f} renditions/s, pyvips "
            f"{median(pair_rates['vips']):.2f} (ratio "
            f"{median(pair_rates['ours']) / median(pair_rates['vips']):.3f})",
            f"same work in this process without the child: {median(here_s) * 1000:.0f} ms "
            f"per photo; with spares turned off (a child started for each job): "
            f"{median(cold_s) * 1000:.0f} ms per photo",
            f"the pipeline's whole photo step (lossless clean of the original, full-size "
            f"decode checks, then the renditions; one child): {median(pipeline_s) * 1000:.0f} ms"
            " per photo",
        ],
        details={
            "ours_seconds": ours_s,
            "vips_seconds": vips_s,
            "in_process_seconds": here_s,
            "no_spare_seconds": cold_s,
            "pipeline_photo_seconds": pipeline_s,
            "two_at_a_time_rates": pair_rates,
            "measured": "sequential batches after a lead-in photo; per-photo = batch / photos",
        },
    )


def main() -> None:
    main_for(
        "photo_renditions",
        run,
        photos=(int, 4, "how many different photos to make"),
        rounds=(int, 6, "how many times to time the photos on each side"),
    )


if __name__ == "__main__":
    main()
