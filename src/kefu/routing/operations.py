"""The state changes behind each engine call, applied to a :class:`~kefu.routing.selection.Tx`.

The engine (``engine.py``) checks ids and preconditions and raises ``EngineError``; these functions
then change records and append decisions, in the order things happen.
"""

from __future__ import annotations

from kefu.routing.rules import OFFERS, OVERFLOW, RECHECK, SCHEDULED, WIDEN, WRAP, AgentRec, ContactRec
from kefu.routing.selection import Tx, route_agent, route_contact
from kefu.routing.types import (
    NO_ANSWER,
    Abandoned,
    CallbackDue,
    Connected,
    ContactSpec,
    ContactState,
    Ended,
    OfferTimedOut,
    OfferWithdrawn,
    Overflowed,
    Presence,
    PresenceChanged,
    TransferCompleted,
    TransferFailed,
    TransferMode,
    TransferRequested,
    Widened,
    WrapUpOverdue,
)

_READY = Presence.READY
_OFFERED_P = Presence.OFFERED
_BUSY = Presence.BUSY
_WAITING = ContactState.WAITING
_OFFERED = ContactState.OFFERED
_CONNECTED = ContactState.CONNECTED
_ENDED = ContactState.ENDED
_CONSULT = TransferMode.CONSULT


def _wrap_up(tx: Tx, a: AgentRec) -> None:
    a = tx.edit_agent(a)
    a.presence = Presence.WRAP_UP
    a.reason = None
    a.since = tx.now
    a.idle_since = None
    a.contact_id = None
    a.warned = False


def _set(tx: Tx, a: AgentRec, presence: Presence, reason: str | None) -> AgentRec:
    """Move an agent to READY / NOT_READY / LOGGED_OUT and say so."""
    was = a.presence
    a = tx.edit_agent(a)
    now = tx.now
    a.presence = presence
    a.reason = reason
    a.since = now
    a.contact_id = None
    if presence is _READY:
        if was is not _OFFERED_P:  # back from ringing (decline, caller gone) keeps its place in line
            a.idle_since = now
        a.warned = False
    else:
        a.idle_since = None
    tx.out.append(PresenceChanged(now, a.agent_id, presence, reason))
    return a


def _fail_consult(tx: Tx, c: ContactRec, reason: str) -> None:
    """A consult leg is given up: the contact stays with (only) the first agent."""
    c = tx.edit_contact(c)
    tx.out.append(TransferFailed(tx.now, c.contact_id, c.transfer_from or 0, reason))
    c.queue = c.prev_queue or c.queue
    c.prev_queue = None
    c.target_agent = None
    c.transfer_from = None
    c.transfer_mode = None
    c.offer_agent = None
    c.offer_expires_at = None
    c.widened = False
    c.declined_by = ()
    c.parked = False


def _back_to_queue(tx: Tx, c: ContactRec, agent_id: int, reason: str) -> ContactRec:
    """The offer to ``agent_id`` is over: the contact waits again (see the module doc of engine.py)."""
    c = tx.edit_contact(c)
    c.offer_agent = None
    c.offer_expires_at = None
    if c.state is _OFFERED:
        c.state = _WAITING
    if c.target_agent is not None and c.target_agent == agent_id:
        if c.transfer_mode is _CONSULT:
            _fail_consult(tx, c, reason)
        else:
            c.target_agent = None
    return c


async def set_presence(tx: Tx, a: AgentRec, presence: Presence, reason: str | None) -> None:
    was = a.presence
    if presence is _READY:
        if was is _READY or was is _OFFERED_P:
            return
        a = _set(tx, a, presence, None)
        await route_agent(tx, a)
        return
    rsn = reason if presence is Presence.NOT_READY else None
    if was is presence and a.reason == rsn:
        return
    withdrawn = None
    if was is _OFFERED_P and a.contact_id is not None:
        c = await tx.contact(a.contact_id)
        if c is not None and c.offer_agent == a.agent_id:
            tx.out.append(OfferWithdrawn(tx.now, c.contact_id, a.agent_id, "agent_not_ready"))
            withdrawn = _back_to_queue(tx, c, a.agent_id, "agent_not_ready")
    _set(tx, a, presence, rsn)
    if withdrawn is not None and withdrawn.routable:
        await route_contact(tx, withdrawn)


