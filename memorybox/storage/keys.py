"""Storage keys are generated, never taken from a request: no names, no paths, no guessing."""

from __future__ import annotations

import re
import uuid

KEY_PATTERN = re.compile(r"^items/[0-9a-f]{2}/[0-9a-f]{32}\.[a-z0-9]{1,8}$")


def new_key(extension: str) -> str:
    token = uuid.uuid4().hex
    return f"items/{token[:2]}/{token}.{extension}"


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError("not a storage key this app made")
    return key
