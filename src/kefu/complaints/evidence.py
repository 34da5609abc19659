"""Evidence of a complaint's investigation (R5.3; issue 6 §3): linked contacts, banking transactions,
system data quoted by the handler, notes, and uploaded files.

Uploaded files are checked twice: the extension must be one of the allowed kinds AND the content must
look like that kind (magic bytes; ``.txt`` must be UTF-8 text; ``.docx``/``.xlsx`` must be a ZIP with
``[Content_Types].xml`` and the part folder of that format). The stored content type is the sniffed
one, never the client's. Size is limited by ``complaint_upload_max_bytes``; empty files are refused.
The sniffing is hand-written: the set is eight formats, and a library (filetype, puremagic) would be a
new dependency that still needs the OOXML and UTF-8 checks below.

Files are stored encrypted (AES-GCM, the personal-data keyring's current key version, the random
storage key bound in as associated data) under ``var_dir/complaints/<32 hex>`` (``kefu.core.filestore``); the plaintext never
touches the disk. The SHA-256 of the plaintext is kept to prove the file was not altered. A file written
by a transaction that rolls back is deleted again (``after_rollback``). Every read is audited.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import clocking, repository
from kefu.complaints.common import clean_text, invalid, timeline
from kefu.complaints.models import Complaint, Evidence, EvidenceKind, Status
from kefu.core import audit, clock, crypto, runtime
from kefu.core.auth import Principal
from kefu.core.errors import Conflict, NotFound, PermissionDenied
from kefu.core.filestore import FileStore
from kefu.core.permissions import Permission

#: extension → (content type stored and served, the label used in messages)
ALLOWED: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ALLOWED_LIST = "PDF, PNG, JPEG, GIF, TXT (UTF-8), WAV, MP3, DOCX, XLSX"
#: evidence can be added in every status but these (a closed case is reopened first)
CLOSED_TO_EVIDENCE = (Status.NOT_ACCEPTED.value, Status.MERGED.value, Status.CLOSED.value)
FILE_MAGIC = b"KEFUEV1"
LINK_KINDS = (EvidenceKind.CONTACT.value, EvidenceKind.TRANSACTION.value, EvidenceKind.SYSTEM.value)
#: how many statement lines per account are searched for a transaction reference
TXN_SEARCH_LIMIT = 5000


# ---- type sniffing -----------------------------------------------------------------------------


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)


def _ooxml(data: bytes) -> str | None:
    """'docx' or 'xlsx' when ``data`` is an Office Open XML package (only the ZIP directory is read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def _mpeg_frame(data: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a valid version and layer."""
    return (
        len(data) > 2
        and data[0] == 0xFF
        and data[1] & 0xE0 == 0xE0
        and (data[1] >> 3) & 3 != 1
        and ((data[1] >> 1) & 3 != 0)
    )


def sniff(data: bytes) -> str | None:
    """The kind of file the bytes are (one of ALLOWED's extensions, jpeg as 'jpg'), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"ID3") or _mpeg_frame(data):
        return "mp3"
    if data.startswith(b"PK\x03\x04"):
        return _ooxml(data)
    if _is_text(data):
        return "txt"
    return None


def safe_filename(name: str | None, ext: str) -> str:
    """The client's file name without folders, control or reserved characters, at most 200 characters."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r'[<>:"|?*;]', "_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[: 200 - len(ext) - 1].strip(" .") or "evidence"
    return f"{stem}.{ext}"


def check_file(filename: str | None, data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """(extension, content type) of an acceptable upload, or a 422 that says what to send instead."""
    if not data:
        raise invalid("file", "The file is empty. Choose the file again; if it is still empty, ask for a new copy.")
    if len(data) > max_bytes:
        raise invalid("file", f"The file is {len(data):,} bytes; the largest allowed is {max_bytes:,} bytes. "
                              "Send a smaller file (e.g. scan at a lower resolution or split it).")  # fmt: skip
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext not in ALLOWED:
        raise invalid("file", f"Files of type '.{ext or '?'}' are not accepted. Allowed: {ALLOWED_LIST}.")
    found = sniff(data)
    wanted = "jpg" if ext == "jpeg" else ext
    if found != wanted:
        what = f"a {found.upper()} file" if found else "not a file of an allowed type"
        raise invalid("file", f"The file is named .{ext} but its content is {what}. "
                              f"Send the original file; allowed: {ALLOWED_LIST}.")  # fmt: skip
    return ext, ALLOWED[ext]


# ---- encryption at rest (kefu.core.filestore) ---------------------------------------------------

FILES = FileStore("complaints", magic=FILE_MAGIC, label="evidence file")


def evidence_dir() -> Path:
    return FILES.dir()


def encrypt_bytes(data: bytes, *, storage_key: str) -> bytes:
    return FILES.encrypt_bytes(data, storage_key=storage_key)


def decrypt_bytes(blob: bytes, *, storage_key: str) -> bytes:
    return FILES.decrypt_bytes(blob, storage_key=storage_key)


def store(session: AsyncSession, data: bytes) -> str:
    """Write ``data`` encrypted under a new random storage key (0600); returns the key."""
    return FILES.store(session, data)


# ---- services ----------------------------------------------------------------------------------


def evidence_audit(e: Evidence, c: Complaint) -> dict[str, Any]:
    """What the audit log keeps: no file name, note or content (they may hold personal data)."""
    return {"complaint": c.number, "kind": e.kind, "ref": e.ref, "content_type": e.content_type, "size": e.size,
            "sha256": e.sha256}  # fmt: skip


async def _open_case(session: AsyncSession, actor: Principal, complaint_id: int) -> Complaint:
    c = await repository.get_visible(session, actor=actor, complaint_id=complaint_id)
    clocking.check_recusal(actor, c)
    if not clocking.may_handle(actor, c):
        raise PermissionDenied(f"Complaint {c.number} is handled by someone else; only its handler or a supervisor "
                               "adds evidence.")  # fmt: skip
    if c.status in CLOSED_TO_EVIDENCE:
        hint = "reopen it first" if c.status == Status.CLOSED.value else "add evidence to the case it was merged into"
        if c.status == Status.NOT_ACCEPTED.value:
            hint = "a refused case takes no evidence"
        raise Conflict(f"Case {c.number} is {c.status}; evidence cannot be added now ({hint}).")
    return c


async def _add(
    session: AsyncSession, c: Complaint, actor: Principal, summary: str, detail: str | None, **fields: Any
) -> Evidence:
    e = Evidence(complaint_id=c.id, added_by=actor.staff_id, added_at=clock.now(), **fields)
    session.add(e)
    await session.flush()
    await timeline(session, c, "evidence", summary, detail=detail, actor_id=actor.staff_id)
    await audit.record(session, action=f"complaint.evidence.{e.kind}", object_type="complaint", object_id=c.id,
                       after=evidence_audit(e, c))  # fmt: skip
    return e


async def add_file(
    session: AsyncSession,
    *,
    actor: Principal,
    complaint_id: int,
    filename: str | None,
    content_type: str | None,
    data: bytes,
    note: str | None,
) -> Evidence:
    """Upload a file: checked by extension and content (``content_type`` from the client is ignored),
    stored encrypted; the timeline names the type and size, the file name is kept encrypted in detail."""
    c = await _open_case(session, actor, complaint_id)
    max_bytes = runtime.get().settings.complaint_upload_max_bytes
    ext, ctype = check_file(filename, data, max_bytes=max_bytes)
    text = clean_text(note, "note", low=1, high=2000, required=False)
    name = safe_filename(filename, ext)
    storage_key = store(session, data)
    return await _add(
        session, c, actor, f"File added ({ext.upper()}, {len(data):,} bytes)", name,
        kind=EvidenceKind.FILE.value, filename=name, content_type=ctype, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage_key=storage_key, note=text,
    )  # fmt: skip


async def _transaction_found(session: AsyncSession, customer_id: int, txn_id: int) -> bool:
    """Whether ``txn_id`` is on one of the customer's accounts (through the core-banking port)."""
    from kefu.banking import operations

    core = await operations.get_core(session)
    for account in await core.accounts(session, customer_id=customer_id):
        offset = 0
        while offset < TXN_SEARCH_LIMIT:
            page = await core.history(session, account_id=account.id, start=None, end=None, offset=offset, limit=200)
            if any(line.transaction_id == txn_id for line in page.items):
                return True
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
    return False


async def link(
    session: AsyncSession, *, actor: Principal, complaint_id: int, kind: str, ref: str, note: str | None
) -> Evidence:
    """Link a contact (ref = contact id; visible to you and, when the case has a customer, of that customer
    or the case's own contact), a transaction (ref = transaction number; checked against the customer's
    accounts when a customer is linked) or system data (ref = the system's name; the note says what)."""
    c = await _open_case(session, actor, complaint_id)
    if kind not in LINK_KINDS:
        raise invalid("kind", "Kind is contact, transaction or system.")
    ref = (ref or "").strip()
    text = clean_text(note, "note", low=1, high=2000, required=kind == EvidenceKind.SYSTEM.value)
    checked = ""
    if kind in (EvidenceKind.CONTACT.value, EvidenceKind.TRANSACTION.value):
        if not (ref.isascii() and ref.isdigit()) or len(ref) > 18 or int(ref) < 1:
            raise invalid("ref", f"Give the {kind}'s number (digits only).")
        ref = str(int(ref))
    elif not 2 <= len(ref) <= 80 or any(unicodedata.category(ch)[0] == "C" for ch in ref):
        raise invalid("ref", "Name the system the data comes from (2 to 80 characters, no control characters).")
    if kind == EvidenceKind.CONTACT.value:
        from kefu.contacts import repository as contacts

        contact = await contacts.visible_contact(session, principal=actor, contact_id=int(ref))
        if contact is None:
            raise NotFound(f"No contact {ref} that you can see.")
        if c.customer_id is not None and contact.customer_id != c.customer_id and contact.id != c.contact_id:
            raise invalid("ref", f"Contact {ref} is not with this case's customer; link the customer's own contacts.")
    elif kind == EvidenceKind.TRANSACTION.value:
        if c.customer_id is None:
            checked = " (not checked: no customer linked)"
        elif not await _transaction_found(session, c.customer_id, int(ref)):
            raise invalid("ref", f"Transaction {ref} is not on any account of this case's customer. "
                                 "Copy the number from the customer's statement.")  # fmt: skip
    if kind == EvidenceKind.SYSTEM.value:
        # the system's name is free text: kept with the note (encrypted), never in the clear columns or the audit
        quoted = f"{ref}: {text}"
        return await _add(session, c, actor, "Linked system data", quoted, kind=kind, ref=None, note=quoted)
    duplicate = (
        await session.execute(
            select(Evidence.id).where(Evidence.complaint_id == c.id, Evidence.kind == kind, Evidence.ref == ref)
        )
    ).scalar_one_or_none()
    if duplicate is not None:
        raise Conflict(f"{kind.capitalize()} {ref} is already linked to case {c.number} (evidence {duplicate}).")
    return await _add(session, c, actor, f"Linked {kind} {ref}{checked}", text, kind=kind, ref=ref, note=text)


async def add_note(session: AsyncSession, *, actor: Principal, complaint_id: int, text: str) -> Evidence:
    """An investigation note (encrypted; the timeline says only that a note was added)."""
    c = await _open_case(session, actor, complaint_id)
    body = clean_text(text, "text", low=2, high=4000)
    return await _add(session, c, actor, "Investigation note added", None, kind=EvidenceKind.NOTE.value, note=body)


async def read_file(session: AsyncSession, *, actor: Principal, evidence_id: int) -> tuple[Evidence, bytes]:
    """An uploaded file's plaintext, for complaint handlers and supervisors who can see the case.
    Every read is audited (complaint.evidence.read); an altered file is refused, never served."""
    if not actor.can(Permission.COMPLAINT_HANDLE):
        raise PermissionDenied("Only complaint handlers and supervisors open evidence files.")
    e = await session.get(Evidence, evidence_id) if 1 <= evidence_id <= 2**62 else None
    if e is None or e.kind != EvidenceKind.FILE.value or not e.storage_key:
        raise NotFound(f"No evidence file {evidence_id}.")
    c = await repository.get_visible(session, actor=actor, complaint_id=e.complaint_id)
    path = evidence_dir() / e.storage_key
    try:
        blob = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"Evidence file {evidence_id} is missing from storage; restore it from the backup.") from exc
    try:
        data = decrypt_bytes(blob, storage_key=e.storage_key)
    except crypto.CryptoError as exc:
        raise Conflict(f"Evidence file {evidence_id} cannot be opened: it was altered, or its key version is no "
                       "longer in the keyring. Report it to security; do not rely on it.") from exc  # fmt: skip
    if hashlib.sha256(data).hexdigest() != e.sha256:
        raise Conflict(f"Evidence file {evidence_id} does not match its recorded checksum; report it to security.")
    await audit.record(session, action="complaint.evidence.read", object_type="complaint_evidence", object_id=e.id,
                       after=evidence_audit(e, c))  # fmt: skip
    return e, data


async def list_for(session: AsyncSession, complaint_id: int) -> list[Evidence]:
    """A case's evidence, oldest first (callers check that the case is visible)."""
    stmt = select(Evidence).where(Evidence.complaint_id == complaint_id).order_by(Evidence.added_at, Evidence.id)
    return list((await session.execute(stmt)).scalars().all())
