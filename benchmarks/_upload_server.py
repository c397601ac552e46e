"""Helpers for ``bench_upload``: the real web app under gunicorn, a signed-in tus client,
test files on disk, and the worker's memory from ``/proc``.

Nothing here is imported by the app, by CI or by pytest.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEMO_EMAIL = "alex@demo.example.org"
DEMO_PASSWORD = "memorybox-demo"  # noqa: S105 - the public demo account
MIB = 1024 * 1024
#: The app's S3 part size (memorybox.memories.uploads.PART_SIZE), and the baseline's.
PART_SIZE = 8 * MIB
#: What the browser (tus-js-client in static/js/site.js) sends per PATCH.
PATCH_SIZE = 64 * MIB
#: How much of a part is read from disk and written to the socket at once.
SEND_BLOCK = 1 * MIB

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_BOX = re.compile(r"/children/(\d+)/box")


# --- test files ---------------------------------------------------------------------------


#: An ISO base media ``ftyp`` box (brand isom): the app's sniffing takes the file for an
#: MP4 video, so the add form makes an item as it would for a phone's video.
MP4_HEAD = struct.pack(">I", 24) + b"ftypisom" + b"\0\0\2\0" + b"isomiso2"


def make_file(path: Path, size: int, seed: int) -> Path:
    """``size`` bytes: an MP4 ``ftyp`` box, then seeded pseudo-random data (incompressible,
    so the S3 server cannot shrink it), written 8 MiB at a time so it never sits in memory.
    Only the head is a video's; the media pipeline would refuse it later (no worker runs)."""
    rng = random.Random(seed)
    with path.open("wb") as out:
        left = size
        while left:
            block = rng.randbytes(min(PART_SIZE, left))
            if left == size:
                block = MP4_HEAD + block[len(MP4_HEAD) :]
            out.write(block)
            left -= len(block)
    return path


class FilePart:
    """``length`` bytes of an open file from ``offset``, read a block at a time as it is
    sent (``requests`` sees a sized iterable: a Content-Length, not chunked encoding).
    Iterate it once."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._position = offset
        self._left = length
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        # No read(): urllib3 then iterates, sending SEND_BLOCK at a time (it would read a
        # file-like body in 16 KiB blocks).
        while self._left > 0:
            data = os.pread(self._fd, min(SEND_BLOCK, self._left), self._position)
            if not data:
                raise RuntimeError("the file is shorter than it was")
            self._position += len(data)
            self._left -= len(data)
            yield data


def parts(size: int, part_size: int = PART_SIZE) -> Iterator[tuple[int, int]]:
    """(offset, length) of each part of a ``size``-byte file."""
    offset = 0
    while offset < size:
        length = min(part_size, size - offset)
        yield offset, length
        offset += length


# --- the web app ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_environment(folder: Path, seaweed: Any) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "MEMORYBOX_", "REDIS_", "QUEUE_", "DATABASE_"))
    }
    env.update(
        MEMORYBOX_INSTANCE_PATH=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        STORAGE_URL=seaweed.storage_url,
        AWS_ACCESS_KEY_ID=seaweed.access_key,
        AWS_SECRET_ACCESS_KEY=seaweed.secret_key,
        AWS_EC2_METADATA_DISABLED="true",
        QUEUE_URL=f"sqlite://{folder / 'queue.sqlite3'}",
        MEMORYBOX_MAX_FILE_MB="4096",
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare_database(env: dict[str, str]) -> None:
    """``flask db upgrade`` and ``flask seed-demo``, as a deployment would."""
    flask = str(VENV_BIN / "flask")
    for command in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(  # noqa: S603 - our own virtualenv's flask
            [flask, "--app", "memorybox", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


class WebApp:
    """``gunicorn -w 1 --threads 4 'memorybox:create_app()'`` on a free port, in its own
    process group; ``stop()`` ends that group only."""

    def __init__(self, env: dict[str, str], log_path: Path, startup_seconds: float = 60) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
                [
                    str(VENV_BIN / "gunicorn"),
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "memorybox:create_app()",
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait(startup_seconds)
        except BaseException:
            self.stop()
            raise

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited while starting:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s:\n{self.log_tail()}")

    def worker_pid(self) -> int:
        """The one worker gunicorn forked (its parent is our gunicorn master)."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                return int(entry.name)
        raise RuntimeError("gunicorn has no worker process")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


