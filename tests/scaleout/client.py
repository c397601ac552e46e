"""A person using the deployment over real HTTP, as the browser does: signing in through the
form, sending files with the tus protocol (as tus-js-client does), adding them, asking for
exports. One cookie jar, any web process: ``person.on(web)`` picks where the next request
goes, as a load balancer would."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pyotp
import requests

from memorybox.media import tools
from tests.scaleout.stack import Web

DEMO_PASSWORD = "memorybox-demo"
YOUNG_PERSON = "alex@demo.example.org"
CARER = "jo.carer@demo.example.org"
SOCIAL_WORKER = "sam.sw@demo.example.org"
TUS = {"Tus-Resumable": "1.0.0"}
MIB = 1024 * 1024
#: What tus-js-client sends in one PATCH is 64 MiB; tests send 8 MiB (at least 5 MiB, S3's
#: least for any part but the last), so a file of a few MiB is already several PATCHes.
PATCH_SIZE = 8 * MIB

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: each staff member's code app: email -> (secret, last time step used)
_CODE_APPS: dict[str, tuple[str, int]] = {}


def _totp_code(email: str) -> str:
    """A code the server has not seen used: this time step's or the next one's (it allows
    one either side); when both are used, the next one's once the clock is near it."""
    secret, last = _CODE_APPS[email]
    while True:
        now = int(time.time() // 30)
        step = next((s for s in (now, now + 1) if s > last), None)
        if step is not None:
            break
        time.sleep(0.5)
    _CODE_APPS[email] = (secret, step)
    return pyotp.TOTP(secret).at(step * 30)


_ITEM = re.compile(r"/items/(\d+)")
_EXPORT = re.compile(r"/exports/(\d+)/")


class Refused(AssertionError):
    """The app answered something other than what the step needs."""


class Person:
    def __init__(self, web: Web, email: str = YOUNG_PERSON) -> None:
        self.web = web
        self.email = email
        self.http = requests.Session()
        self.child_id = 0

    def on(self, web: Web) -> Person:
        self.web = web
        return self

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.web.base}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=kwargs.pop("timeout", 60), **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.url(path), timeout=kwargs.pop("timeout", 60), **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        if page.status_code != 200:
            raise Refused(f"GET {path}: {page.status_code}")
        found = _CSRF.search(page.text)
        if found is None:
            raise Refused(f"no form token on {path}")
        return found.group(1)

    # --- signing in -------------------------------------------------------------------------

    def try_sign_in(self, password: str = DEMO_PASSWORD) -> requests.Response:
        token = self.csrf("/login")
        return self.post(
            "/login",
            data={"csrf_token": token, "email": self.email, "password": password},
            allow_redirects=False,
        )

    def sign_in(self, password: str = DEMO_PASSWORD) -> Person:
        answer = self.try_sign_in(password)
        if answer.status_code != 302:
            raise Refused(f"signing in as {self.email}: {answer.status_code}")
        location = answer.headers["Location"]
        if location.endswith("/second-factor"):
            location = self.second_step()
        home = self.get(location)
        found = re.search(r"/children/(\d+)/", home.url + home.text)
        if found:
            self.child_id = int(found.group(1))
        return self

    def second_step(self) -> str:
        """Staff, after the password: set up the code app the first time (keeping the key
        the page shows, as a phone would), else type its code. Where it leads."""
        page = self.get("/second-factor")
        path = "/second-factor"
        if page.url.endswith("/second-factor/set-up"):
            key = re.search(r"data-secret[^>]*>([A-Z2-7 ]+)<", page.text)
            if key is None:
                raise Refused(f"no code app key on the set-up page for {self.email}")
            _CODE_APPS[self.email] = (key.group(1).replace(" ", ""), -1)
            path = "/second-factor/set-up"
        found = _CSRF.search(page.text)
        if found is None:
            raise Refused("no form token on the second step")
        answer = self.post(
            path,
            data={"csrf_token": found.group(1), "code": _totp_code(self.email)},
            allow_redirects=False,
        )
        if answer.status_code == 302:
            return str(answer.headers["Location"])
        if answer.status_code == 200 and "data-recovery-codes" in answer.text:
            return "/"
        raise Refused(f"second step for {self.email}: {answer.status_code}")

    def token(self) -> str:
        return self.csrf(f"/children/{self.child_id}/add")

    # --- tus ----------------------------------------------------------------------------------

    def start_upload(self, length: int, filename: str) -> requests.Response:
        meta = "filename " + base64.b64encode(filename.encode()).decode()
        return self.post(
            f"/children/{self.child_id}/uploads",
            headers={
                **TUS,
                "X-CSRFToken": self.token(),
                "Upload-Length": str(length),
                "Upload-Metadata": meta,
            },
        )

    def create_upload(self, length: int, filename: str) -> str:
        created = self.start_upload(length, filename)
        if created.status_code != 201:
            raise Refused(f"creating an upload: {created.status_code} {created.text}")
        return str(created.headers["Location"])

    def offset(self, location: str) -> int:
        head = self.http.head(self.url(location), headers=TUS, timeout=30)
        if head.status_code != 200:
            raise Refused(f"HEAD {location}: {head.status_code}")
        return int(head.headers["Upload-Offset"])

    def patch(self, location: str, offset: int, data: bytes) -> requests.Response:
        return self.http.patch(
            self.url(location),
            data=data,
            headers={
                **TUS,
                "X-CSRFToken": self.token(),
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
            timeout=120,
        )

    def send_from(self, location: str, content: bytes, offset: int | None = None) -> int:
        """PATCH from the upload's offset (asked with HEAD) to the end; the final offset."""
        offset = self.offset(location) if offset is None else offset
        while offset < len(content):
            part = content[offset : offset + PATCH_SIZE]
            sent = self.patch(location, offset, part)
            if sent.status_code != 204:
                raise Refused(f"PATCH at {offset}: {sent.status_code} {sent.text}")
            offset = int(sent.headers["Upload-Offset"])
        return offset

    def raw_patch(self, location: str, offset: int, length: int) -> http.client.HTTPConnection:
        """Open a PATCH of ``length`` bytes and send only its headers: the caller sends the
        body (``conn.send``) as slowly as it likes, and cuts it wherever it likes."""
        conn = http.client.HTTPConnection("127.0.0.1", self.web.port, timeout=60)
        conn.putrequest("PATCH", location)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        for name, value in {
            **TUS,
            "Cookie": cookies,
            "X-CSRFToken": self.token(),
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),
        }.items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn

    def add(self, location: str, title: str) -> int:
        """The add form with a finished upload, as the page's script posts it; the item id."""
        answer = self.try_add(location, title)
        if answer.status_code != 201:
            raise Refused(f"adding {title!r}: {answer.status_code} {answer.text[:300]}")
        found = _ITEM.search(answer.json()["redirect"])
        assert found, answer.text
        return int(found.group(1))

    def try_add(self, location: str, title: str) -> requests.Response:
        token = self.token()
        return self.post(
            f"/children/{self.child_id}/add",
            data={"csrf_token": token, "upload": location.rsplit("/", 1)[1], "title": title},
            headers={"X-CSRFToken": token, "Accept": "application/json"},
            allow_redirects=False,
            timeout=120,
        )

    def upload(self, content: bytes, filename: str, title: str) -> int:
        location = self.create_upload(len(content), filename)
        self.send_from(location, content, 0)
        return self.add(location, title)

    # --- items --------------------------------------------------------------------------------

    def item_state(self, item_id: int) -> dict[str, Any]:
        answer = self.get(f"/items/{item_id}/status", headers={"Accept": "application/json"})
        if answer.status_code != 200:
            raise Refused(f"status of item {item_id}: {answer.status_code}")
        return dict(answer.json())

    def fetch(self, path: str) -> tuple[int, bytes]:
        """GET a media route, following the app's redirect to storage (a short-lived URL)."""
        answer = self.get(path, allow_redirects=False)
        if answer.status_code in (302, 303):
            stored = requests.get(answer.headers["Location"], timeout=60)
            return stored.status_code, stored.content
        return answer.status_code, answer.content

    # --- exports ------------------------------------------------------------------------------

    def ask_for_export(self, kind: str) -> int:
        path = f"/children/{self.child_id}/exports"
        token = self.csrf(path)
        before = set(_EXPORT.findall(self.get(path).text))
        answer = self.post(path, data={"csrf_token": token, "kind": kind})
        if answer.status_code != 200:
            raise Refused(f"asking for a {kind} export: {answer.status_code}")
        new = set(_EXPORT.findall(answer.text)) - before
        if len(new) != 1:
            raise Refused(f"expected one new export on the page, found {sorted(new)}")
        return int(new.pop())

    def export_state(self, export_id: int) -> dict[str, Any]:
        answer = self.get(f"/exports/{export_id}/status")
        if answer.status_code != 200:
            raise Refused(f"status of export {export_id}: {answer.status_code}")
        return dict(answer.json())


