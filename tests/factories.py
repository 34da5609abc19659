"""Factories for staff and sign-in; every value is generated, never a real person."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pyotp
from httpx import AsyncClient

from kefu.core import runtime
from kefu.staff import service
from kefu.staff.demo import fake_mobile, fake_name
from kefu.staff.models import Staff

_counter = itertools.count(1)
_rng = random.Random(7)  # generated test data
PASSWORD = "Test-pass-2026x"


async def make_staff(
    rt: runtime.Runtime,
    *,
    roles: list[str],
    team_id: int | None = None,
    password: str = PASSWORD,
    totp: bool = False,
    **kw: Any,
) -> Staff:
    staff_no = kw.pop("staff_no", None) or f"T{next(_counter):05d}"
    async with rt.db.transaction() as s:
        st = await service.create_staff(
            s, staff_no=staff_no, name=kw.pop("name", None) or fake_name(_rng), roles=roles, password=password,
            team_id=team_id, phone=kw.pop("phone", None) or fake_mobile(_rng), must_change_password=False, **kw,
        )  # fmt: skip
        if totp:
            st.totp_secret = pyotp.random_base32()
            st.totp_enabled = True
        staff_id = st.id
    async with rt.db.transaction() as s:
        from kefu.staff import repository

        loaded = await repository.get_staff(s, staff_id)
        assert loaded is not None
        return loaded


async def make_team(rt: runtime.Runtime, code: str | None = None, name: str = "测试组") -> int:
    async with rt.db.transaction() as s:
        t = await service.create_team(s, code=code or f"TT{next(_counter)}", name=name)
        return t.id


async def token_for(client: AsyncClient, staff: Staff, password: str = PASSWORD) -> str:
    body: dict[str, Any] = {"username": staff.staff_no, "password": password}
    if staff.totp_enabled and staff.totp_secret:
        body["totp"] = pyotp.TOTP(staff.totp_secret).now()
    r = await client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def auth_headers(client: AsyncClient, staff: Staff, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(client, staff, password)}"}


# ---- helpers added for the foundation suite (routes, raw SQL, events, CLI, fresh databases) ------


def api_routes(app: Any) -> list[Any]:
    """Every route of the app, flattened through included routers."""
    from kefu.core.auth import iter_routes

    return iter_routes(app)


async def raw_rows(rt: runtime.Runtime, sql: str, **params: Any) -> list[Any]:
    from sqlalchemy import text

    async with rt.db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


class Recorder:
    """A subscribed event handler that remembers each payload (unsubscribed by ``close``)."""

    def __init__(self, name: str, *, fail_times: int = 0) -> None:
        from kefu.core import events

        self.name = name
        self.payloads: list[dict[str, Any]] = []
        self.fail_times = fail_times
        self.calls = 0

        async def handler(_session: Any, payload: dict[str, Any]) -> None:
            self.calls += 1
            if self.calls <= self.fail_times:
                raise RuntimeError(f"handler failure {self.calls}")
            self.payloads.append(payload)

        self.handler = handler
        events.subscribe(name)(handler)

    def close(self) -> None:
        from kefu.core import events

        if self.handler in events._handlers.get(self.name, []):
            events._handlers[self.name].remove(self.handler)


def cli_env(settings: Any, **extra: str) -> dict[str, str]:
    """KEFU_* environment for running the CLI against a test's database."""
    env = {
        "KEFU_DATABASE_URL": settings.database_url,
        "KEFU_VAR_DIR": str(settings.var_dir),
        "KEFU_ARGON2_TIME_COST": "1",
        "KEFU_ARGON2_MEMORY_KIB": "1024",
        "KEFU_TOTP_REQUIRED_ROLES": "",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_EMBEDDED_WORKER": "false",
    }
    if settings.secret_key is not None:
        env["KEFU_SECRET_KEY"] = settings.secret_key.get_secret_value()
    if settings.data_key is not None:
        env["KEFU_DATA_KEY"] = settings.data_key.get_secret_value()
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], input: str | None = None) -> Any:
    """Invoke ``kefu`` in-process; restores the runtime, keyring and logging it replaces."""
    import sys

    from typer.testing import CliRunner

    from kefu.cli import app as cli_app
    from kefu.core import crypto
    from kefu.core import logging as kefu_logging
    from kefu.core.config import get_settings

    previous = runtime._runtime
    ring = crypto._keyring
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_app, args, env=env, input=input)
    finally:
        get_settings.cache_clear()
        runtime.install(previous)
        if previous is not None and previous.settings.data_key is not None:
            crypto.configure(previous.settings.data_key.get_secret_value())
        elif ring is not None:
            crypto._keyring, crypto._index_key = ring, ring.index_key()
        kefu_logging.configure("WARNING", stream=sys.stderr)


