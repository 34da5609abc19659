"""The feedback-loop routes (router_loop: attachments, hits, report, unmatched, questions, bulletins)
against the permission matrix: every role is let through exactly where its permissions allow, and
refusals are problem+json."""

from __future__ import annotations

import re

from kefu.core.auth import iter_routes, route_permissions
from kefu.core.permissions import MATRIX, Role
from kefu.knowledge import router_loop
from tests.factories import api_routes, auth_headers, make_staff

LOOP_PATHS = {r.path for r in iter_routes(router_loop.router)}


def _ops(app) -> list[tuple[str, str, tuple]]:
    out = []
    for r in api_routes(app):
        if getattr(r, "path", "") in LOOP_PATHS:
            _, perms = route_permissions(r)
            out += [(m, r.path, perms) for m in sorted(r.methods or ()) if m != "HEAD"]
    return out


async def test_every_loop_route_matches_the_matrix(rt, app, client):
    ops = _ops(app)
    assert len(ops) == len(iter_routes(router_loop.router)) == 21  # every loop route is in the app, once
    assert all(perms for _, _, perms in ops)
    for role in Role:
        member = await make_staff(rt, roles=[role.value])
        headers = await auth_headers(client, member)
        for method, path, perms in ops:
            url = re.sub(r"\{(\w+)\}", "1", path)
            r = await client.request(method, url, headers=headers, json={} if method in ("POST", "PATCH") else None)
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:200]}"
            if set(perms) <= MATRIX[role]:
                assert r.status_code not in (401, 403, 500), where
            else:
                assert r.status_code == 403, where
                assert r.headers["content-type"].startswith("application/problem+json"), where
                assert r.json()["code"] == "permission_denied", where
