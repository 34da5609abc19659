"""The e-mail channel on the agent desk: the thread of a contact, replies, attachments.

- ``thread``: the contact's messages oldest first, and those of the contacts it follows up (a customer who
  wrote again after the answer; see ``kefu.mail.service``). Addresses are always masked (the reply goes to the
  stored address, the agent never types it). Reading a thread is a use of the customer's data: audited.
- ``reply``: only the agent connected to the contact. The reply answers the newest received message of the
  thread: To = its sender, Subject "Re: …", our own Message-ID, In-Reply-To = its Message-ID, References =
  its References + its Message-ID; From = ``KEFU_EMAIL_ADDRESS``. It is queued in the e-mail outbox
  (``kefu.channels.email``) and sent after commit. The first reply of a contact writes the contact event
  ``first_response`` (seconds since arrival and whether within ``KEFU_EMAIL_FIRST_RESPONSE_HOURS``).
  ``close`` then ends the conversation (``digital.finish``): the agent records the wrap-up as for a call.
- ``read_attachment``: the decrypted file for whoever can see the contact; checked against its SHA-256;
  audited.
"""

from __future__ import annotations

import hashlib
import json
import re
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import reads
from kefu.contacts import service as contacts
from kefu.contacts.models import Contact, ContactEvent, ContactStatus
from kefu.core import audit, clock, crypto, runtime
from kefu.core.auth import Principal
from kefu.core.crypto import mask_email
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.ids import MAX_ROW_ID
from kefu.mail import service
from kefu.mail.models import EmailAttachment, EmailMessage, MailDirection
from kefu.mail.parse import MAX_REFS, MAX_SUBJECT, clean_id, clean_text
from kefu.routing import digital

REPLY_MAX_CHARS = 5_000
#: the outbox keeps the body encrypted in 24,000 characters of base64: at most 16,000 bytes of UTF-8
REPLY_MAX_BYTES = 16_000
#: how many earlier contacts of a thread are shown with it
CHAIN_MAX = 10
_RE = re.compile(r"^\s*(re|aw|回复|答复|回覆)\s*[:：]", re.IGNORECASE)


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={"errors": [{"field": field, "message": message}]})


async def _email_contact(session: AsyncSession, actor: Principal, contact_id: int) -> Contact:
    c = await reads.visible(session, actor=actor, contact_id=contact_id)
    if c.channel != "email":
        raise NotFound(f"Contact {contact_id} is a {c.channel} contact, not an e-mail.")
    return c


async def chain(session: AsyncSession, contact_id: int) -> list[int]:
    """The contact and the earlier contacts it follows up, oldest first."""
    out = [contact_id]
    while len(out) <= CHAIN_MAX:
        stmt = select(ContactEvent.data).where(
            ContactEvent.contact_id == out[0], ContactEvent.kind == "email_follow_up"
        )
        data = (await session.execute(stmt.limit(1))).scalar_one_or_none()
        if not data:
            break
        prev = json.loads(data).get("previous_contact_id")
        if not isinstance(prev, int) or prev in out:
            break
        out.insert(0, prev)
    return out


async def messages_of(session: AsyncSession, contact_ids: list[int]) -> list[EmailMessage]:
    stmt = (
        select(EmailMessage).where(EmailMessage.contact_id.in_(contact_ids)).order_by(EmailMessage.at, EmailMessage.id)
    )
    return list((await session.execute(stmt)).scalars().all())


async def attachments_of(session: AsyncSession, email_ids: list[int]) -> dict[int, list[EmailAttachment]]:
    out: dict[int, list[EmailAttachment]] = {}
    if not email_ids:
        return out
    stmt = select(EmailAttachment).where(EmailAttachment.email_id.in_(email_ids)).order_by(EmailAttachment.id)
    for a in (await session.execute(stmt)).scalars().all():
        out.setdefault(a.email_id, []).append(a)
    return out


def attachment_view(a: EmailAttachment) -> dict[str, Any]:
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
            "download": f"/api/v1/email/attachments/{a.id}"}  # fmt: skip


def message_view(m: EmailMessage, atts: list[EmailAttachment]) -> dict[str, Any]:
    return {
        "id": m.id, "contact_id": m.contact_id, "direction": m.direction, "at": m.at,
        "from": mask_email(m.from_addr), "to": mask_email(m.to_addr), "subject": m.subject, "body": m.body,
        "source": m.source, "agent_id": m.agent_id, "attachments": [attachment_view(a) for a in atts],
    }  # fmt: skip


async def thread(session: AsyncSession, *, actor: Principal, contact_id: int) -> dict[str, Any]:
    c = await _email_contact(session, actor, contact_id)
    ids = await chain(session, c.id)
    msgs = await messages_of(session, ids)
    atts = await attachments_of(session, [m.id for m in msgs])
    await audit.record(session, action="email.thread_view", object_type="contact", object_id=c.id,
                       after={"messages": len(msgs), "customer_id": c.customer_id})  # fmt: skip
    last_in = next((m for m in reversed(msgs) if m.direction == MailDirection.INBOUND.value), None)
    return {
        "contact_id": c.id, "status": c.status, "agent_id": c.agent_id, "customer_id": c.customer_id,
        "queue": c.queue_code, "arrived_at": c.arrived_at, "previous_contact_ids": ids[:-1],
        "subject": last_in.subject if last_in else "", "can_reply": _may_reply(c, actor),
        "messages": [message_view(m, atts.get(m.id, [])) for m in msgs],
    }  # fmt: skip


