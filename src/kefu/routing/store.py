"""Where the routing engine keeps its state: the :class:`RoutingStore` protocol.

The engine reads records and ordered index slices, decides, then hands every record it changed to
:meth:`RoutingStore.commit`, which applies them all at once or not at all: each changed record must
still be at the version the engine read (optimistic concurrency), and the queue configuration at the
version the engine decided with. A refused commit makes the engine run the whole call again on fresh
state, so two engines sharing one Redis never offer one contact twice nor give one agent two contacts:
both would have to change the same record from the same version, and only one commit can.

The store keeps its indexes in step with the records it holds (see :mod:`kefu.routing.rules` for
which index a record belongs to). Records returned by a store may be shared: never mutate them, clone.
Two implementations: :class:`kefu.routing.memory.MemoryStore` (one process) and
:class:`kefu.routing.redis_store.RedisStore` (many processes, Lua scripts for atomic commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kefu.routing.rules import AgentRec, ContactRec, QueueSet
from kefu.routing.types import QueueSpec

#: (record as read — None when the transaction creates it —, record to write — None to delete —)
AgentChange = tuple[AgentRec | None, AgentRec | None]
ContactChange = tuple[ContactRec | None, ContactRec | None]


class RoutingStore(Protocol):
    #: True when reads may be served from a local copy (``fresh=False``): the engine then re-reads
    #: fresh before it reports an error or a no-op, and after a refused commit.
    caching: bool
    #: True when other engines may commit between one call's reads and its commit (a shared store):
    #: the engine then also hands :meth:`commit` what its decisions rest on besides what it changes.
    concurrent: bool

    async def queue_set(self, fresh: bool = False) -> QueueSet:
        """The configured queues. A store may cache them; ``fresh`` reads the shared copy."""
        ...

    async def replace_queues(self, specs: Sequence[QueueSpec]) -> None:
        """Replace the queue set, re-index every record for it and ask for a sweep (see :meth:`due`)."""
        ...

    async def agent(self, agent_id: int, fresh: bool = True) -> AgentRec | None: ...

    async def contact(self, contact_id: int, fresh: bool = True) -> ContactRec | None: ...

    async def contact_bundle(self, contact_id: int, fresh: bool = True) -> tuple[ContactRec | None, list[AgentRec]]:
        """A contact and the agents it names (connected, ringing, transferring, target), in one read."""
        ...

    async def scan_agents(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[AgentRec]]:
        """For each agent index, the records at positions ``offset … offset+limit-1`` in index order (fresh).

        A store shared between processes also records in ``stamps`` the stamp of each index read (once):
        how many times something was added to it. See :meth:`commit`.
        """
        ...

    async def scan_contacts(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[ContactRec]]: ...

    async def due(
        self, indexes: Sequence[str], until: float, agent_index: str, agent_until: float
    ) -> tuple[list[list[ContactRec]], list[AgentRec], bool]:
        """Timers: for each contact index the records scored ``<= until``; the agents of ``agent_index``
        scored ``<= agent_until``; and whether a sweep was asked for since the last call (the flag is
        consumed). One read."""
        ...

    async def all_agents(self) -> list[AgentRec]: ...

    async def queue_contacts(self, queue: str | None) -> list[ContactRec]:
        """Waiting, offered and scheduled contacts of one queue (of every configured queue when ``None``)."""
        ...

    async def commit(
        self,
        cfg_version: int,
        agents: Sequence[AgentChange],
        contacts: Sequence[ContactChange],
        stamps: dict[str, int] | None = None,
        unchanged: Sequence[AgentRec | ContactRec] = (),
    ) -> bool:
        """Apply every change atomically when every record is still at the version read; else change nothing.

        Also refused when an index in ``stamps`` was added to since it was read, or a record in
        ``unchanged`` (read, not changed) moved on: the engine's decisions rest on them too. Without
        that, one node could queue a contact while another makes a qualified agent ready, each seeing
        the other's index as it was, and the contact would wait beside an idle agent; or a node could
        act on an out-of-date copy of a record it does not write.
        """
        ...

    async def close(self) -> None: ...
