"""Memory Box deployed as a council would run it, on one machine: two web processes and two
workers (the Procfile's own commands), PostgreSQL, Redis for the queue and the sign-in
limits, and SeaweedFS for S3 storage. They share nothing but those services: each process
has its own instance folder, its own port and its own log.

PostgreSQL and SeaweedFS are reached through :class:`~tests.scaleout.proxy.TcpProxy`, so a
test can drop or cut them under the app; Redis is a ``redis-server`` of the suite's own
(``--appendonly yes``, as production needs), which a test may stop and start again.
"""

from __future__ import annotations

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import redis
import requests
from sqlalchemy import Engine, create_engine

from tests.scaleout.proxy import TcpProxy
from tests.seaweed import SeaweedS3

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DATABASE_NAME = "memorybox_scaleout"
SECRET_KEY = "scale-out-tests-secret-key-0123456789abcdef"
#: A short stalled-job window (production: 15 minutes), so a lost job is found in seconds.
STALLED_AFTER_SECONDS = 10
#: The sweeper's cadence; the consumer looks at periodic tasks once a minute at most.
SWEEP_EVERY_MINUTES = 1

T = TypeVar("T")
#: A media job's temporary folder (``memorybox.memories.processing``).
_WORK_FOLDER = re.compile(re.escape(tempfile.gettempdir()) + r"/memorybox-media-[a-z0-9_]+")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], T | None], seconds: float, every: float = 0.1) -> T:
    """Poll ``check`` until it answers something truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    last: BaseException | None = None
    while True:
        try:
            answer = check()
            if answer:
                return answer
        except Exception as exc:  # noqa: BLE001 - kept for the failure message
            last = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {type(last).__name__}: {last})" if last else ""
            raise AssertionError(f"{what}: not within {seconds:.0f} s{detail}")
        time.sleep(every)


def procfile_command(name: str) -> list[str]:
    """A Procfile line as an argument list (``${PORT:-5000}`` left for the caller)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        label, _, command = line.partition(":")
        if label.strip() == name:
            return shlex.split(command.strip())
    raise LookupError(f"the Procfile has no {name!r} process")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Process:
    """A command in its own process group, logging to a file; ``stop`` ends the group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None
        self.leftovers: list[int] = []
        self.leftover_folders: set[Path] = set()

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n--- starting {self.name}: {shlex.join(self.command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def descendants(self) -> list[int]:
        return _descendants(self.pid) if self.running else []

    #: The signal that asks this process to finish what it is doing and stop.
    stop_signal = signal.SIGTERM

    def kill(self, *, group: bool = True) -> list[int]:
        """SIGKILL, as a crash: the whole group, or the main process only (its children
        live on, as they would). Returns the descendants that were alive just before."""
        assert self.process is not None
        before = _descendants(self.process.pid)
        self._remember(before)
        if group:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return before

    def _remember(self, pids: list[int]) -> None:
        """What a crash may leave behind: these processes, and the media work folders
        named in their command lines (the worker's own ``finally`` will never run)."""
        self.leftovers.extend(pids)
        for pid in pids:
            for arg in command_line(pid):
                found = _WORK_FOLDER.search(arg)
                if found:
                    self.leftover_folders.add(Path(found.group(0)))

    def stop(self) -> None:
        """``stop_signal`` to the group, then SIGKILL; and whatever an earlier kill left."""
        if self.process is not None and self.process.poll() is None:
            self._remember(_descendants(self.process.pid))
            try:
                os.killpg(self.process.pid, self.stop_signal)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.reap_leftovers()

    def reap_leftovers(self) -> None:
        for pid in self.leftovers:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.leftovers.clear()
        for folder in self.leftover_folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.leftover_folders.clear()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return f"--- {self.name} ({self.log_path}):\n" + "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Web(Process):
    """The Procfile's ``web`` command, bound to its own 127.0.0.1 port."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        command = []
        skip = False
        for arg in procfile_command("web"):
            if skip:
                skip = False
                continue
            if arg in ("--bind", "-b"):
                skip = True
                continue
            if arg.startswith(("--bind=", "-b")):
                continue
            command.append(arg)
        command[0] = str(VENV_BIN / command[0])
        command += ["--bind", f"127.0.0.1:{self.port}"]
        super().__init__(name, command, {**env, "PORT": str(self.port)}, log)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        super().start()
        wait_for(f"{self.name} answers", self._answers, 60, every=0.2)

    def _answers(self) -> bool:
        if not self.running:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
        try:
            return requests.get(f"{self.base}/login", timeout=2).status_code == 200
        except requests.RequestException:
            return False


class Worker(Process):
    """The Procfile's ``worker`` command (huey_consumer)."""

    stop_signal = signal.SIGINT  # huey: finish the jobs in hand, then stop (SIGTERM: at once)

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        command = procfile_command("worker")
        command[0] = str(VENV_BIN / command[0])
        super().__init__(name, command, env, log)

    def start(self) -> None:
        mark = len(self.log_text())
        super().start()
        wait_for(
            f"{self.name} consumes",
            lambda: self.running and "consumer started" in self.log_text()[mark:].lower(),
            60,
            every=0.2,
        )

    def took(self, pattern: str) -> set[int]:
        """Ids in this worker's log lines matching ``pattern`` (one group: the id)."""
        return {int(found) for found in re.findall(pattern, self.log_text())}


class RedisServer:
    """``redis-server`` of our own, on a free port, keeping its data in an append-only file
    (``--appendonly yes``), so a queue survives a restart as production's must."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def pong() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError("redis-server exited while starting")
            return bool(self.client().ping())

        wait_for("redis answers", pong, 20)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, crash: bool = False) -> None:
        """A clean stop (SIGTERM: redis writes its append-only file and exits), or a crash
        (SIGKILL: only what redis had already written to its file survives)."""
        if self.process is None or self.process.poll() is not None:
            return
        if crash:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def reset_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``admin_url``; its URL."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Stack:
    folder: Path
    database_url: str  # direct, for the tests' own looks behind the app's back
    db_proxy: TcpProxy
    s3: SeaweedS3
    s3_proxy: TcpProxy
    redis: RedisServer
    env: dict[str, str]
    webs: list[Web] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    _engine: Engine | None = None

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.s3_proxy.address}"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
            self._engine = create_engine(url, pool_pre_ping=True)
        return self._engine

    def flask(self, *args: str, timeout: float = 120) -> str:
        """``flask --app memorybox ...`` as an operator runs it; its output."""
        folder = self.folder / "cli"
        folder.mkdir(exist_ok=True)
        done = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "memorybox", *args],
            cwd=ROOT,
            env={**self.env, "MEMORYBOX_INSTANCE_PATH": str(folder)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def all_processes(self) -> list[Process]:
        return [*self.webs, *self.workers]

    def ensure_running(self) -> None:
        """Bring back anything a test stopped, so the next test starts whole."""
        if not self.redis.running:
            self.redis.start()
        self.db_proxy.restore()
        self.s3_proxy.restore()
        for process in self.all_processes():
            process.reap_leftovers()
            if not process.running:
                process.start()

    def logs(self) -> str:
        return "\n".join(p.log_tail() for p in self.all_processes())

    def stop(self) -> None:
        for process in self.all_processes():
            process.stop()
        self.redis.stop()
        self.db_proxy.close()
        self.s3_proxy.close()
        if self._engine is not None:
            self._engine.dispose()


def environment(
    folder: Path, database_url: str, s3: SeaweedS3, s3_endpoint: str, redis_server: RedisServer
) -> dict[str, str]:
    """What every process of the deployment is given (each adds its instance folder)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(
            ("AWS_", "MEMORYBOX_", "REDIS_", "QUEUE_", "DATABASE_", "STORAGE_", "RATELIMIT_")
        )
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        MEMORYBOX_ENV="development",  # production insists on https, which 127.0.0.1 lacks
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        STORAGE_URL=f"s3://{s3.bucket}?endpoint={s3_endpoint}&region={s3.region}",
        AWS_ACCESS_KEY_ID=s3.access_key,
        AWS_SECRET_ACCESS_KEY=s3.secret_key,
        AWS_EC2_METADATA_DISABLED="true",
        REDIS_URL=redis_server.url(0),
        RATELIMIT_STORAGE_URI=redis_server.url(1),
        MEMORYBOX_TRANSCRIBE="off",
        MEMORYBOX_STALLED_AFTER_SECONDS=str(STALLED_AFTER_SECONDS),
        MEMORYBOX_SWEEP_EVERY_MINUTES=str(SWEEP_EVERY_MINUTES),
        PYTHONUNBUFFERED="1",
    )
    return env


