"""(g) Many users: 200 signed-in people browsing at once, against the Procfile's web process.

Run: ``.venv/bin/python -m benchmarks.many_users`` (``--users``, ``--duration``, ``--think``,
``--thumbs``, ``--workers``/``--threads`` for gunicorn, ``--skip-static``...).

The server is the ``Procfile``'s ``web`` command as written (gunicorn with
``gunicorn.conf.py``; only the port and the loopback address filled in), on PostgreSQL
with the authority ``flask seed-scale`` builds (``benchmarks/_scale.py``: 300 children,
60 carers, 30 social workers, 304,000 items, 2,000,000 audit rows). Only 127.0.0.1.

The load: ``--users`` distinct accounts (70% young people, 20% carers, 10% social
workers) sign in through the login form (untimed), then each browses as a person would,
in an asyncio client (aiohttp, one session and cookie jar per person, up to 6 connections
each like a browser), waiting ``--think`` seconds (0.5x-1.5x at random) between pages:

- a young person: their gallery, an item from it, their story;
- a carer: their home page, a child's page (what the child shares with them), an item
  from it, the child's story as shared with them;
- a social worker: their caseload, a child's page, an item from it, the child's story.

With each page come the pictures a browser would fetch: the first ``--thumbs``
thumbnails of a list, the photo on an item page; and its CSS and JavaScript, which a
browser keeps as its cache headers allow (stored for good when ``immutable``, asked again
with ``If-None-Match`` when ``no-cache``). Each person's think times start at random, so
arrivals are spread. After ``--warmup`` seconds the next ``--duration`` seconds are
measured: every request's latency, errors (HTTP >= 400, timeouts, refused connections),
requests per second, and the CPU used by the load generator and by gunicorn.

Baseline, in the same run against the same gunicorn: the same people with the same think
times and the same number of requests per page view, each asking for the same static file
(``/static/css/site.css``, no conditional request). RATIO = our requests per second / the
static file's. Targets: p99 <= 250 ms, no errors, ratio >= 0.5. With ``--think 0`` every
person asks again as soon as they have their answer (a closed loop: capacity, not people).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pyotp

from benchmarks import _scale
from benchmarks._common import Result, main_for, percentile
from benchmarks.upload_to_thumbnail import _command, _csrf, _start, _stop, procfile
from memorybox.seeding.scale import STAFF_TOTP_SECRET

TARGET_P99 = 0.250
TARGET_RATIO = 0.5
STATIC = "/static/css/site.css"
THUMB = re.compile(r'src="(/items/\d+/thumbnail)"')
FILE = re.compile(r'src="(/items/\d+/file)"')
ITEM = re.compile(r'href="(/items/\d+)"')
SHARED = re.compile(r'href="(/shared/\d+)"')
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    recording: bool = False

    def add(self, kind: str, seconds: float, ok: bool, why: str = "") -> None:
        if not self.recording:
            return
        self.latencies[kind].append(seconds)
        if not ok:
            self.errors[f"{kind}: {why}"] += 1

    @property
    def all(self) -> list[float]:
        return [t for times in self.latencies.values() for t in times]


def _own_box(path: str, page: str) -> str:
    """Where a person's browsing starts: a young person lands on their home page, whose menu
    leads to their box (the list (g) browses); adults on their own list page."""
    if path == "/":
        found = re.search(r'href="(/children/\d+/box)"', page)
        if found:
            return found.group(1)
    return path


class Person:
    """One signed-in browser: its own cookies, connections and cache of static files."""

    def __init__(self, base: str, email: str, stats: Stats, think: float, thumbs: int) -> None:
        self.base = base
        self.email = email
        self.stats = stats
        self.think = think
        self.thumbs = thumbs
        self.cached: dict[str, str | None] = {}  # URL -> ETag to ask again with; None: kept
        self.rng = random.Random(email)
        self.session = aiohttp.ClientSession(
            base,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
            # Idle connections are dropped before gunicorn's keep-alive (5 s) ends, as a proxy
            # in front would be set up; else a request can race the server's close.
            connector=aiohttp.TCPConnector(limit=6, keepalive_timeout=3),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.home = ""

    async def sign_in(self, saved: Path | None = None) -> None:
        """Through the login form, unless a session saved by an earlier run still works."""
        if saved is not None and saved.is_file():
            self.session.cookie_jar.load(saved)  # type: ignore[attr-defined]
            async with self.session.get("/") as home:
                text = await home.text()
                # (a session that stopped at the second step is not signed in)
                signed_in = home.url.path != "/login" and not home.url.path.startswith(
                    "/second-factor"
                )
                if home.status == 200 and signed_in:
                    self.home = _own_box(home.url.path, text)
                    return
            self.session.cookie_jar.clear()
        async with self.session.get("/login") as page:
            token = _csrf(await page.text())
        form = {"email": self.email, "password": _scale.PASSWORD, "csrf_token": token}
        async with self.session.post("/login", data=form) as done:
            text = await done.text()
            if done.status != 200 or done.url.path == "/login":
                raise SystemExit(f"{self.email} could not sign in (HTTP {done.status})")
            path = done.url.path
        if path == "/second-factor":  # staff: the code from their (seeded) code app
            code = pyotp.TOTP(STAFF_TOTP_SECRET).now()
            form = {"code": code, "csrf_token": _csrf(text)}
            async with self.session.post("/second-factor", data=form) as done:
                text = await done.text()
                if done.status != 200 or done.url.path.startswith("/second-factor"):
                    raise SystemExit(f"{self.email}: second step refused (HTTP {done.status})")
                path = done.url.path
        self.home = _own_box(path, text)
        if saved is not None:
            self.session.cookie_jar.save(saved)  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self.session.close()

    async def fetch(self, kind: str, path: str, headers: dict[str, str] | None = None) -> str:
        started = time.perf_counter()
        try:
            async with self.session.get(path, headers=headers, allow_redirects=False) as r:
                body = await r.read()
                ok, why = r.status < 400, f"HTTP {r.status}"
                etag = r.headers.get("ETag")
                cache = r.headers.get("Cache-Control", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.stats.add(kind, time.perf_counter() - started, False, type(exc).__name__)
            return ""
        self.stats.add(kind, time.perf_counter() - started, ok, why)
        if kind == "static" and r.status == 200:
            self.cached[path] = None if "immutable" in cache else etag or ""
        return body.decode("utf-8", "replace") if ok and kind.startswith("page") else ""

    async def page(self, path: str, what: str) -> str:
        """A page, then what a browser fetches with it (in parallel, up to 6 at a time)."""
        html = await self.fetch(f"page: {what}", path)
        extra: list[Awaitable[str]] = []
        for asset in dict.fromkeys(ASSET.findall(html)):
            if asset not in self.cached:
                extra.append(self.fetch("static", asset))
            elif (etag := self.cached[asset]) is not None:
                extra.append(self.fetch("static", asset, {"If-None-Match": etag} if etag else {}))
        for picture in THUMB.findall(html)[: self.thumbs] + FILE.findall(html)[:1]:
            extra.append(self.fetch("picture", picture))
        await asyncio.gather(*extra)
        return html

    async def pause(self) -> None:
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def browse(self, until: float) -> None:
        await asyncio.sleep(self.think * self.rng.random())
        while time.monotonic() < until:
            for step in self.steps():
                if time.monotonic() >= until:
                    return
                await step()
                await self.pause()

    def steps(self) -> list[Callable[[], Awaitable[object]]]:
        own = re.fullmatch(r"/children/(\d+)/box", self.home)
        state: dict[str, str] = {}

        async def listing() -> None:
            what = "gallery" if own else self.home.strip("/")
            state["list"] = await self.page(self.home, what)

        async def child() -> None:
            found = SHARED.findall(state.get("list", ""))
            state["child"] = self.rng.choice(found) if found else ""
            state["list"] = (
                await self.page(state["child"], "shared child") if found else state.get("list", "")
            )

        async def item() -> None:
            found = ITEM.findall(state.get("list", ""))
            if found:
                await self.page(self.rng.choice(found), "item")

        async def story() -> None:
            if own:
                await self.page(f"/children/{own.group(1)}/story", "story")
            elif state.get("child"):
                await self.page(state["child"] + "/story", "shared story")

        return [listing, item, story] if own else [listing, child, item, story]


class StaticPerson(Person):
    """The same person, the same pauses and as many requests per page view, each for the
    same static file."""

    def __init__(self, *args: object, shape: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.shape = shape  # requests per page view, in order

    async def sign_in(self, saved: Path | None = None) -> None:
        return None

    async def browse(self, until: float) -> None:
        await asyncio.sleep(self.think * self.rng.random())
        while time.monotonic() < until:
            for count in self.shape:
                if time.monotonic() >= until:
                    return
                await self.fetch("page", STATIC)
                await asyncio.gather(*(self.fetch("picture", STATIC) for _ in range(count - 1)))
                await self.pause()


def accounts(users: int, mix: str, children: int, carers: int = 60, workers: int = 30) -> list[str]:
    """Seeded sign-ins for ``users`` people, shared out as ``mix`` says (percentages of young
    people, carers and social workers), as many as the seed has of each."""
    from memorybox.accounts.models import Role
    from memorybox.seeding.scale import ScaleOptions, email, has_login

    shares = [int(x) for x in mix.split(",")]
    options = ScaleOptions(slug=_scale.SLUG)
    n_workers = min(workers - 1, users * shares[2] // 100)
    n_carers = min(carers - 1, users * shares[1] // 100)
    n_children = min(sum(has_login(i) for i in range(children)), users - n_workers - n_carers)
    # Not carer 1 nor social worker 1: they look after the first child, whose 5,000-item box
    # (f) measures, and every look by an adult is an audit row that "who looked" shows.
    return (
        [email(options, Role.YOUNG_PERSON, n) for n in range(1, n_children + 1)]
        + [email(options, Role.CARER, n) for n in range(2, n_carers + 2)]
        + [email(options, Role.SOCIAL_WORKER, n) for n in range(2, n_workers + 2)]
    )


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _postgres_pids() -> list[int]:
    """Every PostgreSQL process on the machine (other users' sessions too: a rough figure)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def _server_pids(master: int) -> list[int]:
    found = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    found.append(int(entry.name))
    return found


@dataclass
class Phase:
    name: str
    stats: Stats
    seconds: float
    client_cpu: float
    server_cpu: float
    database_cpu: float
    setup: float

    @property
    def count(self) -> int:
        return len(self.stats.all)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def p(self, fraction: float, kind: str | None = None) -> float:
        values = self.stats.latencies[kind] if kind else self.stats.all
        return percentile(values, fraction) if values else float("nan")

    @property
    def errors(self) -> int:
        return sum(self.stats.errors.values())

    def line(self) -> str:
        kinds = ", ".join(
            f"{k} {len(v):,} (p50 {self.p(0.5, k) * 1000:.0f} / p99 {self.p(0.99, k) * 1000:.0f}"
            " ms)"
            for k, v in sorted(self.stats.latencies.items())
        )
        return (
            f"{self.name}: {self.count:,} requests in {self.seconds:.0f} s = {self.rate:.1f}/s; "
            f"p50 {self.p(0.5) * 1000:.0f} ms, p95 {self.p(0.95) * 1000:.0f} ms, p99 "
            f"{self.p(0.99) * 1000:.0f} ms; {self.errors} errors; {kinds}; CPU: gunicorn "
            f"{self.server_cpu / self.seconds:.2f} cores, PostgreSQL (all sessions) "
            f"{self.database_cpu / self.seconds:.2f} cores, load generator "
            f"{self.client_cpu / self.seconds:.2f} cores"
        )


async def _phase(
    name: str,
    people: list[Person],
    args: argparse.Namespace,
    server: list[int],
) -> Phase:
    stats = Stats()
    started = time.monotonic()
    sessions = args.sessions_dir
    for batch in range(0, len(people), 16):  # a few at a time (Argon2 is slow)
        await asyncio.gather(
            *(
                p.sign_in(sessions / f"{p.email}.cookies" if sessions else None)
                for p in people[batch : batch + 16]
            )
        )
    setup = time.monotonic() - started
    for person in people:
        person.stats = stats
    begin = time.monotonic()
    measure_from = begin + args.warmup
    until = measure_from + args.duration
    tasks = [asyncio.create_task(p.browse(until)) for p in people]
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    stats.recording = True
    spies = _spy(server[1:], args) if name == "ours" and args.py_spy else []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    server0 = _cpu_seconds(server)
    database = _postgres_pids()
    database0 = _cpu_seconds(database)
    t0 = time.monotonic()
    await asyncio.sleep(max(0.0, until - time.monotonic()))
    stats.recording = False
    seconds = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu = _cpu_seconds(server) - server0
    database_cpu = _cpu_seconds(database) - database0
    await asyncio.gather(*tasks)
    await asyncio.gather(*(p.close() for p in people))
    for spy in spies:
        spy.wait(timeout=60)
    if spies:
        _summarise(args.py_spy)
    client_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    phase = Phase(name, stats, seconds, client_cpu, server_cpu, database_cpu, setup)
    print(phase.line(), flush=True)
    return phase


def _spy(workers: list[int], args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """py-spy on each gunicorn worker for the measured window (collapsed stacks)."""
    args.py_spy.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(  # noqa: S603 - py-spy from our own virtualenv
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(args.duration)),
                "--rate",
                "50",
                "--format",
                "raw",
                "--output",
                str(args.py_spy / f"worker-{pid}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers
    ]


def _summarise(folder: Path, top: int = 25) -> None:
    """Where the workers' time went: samples per memorybox function (inclusive) and per
    frame at the top of the stack (self), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in folder.glob("worker-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            n = int(count)
            frames = stack.split(";")
            total += n
            own[frames[-1]] += n
            for frame in {f for f in frames if "memorybox/" in f or "templates/" in f}:
                inclusive[frame] += n
    print(f"py-spy: {total} samples in {folder}")
    for title, counter in (("inclusive (memorybox)", inclusive), ("self", own)):
        print(f"  {title}:")
        for frame, n in counter.most_common(top):
            print(f"    {n / max(total, 1):6.1%}  {frame}")


def _secret(folder: Path) -> str:
    """The bench server's secret key, kept beside the seed, so sessions signed in by one run
    still work in the next (a session lasts 8 hours) and 200 sign-ins are not redone."""
    path = folder / "secret_key"
    if not path.is_file():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: argparse.Namespace) -> Result:
    seeded = _scale.ensure(
        args.database,
        seed_args=_scale.seed_option_args(args.children, args.items_per_child, args.audit_rows),
    )
    emails = accounts(args.users, args.mix, args.children)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    args.sessions_dir = seeded.instance / "sessions"
    args.sessions_dir.mkdir(exist_ok=True)
    extra = {"PORT": str(port), "SECRET_KEY": _secret(seeded.instance), "PYTHONUNBUFFERED": "1"}
    if args.workers:
        extra["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        extra["MEMORYBOX_WEB_THREADS"] = str(args.threads)
    argv = _command(procfile()["web"], port)
    with tempfile.TemporaryDirectory(prefix="bench-many-") as tmp:
        log = Path(tmp) / "web.log"
        web = _start(argv, seeded.env(**extra), log)
        try:
            _wait_until_up(base, web, log)
            server = _server_pids(web.pid)
            ours, static = asyncio.run(_both(base, emails, args, server))
        finally:
            _stop(web)
            if args.keep_log:
                args.keep_log.write_text(log.read_text(errors="replace"))
    return _result(ours, static, args, argv, seeded)


async def _both(
    base: str, emails: list[str], args: argparse.Namespace, server: list[int]
) -> tuple[Phase, Phase | None]:
    def person(email: str) -> Person:
        return Person(base, email, Stats(), args.think, args.thumbs)

    ours = await _phase("ours", [person(e) for e in emails], args, server)
    if args.skip_static:
        return ours, None
    # Requests per page view, as the people above make them: a young person's gallery with
    # its thumbnails, an item with its photo, their story; an adult's home page or caseload,
    # then a child's page with thumbnails, an item with its photo, the child's story.
    child_shape = [1 + args.thumbs, 2, 1]
    adult_shape = [1, 1 + args.thumbs, 2, 1]
    people: list[Person] = [
        StaticPerson(
            base,
            e,
            Stats(),
            args.think,
            args.thumbs,
            shape=child_shape if e.startswith("child") else adult_shape,
        )
        for e in emails
    ]
    return ours, await _phase("static file", people, args, server)


def _wait_until_up(base: str, web: subprocess.Popen[bytes], log: Path) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("gunicorn stopped:\n" + log.read_text(errors="replace")[-3000:])
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/login", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def _result(
    ours: Phase,
    static: Phase | None,
    args: argparse.Namespace,
    argv: list[str],
    seeded: _scale.Seeded,
) -> Result:
    ratio = ours.rate / static.rate if static else float("nan")
    p99 = ours.p(0.99)
    passed = p99 <= TARGET_P99 and ours.errors == 0 and static is not None
    passed = passed and ratio >= TARGET_RATIO
    errors = ", ".join(f"{k} x{n}" for k, n in ours.stats.errors.most_common(5)) or "none"
    notes = [
        f"{args.users} people ({_mix(args)}), {args.duration:g} s measured after "
        f"{args.warmup:g} s of warm-up, think time {args.think:g} s (0.5x-1.5x), "
        f"{args.thumbs} thumbnails per list page",
        ours.line(),
        f"errors: {errors}",
        f"sign-in of {args.users} people (untimed; the login form, Argon2, 16 at a time, or "
        f"a session kept from an earlier run): {ours.setup:.0f} s",
        "server: " + " ".join(argv[1:]) + _sizes(args),
        f"database {args.database} (PostgreSQL), seeded by flask seed-scale "
        f"({seeded.seconds:.0f} s making sure of the seed this run)",
    ]
    shares = [int(x) for x in args.mix.split(",")]
    expected = ["page: item", "picture"]
    expected += ["page: gallery", "page: story"] if shares[0] else []
    expected += ["page: shared child", "page: shared story"] if shares[1] or shares[2] else []
    missing = [kind for kind in expected if not ours.stats.latencies.get(kind)]
    if missing:
        notes.append(
            "WARNING: none of " + ", ".join(missing) + " were requested: the links this "
            "client follows (see the patterns at the top of many_users.py) may have changed"
        )
    if static:
        notes.insert(2, static.line())
    return Result(
        name="many_users",
        title=f"(g) Many users: {args.users} people browsing for {args.duration:g} s",
        ours=f"{ours.rate:.1f} requests/s, p99 {p99 * 1000:.0f} ms, {ours.errors} errors",
        baseline=f"{static.rate:.1f} requests/s (p99 {static.p(0.99) * 1000:.0f} ms) for a "
        "static file, same people and pauses"
        if static
        else "not measured (--skip-static)",
        ratio=ratio,
        ratio_meaning="our requests per second / the static file's",
        target=f"p99 <= {TARGET_P99 * 1000:.0f} ms, 0 errors, ratio >= {TARGET_RATIO:g}",
        passed=passed,
        notes=notes,
        details={"p99_ms": p99 * 1000, "errors": ours.errors, "rate": ours.rate},
    )


def _mix(args: argparse.Namespace) -> str:
    emails = accounts(args.users, args.mix, args.children)
    kinds = Counter(e.split("@")[0].rstrip("0123456789") for e in emails)
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def _sizes(args: argparse.Namespace) -> str:
    sizes = []
    if args.workers:
        sizes.append(f"WEB_CONCURRENCY={args.workers}")
    if args.threads:
        sizes.append(f"MEMORYBOX_WEB_THREADS={args.threads}")
    return f" ({', '.join(sizes)})" if sizes else " (gunicorn.conf.py defaults)"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main_for(
        "many_users",
        run,
        users=(int, 200, "people signed in at once (distinct accounts)"),
        duration=(float, 60.0, "seconds measured"),
        warmup=(float, 5.0, "seconds of browsing before measuring"),
        think=(float, 5.0, "seconds between a person's pages (0.5x-1.5x at random)"),
        thumbs=(int, 12, "thumbnails fetched with each list page"),
        mix=(str, "70,20,10", "percent young people, carers, social workers"),
        workers=(int, 0, "WEB_CONCURRENCY for gunicorn (0: gunicorn.conf.py's default)"),
        threads=(int, 0, "MEMORYBOX_WEB_THREADS (0: gunicorn.conf.py's default)"),
        database=(str, _scale.DEFAULT_DATABASE, "PostgreSQL database (made and seeded)"),
        children=(int, 300, "flask seed-scale --children"),
        items_per_child=(int, 1000, "flask seed-scale --items-per-child"),
        audit_rows=(int, 2_000_000, "flask seed-scale --audit-rows"),
        skip_static=(bool, False, "do not measure the static file baseline"),
        keep_log=(Path, None, "copy gunicorn's log here"),
        py_spy=(Path, None, "profile the workers with py-spy while measuring; stacks go here"),
    )
