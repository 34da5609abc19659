"""Personal-data toolkit: field encryption (AES-GCM, key versions), blind index, data classes, masking.

Values are stored as ``v<version>:<base64(nonce || ciphertext)>``; the column name is bound in as
associated data, so a ciphertext copied into another column does not decrypt. The blind index is an
HMAC-SHA256 of the normalised value under a key derived (HKDF) from the *lowest* data-key version, so
it stays stable when new key versions are added; keep that version in the keyring.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine.interfaces import Dialect


class DataClass(enum.IntEnum):
    """JR/T 0171-2020 personal financial information classes (C3 most sensitive)."""

    C1 = 1  # internal: account opening branch, staff-facing codes
    C2 = 2  # personal identity and contact information: name, phone, address, e-mail
    C3 = 3  # authentication and account information: ID number, card number, balance, secrets


class CryptoError(RuntimeError):
    pass


@dataclass(frozen=True)
class KeyRing:
    keys: dict[int, bytes]

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys: dict[int, bytes] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            version, _, b64 = part.rpartition(":") if ":" in part else ("1", "", part)
            try:
                key = base64.b64decode(b64, validate=True)
                v = int(version)
            except ValueError as exc:
                raise CryptoError("KEFU_DATA_KEY entries must look like '1:<base64 of 32 bytes>'") from exc
            if len(key) != 32:
                raise CryptoError(f"data key version {v} must be 32 bytes (base64 of 32 random bytes)")
            keys[v] = key
        if not keys:
            raise CryptoError("KEFU_DATA_KEY is empty")
        return cls(keys)

    @property
    def current_version(self) -> int:
        return max(self.keys)

    def index_key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kefu-blind-index").derive(
            self.keys[min(self.keys)]
        )


_keyring: KeyRing | None = None
_index_key: bytes | None = None


def configure(keyring_text: str) -> None:
    global _keyring, _index_key
    _keyring = KeyRing.parse(keyring_text)
    _index_key = _keyring.index_key()


def keyring() -> KeyRing:
    if _keyring is None:
        raise CryptoError("personal-data keyring not configured")
    return _keyring


def encrypt(plaintext: str, *, context: str) -> str:
    ring = keyring()
    version = ring.current_version
    nonce = os.urandom(12)
    ct = AESGCM(ring.keys[version]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"v{version}:" + base64.b64encode(nonce + ct).decode()


def key_version_of(token: str) -> int:
    return int(token.split(":", 1)[0][1:])


def decrypt(token: str, *, context: str) -> str:
    ring = keyring()
    try:
        head, b64 = token.split(":", 1)
        version = int(head[1:])
        raw = base64.b64decode(b64)
        key = ring.keys[version]
    except (ValueError, KeyError) as exc:
        raise CryptoError(f"cannot decrypt {context}: unknown key version or malformed value") from exc
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise CryptoError(f"cannot decrypt {context}: value was altered or moved") from exc


def normalise_lookup(value: str) -> str:
    """Normalise phone numbers and ID numbers before hashing: strip spaces, dashes, +86, upper-case."""
    v = re.sub(r"[\s\-()]", "", value).upper()
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086") and len(v) == 15:  # 0086 + an 11-digit mobile (an ID number may start 0086…)
        v = v[4:]
    return v


def blind_index(value: str, *, context: str) -> str:
    if _index_key is None:
        raise CryptoError("personal-data keyring not configured")
    msg = f"{context}\x00{normalise_lookup(value)}".encode()
    return hmac.new(_index_key, msg, hashlib.sha256).hexdigest()


class Encrypted(TypeDecorator[str]):
    """A string column stored encrypted. ``context`` (``table.column``) is bound as associated data."""

    impl = String
    cache_ok = True

    def __init__(self, context: str, data_class: DataClass = DataClass.C2, length: int = 1024) -> None:
        super().__init__(length)
        self.context = context
        self.data_class = data_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return encrypt(str(value), context=self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt(value, context=self.context)


# ---- masking (convention 8) -------------------------------------------------------------------


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if name.isascii():
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = normalise_lookup(phone)
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 7:
        return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
    return "*" * len(digits)


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    v = normalise_lookup(value)
    if len(v) <= 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_card(value: str | None) -> str:
    if not value:
        return ""
    v = re.sub(r"\s", "", value)
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return mask_name(value)
    user, _, domain = value.partition("@")
    return (user[0] if user else "") + "***@" + domain


def mask_amount(_value: object) -> str:
    return "****"


MASKERS = {
    "name": mask_name,
    "phone": mask_phone,
    "id_number": mask_id_number,
    "card": mask_card,
    "email": mask_email,
    "amount": mask_amount,
}


# ---- patterns used by the log scrubber ----------------------------------------------------------

_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    # 18-digit resident ID (last may be X), before the phone/card patterns.
    (re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)"), lambda m: mask_id_number(m.group(0))),
    # bank card numbers 15-19 digits
    (re.compile(r"(?<!\d)\d{15,19}(?!\d)"), lambda m: mask_card(m.group(0))),
    # e-mail addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), lambda m: mask_email(m.group(0))),
    # mainland mobile numbers, with optional +86
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), lambda m: mask_phone(m.group(0))),
]


def scrub_text(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
