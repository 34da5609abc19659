"""Lua scripts and record encoding of :class:`kefu.routing.redis_store.RedisStore`.

A record is stored as a JSON array whose first element is its version (``[7, 42, {...}, "ready", …]``).
Scripts get their bulk input as one JSON argument and return their reads as one JSON string built by
concatenating the stored records, so a round trip costs one small command and one ``json.loads`` in
Python whatever the number of records (redis-py's parser and command packer cost far more per item).

Index members are the zero-padded id (``%020d``), preceded in the contact-priority indexes (``w:``,
``ww:``, ``q:``) by ``waiting_since`` encoded to sort as text, so that equal priorities fall back to
the earlier contact as they do in the in-process store.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kefu.routing.rules import AgentRec, ContactRec, Entry
from kefu.routing.types import ContactState, Presence, QueueSpec, TransferMode

# KEYS: cfgv, seq, stamps. ARGV: queue-set version read, key prefix, JSON [records, removals, additions, stamps
# read, unchanged, stamps to bump] where records = [[key, version read, new value | ""]…], removals =
# [[index, member]…], additions = [[index, score, member]…], stamps read = [[index, stamp]…], unchanged =
# [[key, version]…], stamps to bump = [index…]. 1 = done, 0 = something moved, -1 = the queue set moved.
COMMIT = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return -1 end
local pre = ARGV[2]
local d = cjson.decode(ARGV[3])
local function version(key)
  local cur = redis.call('GET', pre .. key)
  if cur then return string.match(cur, '^%[(%d+),') end
  return '0'
end
for _, r in ipairs(d[1]) do if version(r[1]) ~= r[2] then return 0 end end
for _, r in ipairs(d[5]) do if version(r[1]) ~= r[2] then return 0 end end
for _, r in ipairs(d[4]) do
  if (redis.call('HGET', KEYS[3], r[1]) or '0') ~= r[2] then return 0 end
end
for _, r in ipairs(d[1]) do
  if r[3] == '' then redis.call('DEL', pre .. r[1]) else redis.call('SET', pre .. r[1], r[3]) end
end
for _, r in ipairs(d[2]) do redis.call('ZREM', pre .. 'i:' .. r[1], r[2]) end
for _, r in ipairs(d[3]) do redis.call('ZADD', pre .. 'i:' .. r[1], r[2], r[3]) end
for _, k in ipairs(d[6]) do redis.call('HINCRBY', KEYS[3], k, 1) end
redis.call('INCR', KEYS[2])
return 1
"""

_COLLECT = """
local function collect(members, rec_prefix)
  local vals = {}
  for _, m in ipairs(members) do
    local v = redis.call('GET', rec_prefix .. string.match(m, '0*(%d+)$'))
    if v then vals[#vals + 1] = v end
  end
  return '[' .. table.concat(vals, ',') .. ']'
end
"""

# KEYS: indexes…, stamps. ARGV: offset, limit (0: to the end), record prefix per index, index name per index.
# Returns JSON [[records]…, [stamp…]].
READ = (
    _COLLECT
    + """
local out = {}
local stamps = {}
local off = tonumber(ARGV[1])
local n = #KEYS - 1
for i = 1, n do
  out[i] = collect(redis.call('ZRANGE', KEYS[i], off, off + tonumber(ARGV[2]) - 1), ARGV[2 + i])
  stamps[i] = redis.call('HGET', KEYS[n + 1], ARGV[2 + n + i]) or '0'
end
out[n + 1] = '[' .. table.concat(stamps, ',') .. ']'
return '[' .. table.concat(out, ',') .. ']'
"""
)

# KEYS: contact timer indexes…, the agent timer index, the sweep flag. ARGV: until, agent until,
# contact record prefix, agent record prefix. Returns JSON [[contacts]…, [agents], sweep 0|1] (sweep consumed).
DUE = (
    _COLLECT
    + """
local out = {}
local n = #KEYS - 2
for i = 1, n do out[i] = collect(redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1]), ARGV[3]) end
out[n + 1] = collect(redis.call('ZRANGEBYSCORE', KEYS[n + 1], '-inf', ARGV[2]), ARGV[4])
if redis.call('GETDEL', KEYS[n + 2]) then out[n + 2] = '1' else out[n + 2] = '0' end
return '[' .. table.concat(out, ',') .. ']'
"""
)

