"""Routing vocabulary: queues, agents, routed contacts, presence and the decisions the engine returns.

Everything here is plain data (no I/O). Times are float seconds on the engine's clock (epoch seconds
in production, virtual seconds in ``kefu simulate``); the caller converts to and from datetimes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Presence(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"  # with a reason (break, meal, training, meeting, no_answer, …)
    READY = "ready"  # idle, may be offered a contact
    OFFERED = "offered"  # a contact is ringing on the agent's phone
    BUSY = "busy"  # connected to a contact (talking, holding, consulting)
    WRAP_UP = "wrap_up"  # after-contact work; READY again when the wrap-up is done


#: Presence states an agent may ask for directly; the others are set by the engine.
SELF_SERVICE_PRESENCE = frozenset({Presence.LOGGED_OUT, Presence.NOT_READY, Presence.READY})

#: Not-ready reason the engine sets when an offer rings out (RONA: redirect on no answer).
NO_ANSWER = "no_answer"


class ContactState(enum.StrEnum):
    SCHEDULED = "scheduled"  # a callback not yet due
    WAITING = "waiting"  # in a queue
    OFFERED = "offered"  # ringing at an agent
    CONNECTED = "connected"  # with an agent
    ENDED = "ended"  # left the engine (ended, abandoned, rejected)


class TransferMode(enum.StrEnum):
    BLIND = "blind"  # the first agent is released at once; the contact queues for the target
    CONSULT = "consult"  # the first agent stays on the line until the target accepts, then is released


@dataclass(frozen=True)
class QueueSpec:
    """A queue (skill group). ``skills`` must all be held, at ``min_proficiency`` or more (1–10).

    Priority of a waiting contact = ``base_priority + contact.priority_bonus + seconds waited ×
    acceleration`` (NICE/Genesys ageing). Bullseye: after ``widen_after_s`` in the queue the required
    proficiency drops to 1; after ``overflow_after_s`` the contact moves to ``overflow_queue``
    (keeping the time it has waited).
    """

    code: str
    skills: tuple[str, ...]
    min_proficiency: int = 1
    base_priority: float = 0.0
    acceleration: float = 1.0
    widen_after_s: float | None = None
    overflow_after_s: float | None = None
    overflow_queue: str | None = None
    name: str = ""


@dataclass(frozen=True)
class AgentSpec:
    """An agent's routing profile: skill → proficiency 1–10."""

    agent_id: int
    skills: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentView:
    """An agent as the engine sees it now."""

    agent_id: int
    skills: dict[str, int]
    presence: Presence
    reason: str | None
    since: float  # when the presence last changed
    idle_since: float | None  # when the agent last became READY (longest idle first); None unless ready/offered
    contact_id: int | None  # the contact offered to / connected with the agent


@dataclass(frozen=True)
class ContactSpec:
    """A contact handed to the engine (new call, overflow, transfer, scheduled callback)."""

    contact_id: int
    queue: str
    channel: str = "phone"
    priority_bonus: float = 0.0  # customer tier (VIP), complaint flag, emergency
    waiting_since: float | None = None  # priority ageing starts here; defaults to the time of arrival
    target_agent: int | None = None  # only this agent may take it (transfer to a named agent)
    owner_agent: int | None = None  # first-contact owner (首问负责) until a new agent accepts
    due_at: float | None = None  # scheduled callback: not routed before this time


@dataclass(frozen=True)
class ContactView:
    contact_id: int
    queue: str
    channel: str
    state: ContactState
    priority_bonus: float
    waiting_since: float
    enqueued_at: float  # entered the current queue
    target_agent: int | None
    owner_agent: int | None
    agent_id: int | None  # offered to / connected with
    offer_expires_at: float | None
    due_at: float | None
    widened: bool
    overflowed_from: str | None
    offers: int  # how many times it has been offered
    declined_by: tuple[int, ...]  # agents it rang out at (not offered to them again while others can take it)
    transfer_from: int | None  # agent who asked for a transfer still in progress (consult: still connected)
    transfer_mode: TransferMode | None
    #: the agent this contact (or the leg of its consult transfer) is ringing at now, if any
    offered_to: int | None = None


# ---- decisions: what happened, for the caller to record, publish and act on --------------------


@dataclass(frozen=True)
class Decision:
    at: float


@dataclass(frozen=True)
class Offered(Decision):
    contact_id: int
    agent_id: int
    queue: str
    expires_at: float


@dataclass(frozen=True)
class OfferTimedOut(Decision):
    """The offer rang out: the agent goes NOT_READY (reason no_answer), the contact is offered on."""

    contact_id: int
    agent_id: int


@dataclass(frozen=True)
class OfferWithdrawn(Decision):
    """The agent went not-ready / logged out while ringing, or the caller hung up."""

    contact_id: int
    agent_id: int
    reason: str


@dataclass(frozen=True)
class Connected(Decision):
    contact_id: int
    agent_id: int
    queue: str
    waited_s: float  # from waiting_since to answer
    owner_agent: int  # the agent now owning the contact (first-contact ownership)


@dataclass(frozen=True)
class TransferRequested(Decision):
    contact_id: int
    from_agent: int
    mode: TransferMode
    queue: str
    target_agent: int | None


@dataclass(frozen=True)
class TransferCompleted(Decision):
    """The new agent accepted: ownership moves to them; the first agent goes to wrap-up."""

    contact_id: int
    from_agent: int
    to_agent: int


@dataclass(frozen=True)
class TransferFailed(Decision):
    """A consult transfer was cancelled or no-one could take it: the contact stays with ``from_agent``."""

    contact_id: int
    from_agent: int
    reason: str


@dataclass(frozen=True)
class Widened(Decision):
    contact_id: int
    queue: str


@dataclass(frozen=True)
class Overflowed(Decision):
    contact_id: int
    from_queue: str
    to_queue: str


@dataclass(frozen=True)
class CallbackDue(Decision):
    contact_id: int
    queue: str


@dataclass(frozen=True)
class Abandoned(Decision):
    contact_id: int
    queue: str
    waited_s: float
    agent_id: int | None  # the agent it was ringing at, if any


@dataclass(frozen=True)
class Ended(Decision):
    """A connected contact ended; the agent is in wrap-up."""

    contact_id: int
    agent_id: int


@dataclass(frozen=True)
class PresenceChanged(Decision):
    agent_id: int
    presence: Presence
    reason: str | None


@dataclass(frozen=True)
class WrapUpOverdue(Decision):
    """An agent has been in wrap-up longer than the limit (reported once per wrap-up)."""

    agent_id: int
    seconds: float


@dataclass(frozen=True)
class EngineConfig:
    offer_timeout_s: float = 15.0  # one ring = 5 s by default; an offer rings 3 rings
    wrap_up_limit_s: float = 120.0
    #: after a contact rang out at every qualified agent, it may be offered to them again
    reoffer_declined: bool = True
