"""(d) From a 12 MP photo's upload completing to its thumbnail being served, end to end.

Run: ``.venv/bin/python -m benchmarks.upload_to_thumbnail``.

Everything real, in a temporary instance folder (``MEMORYBOX_INSTANCE_PATH``,
``DATABASE_URL``, ``STORAGE_URL``, ``QUEUE_URL``): ``flask db upgrade`` and ``seed-demo``,
then the ``web`` (gunicorn) and ``worker`` (``huey_consumer``) commands from the
``Procfile``, exactly as written there (only the port and the loopback address are filled
in), on the default SQLite queue. ``--worker-args`` replaces the consumer's flags, to
compare (e.g. Huey's defaults: ``--worker-args "--workers 2 --worker-type thread"``).

A ``requests`` session signs in as the demo young person (CSRF token from the login form)
and uploads the photos one at a time the way the add page's script does (``--via tus``):
the file over tus (``POST /children/<id>/uploads``, one ``PATCH``), then the form
``POST /children/<id>/add`` with the upload's id, asking for JSON. ``--via form`` sends
the file in the form itself instead, as the page does without scripts. For each photo the
clock starts when the form's response (201) has arrived, i.e. the upload is complete and
the job queued, and stops at the first 200 from ``GET /items/<id>/thumbnail``, polled
every 25 ms.

Before each upload the benchmark waits a while (``--pauses``, cycled): people do not upload
the moment the last photo is done, and an idle consumer polls the queue less and less often
(``huey_consumer --delay/--max-delay/--backoff``), so back-to-back uploads alone would hide
how long a photo waits to be picked up.

Target: p95 <= 1 s. Baseline, for the ratio: the same photos processed directly in this
process by ``memorybox.media.pipeline.process`` (the media work the worker does for a photo:
clean the original, check it, make the 320 and 1600 px renditions; no queue, storage,
database or HTTP). RATIO = end-to-end p50 / direct p50, so ``ratio - 1`` is the share added
by the queue, storage, database and polling.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from benchmarks._common import ROOT, Result, main_for, make_photos, median, percentile, timed
from memorybox.media import images, pipeline

TARGET_P95 = 1.0
POLL_SECONDS = 0.025
BIN = Path(sys.executable).parent
DEMO_EMAIL = "alex@demo.example.org"
DEMO_PASSWORD = "memorybox-demo"  # noqa: S105 - the public demo login
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def procfile() -> dict[str, list[str]]:
    """The Procfile's commands, split like a shell would."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            commands[name.strip()] = shlex.split(command.strip())
    return commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PORT"}}
    env.update(
        {
            "MEMORYBOX_ENV": "development",
            "MEMORYBOX_INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'memorybox.sqlite3'}",
            "STORAGE_URL": f"file://{instance / 'storage'}",
            "QUEUE_URL": f"sqlite://{instance / 'queue.sqlite3'}",
            "MEMORYBOX_QUEUE_IMMEDIATE": "0",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def _command(argv: list[str], port: int) -> list[str]:
    out = []
    for arg in argv:
        arg = arg.replace("${PORT:-5000}", str(port)).replace("$PORT", str(port))
        arg = arg.replace("0.0.0.0:", "127.0.0.1:")  # noqa: S104 - we bind to loopback
        out.append(arg)
    if (BIN / out[0]).exists():
        out[0] = str(BIN / out[0])
    return out


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(  # noqa: S603 - the Procfile's own command
        argv,
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (Huey's graceful stop; gunicorn stops too), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise SystemExit("no CSRF token in the page")
    return found.group(1) or found.group(2)


def _wait_until_up(base: str, web: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("the web server stopped; see its log")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("the web server did not come up")


def _sign_in(base: str) -> tuple[requests.Session, int]:
    session = requests.Session()
    # gunicorn closes a keep-alive connection after 2 s idle; a request sent on it at that
    # very moment is reset before any answer. Browsers send it again on a new connection;
    # so does this client (the request never reached the app, so nothing is done twice).
    again = Retry(total=2, connect=2, read=2, status=0, allowed_methods=None, backoff_factor=0)
    session.mount("http://", HTTPAdapter(max_retries=again))
    page = session.get(f"{base}/login", timeout=10)
    answer = session.post(
        f"{base}/login",
        data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": _csrf(page.text)},
        timeout=30,
    )
    box = re.search(r"/children/(\d+)/box", answer.url)
    if answer.status_code != 200 or not box:
        raise SystemExit(f"could not sign in as {DEMO_EMAIL} ({answer.status_code} {answer.url})")
    return session, int(box.group(1))


def _item_id(answer: requests.Response, n: int) -> int:
    if answer.status_code != 201:
        raise SystemExit(f"upload {n} answered {answer.status_code}: {answer.text[:200]}")
    found = re.search(r"/items/(\d+)", answer.json()["redirect"])
    if not found:
        raise SystemExit(f"upload {n}: no item in {answer.text[:200]}")
    return int(found.group(1))


def _upload_form(
    session: requests.Session, base: str, child_id: int, token: str, photo: Path, n: int
) -> tuple[int, float]:
    """The page without scripts: one multipart POST with the file."""
    with photo.open("rb") as handle:
        answer = session.post(
            f"{base}/children/{child_id}/add",
            data={"csrf_token": token, "title": f"Benchmark photo {n}", "caption": ""},
            files={"file": (f"IMG_{n:04d}.jpg", handle, "image/jpeg")},
            headers={"Accept": "application/json"},
            timeout=60,
        )
    return _item_id(answer, n), 0.0


def _upload_tus(
    session: requests.Session, base: str, child_id: int, token: str, photo: Path, n: int
) -> tuple[int, float]:
    """What the page's script does: the file over tus (one part: photos are under 8 MB),
    then the form with the upload's id instead of the file. Returns the item and the
    seconds the tus part took."""
    data = photo.read_bytes()
    tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": token}
    name = base64.b64encode(f"IMG_{n:04d}.jpg".encode()).decode()
    started = time.perf_counter()
    created = session.post(
        f"{base}/children/{child_id}/uploads",
        headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": f"filename {name}"},
        timeout=30,
    )
    if created.status_code != 201:
        raise SystemExit(f"upload {n}: tus create answered {created.status_code}")
    location = created.headers["Location"]
    sent = session.patch(
        location if location.startswith("http") else f"{base}{location}",
        data=data,
        headers={
            **tus,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=60,
    )
    if sent.status_code != 204 or sent.headers.get("Upload-Offset") != str(len(data)):
        raise SystemExit(f"upload {n}: tus part answered {sent.status_code}: {sent.text[:200]}")
    tus_seconds = time.perf_counter() - started
    answer = session.post(
        f"{base}/children/{child_id}/add",
        data={
            "csrf_token": token,
            "title": f"Benchmark photo {n}",
            "caption": "",
            "upload": location.rstrip("/").rsplit("/", 1)[-1],
        },
        headers={"Accept": "application/json"},
        timeout=60,
    )
    return _item_id(answer, n), tus_seconds


UPLOADERS = {"tus": _upload_tus, "form": _upload_form}


def _wait_for_thumbnail(session: requests.Session, base: str, item_id: int) -> float:
    started = time.perf_counter()
    deadline = started + 60
    while time.perf_counter() < deadline:
        answer = session.get(f"{base}/items/{item_id}/thumbnail", timeout=10)
        if answer.status_code == 200:
            if not answer.content.startswith(b"RIFF"):
                raise SystemExit(f"item {item_id}: the thumbnail is not a WebP")
            return time.perf_counter() - started
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"item {item_id}: no thumbnail after 60 s (see the worker's log)")


def run(args: argparse.Namespace) -> Result:
    pauses = [float(p) for p in args.pauses.split(",") if p.strip()]
    upload = UPLOADERS[args.via]
    commands = procfile()
    if args.worker_args is not None:  # to compare other consumer flags with the Procfile's
        commands["worker"] = commands["worker"][:2] + shlex.split(args.worker_args)
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        instance = root / "instance"
        instance.mkdir()
        env = _environment(instance)
        print(f"making {args.photos} photos of 4000x3000 ...", flush=True)
        photos = make_photos(root / "photos", args.photos)

        # Baseline: the worker's media work for each photo, called directly here; half of
        # it before the servers start and half after they stop, so drift falls on both.
        direct: list[float] = []
        renditions_only: list[float] = []

        def baseline() -> None:
            for photo in photos:
                out = root / "direct" / f"{len(direct)}"
                direct.append(
                    timed(lambda p=photo, o=out: pipeline.process(p, "image/jpeg", "photo", o))
                )
                out = root / "renditions" / f"{len(renditions_only)}"
                out.mkdir(parents=True)
                renditions_only.append(
                    timed(lambda p=photo, o=out: images.make_renditions(p, "image/jpeg", o))
                )

        baseline()

        flask = [str(BIN / "flask"), "--app", "memorybox"]
        for step in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run(  # noqa: S603 - our own CLI
                [*flask, *step], cwd=ROOT, env=env, check=True, capture_output=True
            )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        web_argv = _command(commands["web"], port)
        worker_argv = _command(commands["worker"], port)
        print("web:    " + shlex.join(web_argv[1:]), flush=True)
        print("worker: " + shlex.join(worker_argv[1:]), flush=True)
        web = _start(web_argv, env, root / "web.log")
        worker = _start(worker_argv, env, root / "worker.log")
        latencies: list[float] = []
        upload_s: list[float] = []
        try:
            _wait_until_up(base, web)
            session, child_id = _sign_in(base)
            token = _csrf(session.get(f"{base}/children/{child_id}/add", timeout=10).text)
            time.sleep(2)  # let the consumer settle (and go idle) before the first upload
            for n in range(args.uploads):
                time.sleep(pauses[n % len(pauses)])
                if worker.poll() is not None:
                    raise SystemExit("the worker stopped; see its log")
                photo = photos[n % len(photos)]
                started = time.perf_counter()
                item_id, _ = upload(session, base, child_id, token, photo, n)
                upload_s.append(time.perf_counter() - started)
                latencies.append(_wait_for_thumbnail(session, base, item_id))
                print(
                    f"  upload {n + 1:2d}: after {pauses[n % len(pauses)]:.2f} s idle, upload "
                    f"{upload_s[-1] * 1000:4.0f} ms, then thumbnail in "
                    f"{latencies[-1] * 1000:4.0f} ms",
                    flush=True,
                )
        except BaseException:
            for log in ("web.log", "worker.log"):
                print(f"--- {log} (last lines) ---", file=sys.stderr)
                lines = (root / log).read_text(errors="replace").splitlines()[-60:]
                print("\n".join(lines), file=sys.stderr)
            raise
        finally:
            _stop(worker)
            _stop(web)
            if args.keep_logs:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in ("web.log", "worker.log"):
                    shutil.copy(root / log, args.keep_logs / log)
        baseline()

    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    direct_p50 = percentile(direct, 0.50)
    ratio = p50 / direct_p50
    worker_flags = shlex.join(commands["worker"][2:])
    return Result(
        name="upload_to_thumbnail",
        title="(d) Upload finished -> thumbnail served (12 MP photo, SQLite queue, real worker)",
        ours=f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {max(latencies):.3f} s "
        f"({len(latencies)} uploads)",
        baseline=f"{direct_p50:.3f} s p50 (pipeline.process called directly, same photos)",
        ratio=ratio,
        ratio_meaning="end-to-end p50 / direct processing p50",
        target=f"p95 <= {TARGET_P95:.1f} s",
        passed=p95 <= TARGET_P95,
        notes=[
            f"worker{'' if args.worker_args is None else ' (flags given on the command line)'}:"
            f" huey_consumer memorybox.jobs.tasks.huey {worker_flags}",
            f"idle before each upload (cycled): {', '.join(f'{p:g} s' for p in pauses)}; "
            f"the thumbnail polled every {POLL_SECONDS * 1000:.0f} ms",
            f"uploaded via {args.via}; the upload itself (3.6 MB, not counted above): p50 "
            f"{percentile(upload_s, 0.5) * 1000:.0f} ms",
            f"the first upload (the worker builds its app on its first job) took "
            f"{latencies[0]:.3f} s; without it p95 is {percentile(latencies[1:], 0.95):.3f} s",
            f"make_renditions alone for the same photos: p50 "
            f"{percentile(renditions_only, 0.5):.3f} s (end-to-end p50 is "
            f"{p50 / percentile(renditions_only, 0.5):.2f}x that)",
        ],
        details={
            "latencies_seconds": latencies,
            "upload_seconds": upload_s,
            "direct_seconds": direct,
            "renditions_seconds": renditions_only,
            "median_latency": median(latencies),
        },
    )


def main() -> None:
    main_for(
        "upload_to_thumbnail",
        run,
        uploads=(int, 20, "how many photos to upload, one at a time"),
        photos=(int, 4, "how many different photos to make (cycled)"),
        pauses=(str, "0.25,1,2,4", "idle seconds before each upload, comma-separated, cycled"),
        via=(str, "tus", "how to upload: tus (what the page does) or form (no scripts)"),
        keep_logs=(Path, None, "copy the web and worker logs into this folder"),
        worker_args=(str, None, "consumer flags instead of the Procfile's, e.g. '--workers 2'"),
    )


if __name__ == "__main__":
    main()