# --- memory ---------------------------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory the process has had (since start or the last reset)."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def reset_peak_rss(pid: int) -> bool:
    """Start VmHWM again from the current RSS (``echo 5 > /proc/pid/clear_refs``, Linux 4.0+),
    so the next reading is the peak of what happens from now on. False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- a signed-in tus client -------------------------------------------------------------------


class Client:
    """A person signed in to the app with ``requests``, uploading as the browser does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.child_id = 0

    def _csrf(self, path: str) -> str:
        page = self.http.get(f"{self.base}{path}", timeout=30)
        page.raise_for_status()
        found = _CSRF.search(page.text)
        if found is None:
            raise RuntimeError(f"no CSRF token on {path}")
        return found.group(1)

    def sign_in(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> int:
        token = self._csrf("/login")
        answer = self.http.post(
            f"{self.base}/login",
            data={"csrf_token": token, "email": email, "password": password},
            timeout=60,
        )
        answer.raise_for_status()
        # A young person lands on their home page; their box is in its menu.
        found = _BOX.search(answer.url) or _BOX.search(answer.text)
        if found is None:
            raise RuntimeError(f"signing in did not lead to a box (ended at {answer.url})")
        self.child_id = int(found.group(1))
        return self.child_id

    def add_form_token(self) -> str:
        return self._csrf(f"/children/{self.child_id}/add")

    def upload(self, path: Path, csrf: str, patch_size: int = PATCH_SIZE) -> str:
        """tus: create, then one PATCH per ``patch_size`` bytes in turn, streamed from disk;
        the upload's id."""
        size = path.stat().st_size
        common = {"Tus-Resumable": "1.0.0", "X-CSRFToken": csrf}
        created = self.http.post(
            f"{self.base}/children/{self.child_id}/uploads",
            headers={
                **common,
                "Upload-Length": str(size),
                "Upload-Metadata": "filename YmVuY2gubXA0",  # bench.mp4
            },
            timeout=30,
        )
        if created.status_code != 201:
            raise RuntimeError(f"creating the upload: {created.status_code} {created.text}")
        location = created.headers["Location"]
        url = location if location.startswith("http") else f"{self.base}{location}"
        fd = os.open(path, os.O_RDONLY)
        try:
            for offset, length in parts(size, patch_size):
                sent = self.http.patch(
                    url,
                    data=FilePart(fd, offset, length),
                    headers={
                        **common,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(length),
                    },
                    timeout=120,
                )
                if sent.status_code != 204:
                    raise RuntimeError(f"PATCH at {offset}: {sent.status_code} {sent.text}")
                if int(sent.headers["Upload-Offset"]) != offset + length:
                    raise RuntimeError(f"PATCH at {offset}: the offset did not move")
        finally:
            os.close(fd)
        return url.rsplit("/", 1)[1]

    def add(self, upload_id: str, csrf: str, title: str) -> int:
        """The add form with the finished upload, as the page's script posts it (asking for
        JSON, so a new item answers 201)."""
        answer = self.http.post(
            f"{self.base}/children/{self.child_id}/add",
            data={"csrf_token": csrf, "upload": upload_id, "title": title},
            headers={"X-CSRFToken": csrf, "Accept": "application/json"},
            allow_redirects=False,
            timeout=120,
        )
        if answer.status_code != 201:
            raise RuntimeError(f"add: {answer.status_code} {answer.text[:300]}")
        return answer.status_code

    def close(self) -> None:
        self.http.close()
