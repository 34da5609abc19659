"""HTTP endpoints of the SMS and WeChat channels under /api/v1/channels.

Public webhooks, verified by signature (never by a session): ``POST /sms/inbound`` (HMAC-SHA256 with
``KEFU_SMS_WEBHOOK_SECRET`` over ``"<timestamp>.<raw body>"``, timestamp within 5 minutes) and
``GET``/``POST /wechat`` (WeChat's server verification and its XML messages, signed with
``KEFU_WECHAT_TOKEN``). Each is closed (404, code ``webhook_closed``) while its secret is unset. For
agents: a contact's message thread, replies, and binding WeChat followers to customers. Bad input is a
problem+json, never a 5xx.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kefu.channels import inbound, threads, wechat
from kefu.core import clock, runtime
from kefu.core.auth import DbSession, Principal, public, require
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.ids import MAX_ROW_ID, RowId
from kefu.core.permissions import Permission

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
Reader = Annotated[Principal, require(Permission.CONTACT_READ)]
Handler = Annotated[Principal, require(Permission.CONTACT_HANDLE)]
Manager = Annotated[Principal, require(Permission.CUSTOMER_MANAGE)]

#: how far a webhook's timestamp may be from our clock (replay guard)
MAX_SKEW_SECONDS = 300
MAX_SMS_BODY_BYTES = 16 * 1024


class BadSignature(KefuError):
    status, code, title = 401, "bad_signature", "Signature check failed"


class WebhookClosed(KefuError):
    """A webhook whose secret is not configured: answered like an address with nothing behind it."""

    status, code, title = 404, "webhook_closed", "Webhook closed"


class TooLarge(KefuError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class SmsInbound(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    sender: str = Field(alias="from", min_length=1, max_length=64, description="the customer's phone number")
    to: str | None = Field(default=None, max_length=64, description="our service number (informational)")
    text: str = Field(max_length=inbound.MAX_INBOUND_CHARS)
    id: str = Field(min_length=1, max_length=100, description="the gateway's message id (dedupe key)")
    received_at: dt.datetime | None = None

    @field_validator("received_at")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give received_at with a time zone, e.g. 2026-11-23T09:30:00+08:00")
        return v


class InboundOut(BaseModel):
    status: str  # received | duplicate
    message_id: int


class MessageOut(BaseModel):
    id: int
    channel: str
    direction: str
    contact_id: int | None
    customer_id: int | None
    address: str
    text: str
    at: dt.datetime
    agent_id: int | None
    outbound_id: int | None
    delivery: str | None
    delivery_error: str | None


class ReplyOut(MessageOut):
    segments: int


class ThreadOut(BaseModel):
    contact_id: int
    channel: str
    customer_id: int | None
    address: str
    messages: list[MessageOut]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class BindingIn(BaseModel):
    openid: str = Field(min_length=6, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    customer_id: int = Field(ge=1, le=MAX_ROW_ID)


class BindingOut(BaseModel):
    id: int
    channel: str
    customer_id: int
    openid: str
    bound_by: int | None
    created_at: dt.datetime
    created: bool
    messages_attributed: int


def _fresh(timestamp: str | None, where: str = "the X-Kefu-Timestamp header") -> None:
    try:
        ts = int(timestamp or "")
    except ValueError:
        raise BadSignature(f"Send the Unix time of the request (seconds) in {where}.",
                           code="bad_timestamp") from None  # fmt: skip
    if abs(clock.now().timestamp() - ts) > MAX_SKEW_SECONDS:
        raise BadSignature(
            f"The request's timestamp is more than {MAX_SKEW_SECONDS // 60} minutes from the server's clock; "
            "sign each request when it is sent (and check the gateway's clock).",
            code="stale_timestamp",
        )


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"The body is limited to {limit // 1024} KB.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise TooLarge(f"The body is limited to {limit // 1024} KB.")
    return raw


def sms_signature(secret: str, timestamp: str, raw: bytes) -> str:
    """The value of X-Kefu-Signature for a body sent at ``timestamp``."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()


_SMS_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["from", "text", "id"],
    "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "text": {"type": "string"},
                   "id": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"}},
}}}}}  # fmt: skip


@router.post("/sms/inbound", response_model=InboundOut, dependencies=[public()], openapi_extra=_SMS_SCHEMA)
async def sms_inbound(
    request: Request,
    db: DbSession,
    x_kefu_signature: Annotated[str | None, Header(max_length=200)] = None,
    x_kefu_timestamp: Annotated[str | None, Header(max_length=20)] = None,
) -> dict[str, Any]:
    """An SMS from a customer, posted by the SMS gateway. Sign ``"<timestamp>.<raw body>"`` with HMAC-SHA256
    and ``KEFU_SMS_WEBHOOK_SECRET``; send ``X-Kefu-Timestamp: <unix seconds>`` and
    ``X-Kefu-Signature: sha256=<hex>``. A repeated ``id`` is answered ``duplicate`` and changes nothing."""
    secret = runtime.get().settings.sms_webhook_secret
    if secret is None:
        raise WebhookClosed("The SMS webhook is closed: set KEFU_SMS_WEBHOOK_SECRET to open it.")
    raw = await _body(request, MAX_SMS_BODY_BYTES)
    _fresh(x_kefu_timestamp)
    expected = sms_signature(secret.get_secret_value(), str(x_kefu_timestamp), raw)
    if not x_kefu_signature or not hmac.compare_digest(expected, x_kefu_signature.strip().lower()):
        log.warning("sms_webhook_bad_signature")
        raise BadSignature("The X-Kefu-Signature header is missing or does not match the body; sign "
                           "'<timestamp>.<raw body>' with HMAC-SHA256 and the shared secret.")  # fmt: skip
    try:
        body = SmsInbound.model_validate_json(raw)
    except ValidationError as exc:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            raise KefuError("The body is not valid JSON; send {from, to, text, id, received_at}.",
                            code="bad_json") from None  # fmt: skip
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        names = ", ".join(e["field"] for e in errors)
        raise ValidationFailed(f"Check these fields: {names}.", extra={"errors": errors}) from None
    got = await inbound.receive(db, channel="sms", address=body.sender, text=body.text, external_id=body.id,
                                at=body.received_at)  # fmt: skip
    return {"status": "duplicate" if got.duplicate else "received", "message_id": got.message.id}