async def arrive(tx: Tx, spec: ContactSpec) -> None:
    now = tx.now
    due = spec.due_at
    if due is not None and due > now:
        ws = spec.waiting_since if spec.waiting_since is not None else due
        c = ContactRec(spec.contact_id, spec.queue, spec.channel, ContactState.SCHEDULED, spec.priority_bonus, ws, now,
                       spec.target_agent, spec.owner_agent, due_at=due)  # fmt: skip
        tx.new_contact(c)
        return
    ws = spec.waiting_since if spec.waiting_since is not None else due if due is not None else now
    c = ContactRec(spec.contact_id, spec.queue, spec.channel, _WAITING, spec.priority_bonus, ws, now,
                   spec.target_agent, spec.owner_agent, due_at=due)  # fmt: skip
    tx.new_contact(c)
    if due is not None:
        tx.out.append(CallbackDue(now, c.contact_id, c.queue))
    await route_contact(tx, c)


async def accept(tx: Tx, c: ContactRec, a: AgentRec) -> None:
    now = tx.now
    c = tx.edit_contact(c)
    a = tx.edit_agent(a)
    aid = a.agent_id
    tf = c.transfer_from
    if tf is not None:
        tx.out.append(TransferCompleted(now, c.contact_id, tf, aid))
        if c.transfer_mode is _CONSULT:
            f = await tx.agent(tf)
            if f is not None and f.presence is _BUSY and f.contact_id == c.contact_id:
                _wrap_up(tx, f)
        c.owner_agent = aid
    elif c.owner_agent is None:
        c.owner_agent = aid
    c.state = _CONNECTED
    c.agent_id = aid
    c.offer_agent = None
    c.offer_expires_at = None
    c.transfer_from = None
    c.transfer_mode = None
    c.prev_queue = None
    c.parked = False
    a.presence = _BUSY
    a.reason = None
    a.since = now
    a.idle_since = None
    a.contact_id = c.contact_id
    tx.out.append(
        Connected(
            now, c.contact_id, aid, c.queue, now - c.waiting_since, c.owner_agent if c.owner_agent is not None else aid
        )
    )


async def decline(tx: Tx, c: ContactRec, a: AgentRec) -> None:
    aid = a.agent_id
    c = _back_to_queue(tx, c, aid, "declined")
    if aid not in c.declined_by:
        c.declined_by = (*c.declined_by, aid)
    a = _set(tx, a, _READY, None)
    if c.routable and not await route_contact(tx, c, exclude=aid) and tx.conf.reoffer_declined:
        c.parked = True  # only the decliner could take it: offered again at the next tick
    await route_agent(tx, a, exclude=c.contact_id)


async def abandon(tx: Tx, c: ContactRec) -> None:
    now = tx.now
    ringing = c.offer_agent
    waited = max(0.0, now - c.waiting_since)
    tx.out.append(Abandoned(now, c.contact_id, c.queue, waited, ringing))
    c = tx.edit_contact(c)
    c.state = _ENDED
    c.offer_agent = None
    c.offer_expires_at = None
    c.parked = False
    if ringing is not None:
        a = await tx.agent(ringing)
        if a is not None and a.presence is _OFFERED_P and a.contact_id == c.contact_id:
            a = _set(tx, a, _READY, None)
            await route_agent(tx, a, exclude=c.contact_id)


async def end(tx: Tx, c: ContactRec) -> None:
    now = tx.now
    c = tx.edit_contact(c)
    freed = None
    if c.transfer_mode is _CONSULT:
        if c.offer_agent is not None:
            b = await tx.agent(c.offer_agent)
            tx.out.append(OfferWithdrawn(now, c.contact_id, c.offer_agent, "contact_ended"))
            if b is not None and b.presence is _OFFERED_P and b.contact_id == c.contact_id:
                freed = _set(tx, b, _READY, None)
        _fail_consult(tx, c, "contact_ended")
    c.state = _ENDED
    aid = c.agent_id
    if aid is not None:
        a = await tx.agent(aid)
        if a is not None and a.presence is _BUSY and a.contact_id == c.contact_id:
            _wrap_up(tx, a)
        tx.out.append(Ended(now, c.contact_id, aid))
    if freed is not None:
        await route_agent(tx, freed, exclude=c.contact_id)


async def transfer(
    tx: Tx, c: ContactRec, from_agent: int, queue: str, agent_id: int | None, mode: TransferMode
) -> None:
    now = tx.now
    c = tx.edit_contact(c)
    tx.out.append(TransferRequested(now, c.contact_id, from_agent, mode, queue, agent_id))
    if mode is _CONSULT:
        c.prev_queue = c.queue
    else:
        c.state = _WAITING
        c.agent_id = None
        f = await tx.agent(from_agent)
        if f is not None and f.presence is _BUSY and f.contact_id == c.contact_id:
            _wrap_up(tx, f)
    c.queue = queue
    c.target_agent = agent_id
    c.waiting_since = now
    c.enqueued_at = now
    c.transfer_from = from_agent
    c.transfer_mode = mode
    c.widened = False
    c.overflowed_from = None
    c.declined_by = ()
    c.parked = False
    await route_contact(tx, c)


