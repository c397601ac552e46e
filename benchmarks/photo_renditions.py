"""(b) Photo renditions per second on 12-megapixel JPEGs: ours against pyvips.

Run: ``.venv/bin/python -m benchmarks.photo_renditions`` (needs the ``bench`` extra).

Inputs: a few different 4000x3000 JPEGs (quality 90, gradients + shapes + texture + grain,
about 3.6 MB each, one of them with EXIF orientation 6), made here with Pillow.

Ours: :func:`memorybox.media.images.make_renditions`, exactly as the pipeline calls it: a
fresh, memory-limited child process (``prlimit``) that opens the JPEG with only the JPEG
decoder and the bomb checks, decodes it once at a reduced scale, and writes the 320 and
1600 px WebP renditions (quality ``WEBP_QUALITY``, method ``WEBP_METHOD``, EXIF orientation
applied, no metadata but the ICC profile).

Baseline: ``pyvips.Image.thumbnail(file, size, height=size, size="down")`` then
``webpsave(Q=WEBP_QUALITY, effort=WEBP_METHOD, keep=ICC)`` for each of the same two sizes,
from the same files, in this process, libvips' own threading (all cores) and its
operation cache turned off (each real upload is a new file). No child process, no limits.

Both sides write the same sizes (checked) in the same format, quality and effort.
The two run interleaved (ours, pyvips, pyvips, ours, ...) so that load from anything else
on the machine falls on both alike; the rate is from the median time per photo.
RATIO = our renditions per second / pyvips renditions per second (>= 1.0 means ours is at
least as fast).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import Result, main_for, make_photos, median, timed
from memorybox.media import images, metadata

TARGET = 1.0


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


def run(args: argparse.Namespace) -> Result:
    pyvips = _vips()
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
        # Every round times each photo on every side in a rotating order, then both sides
        # two photos at a time, so a change in load during the run falls on all of them.
        one: dict[str, Callable[[Path, Path], object]] = {
            "ours": ours,
            "vips": lambda p, f: theirs(pyvips, p, f),
            "here": lambda p, f: images.renditions_here(str(p), "image/jpeg", str(f)),
            "pipeline": lambda p, f: metadata.clean_photo(p, "image/jpeg", f),
        }
        times: dict[str, list[float]] = {side: [] for side in one}
        pair_rates: dict[str, list[float]] = {"ours": [], "vips": []}
        print(f"timing {args.rounds} rounds x {len(photos)} photos ...", flush=True)
        with ThreadPoolExecutor(2) as pool:
            for round_ in range(args.rounds):
                for index, photo in enumerate(photos):
                    order = list(one)
                    shift = (round_ + index) % len(order)
                    for side in order[shift:] + order[:shift]:
                        folder = _fresh(root / side)
                        step = one[side]
                        times[side].append(timed(lambda s=step, p=photo, f=folder: s(p, f)))
                for side in ("ours", "vips") if round_ % 2 == 0 else ("vips", "ours"):
                    step = one[side]
                    folders = [_fresh(root / f"pair-{i}") for i in range(len(photos))]
                    jobs = [
                        lambda s=step, p=p, f=f: s(p, f)
                        for p, f in zip(photos, folders, strict=True)
                    ]
                    seconds = timed(lambda jobs=jobs: [j.result() for j in map(pool.submit, jobs)])
                    pair_rates[side].append(len(photos) * len(images.RENDITION_SIZES) / seconds)
        ours_s, vips_s, here_s = times["ours"], times["vips"], times["here"]
        pipeline_s = times["pipeline"]
    count = len(images.RENDITION_SIZES)
    our_rate = count / median(ours_s)
    vips_rate = count / median(vips_s)
    ratio = our_rate / vips_rate
    return Result(
        name="photo_renditions",
        title="(b) Photo renditions per second, 12 MP JPEG -> 320 + 1600 px WebP",
        ours=(
            f"{our_rate:.2f} renditions/s ({median(ours_s) * 1000:.0f} ms per photo, "
            "make_renditions: child process)"
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
            f"{len(photos)} photos x {args.rounds} rounds, interleaved; medians per photo; "
            f"WebP Q={images.WEBP_QUALITY}, method/effort={images.WEBP_METHOD} on both sides",
            f"output size per photo (both renditions): ours {median(our_bytes) / 1024:.0f} KiB, "
            f"pyvips {median(vips_bytes) / 1024:.0f} KiB",
            f"two photos at a time (as the worker's two threads would), for the record: ours "
            f"{median(pair_rates['ours']):.2f} renditions/s, pyvips "
            f"{median(pair_rates['vips']):.2f} (ratio "
            f"{median(pair_rates['ours']) / median(pair_rates['vips']):.3f})",
            f"same work in this process without the child: {median(here_s) * 1000:.0f} ms "
            f"per photo (so the isolated child costs {1000 * (median(ours_s) - median(here_s)):.0f}"
            " ms)",
            f"the pipeline's whole photo step (lossless clean of the original, full-size "
            f"decode checks, then the renditions; one child): {median(pipeline_s) * 1000:.0f} ms"
            " per photo",
        ],
        details={
            "ours_seconds": ours_s,
            "vips_seconds": vips_s,
            "in_process_seconds": here_s,
            "pipeline_photo_seconds": pipeline_s,
            "two_at_a_time_rates": pair_rates,
        },
    )


def main() -> None:
    main_for(
        "photo_renditions",
        run,
        photos=(int, 4, "how many different photos to make"),
        rounds=(int, 5, "how many times to time each photo on each side"),
    )


if __name__ == "__main__":
    main()