def _wechat_token() -> str:
    token = runtime.get().settings.wechat_token
    if token is None:
        raise WebhookClosed("The WeChat server URL is closed: set KEFU_WECHAT_TOKEN to open it.")
    return token.get_secret_value()


Sig = Annotated[str, Query(min_length=1, max_length=80)]
Stamp = Annotated[str, Query(min_length=1, max_length=20)]
Nonce = Annotated[str, Query(min_length=1, max_length=80)]


@router.get("/wechat", response_class=PlainTextResponse, dependencies=[public()])
async def wechat_verify(
    signature: Sig, timestamp: Stamp, nonce: Nonce, echostr: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    """WeChat's check of the server URL: answers ``echostr`` when the signature matches the token."""
    if not wechat.check_signature(_wechat_token(), sig=signature, timestamp=timestamp, nonce=nonce):
        raise BadSignature("The signature does not match KEFU_WECHAT_TOKEN; use the same token in the "
                           "official account's server settings.")  # fmt: skip
    return PlainTextResponse(echostr, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/wechat", response_class=PlainTextResponse, dependencies=[public()])
async def wechat_message(request: Request, db: DbSession, signature: Sig, timestamp: Stamp, nonce: Nonce) -> Response:
    """A message from a follower of the official account (XML, plaintext or compatible mode). Text messages
    are recorded; other kinds (images, events) are acknowledged and ignored. Answers ``success``."""
    token = _wechat_token()
    if not wechat.check_signature(token, sig=signature, timestamp=timestamp, nonce=nonce):
        log.warning("wechat_webhook_bad_signature")
        raise BadSignature("The signature does not match KEFU_WECHAT_TOKEN.")
    _fresh(timestamp, "the timestamp parameter")
    raw = await _body(request, wechat.MAX_XML_BYTES)
    try:
        fields = wechat.parse_message(raw)
    except wechat.XmlRejected as exc:
        raise KefuError(str(exc), code="bad_xml") from None
    if "MsgType" not in fields and "Encrypt" in fields:
        raise KefuError("Encrypted (safe) mode is not supported; set the official account's message "
                        "encryption to plaintext or compatible mode.", code="encrypted_mode")  # fmt: skip
    if fields.get("MsgType") != "text":
        return PlainTextResponse("success")
    openid, content = fields.get("FromUserName", ""), fields.get("Content", "")
    created = fields.get("CreateTime", "")
    at = dt.datetime.fromtimestamp(int(created), dt.UTC) if created.isdigit() and len(created) <= 10 else None
    external_id = fields.get("MsgId") or f"{openid}:{created}"
    await inbound.receive(db, channel="wechat", address=openid, text=content, external_id=external_id, at=at)
    return PlainTextResponse("success")


@router.get("/contacts/{contact_id}/messages", response_model=ThreadOut)
async def contact_messages(contact_id: RowId, db: DbSession, principal: Reader) -> dict[str, Any]:
    """The SMS or WeChat messages of a contact you may see, oldest first (addresses masked); audited."""
    return await threads.thread(db, actor=principal, contact_id=contact_id)


@router.post("/contacts/{contact_id}/reply", response_model=ReplyOut, status_code=201)
async def contact_reply(contact_id: RowId, body: ReplyIn, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Reply to the customer of an SMS or WeChat contact: sent after commit through the channel's gateway
    (or left in the outbox). SMS: at most 500 characters with the signature."""
    return await threads.reply(db, actor=principal, contact_id=contact_id, text=body.text)


@router.get("/awaiting")
async def awaiting(db: DbSession, principal: Reader) -> dict[str, Any]:
    """SMS and WeChat contacts whose customer's last message (within 7 days) has no reply yet, oldest first;
    addresses masked, no texts. Take an unowned one to answer it."""
    items = await threads.awaiting_reply(db, now=clock.now())
    return {"items": items, "total": len(items)}


@router.post("/contacts/{contact_id}/take")
async def take(contact_id: RowId, db: DbSession, principal: Handler) -> dict[str, Any]:
    """Become the owner of an unowned SMS or WeChat contact (409 ``already_owned`` when someone owns it)."""
    return await threads.take(db, actor=principal, contact_id=contact_id)


@router.post("/wechat/bindings", response_model=BindingOut)
async def bind_wechat(body: BindingIn, db: DbSession, principal: Manager) -> dict[str, Any]:
    """Bind a WeChat follower (openid) to a customer once you have verified who is writing; audited."""
    return await inbound.bind_wechat(db, actor=principal, openid=body.openid, customer_id=body.customer_id)


@router.delete("/wechat/bindings/{binding_id}", status_code=204)
async def unbind_wechat(binding_id: RowId, db: DbSession, principal: Manager) -> Response:
    """Remove a wrong binding; later messages from the openid are unidentified again."""
    await inbound.unbind_wechat(db, actor=principal, binding_id=binding_id)
    return Response(status_code=204)