async def cancel_transfer(tx: Tx, c: ContactRec) -> None:
    freed = None
    if c.offer_agent is not None:
        b = await tx.agent(c.offer_agent)
        tx.out.append(OfferWithdrawn(tx.now, c.contact_id, c.offer_agent, "transfer_cancelled"))
        if b is not None and b.presence is _OFFERED_P and b.contact_id == c.contact_id:
            freed = _set(tx, b, _READY, None)
    _fail_consult(tx, c, "cancelled")
    if freed is not None:
        await route_agent(tx, freed, exclude=c.contact_id)


async def tick(tx: Tx, sweep: bool) -> bool:
    """Returns whether a sweep (route every waiting contact) was due: the caller keeps it until committed."""
    now = tx.now
    cfg = tx.cfg
    out = tx.out
    limit = tx.conf.wrap_up_limit_s
    (offers, widen, overflow, due, recheck), wraps, asked = await tx.store.due(
        (OFFERS, WIDEN, OVERFLOW, SCHEDULED, RECHECK), now, WRAP, now - limit
    )
    sweep = sweep or asked
    todo: dict[int, None] = {}
    rung_out: list[ContactRec] = []  # waiting again: the bullseye applies to them in this same tick
    for rec in offers:  # ring-outs
        c = tx.seen_contact(rec)
        if c is None or c.offer_agent is None or c.offer_expires_at is None or c.offer_expires_at > now:
            continue
        aid = c.offer_agent
        out.append(OfferTimedOut(now, c.contact_id, aid))
        a = await tx.agent(aid)
        if a is not None and a.presence is _OFFERED_P and a.contact_id == c.contact_id:
            _set(tx, a, Presence.NOT_READY, NO_ANSWER)
        c = _back_to_queue(tx, c, aid, NO_ANSWER)
        if aid not in c.declined_by:
            c.declined_by = (*c.declined_by, aid)
        todo[c.contact_id] = None
        rung_out.append(c)
    for rec in (*widen, *rung_out):
        c = tx.seen_contact(rec)
        if c is None or not c.routable or c.widened or c.target_agent is not None:
            continue
        spec = cfg.queues.get(c.queue)
        if spec is None or spec.widen_after_s is None or now - c.enqueued_at < spec.widen_after_s:
            continue
        c = tx.edit_contact(c)
        c.widened = True
        out.append(Widened(now, c.contact_id, c.queue))
        todo[c.contact_id] = None
    for rec in (*overflow, *rung_out):
        c = tx.seen_contact(rec)
        if c is None or not c.routable:
            continue
        spec = cfg.queues.get(c.queue)
        if spec is None or spec.overflow_after_s is None or spec.overflow_queue not in cfg.queues:
            continue
        if now - c.enqueued_at < spec.overflow_after_s:
            continue
        c = tx.edit_contact(c)
        out.append(Overflowed(now, c.contact_id, c.queue, spec.overflow_queue))
        c.overflowed_from = c.queue
        c.queue = spec.overflow_queue
        c.enqueued_at = now
        c.widened = False
        c.target_agent = None
        todo[c.contact_id] = None
    for rec in due:  # callbacks
        c = tx.seen_contact(rec)
        if c is None or c.state is not ContactState.SCHEDULED or c.due_at is None or c.due_at > now:
            continue
        due_at = c.due_at
        c = tx.edit_contact(c)
        c.state = _WAITING
        c.waiting_since = due_at
        c.enqueued_at = now
        out.append(CallbackDue(now, c.contact_id, c.queue))
        todo[c.contact_id] = None
    for arec in wraps:
        a = tx.seen_agent(arec)
        if a is None or a.presence is not Presence.WRAP_UP or a.warned or now - a.since <= limit:
            continue
        a = tx.edit_agent(a)
        a.warned = True
        out.append(WrapUpOverdue(now, a.agent_id, now - a.since))
    for rec in recheck:
        c = tx.seen_contact(rec)
        if c is not None and c.parked:
            tx.edit_contact(c).parked = False
            todo[c.contact_id] = None
    if sweep:
        for rec in await tx.store.queue_contacts(None):
            c = tx.seen_contact(rec)
            if c is not None and c.routable:
                todo[c.contact_id] = None
    pending = [c for c in (tx.contacts[cid] for cid in todo) if c is not None and c.routable]
    pending.sort(key=lambda c: cfg.rank(c, now))
    for c in pending:
        cur = tx.contacts[c.contact_id]
        if cur is not None and cur.routable:
            await route_contact(tx, cur)
    return sweep
