"""Say up front whether the real-browser tests will run (used by `make test`)."""

from __future__ import annotations

import os
import shutil
import sys

CHROMIUM = os.environ.get("MEMORYBOX_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return 0
    if os.environ.get("MEMORYBOX_REQUIRE_BROWSER"):
        print(f"Chromium is required here (MEMORYBOX_REQUIRE_BROWSER) but {CHROMIUM} is missing")
        return 1
    print(f"Browser tests will be SKIPPED: no Chromium at {CHROMIUM} (apt-get install chromium)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
