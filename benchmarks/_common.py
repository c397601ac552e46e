"""Shared helpers for the benchmarks: test media, timing, machine facts, result records.

Nothing here is imported by the app, by CI or by pytest. Every benchmark makes its own
inputs in a temporary folder, measures its baseline in the same run on the same machine,
and prints one result line with a ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
PHOTO_SIZE = (4000, 3000)  # 12 megapixels
PHOTO_QUALITY = 90


@dataclass
class Result:
    """One benchmark's outcome, as run_all puts it in docs/benchmarks.md."""

    name: str
    title: str
    ours: str  # our number, human-readable with its unit
    baseline: str  # the baseline's number, with its unit and what it is
    ratio: float
    ratio_meaning: str  # e.g. "ours / pyvips (renditions per second)"
    target: str  # e.g. ">= 1.0"
    passed: bool
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def print(self) -> None:
        verdict = "PASS" if self.passed else "FAIL"
        print(f"\n== {self.title} ==")
        print(f"ours:     {self.ours}")
        print(f"baseline: {self.baseline}")
        print(f"RATIO {self.ratio:.3f} ({self.ratio_meaning}); target {self.target}: {verdict}")
        for note in self.notes:
            print(f"  - {note}")


def main_for(
    name: str, run: Callable[[argparse.Namespace], Result | list[Result]], **options: Any
) -> None:
    """The ``python -m benchmarks.<name>`` entry point: run, print, optionally save JSON
    (one result, or a list of them for a benchmark with several rows)."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}")
    parser.add_argument("--json", type=Path, help="also write the result to this JSON file")
    for flag, (kind, default, text) in options.items():
        parser.add_argument(f"--{flag.replace('_', '-')}", type=kind, default=default, help=text)
    args = parser.parse_args()
    result = run(args)
    results = result if isinstance(result, list) else [result]
    for one in results:
        one.print()
    if args.json:
        saved = [asdict(r) for r in results] if isinstance(result, list) else asdict(result)
        args.json.write_text(json.dumps(saved, indent=2))


# --- timing ---------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered) - 1e-9)
    return ordered[min(len(ordered), max(1, rank)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- test photos ----------------------------------------------------------------------


def _noise(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Uniform grey noise from a seeded generator (so every run uses the same photos)."""
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def _smooth_noise(size: tuple[int, int], cells: tuple[int, int], rng: random.Random) -> Image.Image:
    """Noise at ``cells`` resolution blown up to ``size``: blobs like shapes in a scene."""
    small = Image.merge("RGB", [_noise(cells, rng) for _ in range(3)])
    return small.resize(size, Image.Resampling.BICUBIC)


def make_photo(path: Path, seed: int, orientation: int = 1) -> Path:
    """A 4000x3000 JPEG (quality 90) that compresses like a phone photo.

    Gradients (sky and light), large soft shapes, mid-sized texture and fine sensor grain,
    so the file is a few megabytes like a real one, not a flat colour or pure noise.
    ``orientation`` other than 1 writes an EXIF Orientation tag (phones held upright).
    """
    rng = random.Random(seed)
    width, height = PHOTO_SIZE
    horizontal = Image.linear_gradient("L").rotate(90).resize(PHOTO_SIZE)
    vertical = Image.linear_gradient("L").resize(PHOTO_SIZE)
    radial = Image.radial_gradient("L").resize(PHOTO_SIZE)
    order = [horizontal, vertical, radial]
    rng.shuffle(order)
    base = Image.merge("RGB", order)
    shapes = _smooth_noise(PHOTO_SIZE, (24, 18), rng)
    texture = _smooth_noise(PHOTO_SIZE, (width // 6, height // 6), rng)
    grain = Image.merge("RGB", [_noise(PHOTO_SIZE, rng) for _ in range(3)])
    picture = Image.blend(base, shapes, 0.55)
    picture = Image.blend(picture, texture, 0.22)
    picture = picture.filter(ImageFilter.SMOOTH)
    # a few hard edges (buildings, people) so it is not all soft
    edges = ImageChops.multiply(picture, _smooth_noise(PHOTO_SIZE, (8, 6), rng).point(_steps))
    picture = Image.blend(picture, edges, 0.35)
    picture = Image.blend(picture, grain, 0.09)
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "BenchPhone 12"  # Model
    if orientation != 1:
        exif[0x0112] = orientation
    picture.save(path, "JPEG", quality=PHOTO_QUALITY, exif=exif.tobytes())
    return path


def _steps(value: int) -> int:
    return 255 if value > 128 else 150


def make_photos(folder: Path, count: int = 4) -> list[Path]:
    """``count`` different 12 MP photos in ``folder``; every fourth is held upright (EXIF 6)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        orientation = 6 if index % 4 == 3 else 1
        made.append(
            make_photo(folder / f"photo-{index}.jpg", seed=1000 + index, orientation=orientation)
        )
    return made


# --- the machine ----------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=False)  # noqa: S603, S607
    return {
        "uname": uname.stdout.strip() or " ".join(platform.uname()),
        "cpu": model,
        "cores": str(os.cpu_count()),
        "python": sys.version.split()[0],
    }
