"""Pure routing rules: the engine's records, priority, qualification and the indexes a record belongs to.

No I/O here. The stores (memory, Redis) keep each record in the indexes that :func:`agent_entries` and
:func:`contact_entries` derive from it, so both stores index the same way and the engine reads
candidates (longest-idle ready agents, highest-priority waiting contacts, due timers) in order.

An index entry is ``(index_name, score, tie, id)`` and an index is ordered by ``(score, tie, id)``:

- ``r:{queue}``: READY agents qualified for the queue at its proficiency, by ``idle_since`` (longest idle
  first); ``rw:{queue}``: READY agents qualified only once it is widened (skills held below the
  queue's proficiency). A widened contact looks in both.
- ``w:{queue}`` / ``ww:{queue}``: routable contacts without a target agent (all / widened only), by
  ``-(bonus - waiting_since × acceleration)`` then ``waiting_since``. Within one queue every contact
  shares base priority and acceleration, so this static key orders them exactly as the priority at any
  time does; across queues the engine compares :func:`priority` at ``now``.
- ``t:{agent}``: routable contacts only that agent may take.
- ``q:{queue}``: every waiting, offered or scheduled contact of the queue (wallboard, ``waiting()``).
- ``off`` (offer expiry), ``sched`` (callback due), ``widen`` / ``ovf`` (bullseye deadlines), ``wrap``
  (wrap-up start, until reported overdue), ``recheck`` (declined with no-one else ready; routed at tick).
- ``a`` / ``c``: every agent / contact record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kefu.routing.types import (
    AgentView,
    ContactState,
    ContactView,
    Presence,
    QueueSpec,
    TransferMode,
)

Entry = tuple[str, float, float, int]

ALL_AGENTS = "a"
ALL_CONTACTS = "c"
OFFERS = "off"
SCHEDULED = "sched"
WIDEN = "widen"
OVERFLOW = "ovf"
WRAP = "wrap"
RECHECK = "recheck"

_READY = Presence.READY
_WRAP_UP = Presence.WRAP_UP
_WAITING = ContactState.WAITING
_OFFERED = ContactState.OFFERED
_CONNECTED = ContactState.CONNECTED
_SCHEDULED = ContactState.SCHEDULED
_ENDED = ContactState.ENDED
_CONSULT = TransferMode.CONSULT


def targeted_index(agent_id: int) -> str:
    return f"t:{agent_id}"


def priority(spec: QueueSpec | None, bonus: float, waiting_since: float, now: float) -> float:
    """base + bonus + seconds waited × acceleration (an unknown queue counts as base 0, acceleration 1)."""
    if spec is None:
        return bonus + (now - waiting_since)
    return spec.base_priority + bonus + (now - waiting_since) * spec.acceleration


def qualifies(skills: dict[str, int], spec: QueueSpec, widened: bool = False) -> bool:
    """Every skill of the queue held at the queue's minimum proficiency (at 1 or more once widened)."""
    need = 1 if widened else max(1, spec.min_proficiency)
    for s in spec.skills:
        if skills.get(s, 0) < need:
            return False
    return True


@dataclass(slots=True)
class AgentRec:
    """An agent's routing state as stored. Records read from a store are shared: clone before changing."""

    agent_id: int
    skills: dict[str, int]
    presence: Presence = Presence.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    idle_since: float | None = None
    contact_id: int | None = None  # offered or connected contact
    warned: bool = False  # wrap-up overdue already reported
    v: int = 0  # store version (0 = not stored yet)

    def clone(self) -> AgentRec:
        return AgentRec(self.agent_id, self.skills, self.presence, self.reason, self.since, self.idle_since,
                        self.contact_id, self.warned, self.v)  # fmt: skip

    def view(self) -> AgentView:
        return AgentView(self.agent_id, dict(self.skills), self.presence, self.reason, self.since, self.idle_since,
                         self.contact_id)  # fmt: skip


