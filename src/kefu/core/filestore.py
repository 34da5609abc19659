"""Files encrypted at rest under ``var_dir/<sub-directory>/<32 hex>`` (complaint evidence, e-mail attachments).

Each file is AES-GCM encrypted with the personal-data keyring's current key version; the random storage key
and the store's magic are bound in as associated data, so a file renamed or moved into another store does
not decrypt. The layout is ``magic || key version (4 bytes, big-endian) || nonce (12) || ciphertext+tag``.
The plaintext never touches the disk. A file written by a transaction that rolls back is deleted again
(``after_rollback``); a committed one stays. Files are created 0600 in a 0700 directory.
"""

from __future__ import annotations

import os
import secrets
import struct
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import crypto, runtime

_PENDING = "filestore_files"


def forget_on_rollback(session: AsyncSession, path: Path) -> None:
    """Delete ``path`` if the transaction rolls back; forget it once the transaction commits."""
    pending: list[Path] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def rolled_back(_s: Any) -> None:
            for p in session.info.pop(_PENDING, []):
                p.unlink(missing_ok=True)

        def committed(_s: Any) -> None:
            session.info.pop(_PENDING, None)

        event.listen(session.sync_session, "after_rollback", rolled_back, once=True)
        event.listen(session.sync_session, "after_commit", committed, once=True)
    pending.append(path)


class FileStore:
    """Encrypted files in one sub-directory of ``var_dir``; ``magic`` marks (and binds) the store's files."""

    def __init__(self, subdir: str, *, magic: bytes, label: str = "stored file") -> None:
        if not subdir or "/" in subdir or subdir.startswith("."):
            raise ValueError("a file store's sub-directory is one plain folder name")
        self.subdir, self.magic, self.label = subdir, magic, label

    def dir(self) -> Path:
        path = runtime.get().settings.var_dir / self.subdir
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def path(self, storage_key: str) -> Path:
        if len(storage_key) != 32 or any(ch not in "0123456789abcdef" for ch in storage_key):
            raise crypto.CryptoError(f"{self.label}: {storage_key!r} is not a storage key")
        return self.dir() / storage_key

    def encrypt_bytes(self, data: bytes, *, storage_key: str) -> bytes:
        ring = crypto.keyring()
        version = ring.current_version
        nonce = os.urandom(12)
        ct = AESGCM(ring.keys[version]).encrypt(nonce, data, self.magic + storage_key.encode())
        return self.magic + struct.pack(">I", version) + nonce + ct

    def decrypt_bytes(self, blob: bytes, *, storage_key: str) -> bytes:
        head = len(self.magic)
        if not blob.startswith(self.magic) or len(blob) < head + 4 + 12 + 16:
            raise crypto.CryptoError(f"{self.label} {storage_key} is not an encrypted file of this store")
        (version,) = struct.unpack(">I", blob[head : head + 4])
        key = crypto.keyring().keys.get(version)
        if key is None:
            raise crypto.CryptoError(f"{self.label} {storage_key}: key version {version} is not in the keyring")
        nonce, ct = blob[head + 4 : head + 16], blob[head + 16 :]
        try:
            return AESGCM(key).decrypt(nonce, ct, self.magic + storage_key.encode())
        except InvalidTag as exc:
            raise crypto.CryptoError(f"{self.label} {storage_key} was altered or moved") from exc

    def store(self, session: AsyncSession, data: bytes) -> str:
        """Write ``data`` encrypted under a new random storage key (0600); returns the key. The file goes
        away again if ``session``'s transaction rolls back."""
        storage_key = secrets.token_hex(16)
        path = self.dir() / storage_key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.encrypt_bytes(data, storage_key=storage_key))
        forget_on_rollback(session, path)
        return storage_key

    def read(self, storage_key: str) -> bytes:
        """The plaintext of a stored file: FileNotFoundError when it is missing, CryptoError when it was
        altered, moved, or its key version is gone."""
        return self.decrypt_bytes(self.path(storage_key).read_bytes(), storage_key=storage_key)
