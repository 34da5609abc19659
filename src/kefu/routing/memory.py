"""In-process routing store (embedded mode, ``kefu simulate``, tests).

Records live in dicts; every index is a ``sortedcontainers.SortedList`` of ``(score, tie, id)``, kept
in step at commit by diffing the entries a record had against the ones it now has (the entries of
every stored record are remembered, so only the new ones are derived). No method awaits anything, so
one engine call runs to its end without another interleaving and commits never conflict; the version
checks are still made, so the engine behaves the same as on Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

from sortedcontainers import SortedList

from kefu.routing.rules import (
    ALL_AGENTS,
    ALL_CONTACTS,
    AgentRec,
    ContactRec,
    Entry,
    QueueSet,
    agent_entries,
    contact_entries,
)
from kefu.routing.store import AgentChange, ContactChange
from kefu.routing.types import QueueSpec

_INF = float("inf")
_DICTS = frozenset((ALL_AGENTS, ALL_CONTACTS))  # the dicts of records serve as these two indexes
_EMPTY: frozenset[Entry] = frozenset()


class MemoryStore:
    caching = False
    concurrent = False

    def __init__(self) -> None:
        self._agents: dict[int, AgentRec] = {}
        self._contacts: dict[int, ContactRec] = {}
        self._agent_entries: dict[int, frozenset[Entry]] = {}
        self._contact_entries: dict[int, frozenset[Entry]] = {}
        self._idx: dict[str, SortedList] = {}
        self._cfg = QueueSet.build((), 0)
        self._sweep = False

    # ---- configuration ---------------------------------------------------------------------
    async def queue_set(self, fresh: bool = False) -> QueueSet:
        return self._cfg

    async def replace_queues(self, specs: Sequence[QueueSpec]) -> None:
        self._cfg = cfg = QueueSet.build(specs, self._cfg.version + 1)
        self._idx = {}
        self._agent_entries = {}
        self._contact_entries = {}
        for a in self._agents.values():
            self._agent_entries[a.agent_id] = self._apply(_EMPTY, frozenset(agent_entries(a, cfg)))
        for c in self._contacts.values():
            self._contact_entries[c.contact_id] = self._apply(_EMPTY, frozenset(contact_entries(c, cfg)))
        self._sweep = True

    # ---- reads -------------------------------------------------------------------------------
    async def agent(self, agent_id: int, fresh: bool = True) -> AgentRec | None:
        return self._agents.get(agent_id)

    async def contact(self, contact_id: int, fresh: bool = True) -> ContactRec | None:
        return self._contacts.get(contact_id)

    async def contact_bundle(self, contact_id: int, fresh: bool = True) -> tuple[ContactRec | None, list[AgentRec]]:
        c = self._contacts.get(contact_id)
        if c is None:
            return None, []
        agents = self._agents
        out = []
        for aid in (c.agent_id, c.offer_agent, c.transfer_from, c.target_agent):
            if aid is not None and aid in agents:
                out.append(agents[aid])
        return c, out

    def _slice(self, name: str, offset: int, limit: int) -> list[int]:
        sl = self._idx.get(name)
        if not sl:
            return []
        return [e[2] for e in islice(sl, offset, offset + limit)]

    async def scan_agents(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[AgentRec]]:
        agents = self._agents
        return [[agents[i] for i in self._slice(n, offset, limit)] for n in indexes]

    async def scan_contacts(
        self, indexes: Sequence[str], offset: int, limit: int, stamps: dict[str, int] | None = None
    ) -> list[list[ContactRec]]:
        contacts = self._contacts
        return [[contacts[i] for i in self._slice(n, offset, limit)] for n in indexes]

    def _due(self, name: str, until: float) -> list[int]:
        sl = self._idx.get(name)
        if not sl:
            return []
        return [e[2] for e in sl.irange(maximum=(until, _INF, _INF))]

    async def due(
        self, indexes: Sequence[str], until: float, agent_index: str, agent_until: float
    ) -> tuple[list[list[ContactRec]], list[AgentRec], bool]:
        contacts, agents = self._contacts, self._agents
        sweep, self._sweep = self._sweep, False
        return (
            [[contacts[i] for i in self._due(n, until)] for n in indexes],
            [agents[i] for i in self._due(agent_index, agent_until)],
            sweep,
        )

    async def all_agents(self) -> list[AgentRec]:
        return [self._agents[k] for k in sorted(self._agents)]

    async def queue_contacts(self, queue: str | None) -> list[ContactRec]:
        cfg = self._cfg
        names = [cfg.keys_for(queue).q] if queue is not None else [k.q for k in cfg.keys.values()]
        out: list[ContactRec] = []
        for n in names:
            sl = self._idx.get(n)
            if sl:
                out.extend(self._contacts[e[2]] for e in sl)
        return out

    # ---- writes ------------------------------------------------------------------------------
    def _apply(self, old: frozenset[Entry], new: frozenset[Entry]) -> frozenset[Entry]:
        idx = self._idx
        if old:
            for e in old - new:
                if e[0] not in _DICTS:
                    idx[e[0]].discard(e[1:])
        for e in new - old if old else new:
            if e[0] in _DICTS:
                continue
            sl = idx.get(e[0])
            if sl is None:
                sl = idx[e[0]] = SortedList()
            sl.add(e[1:])
        return new

    async def commit(
        self,
        cfg_version: int,
        agents: Sequence[AgentChange],
        contacts: Sequence[ContactChange],
        stamps: dict[str, int] | None = None,
        unchanged: Sequence[AgentRec | ContactRec] = (),
    ) -> bool:
        # neither ``stamps`` nor ``unchanged`` can have moved: no other call runs between a call's reads
        # and its commit (nothing here awaits)
        cfg = self._cfg
        if cfg_version != cfg.version:
            return False
        stored_a, stored_c = self._agents, self._contacts
        for old_a, new_a in agents:
            key = old_a.agent_id if old_a is not None else new_a.agent_id  # type: ignore[union-attr]
            cur_a = stored_a.get(key)
            if (cur_a.v if cur_a is not None else 0) != (old_a.v if old_a is not None else 0):
                return False
        for old_c, new_c in contacts:
            key = old_c.contact_id if old_c is not None else new_c.contact_id  # type: ignore[union-attr]
            cur_c = stored_c.get(key)
            if (cur_c.v if cur_c is not None else 0) != (old_c.v if old_c is not None else 0):
                return False
        for old_a, new_a in agents:
            if new_a is None:
                assert old_a is not None  # noqa: S101 - a change is never (None, None)
                self._apply(self._agent_entries.pop(old_a.agent_id, _EMPTY), _EMPTY)
                del stored_a[old_a.agent_id]
                continue
            new_a.v = (old_a.v if old_a is not None else 0) + 1
            stored_a[new_a.agent_id] = new_a
            ae = self._agent_entries
            ae[new_a.agent_id] = self._apply(ae.get(new_a.agent_id, _EMPTY), frozenset(agent_entries(new_a, cfg)))
        for old_c, new_c in contacts:
            if new_c is None:
                assert old_c is not None  # noqa: S101
                self._apply(self._contact_entries.pop(old_c.contact_id, _EMPTY), _EMPTY)
                del stored_c[old_c.contact_id]
                continue
            new_c.v = (old_c.v if old_c is not None else 0) + 1
            stored_c[new_c.contact_id] = new_c
            ce = self._contact_entries
            ce[new_c.contact_id] = self._apply(ce.get(new_c.contact_id, _EMPTY), frozenset(contact_entries(new_c, cfg)))
        return True

    async def close(self) -> None:
        return None
