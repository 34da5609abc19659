"""HTTP endpoints of the e-mail channel under ``/api/v1/email``: a contact's thread (``contact.read``, within
the reader's scope), downloading an attachment (``contact.read``, scoped, audited), and replying
(``contact.handle``; only the agent connected to the e-mail). Mail comes in through the receivers
(``kefu.mail.receivers``), not over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kefu.core.auth import DbSession, Principal, require
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.mail import desk

router = APIRouter(prefix="/api/v1/email", tags=["email"])
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]
Handler = Annotated[Principal, require(Permission.CONTACT_HANDLE)]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    download: str = Field(description="where to download it (audited)")


class MessageOut(BaseModel):
    id: int
    contact_id: int
    direction: str = Field(description="inbound (from the customer) or outbound (our reply)")
    at: dt.datetime
    from_: str = Field(alias="from", description="sender, masked")
    to: str = Field(description="recipient, masked")
    subject: str
    body: str = Field(description="plain text (HTML mail is reduced to text; never rendered)")
    source: str
    agent_id: int | None
    attachments: list[AttachmentOut]


class ThreadOut(BaseModel):
    contact_id: int
    status: str
    agent_id: int | None
    customer_id: int | None
    queue: str
    arrived_at: dt.datetime
    previous_contact_ids: list[int] = Field(description="earlier contacts of the same thread, oldest first")
    subject: str
    can_reply: bool
    messages: list[MessageOut]


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=desk.REPLY_MAX_CHARS, description="the reply, plain text")
    close: bool = Field(default=False, description="end the conversation after sending (then record the wrap-up)")


class ReplyOut(MessageOut):
    contact_status: str
    outbound_status: str = Field(description="pending until the mail server accepted it after commit")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/contacts/{contact_id}", response_model=ThreadOut, response_model_by_alias=True)
async def get_thread(contact_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """The e-mail thread of a contact, oldest first, with earlier contacts of the same thread (audited)."""
    return await desk.thread(db, actor=principal, contact_id=contact_id)


@router.post("/contacts/{contact_id}/reply", response_model=ReplyOut, status_code=201, response_model_by_alias=True)
async def post_reply(
    contact_id: RowId, body: ReplyIn, request: Request, db: DbSession, principal: Handler
) -> dict[str, Any]:
    """Reply to the newest message of the thread (only the connected agent); sent after commit. With
    ``close`` the conversation ends and the wrap-up is due."""
    rt = request.app.state.runtime
    return await desk.reply(db, rt=rt, actor=principal, contact_id=contact_id, body=body.body, close=body.close)


@router.post("/contacts/{contact_id}/close", status_code=204)
async def close(contact_id: RowId, request: Request, db: DbSession, principal: Handler) -> None:
    """End the e-mail without a reply (only the connected agent); the wrap-up is then due."""
    await desk.close(db, rt=request.app.state.runtime, actor=principal, contact_id=contact_id)


@router.get("/attachments/{attachment_id}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})  # fmt: skip
async def download_attachment(attachment_id: RowId, db: DbSession, principal: Reader) -> Response:
    """Download an attachment (decrypted, checked, audited). Always a download, never shown in the browser."""
    a, data = await desk.read_attachment(db, actor=principal, attachment_id=attachment_id)
    return Response(content=data, media_type=a.content_type or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(a.filename or f"attachment-{a.id}"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })  # fmt: skip
