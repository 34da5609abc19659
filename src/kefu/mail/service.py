"""Receiving e-mail (R1.1): store one message, thread it into a contact, route new threads.

Threading: when In-Reply-To or References names a Message-ID we hold (received or sent, ``email_messages``),
the message belongs to that message's contact.

- The contact is still live (queued, offered, connected): the message is added to it, and the agent it is
  offered to or connected with gets a live ``email.received`` message.
- The contact has ended (wrap-up, closed, abandoned): the customer wrote again after the answer. A NEW contact
  is opened and routed (it is new work with its own first-response clock), with the same customer, and the
  link is kept twice: the message's References (the thread), and a contact event ``email_follow_up``
  ``{"previous_contact_id": …}`` on the new contact. The thread view of the new contact shows the earlier
  messages of the chain too.
- Otherwise: a new contact (channel ``email``, inbound, queue ``KEFU_EMAIL_QUEUE``), routed by
  ``kefu.routing.digital``. The customer is the one an agent identified on the latest earlier e-mail from
  the same address (``from_bidx``; the agent picks the customer on the desk as for an unknown caller, or
  corrects it), with an ``identified`` event naming that contact; else none. Customers' own e-mail addresses
  are encrypted without a blind index, so an address never identified by an agent identifies nobody.

Dedupe: the same Message-ID received twice, or the same IMAP message (``mailbox_ref`` =
``uidvalidity:uid``), is stored once. Mail from our own service address and copies of our own replies are
ignored (no loops). A message larger than ``KEFU_EMAIL_MAX_BYTES`` is refused. When the e-mail queue is not
configured, routing fails and the whole message is rolled back (IMAP leaves it unread and tries again; the
SMTP receiver answers 451 so the sending server retries).

Services never commit; the receivers run each message in a transaction of its own. Logs name ids only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import service as contacts
from kefu.contacts.models import Contact, ContactStatus
from kefu.core import clock, runtime
from kefu.core.crypto import blind_index
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.filestore import FileStore
from kefu.mail.models import EmailAttachment, EmailMessage, MailDirection
from kefu.mail.parse import ParsedMail, parse

log = structlog.get_logger(__name__)

FILES = FileStore("mail", magic=b"KEFUML1", label="e-mail attachment")
FROM_CONTEXT = "email_messages.from_addr"
SOURCES = ("imap", "smtp", "import")
#: contact statuses in which a reply joins the contact itself
JOINABLE = (ContactStatus.QUEUED.value, ContactStatus.OFFERED.value, ContactStatus.CONNECTED.value,
            ContactStatus.SCHEDULED.value)  # fmt: skip
#: contact statuses in which an agent holds the e-mail (and is told of a new message)
HELD = (ContactStatus.OFFERED.value, ContactStatus.CONNECTED.value)


@dataclass(frozen=True)
class Ingested:
    outcome: str  # new | joined | follow_up | duplicate | ignored
    email_id: int | None = None
    contact_id: int | None = None


def from_bidx(address: str) -> str | None:
    return blind_index(address.strip().lower(), context=FROM_CONTEXT) if address else None


async def _lock(session: AsyncSession, message_id: str) -> None:
    """PostgreSQL: one transaction at a time per Message-ID (SQLite's BEGIN IMMEDIATE serialises anyway)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def _by_mailbox_ref(session: AsyncSession, ref: str) -> EmailMessage | None:
    stmt = select(EmailMessage).where(EmailMessage.mailbox_ref == ref)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _by_message_id(session: AsyncSession, message_id: str) -> list[EmailMessage]:
    stmt = select(EmailMessage).where(EmailMessage.message_id == message_id).order_by(EmailMessage.id)
    return list((await session.execute(stmt)).scalars().all())


async def _same_sender(session: AsyncSession, mail: ParsedMail, sender_bidx: str | None) -> bool:
    """Whether the sender wrote to us in the contacts of the messages this one refers to (its thread, as the
    headers name it): the customer answering our reply, not a third party who was copied or forwarded it."""
    if sender_bidx is None:
        return False
    ids = [i for i in [mail.in_reply_to, *mail.references] if i][-50:]
    if not ids:
        return False
    contact_ids = select(EmailMessage.contact_id).where(EmailMessage.message_id.in_(ids))
    found = (await session.execute(
        select(EmailMessage.id).where(EmailMessage.direction == MailDirection.INBOUND.value,
                                      EmailMessage.from_bidx == sender_bidx,
                                      EmailMessage.contact_id.in_(contact_ids)).limit(1)
    )).scalar_one_or_none()  # fmt: skip
    return found is not None


async def thread_parent(session: AsyncSession, mail: ParsedMail) -> EmailMessage | None:
    """The message we hold that ``mail`` answers (In-Reply-To first, then References from the newest)."""
    ids = mail.thread_ids
    if not ids:
        return None
    stmt = select(EmailMessage).where(EmailMessage.message_id.in_(ids))
    rows = list((await session.execute(stmt)).scalars().all())
    for wanted in ids:
        match = [r for r in rows if r.message_id == wanted]
        if match:
            return max(match, key=lambda r: (r.at, r.id))
    return None


async def known_sender(session: AsyncSession, bidx: str | None) -> tuple[int, int] | None:
    """(customer id, contact id) of the latest e-mail from this address whose customer an agent identified, when
    that customer is still an active record; else None."""
    from kefu.customers import service as customers
    from kefu.customers.models import Customer

    if bidx is None:
        return None
    stmt = (
        select(Contact.customer_id, Contact.id)
        .join(EmailMessage, EmailMessage.contact_id == Contact.id)
        .where(EmailMessage.from_bidx == bidx, EmailMessage.direction == MailDirection.INBOUND.value,
               Contact.customer_id.is_not(None))
        .order_by(EmailMessage.at.desc(), EmailMessage.id.desc())
        .limit(1)
    )  # fmt: skip
    row = (await session.execute(stmt)).first()
    if row is None or row[0] is None:
        return None
    customer: Customer | None
    try:
        customer = await customers.get_active(session, int(row[0]))
    except KefuError:
        customer = None
    return (customer.id, int(row[1])) if customer is not None else None


async def ingest(
    session: AsyncSession, *, rt: runtime.Runtime, raw: bytes, source: str, mailbox_ref: str | None = None
) -> Ingested:
    """Store one received message, threaded and routed (see the module docstring)."""
    settings = rt.settings
    if source not in SOURCES:
        raise ValueError(f"unknown e-mail source {source!r}")
    if len(raw) > settings.email_max_bytes:
        raise ValidationFailed(f"The e-mail is {len(raw):,} bytes; the largest accepted is "
                               f"{settings.email_max_bytes:,} bytes (KEFU_EMAIL_MAX_BYTES).")  # fmt: skip
    if mailbox_ref is not None and await _by_mailbox_ref(session, mailbox_ref) is not None:
        return Ingested("duplicate")
    mail = parse(raw)
    await _lock(session, mail.message_id)
    same = await _by_message_id(session, mail.message_id)
    if any(m.direction == MailDirection.INBOUND.value for m in same):
        first = same[0]
        return Ingested("duplicate", first.id, first.contact_id)
    if same or mail.from_addr.lower() == settings.email_address.strip().lower():
        log.info("email_ignored", reason="own_message", source=source)
        return Ingested("ignored")
    now = clock.now()
    parent = await thread_parent(session, mail)
    if parent is not None and not await _same_sender(session, mail, from_bidx(mail.from_addr)):
        # a message naming our thread from another address (a CC, a forward) is not the customer: it starts
        # its own, unidentified thread rather than joining theirs or inheriting who they are
        log.info("email_thread_other_sender", contact_id=parent.contact_id)
        parent = None
    previous = await session.get(Contact, parent.contact_id) if parent is not None else None
    if previous is not None and previous.status in JOINABLE:
        contact, outcome = previous, "joined"
    else:
        customer_id = previous.customer_id if previous is not None else None
        known = await known_sender(session, from_bidx(mail.from_addr)) if customer_id is None else None
        contact = await contacts.open_contact(
            session, channel="email", direction="inbound", queue_code=settings.email_queue, arrived_at=now,
            customer_id=known[0] if known else customer_id, identify=False,
        )  # fmt: skip
        if known:
            contacts.add_event(session, contact, "identified", now, None,
                               {"customer_id": known[0], "previous": None, "by_sender_of": known[1]})  # fmt: skip
        outcome = "new"
        if previous is not None:
            outcome = "follow_up"
            contacts.add_event(session, contact, "email_follow_up", now, None, {"previous_contact_id": previous.id})
    em = EmailMessage(
        contact_id=contact.id, direction=MailDirection.INBOUND.value, message_id=mail.message_id,
        in_reply_to=mail.in_reply_to, refs=" ".join(mail.references), from_addr=mail.from_addr,
        from_bidx=from_bidx(mail.from_addr), to_addr=mail.to_addr or settings.email_address, subject=mail.subject,
        body=mail.body, source=source, mailbox_ref=mailbox_ref, at=now, created_at=now,
    )  # fmt: skip
    session.add(em)
    await session.flush()
    for a in mail.attachments:
        session.add(EmailAttachment(
            email_id=em.id, filename=a.filename, content_type=a.content_type, size=len(a.data),
            sha256=hashlib.sha256(a.data).hexdigest(), storage_key=FILES.store(session, a.data), created_at=now,
        ))  # fmt: skip
    contacts.add_event(session, contact, "email_received", now, None,
                       {"email_id": em.id, "attachments": len(mail.attachments), "left_out": len(mail.left_out)})  # fmt: skip
    await session.flush()
    if outcome == "joined":
        await _tell_agent(session, rt, contact, em)
    else:
        from kefu.routing import digital

        await digital.route(session, rt=rt, contact_id=contact.id, channel="email", queue=settings.email_queue)
    log.info("email_received", email_id=em.id, contact_id=contact.id, outcome=outcome, source=source,
             attachments=len(mail.attachments), left_out=len(mail.left_out))  # fmt: skip
    return Ingested(outcome, em.id, contact.id)


async def _tell_agent(session: AsyncSession, rt: runtime.Runtime, contact: Contact, em: EmailMessage) -> None:
    if contact.status not in HELD or contact.agent_id is None:
        return
    from kefu.routing import service as svc

    payload = {"type": "email.received", "contact_id": contact.id, "email_id": em.id, "channel": "email"}
    svc.publish_after_commit(
        session, rt, [{"name": svc.LIVE, "to": {"agents": [contact.agent_id]}, "payload": payload}]
    )


async def ingest_one(rt: runtime.Runtime, raw: bytes, *, source: str, mailbox_ref: str | None = None) -> Ingested:
    """``ingest`` in a transaction of its own (what the receivers and the CLI call)."""
    async with rt.db.transaction() as s:
        return await ingest(s, rt=rt, raw=raw, source=source, mailbox_ref=mailbox_ref)
