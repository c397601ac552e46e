"""The reliability table: one row per fault test, filled in by the test with what it did and
what was lost, and given its outcome by pytest. ``make reliability-report`` puts the table
between the markers in ``docs/reliability.md``; the prose around it is kept."""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPORT_ENV = "MEMORYBOX_RELIABILITY_REPORT"
OUTCOME = pytest.StashKey[pytest.TestReport]()
START = "<!-- reliability table: made by `make reliability-report`, do not edit by hand -->"
END = "<!-- end of reliability table -->"

_ROWS: list[Row] = []


@dataclass
class Row:
    test: str
    fault: str = ""
    does: str = ""
    #: What was lost or left behind, by name; every target is 0.
    lost: dict[str, int] = field(default_factory=dict)
    #: Other measurements worth a reader's time (seconds to recover and so on).
    measured: list[str] = field(default_factory=list)
    passed: bool = False
    failure: str = ""
    seconds: float = 0.0

    def note(self, text: str) -> None:
        self.measured.append(text)


def add(row: Row) -> None:
    _ROWS.append(row)


def collected() -> list[Row]:
    return list(_ROWS)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row]) -> str:
    lines = [
        "| Fault | What the test does | What was lost | Outcome |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        lost = ", ".join(f"{name}: {count}" for name, count in row.lost.items()) or "not measured"
        if row.passed:
            outcome = "survived"
        else:
            outcome = f"**FAILED**: {row.failure or 'see the test output'}"
        if row.measured:
            outcome += "; " + "; ".join(row.measured)
        outcome += f" (test took {row.seconds:.0f} s)"
        lines.append(
            f"| {_cell(row.fault or row.test)} | {_cell(row.does)} | {_cell(lost)} "
            f"| {_cell(outcome)} |"
        )
    return "\n".join(lines)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, timeout=10
        )
    except OSError:
        return ""
    return done.stdout.strip()


def _revision() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} with uncommitted changes" if changed else commit


def write(path: Path, table: str) -> None:
    """Replace the table between the markers in ``path`` (appending it when there are none)."""
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {_revision()} "
        f"({platform.system()}, {platform.python_implementation()} {platform.python_version()})."
    )
    block = f"{START}\n{stamp}\n\n{table}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")