@dataclass(slots=True)
class ContactRec:
    """A contact's routing state as stored.

    ``agent_id`` is the connected agent (the last one once ended); ``offer_agent`` the agent it (or its
    consult leg) is ringing at. A consult transfer keeps ``state`` CONNECTED with ``transfer_mode``
    CONSULT while the leg waits in ``queue``; ``prev_queue`` is where it returns if cancelled.
    """

    contact_id: int
    queue: str
    channel: str
    state: ContactState
    priority_bonus: float
    waiting_since: float
    enqueued_at: float
    target_agent: int | None = None
    owner_agent: int | None = None
    agent_id: int | None = None
    offer_agent: int | None = None
    offer_expires_at: float | None = None
    due_at: float | None = None
    widened: bool = False
    overflowed_from: str | None = None
    offers: int = 0
    declined_by: tuple[int, ...] = ()
    transfer_from: int | None = None
    transfer_mode: TransferMode | None = None
    prev_queue: str | None = None
    parked: bool = False
    v: int = 0

    def clone(self) -> ContactRec:
        return ContactRec(
            self.contact_id, self.queue, self.channel, self.state, self.priority_bonus, self.waiting_since,
            self.enqueued_at, self.target_agent, self.owner_agent, self.agent_id, self.offer_agent,
            self.offer_expires_at, self.due_at, self.widened, self.overflowed_from, self.offers, self.declined_by,
            self.transfer_from, self.transfer_mode, self.prev_queue, self.parked, self.v,
        )  # fmt: skip

    @property
    def leg(self) -> bool:
        """Waiting or ringing in ``queue`` (a plain contact, or the leg of a consult transfer)."""
        st = self.state
        return st is _WAITING or st is _OFFERED or (st is _CONNECTED and self.transfer_mode is _CONSULT)

    @property
    def routable(self) -> bool:
        """Waiting in ``queue`` and not ringing anywhere: may be offered now."""
        return self.offer_agent is None and self.leg

    def view(self) -> ContactView:
        st = self.state
        return ContactView(
            self.contact_id, self.queue, self.channel, st, self.priority_bonus, self.waiting_since,
            self.enqueued_at, self.target_agent, self.owner_agent,
            self.offer_agent if st is _OFFERED else self.agent_id,
            self.offer_expires_at, self.due_at, self.widened, self.overflowed_from, self.offers, self.declined_by,
            self.transfer_from, self.transfer_mode, self.offer_agent,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class QueueKeys:
    w: str
    ww: str
    r: str
    rw: str
    q: str


def queue_keys(code: str) -> QueueKeys:
    return QueueKeys(f"w:{code}", f"ww:{code}", f"r:{code}", f"rw:{code}", f"q:{code}")


@dataclass
class QueueSet:
    """The configured queues (a snapshot with the store's config version) and derived look-ups."""

    version: int
    queues: dict[str, QueueSpec]
    keys: dict[str, QueueKeys] = field(default_factory=dict)
    _quals: dict[tuple[tuple[str, int], ...], tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def build(cls, specs: Iterable[QueueSpec], version: int) -> QueueSet:
        queues = {s.code: s for s in specs}
        return cls(version, queues, {c: queue_keys(c) for c in queues})

    def keys_for(self, code: str) -> QueueKeys:
        k = self.keys.get(code)
        return k if k is not None else queue_keys(code)

    def quals(self, skills: dict[str, int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(queues the skills qualify for, queues they qualify for only once a contact is widened)."""
        key = tuple(skills.items())
        hit = self._quals.get(key)
        if hit is None:
            normal = tuple(c for c, s in self.queues.items() if qualifies(skills, s))
            wide = tuple(c for c, s in self.queues.items() if c not in normal and qualifies(skills, s, widened=True))
            hit = self._quals[key] = (normal, wide)
        return hit

    def priority(self, c: ContactRec, now: float) -> float:
        return priority(self.queues.get(c.queue), c.priority_bonus, c.waiting_since, now)

    def rank(self, c: ContactRec, now: float) -> tuple[float, float, int]:
        """Sort key, smallest first: highest priority, then earliest waiting_since, then contact id."""
        return (-self.priority(c, now), c.waiting_since, c.contact_id)


def agent_entries(a: AgentRec, qs: QueueSet) -> list[Entry]:
    aid = a.agent_id
    out: list[Entry] = [(ALL_AGENTS, 0.0, 0.0, aid)]
    p = a.presence
    if p is _READY:
        idle = a.idle_since if a.idle_since is not None else a.since
        normal, wide = qs.quals(a.skills)
        keys = qs.keys
        for q in normal:
            out.append((keys[q].r, idle, 0.0, aid))
        for q in wide:
            out.append((keys[q].rw, idle, 0.0, aid))
    elif p is _WRAP_UP and not a.warned:
        out.append((WRAP, a.since, 0.0, aid))
    return out


def contact_entries(c: ContactRec, qs: QueueSet) -> list[Entry]:
    cid = c.contact_id
    out: list[Entry] = [(ALL_CONTACTS, 0.0, 0.0, cid)]
    st = c.state
    if st is _ENDED:
        return out
    spec = qs.queues.get(c.queue)
    keys = qs.keys_for(c.queue)
    ws = c.waiting_since
    score = ws * (spec.acceleration if spec is not None else 1.0) - c.priority_bonus
    if st is _SCHEDULED:
        out.append((keys.q, score, ws, cid))
        out.append((SCHEDULED, c.due_at if c.due_at is not None else ws, 0.0, cid))
        return out
    if not c.leg:
        return out
    out.append((keys.q, score, ws, cid))
    if c.offer_agent is not None:
        out.append((OFFERS, c.offer_expires_at if c.offer_expires_at is not None else 0.0, 0.0, cid))
        return out
    if c.target_agent is None:
        out.append((keys.w, score, ws, cid))
        if c.widened:
            out.append((keys.ww, score, ws, cid))
        elif spec is not None and spec.widen_after_s is not None:
            out.append((WIDEN, c.enqueued_at + spec.widen_after_s, 0.0, cid))
    else:
        out.append((targeted_index(c.target_agent), ws, 0.0, cid))
    if spec is not None and spec.overflow_after_s is not None and spec.overflow_queue is not None:
        out.append((OVERFLOW, c.enqueued_at + spec.overflow_after_s, 0.0, cid))
    if c.parked:
        out.append((RECHECK, 0.0, 0.0, cid))
    return out
