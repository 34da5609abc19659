"""The route walker: every route declares its access, and every role gets exactly what the matrix says.

Routes are discovered from the app at run time, so a route added later is covered without editing
this file. Denials must be audited (``auth.denied``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kefu.core import audit
from kefu.core.auth import route_permissions
from kefu.core.permissions import MATRIX, Permission, Role
from kefu.staff import auth as staff_auth
from tests.factories import api_routes, auth_headers, make_staff, make_team

FRAMEWORK_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
BODY_METHODS = {"POST", "PATCH", "PUT"}
PROBLEM = "application/problem+json"


def _checked_routes(app: Any) -> list[Any]:
    out = []
    for r in api_routes(app):
        path = getattr(r, "path", "") or ""
        if path in FRAMEWORK_PATHS or path == "/static" or path.startswith("/static/"):
            continue
        if _is_websocket(r):
            continue  # checked by test_websocket_routes_declare_access
        out.append(r)
    return out


def _is_websocket(route: Any) -> bool:
    inner = getattr(route, "original_route", route)
    return type(inner).__name__ in ("APIWebSocketRoute", "WebSocketRoute")


async def test_websocket_routes_declare_access(app):
    sockets = [r for r in api_routes(app) if _is_websocket(r)]
    assert sockets, "the live channel /api/v1/ws is missing"
    for r in sockets:
        marks = [getattr(d.call, "kefu_ws_permissions", None) or getattr(d.call, "kefu_public", False)
                 for d in r.dependant.dependencies]  # fmt: skip
        assert any(marks), f"websocket {r.path} does not declare who may open it"


def _operations(app: Any) -> list[tuple[str, str, bool, tuple[Permission, ...]]]:
    """(method, path template, is_public, permissions) of every /api/ operation; logout last."""
    ops = []
    for r in _checked_routes(app):
        if not r.path.startswith("/api/"):
            continue
        is_public, perms = route_permissions(r)
        for method in sorted(r.methods or ()):
            if method == "HEAD":
                continue
            ops.append((method, r.path, is_public, perms))
    ops.sort(key=lambda op: (op[1].endswith("/logout"), op[1], op[0]))
    return ops


async def test_every_route_declares_public_or_permissions(app):
    routes = _checked_routes(app)
    assert len(routes) >= 20, "the walker found too few routes; is it still flattening included routers?"
    undeclared, ambiguous = [], []
    for r in routes:
        if not hasattr(r, "dependant"):
            undeclared.append(f"{r.path} (not an endpoint route: {type(r).__name__})")
            continue
        is_public, perms = route_permissions(r)
        if not is_public and not perms:
            undeclared.append(f"{sorted(r.methods or ())} {r.path}")
        if is_public and perms:
            ambiguous.append(f"{sorted(r.methods or ())} {r.path}")
    assert not undeclared, f"routes without require()/public(): {undeclared}"
    assert not ambiguous, f"routes both public and permission-protected: {ambiguous}"
    # pages (non-/api routes), when the web package provides them, are held to the same rule above
    pages = [r.path for r in routes if not r.path.startswith("/api/") and r.path not in ("/healthz", "/metrics")]
    for r in routes:
        if r.path in pages:
            assert any(route_permissions(r)), r.path


def _fill(path: str, ids: dict[str, int]) -> str:
    import re

    def repl(m: re.Match[str]) -> str:
        name = m.group(1).split(":", 1)[0]
        if name in ids:
            return str(ids[name])
        if name == "day":  # a calendar day
            return "2026-10-01"
        # any other row id: a 404 is a fine answer for an allowed role; only 401/403 matter here
        assert name.endswith("_id"), f"no value to fill path parameter {name!r} of {path}; add one to the walker"
        return "1"

    return re.sub(r"\{([^}]+)\}", repl, path)


async def test_every_role_against_the_matrix(rt, app, client):
    team_id = await make_team(rt)
    target = await make_staff(rt, roles=["agent"], team_id=team_id)
    owner = await make_staff(rt, roles=["admin"])
    async with rt.db.transaction() as s:
        _, key = await staff_auth.create_api_key(
            s, actor=staff_auth._principal(owner, kind="api"), name="walker", scopes=["staff.read"], expires_days=None
        )
    ids = {"staff_id": target.id, "team_id": team_id, "key_id": key.id, "code": "general"}
    ops = _operations(app)
    assert any(not public for _, _, public, _ in ops)

    expected_denials: list[tuple[str, str]] = []
    for role in Role:
        member = await make_staff(rt, roles=[role.value], team_id=team_id)
        headers = await auth_headers(client, member)
        granted = MATRIX[role]
        for method, path, is_public, perms in ops:
            if is_public:
                continue
            url = _fill(path, ids)
            r = await client.request(method, url, headers=headers, json={} if method in BODY_METHODS else None)
            should_deny = not set(perms) <= granted
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:300]}"
            if should_deny:
                assert r.status_code == 403, where
                assert r.headers["content-type"].startswith(PROBLEM), where
                assert r.json()["code"] == "permission_denied", where
                expected_denials.append((member.staff_no, f"{method} {path}"))
            else:
                assert r.status_code not in (401, 403), where
                assert r.status_code < 500, where

    async with rt.db.transaction() as s:
        denied = (await s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action == "auth.denied"))).scalars()
        recorded = sorted((e.actor, e.object_id or "") for e in denied)
        assert (await audit.verify(s)).ok
    # every denial wrote exactly one entry, naming the actor and the route (by its full path)
    assert recorded == sorted(expected_denials)
    assert {actor for actor, _ in expected_denials}, "no role was denied anything: the walk checked nothing"


async def test_unauthenticated_calls_get_401_problem_json(rt, app, client):
    ids = {"staff_id": 1, "team_id": 1, "key_id": 1, "code": "general"}
    checked = 0
    for method, path, is_public, _ in _operations(app):
        if is_public:
            continue
        url = _fill(path, ids)
        body = {} if method in BODY_METHODS else None
        for headers in ({}, {"Authorization": "Bearer kft_not-a-real-token"}, {"X-API-Key": "kfk_not-a-real-key"}):
            r = await client.request(method, url, headers=headers, json=body)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["code"] == "not_authenticated"
            checked += 1
    assert checked >= 3 * 15


async def test_api_key_scopes_limit_what_a_key_may_do(rt, client):
    admin = await make_staff(rt, roles=["admin"])
    headers = await auth_headers(client, admin)
    r = await client.post("/api/v1/api-keys", headers=headers, json={"name": "cti-gateway", "scopes": ["staff.read"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["scopes"] == ["staff.read"]
    key = body["key"]
    for key_headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        r = await client.get("/api/v1/staff", headers=key_headers)
        assert r.status_code == 200, r.text
        assert r.json()["total"] >= 1
        r = await client.post("/api/v1/staff", headers=key_headers, json={})
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        r = await client.get("/api/v1/staff/me", headers=key_headers)
        assert r.status_code == 403, "a key holds only its scopes, not its owner's permissions"
    async with rt.db.transaction() as s:
        denied = (
            (await s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action == "auth.denied"))).scalars().all()
        )
    assert len(denied) == 4
    assert all(e.actor.startswith(f"apikey:{body['id']}(") for e in denied)
    assert {e.object_id for e in denied} == {"POST /api/v1/staff", "GET /api/v1/staff/me"}
    # a key cannot carry scopes its creator does not hold
    r = await client.post("/api/v1/api-keys", headers=headers, json={"name": "too-wide", "scopes": ["audit.read"]})
    assert r.status_code == 403
    r = await client.post("/api/v1/api-keys", headers=headers, json={"name": "bad", "scopes": ["no.such"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "scopes"
