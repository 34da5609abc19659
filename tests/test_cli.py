"""The ``kefu`` command line against a real database (in-process, KEFU_* environment)."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from kefu.core import crypto, runtime
from kefu.core.config import new_key_b64
from kefu.staff import service
from tests.factories import cli_env, fresh_database_url, make_staff, run_cli, sync_rows

GOOD = "Good-pass-2026\n"


def _staff_count(url: str) -> int:
    return int(sync_rows(url, "SELECT count(*) FROM staff")[0][0])


def test_db_upgrade_demo_twice_and_user_create(settings, tmp_path):
    url, cleanup = fresh_database_url(settings, tmp_path, "kefu_cli")
    try:
        env = cli_env(settings, KEFU_DATABASE_URL=url)
        r = run_cli(["db", "upgrade"], env)
        assert r.exit_code == 0, r.output
        assert sync_rows(url, "SELECT version_num FROM alembic_version")
        assert _staff_count(url) == 0
        assert run_cli(["db", "upgrade"], env).exit_code == 0  # idempotent

        r = run_cli(["demo", "--if-empty"], env)
        assert r.exit_code == 0, r.output
        loaded = _staff_count(url)
        assert loaded >= 10
        accounts = settings.var_dir / "demo-accounts.txt"
        assert accounts.stat().st_mode & 0o777 == 0o600
        assert len(accounts.read_text().strip().splitlines()) == loaded + 1
        roles = {line.split("\t")[1] for line in accounts.read_text().splitlines()[1:]}
        assert {"admin", "auditor", "supervisor", "agent"} <= {x for r in roles for x in r.split(",")}

        r = run_cli(["demo", "--if-empty"], env)
        assert r.exit_code == 0, r.output
        assert "nothing loaded" in r.output
        assert _staff_count(url) == loaded

        r = run_cli(
            ["user", "create", "--staff-no", "A9001", "--name", "首位管理员", "--role", "admin", "--role", "auditor",
             "--team", "T-SAV", "--password-stdin"],
            env, input=GOOD,
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "created staff A9001" in r.output
        rows = sync_rows(url, "SELECT s.staff_no, r.role FROM staff s JOIN staff_roles r ON r.staff_id = s.id "
                              "WHERE s.staff_no = 'A9001' ORDER BY r.role")  # fmt: skip
        assert rows == [("A9001", "admin"), ("A9001", "auditor")]

        for args, stdin, message in (
            (["--staff-no", "A9002", "--name", "x", "--role", "admin"], "short\n", "at least 10 characters"),
            (["--staff-no", "A9001", "--name", "x", "--role", "admin"], GOOD, "already taken"),
            (["--staff-no", "A9003", "--name", "x", "--role", "root"], GOOD, "Unknown role"),
            (["--staff-no", "A9004", "--name", "x", "--role", "agent", "--team", "NOPE"], GOOD, "No team"),
            (["--staff-no", "A9005", "--name", "x", "--role", "agent"], "\n", "no password"),
        ):
            r = run_cli(["user", "create", *args, "--password-stdin"], env, input=stdin)
            assert r.exit_code != 0, (args, r.output)
            assert message in r.output, (args, r.output)
        assert _staff_count(url) == loaded + 1
        r = run_cli(["audit", "verify"], env)
        assert r.exit_code == 0, r.output
    finally:
        cleanup()


def test_backup_and_restore(settings, tmp_path):
    env = cli_env(settings)
    url = settings.database_url
    args = ["user", "create", "--name", "备份前", "--role", "agent", "--password-stdin"]
    assert run_cli([*args, "--staff-no", "B0001"], env, input=GOOD).exit_code == 0
    before = sync_rows(url, "SELECT id, staff_no, password_hash FROM staff ORDER BY id")
    file = tmp_path / "kefu.backup"
    r = run_cli(["backup", str(file)], env)
    assert r.exit_code == 0, r.output
    assert "backup written" in r.output
    assert "sha256" in r.output
    r = run_cli(["backup", str(file)], env)
    assert r.exit_code != 0
    assert "already exists" in r.output

    assert run_cli([*args, "--staff-no", "B0002"], env, input=GOOD).exit_code == 0
    assert _staff_count(url) == 2
    r = run_cli(["restore", str(file)], env, input="n\n")
    assert r.exit_code != 0
    assert _staff_count(url) == 2
    r = run_cli(["restore", str(file), "--yes"], env)
    assert r.exit_code == 0, r.output
    assert sync_rows(url, "SELECT id, staff_no, password_hash FROM staff ORDER BY id") == before
    r = run_cli(["audit", "verify"], env)
    assert r.exit_code == 0, r.output
    r = run_cli(["restore", str(tmp_path / "missing.backup"), "--yes"], env)
    assert r.exit_code != 0
    assert "does not exist" in r.output


async def _seed(settings, n: int) -> list[tuple[int, str]]:
    rt = runtime.build(settings, pool=False)
    try:
        out = []
        for i in range(n):
            s = await make_staff(
                rt, roles=["agent"], id_number=f"1101011990030700{i}X", email=f"k{i}@kefu-test.example"
            )
            out.append((s.id, s.phone or ""))
        return out
    finally:
        await rt.close()
        runtime.install(None)


async def _lookup(settings, phones: list[tuple[int, str]]) -> None:
    rt = runtime.build(settings, pool=False)
    try:
        async with rt.db.transaction() as s:
            for staff_id, phone in phones:
                assert [x.id for x in await service.find_by_phone(s, phone=phone)] == [staff_id]
    finally:
        await rt.close()
        runtime.install(None)


def test_keys_rotate(settings, db_backend):
    """Embedded: ``kefu keys rotate`` adds a version to var/data.key. Cluster: the operator adds it."""
    people = asyncio.run(_seed(settings, 3))
    old_ring = settings.data_key.get_secret_value()
    if db_backend == "sqlite":
        (settings.var_dir / "data.key").write_text(old_ring + "\n")
        env = cli_env(settings)
        del env["KEFU_DATA_KEY"]  # read from the embedded keyring file
    else:
        env = cli_env(settings, KEFU_DATA_KEY=f"{old_ring},2:{new_key_b64()}")
    r = run_cli(["keys", "rotate"], env)
    assert r.exit_code == 0, r.output
    assert "values re-encrypted" in r.output
    values = sync_rows(settings.database_url, "SELECT phone, email, id_number FROM staff")
    assert len(values) == 3
    assert all(v.startswith("v2:") for row in values for v in row)
    new_ring = (settings.var_dir / "data.key").read_text().strip() if db_backend == "sqlite" else env["KEFU_DATA_KEY"]
    assert crypto.KeyRing.parse(new_ring).current_version == 2
    rotated = settings.model_copy(update={"data_key": SecretStr(new_ring)})
    asyncio.run(_lookup(rotated, people))
    r = run_cli(["audit", "verify"], {**env, "KEFU_DATA_KEY": new_ring})
    assert r.exit_code == 0, r.output
    entries = sync_rows(settings.database_url, "SELECT object_id FROM audit_log WHERE action = 'keys.rotate'")
    assert entries == [("2",)]


def test_cluster_mode_cli_refuses_without_secrets(settings, db_backend):
    if db_backend == "sqlite":
        return
    env = cli_env(settings)
    del env["KEFU_SECRET_KEY"], env["KEFU_DATA_KEY"]
    r = run_cli(["audit", "verify"], env)
    assert r.exit_code != 0
    assert "must be set in cluster mode" in r.output
