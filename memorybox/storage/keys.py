"""Storage keys and upload ids are generated, never taken from a request: no names, no paths,
no guessing."""

from __future__ import annotations

import re
import secrets
import uuid

KEY_PATTERN = re.compile(r"^items/[0-9a-f]{2}/[0-9a-f]{32}\.[a-z0-9]{1,8}$")
UPLOAD_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def new_key(extension: str) -> str:
    token = uuid.uuid4().hex
    return f"items/{token[:2]}/{token}.{extension}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError("not a storage key this app made")
    return key


def new_upload_id() -> str:
    """An id for a multipart upload on local disk: 128 random bits, hex."""
    return secrets.token_hex(16)


def check_upload_id(upload_id: str) -> str:
    """Local upload ids name a folder, so only ids this app made get through."""
    if not isinstance(upload_id, str) or not UPLOAD_ID_PATTERN.fullmatch(upload_id):
        raise ValueError("not an upload id this app made")
    return upload_id