# KEYS[1]: a contact. ARGV[1]: agent record prefix. Returns JSON [contact, agents it names…] or "[]".
BUNDLE = """
local c = redis.call('GET', KEYS[1])
if not c then return '[]' end
local out = {c}
local rec = cjson.decode(c)
for _, pos in ipairs({11, 12, 19, 9}) do
  local aid = rec[pos]
  if type(aid) == 'number' then
    local a = redis.call('GET', ARGV[1] .. string.format('%d', aid))
    if a then out[#out + 1] = a end
  end
end
return '[' .. table.concat(out, ',') .. ']'
"""

# KEYS: cfg, cfgv, seq, sweep. ARGV: seq read, queue set JSON, key prefix, JSON [[index keys to delete], [[index,
# score, member]…]]. Refused (0) when any commit happened since ``seq`` was read.
RECONFIGURE = """
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] then return 0 end
local pre = ARGV[3]
local d = cjson.decode(ARGV[4])
for _, k in ipairs(d[1]) do redis.call('DEL', pre .. 'i:' .. k) end
for _, r in ipairs(d[2]) do redis.call('ZADD', pre .. 'i:' .. r[1], r[2], r[3]) end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[4], '1')
return 1
"""


class Script:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


S_COMMIT, S_READ, S_DUE, S_BUNDLE, S_RECONFIGURE = (Script(x) for x in (COMMIT, READ, DUE, BUNDLE, RECONFIGURE))

TIED = ("w:", "ww:", "q:")


def member(e: Entry) -> str:
    if e[0].startswith(TIED):
        return f"{e[2] + 1e12:018.4f}|{e[3]:020d}"
    return f"{e[3]:020d}"


_SEP = (",", ":")
_PRESENCE = {p.value: p for p in Presence}
_STATE = {s.value: s for s in ContactState}
_MODE = {m.value: m for m in TransferMode}


def encode_agent(a: AgentRec, v: int) -> str:
    return json.dumps(
        [v, a.agent_id, a.skills, a.presence.value, a.reason, a.since, a.idle_since, a.contact_id, a.warned],
        separators=_SEP,
    )


def decode_agent(r: list[Any]) -> AgentRec:
    return AgentRec(r[1], r[2], _PRESENCE[r[3]], r[4], r[5], r[6], r[7], r[8], r[0])


def encode_contact(c: ContactRec, v: int) -> str:
    return json.dumps(
        [v, c.contact_id, c.queue, c.channel, c.state.value, c.priority_bonus, c.waiting_since, c.enqueued_at,
         c.target_agent, c.owner_agent, c.agent_id, c.offer_agent, c.offer_expires_at, c.due_at, c.widened,
         c.overflowed_from, c.offers, c.declined_by, c.transfer_from,
         c.transfer_mode.value if c.transfer_mode is not None else None, c.prev_queue, c.parked],
        separators=_SEP,
    )  # fmt: skip


def decode_contact(r: list[Any]) -> ContactRec:
    return ContactRec(
        r[1], r[2], r[3], _STATE[r[4]], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15],
        r[16], tuple(r[17]), r[18], _MODE[r[19]] if r[19] is not None else None, r[20], r[21], r[0],
    )  # fmt: skip


def spec_to_json(q: QueueSpec) -> dict[str, Any]:
    return {
        "code": q.code, "skills": list(q.skills), "min_proficiency": q.min_proficiency,
        "base_priority": q.base_priority, "acceleration": q.acceleration, "widen_after_s": q.widen_after_s,
        "overflow_after_s": q.overflow_after_s, "overflow_queue": q.overflow_queue, "name": q.name,
    }  # fmt: skip


def spec_from_json(d: dict[str, Any]) -> QueueSpec:
    return QueueSpec(**{**d, "skills": tuple(d["skills"])})
