"""Email backends, chosen by ``MAIL_URL``: console (default), file:///folder, smtp(s)://."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class ConsoleMailer:
    """Development: the email is logged (recipients and subject only, never the body)."""

    def send(self, message: EmailMessage) -> None:
        log.info("email to %s: %s", message["To"], message["Subject"])


class FileMailer:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))


class SmtpMailer:
    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.secure = parsed.scheme == "smtps"
        self.host = parsed.hostname or "localhost"
        self.port = parsed.port or (465 if self.secure else 587)
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.secure:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, context=context, timeout=10)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=10)
        with smtp:
            if not self.secure:
                smtp.starttls(context=context)
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


def make_mailer(url: str) -> Mailer:
    scheme = urlparse(url).scheme
    if scheme in {"", "console"}:
        return ConsoleMailer()
    if scheme == "file":
        return FileMailer(urlparse(url).path)
    if scheme in {"smtp", "smtps"}:
        return SmtpMailer(url)
    raise ValueError(
        f"MAIL_URL scheme {scheme!r} is not supported: use console://, file:// or smtp://"
    )