# --- files ----------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def photo(seed: int, padding: int = 0) -> bytes:
    """A real JPEG, different for every seed, with ``padding`` zero bytes after its end (so
    a few MiB need several PATCHes; the decoder ignores what follows the image)."""
    from PIL import Image

    picture = Image.new("RGB", (96, 64), ((seed * 37) % 256, (seed * 91) % 256, 120))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue() + bytes(padding)


def video(folder: Path, seconds: float, size: str = "1280x720") -> bytes:
    """A real MP4 (MPEG-4 Part 2 video, AAC sound) made by the app's own ffmpeg; the worker
    always transcodes video to H.264, which takes a few seconds for a few seconds of 720p."""
    out = folder / f"clip-{seconds:g}s.mp4"
    if not out.exists():
        ffmpeg = str(tools.binaries().ffmpeg)
        subprocess.run(
            [
                ffmpeg,
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={size}:rate=30:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={seconds}",
                "-c:v",
                "mpeg4",
                "-q:v",
                "4",
                "-c:a",
                "aac",
                "-shortest",
                str(out),
            ],
            check=True,
            timeout=120,
        )
    return out.read_bytes()


def mp4_duration(data: bytes, folder: Path) -> float:
    """The duration ffprobe reads from a whole MP4 (a cut one has no index to read)."""
    path = folder / f"probe-{time.monotonic_ns()}.mp4"
    path.write_bytes(data)
    done = subprocess.run(
        [
            str(tools.binaries().ffprobe),
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "default=nw=1:nk=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    path.unlink()
    if done.returncode != 0:
        raise Refused(f"ffprobe could not read it: {done.stderr.strip()[:200]}")
    return float(done.stdout.strip())
