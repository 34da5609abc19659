"""The audit chain holds, and any direct edit or deletion in the database breaks it at that entry."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kefu.core import audit
from kefu.staff import service
from tests.factories import cli_env, make_staff, make_team, raw_rows, run_cli

ENTRIES = 8  # entries written by _series (checked below)


async def _series(rt) -> int:
    """A series of real actions, each writing audit entries; returns the number of entries."""
    team_id = await make_team(rt)
    a = await make_staff(rt, roles=["agent"], team_id=team_id)
    await make_staff(rt, roles=["supervisor"])
    async with rt.db.transaction() as s:
        for i in range(3):
            await audit.record(s, action="test.step", object_type="thing", object_id=i, after={"n": i}, purpose="测试")
    async with rt.db.transaction() as s:
        await service.update_team(s, team_id=team_id, name="改名组", description=None)
    async with rt.db.transaction() as s:
        await audit.record(s, action="test.last", object_type="staff", object_id=a.id, before={"x": 1}, after=None)
    async with rt.db.transaction() as s:
        n = await audit.count(s)
    return n


async def _verify(rt) -> audit.VerifyResult:
    async with rt.db.transaction() as s:
        return await audit.verify(s)


async def _exec(rt, *statements: str) -> None:
    async with rt.db.engine.begin() as conn:
        for stmt in statements:
            await conn.execute(text(stmt))


async def _assert_append_only(rt) -> None:
    """The database itself refuses UPDATE / DELETE (and TRUNCATE on PostgreSQL) on audit_log."""
    attempts = ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2"]
    if rt.db.dialect == "postgresql":
        attempts.append("TRUNCATE audit_log")
    for stmt in attempts:
        with pytest.raises(DBAPIError) as info:
            await _exec(rt, stmt)
        assert "append-only" in str(info.value).lower() or "audit" in str(info.value).lower(), str(info.value)
    assert (await _verify(rt)).ok


async def _tamper(rt, *statements: str) -> None:
    """Simulate an attacker with direct database access who gets past the triggers."""
    if rt.db.dialect == "sqlite":
        await _exec(rt, "DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete", *statements)
    else:
        await _exec(rt, "SET LOCAL session_replication_role = replica", *statements)


async def test_chain_verifies_after_a_series_of_actions(rt):
    n = await _series(rt)
    assert n == ENTRIES
    result = await _verify(rt)
    assert result.ok
    assert result.checked == n
    assert result.first_bad_seq is None
    rows = await raw_rows(rt, "SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r.seq for r in rows] == list(range(1, n + 1))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, n))


TAMPERING = {
    "update_after": (["UPDATE audit_log SET after = '[99]' WHERE seq = {mid}"], "{mid}"),
    "update_actor": (["UPDATE audit_log SET actor = 'someone-else' WHERE seq = {mid}"], "{mid}"),
    "update_purpose": (["UPDATE audit_log SET purpose = NULL WHERE seq = {mid}"], "{mid}"),
    "update_hash": (["UPDATE audit_log SET hash = '" + "f" * 64 + "' WHERE seq = {mid}"], "{mid}"),
    "delete_middle": (["DELETE FROM audit_log WHERE seq = {mid}"], "{mid}"),
    "delete_newest": (["DELETE FROM audit_log WHERE seq = {last}"], "{last}"),
    "delete_two_newest": (["DELETE FROM audit_log WHERE seq >= {last} - 1"], "{last} - 1"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
async def test_tampering_is_detected_at_that_entry(rt, kind):
    n = await _series(rt)
    mid, last = 4, n
    await _assert_append_only(rt)
    statements, where = TAMPERING[kind]
    await _tamper(rt, *(s.replace("{mid}", str(mid)).replace("{last}", str(last)) for s in statements))
    expected = eval(where.replace("{mid}", str(mid)).replace("{last}", str(last)))  # noqa: S307 - test constant
    result = await _verify(rt)
    assert not result.ok
    assert result.first_bad_seq == expected, result
    assert result.reason


async def test_truncate_and_restart_is_detected(rt):
    """Wiping the log (the head row is left) is noticed: the chain no longer reaches the head."""
    n = await _series(rt)
    await _tamper(rt, "DELETE FROM audit_log")
    result = await _verify(rt)
    assert not result.ok
    assert result.first_bad_seq == 1
    assert n > 0


async def test_cli_audit_verify_exit_codes(rt):
    await _series(rt)
    env = cli_env(rt.settings)
    result = await asyncio.to_thread(run_cli, ["audit", "verify"], env)
    assert result.exit_code == 0, result.output
    assert f"{ENTRIES} entries verified" in result.output
    await _tamper(rt, "UPDATE audit_log SET object_id = 'x' WHERE seq = 3")
    result = await asyncio.to_thread(run_cli, ["audit", "verify"], env)
    assert result.exit_code != 0
    assert "BROKEN at entry 3" in result.output, result.output


async def test_concurrent_writers_keep_one_chain(rt):
    before = await (lambda: _count(rt))()

    async def writer(i: int) -> None:
        async with rt.db.transaction() as s:
            await audit.record(s, action="test.concurrent", object_type="writer", object_id=i, after={"i": i})
            await asyncio.sleep(0)  # let the others run while this transaction is open

    await asyncio.gather(*(writer(i) for i in range(20)))
    result = await _verify(rt)
    assert result.ok, result
    assert result.checked == before + 20
    rows = await raw_rows(rt, "SELECT object_id FROM audit_log WHERE action = 'test.concurrent'")
    assert sorted(int(r.object_id) for r in rows) == list(range(20))


async def _count(rt) -> int:
    async with rt.db.transaction() as s:
        return await audit.count(s)