def build(folder: Path, admin_url: str, s3: SeaweedS3) -> Stack:
    """Start everything; the caller stops it (``Stack.stop``) whatever happens."""
    direct_url = reset_database(admin_url, DATABASE_NAME)
    host, _, rest = direct_url.split("@", 1)[1].partition(":")
    db_proxy = TcpProxy(host, int(rest.split("/", 1)[0] or 5432))
    via_proxy = re.sub(r"@[^/]+/", f"@{db_proxy.address}/", direct_url)
    endpoint_port = int(s3.endpoint.rsplit(":", 1)[1])
    s3_proxy = TcpProxy("127.0.0.1", endpoint_port)
    redis_server = RedisServer(folder / "redis")
    stack = Stack(
        folder=folder,
        database_url=direct_url,
        db_proxy=db_proxy,
        s3=s3,
        s3_proxy=s3_proxy,
        redis=redis_server,
        env={},
    )
    try:
        redis_server.start()
        stack.env = environment(folder, via_proxy, s3, f"http://{s3_proxy.address}", redis_server)
        release = procfile_command("release")
        assert release[:3] == ["flask", "--app", "memorybox"], release
        stack.flask(*release[3:])
        stack.flask("seed-demo")
        for number in (1, 2):
            name = f"web{number}"
            stack.webs.append(Web(name, _own_instance(stack, name), folder / f"{name}.log"))
            name = f"worker{number}"
            stack.workers.append(Worker(name, _own_instance(stack, name), folder / f"{name}.log"))
        for process in stack.all_processes():
            process.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def _own_instance(stack: Stack, name: str) -> dict[str, Any]:
    folder = stack.folder / "instances" / name
    folder.mkdir(parents=True, exist_ok=True)
    return {**stack.env, "MEMORYBOX_INSTANCE_PATH": str(folder)}