def fresh_database_url(settings: Any, tmp_path: Any, name: str) -> tuple[str, Any]:
    """An empty database next to the test's own: (plain URL, cleanup callable)."""
    import uuid

    if settings.is_sqlite:
        return f"sqlite:///{tmp_path / (name + '.db')}", lambda: None
    import psycopg

    from kefu.core.config import plain_database_url

    admin = plain_database_url(settings.database_url)
    dbname = f"{name}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')  # type: ignore[arg-type]

    def cleanup() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')  # type: ignore[arg-type]

    return admin.rsplit("/", 1)[0] + "/" + dbname, cleanup


def sync_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run one query with a plain (sync) driver, for CLI and backup checks."""
    from sqlalchemy import create_engine, text

    from kefu.core.config import plain_database_url

    plain = plain_database_url(url)
    if plain.startswith("postgresql://"):
        plain = "postgresql+psycopg://" + plain[len("postgresql://") :]
    engine = create_engine(plain)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


async def make_customer(rt: runtime.Runtime, **kw: Any) -> Any:
    """A generated customer (fictitious name, phone and ID number) stored directly through the model."""
    from kefu.core import clock
    from kefu.core.crypto import blind_index, mask_name
    from kefu.customers.models import Customer, CustomerPhone

    name = kw.pop("name", None) or fake_name(_rng)
    phone = kw.pop("phone", None) or fake_mobile(_rng)
    n = next(_counter)
    id_number = kw.pop("id_number", None) or f"110101199{n % 10}0101{n % 1000:03d}X"
    now = clock.now()
    async with rt.db.transaction() as s:
        c = Customer(
            customer_no=kw.pop("customer_no", None) or f"C{n:010d}",
            name=name,
            name_mask=mask_name(name),
            id_type="resident_id",
            id_number=id_number,
            id_number_bidx=blind_index(id_number, context="customers.id_number"),
            tier=kw.pop("tier", "normal"),
            created_at=now,
            updated_at=now,
            **kw,
        )
        s.add(c)
        await s.flush()
        s.add(
            CustomerPhone(
                customer_id=c.id,
                phone=phone,
                phone_bidx=blind_index(phone, context="customer_phones.phone"),
                label="mobile",
                is_primary=True,
                created_at=now,
            )
        )
        return c


# ---- banking ------------------------------------------------------------------------------------


async def make_verification(
    rt: runtime.Runtime, *, customer_id: int, staff_id: int, level: int = 2, contact_ref: str | None = None, **kw: Any
) -> int:
    """An open identity verification of ``customer_id`` by ``staff_id`` at ``level`` (inserted directly)."""
    import datetime as dt

    from kefu.core import clock
    from kefu.customers.models import VerificationSession

    now = clock.now()
    async with rt.db.transaction() as s:
        v = VerificationSession(
            customer_id=customer_id, staff_id=staff_id, contact_ref=contact_ref or f"call-{next(_counter)}",
            level=level, methods_passed="[]", failures=0, status=kw.pop("status", "open"), created_at=now,
            expires_at=kw.pop("expires_at", now + dt.timedelta(hours=2)), **kw,
        )  # fmt: skip
        s.add(v)
        await s.flush()
        return v.id


async def make_account(
    rt: runtime.Runtime,
    *,
    customer_id: int,
    type: str = "savings",
    balance: int = 0,
    overdraft_limit: int = 0,
    card: str | None = None,
) -> tuple[int, str, int | None]:
    """Open an account with an opening balance (fen); optionally issue a card ('debit' or an inactive
    'credit'). Returns (account id, account number, card id)."""
    from kefu.banking import ledger

    async with rt.db.transaction() as s:
        acct = await ledger.open_account(
            s, customer_id=customer_id, type=type, overdraft_limit=overdraft_limit, opening_balance=balance
        )
        card_id = None
        if card is not None:
            c = await ledger.issue_card(s, account_id=acct.id, kind=card, activated=card == "debit")
            card_id = c.id
        return acct.id, acct.account_no, card_id


def principal_of(staff: Staff) -> Any:
    """The signed-in principal of a staff member, for calling services directly."""
    from kefu.staff import auth as staff_auth

    return staff_auth._principal(staff, kind="api")
