"""Property-based API testing over /openapi.json: no input makes the server answer 5xx.

Runs in-process on SQLite (the app's own lifespan builds its runtime inside schemathesis' ASGI
transport), signed in as an administrator, a bounded number of examples per operation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from kefu.core import runtime
from kefu.core.config import Settings
from kefu.staff import auth as staff_auth
from tests.factories import PASSWORD, make_staff, make_team

# operations that would end the administrator's own access when aimed at their own id
SELF_ENDING = {"/api/v1/staff/{staff_id}/password-reset", "/api/v1/staff/{staff_id}/totp-reset"}


@dataclass
class State:
    admin_id: int
    staff_no: str
    token: str


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # the generated traffic is the same on both backends; keep this one quick


async def _prepare(settings: Settings) -> State:
    rt = runtime.build(settings, pool=False)
    try:
        team_id = await make_team(rt)
        admin = await make_staff(rt, roles=["admin", "supervisor", "auditor"], team_id=team_id)
        for role in ("agent", "team_lead"):
            await make_staff(rt, roles=[role], team_id=team_id)
        async with rt.db.transaction() as s:
            token, _ = await staff_auth.start_session(s, staff=admin, kind="api", client_addr=None, user_agent="st")
        return State(admin_id=admin.id, staff_no=admin.staff_no, token=token)
    finally:
        await rt.close()
        runtime.install(None)


@pytest.fixture
def api_state(settings: Settings) -> State:
    return asyncio.run(_prepare(settings))


@pytest.fixture
def api_schema(settings: Settings, api_state: State):  # type: ignore[no-untyped-def]
    from kefu.main import create_app

    app = create_app(settings)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _check(case, state: State) -> None:
    if case.operation.path in SELF_ENDING and case.path_parameters.get("staff_id") == state.admin_id:
        return
    response = case.call(headers={"Authorization": f"Bearer {state.token}"})
    case.validate_response(response, checks=[not_a_server_error])
    if case.operation.path == "/api/v1/banking/core-status" and case.method.upper() == "PUT":
        # the generated request may have switched the core banking system offline (a drill): switch it
        # back, or every later banking operation would answer 503 by design
        reset = case.operation.schema["/api/v1/banking/core-status"]["PUT"].Case(
            body={"mode": "online", "reason": "schemathesis reset"}
        )
        assert reset.call(headers={"Authorization": f"Bearer {state.token}"}).status_code in (200, 401)
    if response.status_code == 401 and case.operation.path != "/api/v1/auth/token":
        # the generated request signed the administrator out (logout): sign in again for the next one
        login = case.operation.schema["/api/v1/auth/token"]["POST"].Case(
            body={"username": state.staff_no, "password": PASSWORD}
        )
        r = login.call()
        assert r.status_code == 200, r.text
        state.token = r.json()["access_token"]


def test_no_server_errors(api_schema, api_state: State) -> None:
    """Every operation, valid (positive) and invalid (negative) data; all failures reported together."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, 25), (GenerationMode.NEGATIVE, 15)):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def run(case) -> None:  # type: ignore[no-untyped-def]
                _check(case, api_state)

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: the operation takes no input
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
