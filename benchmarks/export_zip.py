"""(e) "Take it with me": the streamed ZIP of a whole box keeps memory flat.

Two fresh instances (SQLite database, local-disk storage, migrated and seeded with the demo
as ``make run`` does), one whose young person has a 20 MiB box and one with a 2 GiB box
(eight 256 MiB videos of random bytes, as incompressible as real video; stored as processed
items, so the export includes them). In each, a fresh Python process builds the young
person's ZIP export with ``exports.services.build``, exactly as the worker does, and reports
its peak RSS (``ru_maxrss``) and wall time; the data is written by a different process
beforehand, so making it costs the measured process nothing.

- Memory: peak RSS building the 2 GiB box's ZIP against the 20 MiB box's, target at most
  50 MB more (the same target as uploads).
- Speed, for the record only (the issue sets no speed target, so it is a note, not a row):
  our ZIP build against Python's ``zipfile`` writing the same originals, stored (no
  compression, as ours), from the same folder to the same disk and then ``fsync``-ed (our
  local storage makes every object it writes durable the same way), in its own fresh
  process, both interleaved; ratio = our MB/s over zipfile's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from argparse import Namespace
from dataclasses import asdict
from pathlib import Path

from benchmarks._common import ROOT, Result, median

BIN = ROOT / ".venv" / "bin"
PART_MIB = 256

PREPARE = r"""
import io, os, sys, hashlib
from datetime import date
from sqlalchemy import select
from memorybox import create_app
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem, Processing
from memorybox.storage import new_key

total_mib, part_mib = int(sys.argv[1]), int(sys.argv[2])
app = create_app()
with app.app_context():
    young = db.session.scalar(select(User).where(User.email == "alex@demo.example.org"))
    child = db.session.scalar(select(Child).where(Child.user_id == young.id))
    storage = app.extensions["memorybox.storage"]
    made, n = 0, 0
    while made < total_mib:
        size = min(part_mib, total_mib - made) * 1024 * 1024

        class Random(io.RawIOBase):
            left = size
            def readable(self): return True
            def readinto(self, buf):
                count = min(len(buf), self.left, 1024 * 1024)
                if count == 0: return 0
                buf[:count] = os.urandom(count)
                self.left -= count
                return count

        key = new_key("mp4")
        storage.save(key, io.BufferedReader(Random(), 1024 * 1024), "video/mp4")
        n += 1
        db.session.add(MemoryItem(
            child_id=child.id, added_by_id=young.id, kind=ItemKind.VIDEO,
            status=ItemStatus.KEPT, title=f"Clip {n}", caption="A long clip",
            memory_date=date(2024, 5, n % 28 + 1), content_type="video/mp4", extension="mp4",
            size_bytes=size, sha256="0" * 64, storage_backend=storage.backend_name,
            storage_key=key, original_name=f"clip{n}.mp4", processing=Processing.READY,
        ))
        db.session.commit()
        made += size // (1024 * 1024)
    print(child.id, young.id)
"""

BUILD = r"""
import json, resource, sys, time
from sqlalchemy import select
from memorybox import create_app
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.exports import services
from memorybox.exports.models import ExportKind

app = create_app()
with app.app_context():
    young = db.session.scalar(select(User).where(User.email == "alex@demo.example.org"))
    child = db.session.scalar(select(Child).where(Child.user_id == young.id))
    storage = app.extensions["memorybox.storage"]
    export = services.request(young, child, ExportKind.ZIP)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    state = services.build(export.id, storage)
    seconds = time.perf_counter() - started
    db.session.refresh(export)
    print(json.dumps({
        "state": state.value, "seconds": seconds, "size": export.size,
        "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "before_kib": before,
    }))
