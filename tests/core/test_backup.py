"""Backup, then restore into a fresh empty database: identical rows, and the audit chain holds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, inspect, text

from kefu.core import audit, events
from kefu.core.backup import BackupError, backup, restore
from kefu.core.config import async_database_url, plain_database_url
from kefu.core.db import Database
from kefu.staff import auth as staff_auth
from tests.factories import auth_headers, fresh_database_url, make_staff, make_team


def _sync_url(url: str) -> str:
    plain = plain_database_url(url)
    return "postgresql+psycopg://" + plain.split("://", 1)[1] if plain.startswith("postgresql") else plain


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, ordered by primary key (all columns when a table has none)."""
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            out = {}
            for table in sorted(insp.get_table_names()):
                cols = [c["name"] for c in insp.get_columns(table)]
                pk = insp.get_pk_constraint(table).get("constrained_columns") or cols
                order = ", ".join(f'"{c}"' for c in pk)
                sql = f'SELECT * FROM "{table}" ORDER BY {order}'  # noqa: S608 - names from the schema
                out[table] = [tuple(r) for r in conn.execute(text(sql))]
            return out
    finally:
        engine.dispose()


async def _some_data(rt, client) -> None:
    team = await make_team(rt)
    admin = await make_staff(rt, roles=["admin"], team_id=team, email="admin@kefu-test.example")
    await make_staff(rt, roles=["agent", "team_lead"], team_id=team, id_number="110101199003071234")
    headers = await auth_headers(client, admin)
    r = await client.post("/api/v1/api-keys", headers=headers, json={"name": "cti", "scopes": ["staff.read"]})
    assert r.status_code == 201
    async with rt.db.transaction() as s:
        await events.emit(s, "test.backup", {"x": "数据"})
        await staff_auth.revoke_api_key(s, key_id=r.json()["id"])


async def test_backup_then_restore_into_a_fresh_database(rt, client, tmp_path):
    await _some_data(rt, client)
    src_url = rt.settings.database_url
    before = snapshot(src_url)
    assert len(before["staff"]) == 2
    assert len(before["audit_log"]) > 5
    assert before["alembic_version"]

    file = tmp_path / "backups" / "kefu.backup"
    info = await asyncio.to_thread(backup, rt.settings, file)
    assert info.path == file.resolve()
    assert info.size > 0
    assert len(info.sha256) == 64
    assert file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(BackupError, match="already exists"):
        backup(rt.settings, file)

    url, cleanup = fresh_database_url(rt.settings, tmp_path, "kefu_restored")
    try:
        assert not any(snapshot(url).values()) if rt.settings.is_sqlite else snapshot(url) == {}
        target = rt.settings.model_copy(update={"database_url": url})
        await asyncio.to_thread(restore, target, file)
        after = snapshot(url)
        assert after.keys() == before.keys()
        for table, rows in before.items():
            assert after[table] == rows, f"table {table} differs after restore"
        db = Database(async_database_url(url), pool=False)
        try:
            async with db.transaction() as s:
                result = await audit.verify(s)
                assert result.ok
                assert result.checked == len(before["audit_log"])
        finally:
            await db.dispose()
    finally:
        cleanup()


async def test_restore_refuses_missing_or_damaged_files(rt, tmp_path):
    with pytest.raises(BackupError, match="does not exist"):
        restore(rt.settings, tmp_path / "nope.backup")
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"this is not a backup" * 100)
    url, cleanup = fresh_database_url(rt.settings, tmp_path, "kefu_bad")
    try:
        with pytest.raises(BackupError):
            restore(rt.settings.model_copy(update={"database_url": url}), bad)
    finally:
        cleanup()
