"""Argon2id password hashing (argon2-cffi), with a dummy check so unknown users cost the same."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from memorybox.words import N_, Words

MIN_LENGTH = 8
MAX_LENGTH = 128


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash = self._hasher.hash("memorybox dummy password for timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches. With no stored hash, does the same work anyway."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """A friendly reason a new password can't be used, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return Words(N_("Your password needs at least %(num)s characters."), num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return Words(N_("Your password can have up to %(num)s characters."), num=MAX_LENGTH)
    if password.strip() == "" or len(set(password)) < 3:
        return N_("Please choose a password that is harder to guess.")
    return None
