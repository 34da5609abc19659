"""Argon2id password hashing and the password policy."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kefu.core.errors import ValidationFailed

COMMON = {
    "password123", "1234567890", "12345678910", "qwertyuiop", "abc1234567", "a123456789",
    "admin12345", "kefu123456", "passw0rd12", "woaini1314", "aa123456789", "qwer123456",
}  # fmt: skip


@lru_cache(maxsize=4)
def hasher(time_cost: int = 3, memory_kib: int = 65536) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def _settings_hasher() -> PasswordHasher:
    from kefu.core import runtime

    s = runtime.get().settings
    return hasher(s.argon2_time_cost, s.argon2_memory_kib)


def hash_password(password: str) -> str:
    return _settings_hasher().hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash)."""
    h = _settings_hasher()
    try:
        h.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, h.check_needs_rehash(stored)


_DUMMY: dict[str, str] = {}


def burn_time(password: str) -> None:
    """Spend the time of a real verification, so unknown accounts cannot be told apart by timing."""
    h = _settings_hasher()
    key = f"{h.time_cost}:{h.memory_cost}"
    if key not in _DUMMY:
        _DUMMY[key] = h.hash("kefu-dummy-password-1")
    verify_password(_DUMMY[key], password)


def check_policy(password: str, *, staff_no: str, min_length: int, field: str = "password") -> None:
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters")
    if len(password) > 128:
        problems.append("at most 128 characters")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("both letters and digits")
    if staff_no and staff_no.lower() in password.lower():
        problems.append("not containing the staff number")
    if password.lower() in COMMON:
        problems.append("not a commonly used password")
    if problems:
        raise ValidationFailed(
            "The password must have " + ", ".join(problems) + ".",
            extra={"errors": [{"field": field, "message": p} for p in problems]},
        )