def _may_reply(c: Contact, actor: Principal) -> bool:
    return c.status == ContactStatus.CONNECTED.value and c.agent_id == actor.staff_id


async def close(session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int) -> None:
    """End an e-mail without replying (nothing to answer, e.g. a thank-you); the wrap-up is due as usual."""
    c = await _email_contact(session, actor, contact_id)
    if not _may_reply(c, actor):
        raise Conflict("Only the agent working on this e-mail can close it; accept it first.", code="not_your_contact")
    await digital.finish(session, rt=rt, contact_id=c.id, by_agent=actor.staff_id, reason="closed")


def reply_subject(subject: str) -> str:
    subject = subject.strip()
    return (subject if _RE.match(subject) else f"Re: {subject}".strip())[:MAX_SUBJECT]


async def reply(
    session: AsyncSession, *, rt: runtime.Runtime, actor: Principal, contact_id: int, body: str, close: bool
) -> dict[str, Any]:
    settings = rt.settings
    text = clean_text(body or "").strip()
    if not text:
        raise invalid("body", "Write the reply before sending it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid("body", "The reply holds characters that are not valid text; retype it.") from exc
    if len(text) > REPLY_MAX_CHARS or len(text.encode("utf-8")) > REPLY_MAX_BYTES:
        raise invalid("body", f"A reply has at most {REPLY_MAX_CHARS:,} characters; shorten it or split it.")
    c = await _email_contact(session, actor, contact_id)
    if not _may_reply(c, actor):
        raise Conflict("Only the agent connected to this e-mail can reply; accept it from your desk first.",
                       code="not_your_contact")  # fmt: skip
    msgs = await messages_of(session, await chain(session, c.id))
    last_in = next((m for m in reversed(msgs) if m.direction == MailDirection.INBOUND.value), None)
    if last_in is None or "@" not in last_in.from_addr:
        raise Conflict("This e-mail has no sender address to reply to. Contact the customer another way.")
    first = not any(m.direction == MailDirection.OUTBOUND.value and m.contact_id == c.id for m in msgs)
    own = settings.email_address.strip()
    message_id = clean_id(make_msgid(domain=own.rpartition("@")[2] or "kefu.invalid"))
    assert message_id is not None  # noqa: S101
    refs = [r for r in last_in.refs.split() if r][-(MAX_REFS - 1) :] + [last_in.message_id]
    subject = reply_subject(last_in.subject)
    headers = {"From": own, "Subject": subject, "Message-ID": f"<{message_id}>",
               "In-Reply-To": f"<{last_in.message_id}>", "References": " ".join(f"<{r}>" for r in refs)}  # fmt: skip
    from kefu.channels import email as email_channel

    out = await email_channel.get_port().send(
        session, recipient=last_in.from_addr, subject=f"Reply to e-mail contact {c.id}", body=text,
        kind="email_reply", customer_id=c.customer_id, headers=headers,
    )  # fmt: skip
    now = clock.now()
    em = EmailMessage(
        contact_id=c.id, direction=MailDirection.OUTBOUND.value, message_id=message_id,
        in_reply_to=last_in.message_id, refs=" ".join(refs), from_addr=own, from_bidx=service.from_bidx(own),
        to_addr=last_in.from_addr, subject=subject, body=text, source="desk", outbound_id=out.id,
        agent_id=actor.staff_id, at=now, created_at=now,
    )  # fmt: skip
    session.add(em)
    await session.flush()
    if first:
        seconds = max(0.0, (now - c.arrived_at).total_seconds())
        within = seconds <= settings.email_first_response_hours * 3600
        contacts.add_event(session, c, "first_response", now, actor.staff_id,
                           {"seconds": round(seconds, 1), "within_target": within, "channel": "email"})  # fmt: skip
    await audit.record(session, action="email.reply", object_type="contact", object_id=c.id,
                       after={"email_id": em.id, "outbound_id": out.id, "chars": len(text), "first": first,
                              "close": close})  # fmt: skip
    if close:
        await digital.finish(session, rt=rt, contact_id=c.id, by_agent=actor.staff_id, reason="replied")
    await session.flush()
    await session.refresh(c)
    view = message_view(em, [])
    view["contact_status"] = c.status
    view["outbound_status"] = out.status
    return view


async def read_attachment(
    session: AsyncSession, *, actor: Principal, attachment_id: int
) -> tuple[EmailAttachment, bytes]:
    a = await session.get(EmailAttachment, attachment_id) if 1 <= attachment_id <= MAX_ROW_ID else None
    em = await session.get(EmailMessage, a.email_id) if a is not None else None
    if a is None or em is None:
        raise NotFound(f"No e-mail attachment {attachment_id}.")
    c = await reads.visible(session, actor=actor, contact_id=em.contact_id)
    try:
        data = service.FILES.read(a.storage_key)
    except FileNotFoundError as exc:
        raise NotFound(
            f"Attachment {attachment_id} is missing from storage; restore var/mail from the backup."
        ) from exc
    except crypto.CryptoError as exc:
        raise Conflict(f"Attachment {attachment_id} cannot be opened: it was altered, or its key version is no "
                       "longer in the keyring. Report it to security.") from exc  # fmt: skip
    if hashlib.sha256(data).hexdigest() != a.sha256:
        raise Conflict(f"Attachment {attachment_id} does not match its recorded checksum; report it to security.")
    await audit.record(session, action="email.attachment_read", object_type="email_attachment", object_id=a.id,
                       after={"contact_id": c.id, "email_id": em.id, "content_type": a.content_type,
                              "size": a.size, "sha256": a.sha256})  # fmt: skip
    return a, data
