"""Key rotation: every encrypted value moves to the new key version and stays readable."""

from __future__ import annotations

import pyotp
import pytest
from pydantic import SecretStr

from kefu.core import audit, crypto, keys
from kefu.core.config import ConfigError, append_data_key_version, new_key_b64
from kefu.staff import repository as repo
from kefu.staff import service
from tests.factories import make_staff, raw_rows

PII_COLUMNS = ("phone", "email", "id_number", "totp_secret")


def _id_number(n: int) -> str:
    return f"11010119900307{n:03d}" + "X"


async def _raw_values(rt) -> list[str]:
    rows = await raw_rows(rt, "SELECT " + ", ".join(PII_COLUMNS) + " FROM staff ORDER BY id")  # noqa: S608
    return [v for r in rows for v in r if v is not None]


async def test_rotate_re_encrypts_everything_and_lookups_still_work(rt):
    people = []
    for i in range(4):
        s = await make_staff(
            rt, roles=["agent"], email=f"agent{i}@kefu-test.example", id_number=_id_number(i), totp=i % 2 == 0
        )
        people.append(s)
    before = await _raw_values(rt)
    assert len(before) == 4 * 3 + 2
    assert all(v.startswith("v1:") for v in before)

    # a new key version, as an operator would add it (keyring text, then configure)
    ring = rt.settings.data_key.get_secret_value() + ",2:" + new_key_b64()
    rt.settings.data_key = SecretStr(ring)
    crypto.configure(ring)
    assert crypto.keyring().current_version == 2

    async with rt.db.transaction() as s:
        assert await keys.count_values(s) == len(before)
        ticks: list[int] = []
        report = await keys.rotate(s, progress=ticks.append)
    assert report.version == 2
    assert report.rewritten == len(before)
    assert report.already_current == 0
    assert len(ticks) == len(before)
    assert {c for _, c, _ in keys.encrypted_columns()} >= set(PII_COLUMNS)

    after = await _raw_values(rt)
    assert len(after) == len(before)
    assert all(v.startswith("v2:") for v in after), after
    assert not set(after) & set(before)

    async with rt.db.transaction() as s:
        for p in people:
            loaded = await repo.get_staff(s, p.id)
            assert loaded is not None
            assert (loaded.phone, loaded.email, loaded.id_number, loaded.totp_secret) == (
                p.phone,
                p.email,
                p.id_number,
                p.totp_secret,
            )
            if loaded.totp_secret:
                pyotp.TOTP(loaded.totp_secret).now()
            found = await service.find_by_phone(s, phone="+86 " + p.phone)
            assert [f.id for f in found] == [p.id]
        # a second run has nothing left to do
        again = await keys.rotate(s)
        assert again.rewritten == 0
        assert again.already_current == len(before)
        assert (await audit.verify(s)).ok

    # version 1 can be dropped only after rotation; values written under v2 need v2
    crypto.configure("2:" + ring.rsplit("2:", 1)[1])
    async with rt.db.transaction() as s:
        assert (await repo.get_staff(s, people[0].id)).phone == people[0].phone  # type: ignore[union-attr]


async def test_append_data_key_version_writes_the_embedded_keyring(rt, db_backend):
    if db_backend != "sqlite":
        with pytest.raises(ConfigError, match="KEFU_DATA_KEY"):
            append_data_key_version(rt.settings)
        return
    path = rt.settings.var_dir / "data.key"
    path.write_text(rt.settings.data_key.get_secret_value() + "\n")
    assert append_data_key_version(rt.settings) == 2
    assert append_data_key_version(rt.settings) == 3
    text = path.read_text().strip()
    assert [p.split(":", 1)[0] for p in text.split(",")] == ["1", "2", "3"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert rt.settings.data_key.get_secret_value() == text
    assert crypto.KeyRing.parse(text).current_version == 3