"""

ZIPFILE = r"""
import json, os, resource, sys, time, zipfile
from pathlib import Path
folder, out = Path(sys.argv[1]), sys.argv[2]
files = sorted(p for p in folder.rglob("*.mp4"))
started = time.perf_counter()
with open(out, "wb") as handle:
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, path.name)
    handle.flush()
    os.fsync(handle.fileno())  # as our storage does for every object it writes
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak}))
"""


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MEMORYBOX_ENV="development",
        MEMORYBOX_INSTANCE_PATH=str(root),
        DATABASE_URL=f"sqlite:///{root}/memorybox.sqlite3",
        STORAGE_URL=f"file://{root}/storage",
        QUEUE_URL=f"sqlite://{root}/queue.sqlite3",
        MEMORYBOX_QUEUE_IMMEDIATE="0",
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    return env


def _python(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [str(BIN / "python"), "-c", code, *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _instance(root: Path, mib: int) -> dict[str, str]:
    env = _env(root)
    flask = [str(BIN / "flask"), "--app", "memorybox"]
    for step in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(  # noqa: S603 - our own CLI
            [*flask, *step], cwd=ROOT, env=env, check=True, capture_output=True
        )
    _python(PREPARE, env, str(mib), str(PART_MIB))
    return env


def _build(env: dict[str, str]) -> dict[str, float]:
    result = json.loads(_python(BUILD, env))
    assert result["state"] == "ready", result
    return result


def run(args: Namespace) -> list[Result]:
    big_mib, small_mib, rounds = args.big_mib, args.small_mib, args.rounds
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-export-", dir=args.tmp or None) as tmp:
        small_root, big_root = Path(tmp) / "small", Path(tmp) / "big"
        small_root.mkdir()
        big_root.mkdir()
        made = time.perf_counter()
        small = _instance(small_root, small_mib)
        big = _instance(big_root, big_mib)
        print(f"made the two boxes in {time.perf_counter() - made:.0f} s", flush=True)
        small_peaks, big_peaks, ours_s, zip_s, sizes = [], [], [], [], []
        for n in range(rounds):
            got = _build(small)
            small_peaks.append(got["peak_kib"] / 1024)
            got = _build(big)
            big_peaks.append(got["peak_kib"] / 1024)
            ours_s.append(got["seconds"])
            sizes.append(got["size"])
            base = json.loads(
                _python(ZIPFILE, big, str(big_root / "storage"), str(Path(tmp) / f"plain{n}.zip"))
            )
            zip_s.append(base["seconds"])
            (Path(tmp) / f"plain{n}.zip").unlink()
            print(
                f"round {n + 1}: small peak {small_peaks[-1]:.1f} MB, big peak "
                f"{big_peaks[-1]:.1f} MB, ours {ours_s[-1]:.2f} s, zipfile {zip_s[-1]:.2f} s",
                flush=True,
            )
            for export in (small_root / "storage", big_root / "storage"):
                for path in export.rglob("*.zip"):
                    path.unlink()  # keep the disk from filling with copies
    small_peak, big_peak = median(small_peaks), median(big_peaks)
    difference = big_peak - small_peak
    mb = big_mib * 1024 * 1024 / 1e6
    ours_rate, zip_rate = mb / median(ours_s), mb / median(zip_s)
    notes = [
        f"{rounds} rounds, each in fresh processes; medians. Box sizes {small_mib} MiB and "
        f"{big_mib} MiB ({big_mib // PART_MIB} videos of {PART_MIB} MiB of random bytes)",
        f"peak RSS building the ZIP: {small_mib} MiB box {small_peak:.1f} MB, {big_mib} MiB "
        f"box {big_peak:.1f} MB (each round: small {[round(p, 1) for p in small_peaks]}, big "
        f"{[round(p, 1) for p in big_peaks]})",
        f"the {big_mib} MiB box's ZIP: {median(sizes) / 1e6:.0f} MB in {median(ours_s):.2f} s "
        f"({ours_rate:.0f} MB/s); Python's zipfile, stored, same files, same disk: "
        f"{median(zip_s):.2f} s ({zip_rate:.0f} MB/s), fsync included as ours (ours / zipfile "
        f"{ours_rate / zip_rate:.2f}, for the record: no target); round by round "
        f"ours {[round(x, 2) for x in ours_s]} s, zipfile {[round(x, 2) for x in zip_s]} s",
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores",
        "ours also writes the export's progress to the database as it goes (up to 99 small "
        "commits) and an index.html and a caption file per item",
    ]
    memory = Result(
        name="export_zip_memory",
        title=f"(e) Take it with me ZIP: peak RSS, {big_mib} MiB box vs {small_mib} MiB",
        ours=f"{big_peak:.1f} MB peak RSS",
        baseline=f"{small_peak:.1f} MB peak RSS",
        ratio=big_peak / small_peak,
        ratio_meaning=(
            f"peak for {big_mib} MiB / peak for {small_mib} MiB; the target is on the "
            f"difference, {difference:+.1f} MB"
        ),
        target="difference <= 50 MB",
        passed=difference <= 50,
        notes=notes,
    )
    return [memory]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_zip")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--big-mib", type=int, default=2048, help="the big box, MiB")
    parser.add_argument("--small-mib", type=int, default=20, help="the small box, MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tmp", default="", help="folder for the boxes (3x the big box free)")
    args = parser.parse_args()
    results = run(args)
    for result in results:
        result.print()
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
