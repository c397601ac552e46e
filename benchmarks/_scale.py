"""The seeded authority that benchmarks (f) and (g) share: a PostgreSQL database of their
own (never ``test``, which test runs reset) and a folder for its stored files, built with
``flask seed-scale`` and kept between runs (the seed adds only what is missing, so a second
run takes seconds). If the folder has gone but the database remains, both are made again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks._common import ROOT

BIN = Path(sys.executable).parent
SERVER = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "memorybox_bench"
DEFAULT_FOLDER = Path(
    os.environ.get("MEMORYBOX_BENCH_DIR") or Path(tempfile.gettempdir()) / "memorybox-bench"
)
BIG_BOX = 5000
SLUG = "scale"
PASSWORD = "memorybox-scale"  # noqa: S105 - the seed's printed benchmark password


@dataclass(frozen=True)
class Seeded:
    database_url: str
    storage_url: str
    instance: Path
    seconds: float  # how long making sure of the seed took (0 when nothing was missing)
    output: str

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            STORAGE_URL=self.storage_url,
            MEMORYBOX_INSTANCE_PATH=str(self.instance),
            MEMORYBOX_TRANSCRIBE="off",
            **extra,
        )
        env.pop("MEMORYBOX_ENV", None)
        return env


def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def _exists(name: str) -> bool:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def ensure(
    database: str = DEFAULT_DATABASE,
    folder: Path = DEFAULT_FOLDER,
    seed_args: tuple[str, ...] = (),
) -> Seeded:
    """The benchmark authority, seeded (``seed_args`` go to ``flask seed-scale``)."""
    if database == "test":
        raise SystemExit("never the database named test: the test runs reset it")
    folder = folder / database
    storage = folder / "storage"
    if _exists(database) and not (storage / "items").is_dir():
        _admin(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
    if not _exists(database):
        _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    storage.mkdir(parents=True, exist_ok=True)
    seeded = Seeded(f"{SERVER}/{database}", f"file://{storage}", folder, 0.0, "")
    env = seeded.env()
    flask = [str(BIN / "flask"), "--app", "memorybox"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own command
        [*flask, "seed-scale", "--slug", SLUG, *seed_args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - started
    return Seeded(seeded.database_url, seeded.storage_url, folder, took, done.stdout)


def seed_option_args(children: int, items_per_child: int, audit_rows: int) -> tuple[str, ...]:
    return (
        f"--children={children}",
        f"--items-per-child={items_per_child}",
        f"--big-box={BIG_BOX}",
        f"--audit-rows={audit_rows}",
    )
