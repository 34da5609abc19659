"""The entries API (/api/v1/kb, ``knowledge/router.py``): every route against the permission matrix,
problem+json answers that say what to do, categories and synonyms over HTTP."""

from __future__ import annotations

import re

from kefu.core import clock
from kefu.core.auth import route_permissions
from kefu.core.permissions import MATRIX, Role
from tests.factories import api_routes, auth_headers, make_staff
from tests.knowledge.entries_helpers import ANSWER, T0, headers, team

PROBLEM = "application/problem+json"
KB = "/api/v1/kb"


def _ops(app):
    out = []
    for r in api_routes(app):
        endpoint = getattr(getattr(r, "original_route", r), "endpoint", None)
        if getattr(endpoint, "__module__", "") == "kefu.knowledge.router":
            _, perms = route_permissions(r.original_route)
            out += [(m, r.path, perms) for m in sorted(r.original_route.methods or ()) if m != "HEAD"]
    return out


async def test_every_entries_route_matches_the_matrix(rt, app, client):
    ops = _ops(app)
    assert len(ops) == 22
    assert all(perms for _, _, perms in ops)
    for role in Role:
        member = await make_staff(rt, roles=[role.value])
        h = await auth_headers(client, member)
        for method, path, perms in ops:
            url = re.sub(r"\{(\w+)\}", "1", path)
            params = {"a": 1, "b": 1} if path.endswith("/diff") else None
            r = await client.request(method, url, headers=h, params=params,
                                     json={} if method in ("POST", "PATCH") else None)  # fmt: skip
            where = f"{role.value} {method} {path} -> {r.status_code} {r.text[:200]}"
            if set(perms) <= MATRIX[role]:
                assert r.status_code not in (401, 403, 500), where
            else:
                assert r.status_code == 403, where
                assert r.json()["code"] == "permission_denied", where
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith(PROBLEM), where


async def test_sign_in_is_required(client):
    r = await client.get(f"{KB}/categories")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_entries_over_http_answer_with_problems(rt, client):
    clock.freeze(T0)
    h = await headers(client, await team(rt))
    body = {
        "category_path": "借记卡/挂失补办",
        "question": "银行卡丢了怎么挂失？",
        "answer": ANSWER,
        "key": "card-loss",
    }
    r = await client.post(f"{KB}/entries", headers=h["editor"], json=body)
    assert r.status_code == 201, r.text
    entry = r.json()
    r = await client.post(f"{KB}/entries", headers=h["editor"], json=body)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "choose another key" in r.json()["detail"]
    for bad in ({**body, "key": None, "question": "x"}, {**body, "key": "a b"}, {**body, "colour": "red"},
                {**body, "key": None, "effective_from": "2026-12-31", "effective_to": "2026-12-01"},
                {**body, "key": None, "category_path": None}):  # fmt: skip
        r = await client.post(f"{KB}/entries", headers=h["editor"], json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.get(f"{KB}/entries", headers=h["editor"], params={"q": "挂失", "status": "draft"})
    assert [x["key"] for x in r.json()["items"]] == ["card-loss"]
    assert r.json()["items"][0]["category"] == "借记卡/挂失补办"
    r = await client.get(f"{KB}/entries", headers=h["editor"], params={"status": "live"})
    assert r.status_code == 422
    r = await client.get(f"{KB}/entries/{entry['id']}", headers=h["reviewer"])
    assert r.status_code == 200
    assert r.json()["key"] == "card-loss"
    assert (await client.get(f"{KB}/entries/{entry['id']}", headers=h["agent"])).status_code == 403
    r = await client.get(f"{KB}/entries/99999", headers=h["editor"])
    assert r.status_code == 404
    assert r.json()["detail"] == "No knowledge-base entry 99999."
    r = await client.get(f"{KB}/entries/{entry['id']}/diff", headers=h["editor"], params={"a": 1, "b": 2})
    assert r.status_code == 404
    assert "versions are 1 to 1" in r.json()["detail"]
    r = await client.get(f"{KB}/entries/{2**63}", headers=h["editor"])
    assert r.status_code == 422, "ids beyond the column's range never reach the database"


async def test_categories_and_synonyms_over_http(rt, client):
    clock.freeze(T0)
    h = await headers(client, await team(rt))
    r = await client.post(f"{KB}/categories", headers=h["editor"], json={"name": "信用卡", "sort": 2})
    assert r.status_code == 201, r.text
    cards = r.json()
    r = await client.post(f"{KB}/categories", headers=h["editor"], json={"name": "额度", "parent_id": cards["id"]})
    limit = r.json()
    assert limit["path"] == "信用卡/额度"
    r = await client.post(f"{KB}/categories", headers=h["editor"], json={"name": "a/b"})
    assert r.status_code == 422
    r = await client.patch(f"{KB}/categories/{cards['id']}", headers=h["editor"], json={"name": "信用卡业务"})
    assert r.json()["path"] == "信用卡业务"
    tree = (await client.get(f"{KB}/categories", headers=h["agent"])).json()
    assert [(n["path"], [c["path"] for c in n["children"]], n["count"]) for n in tree] == [
        ("信用卡业务", ["信用卡业务/额度"], 0)]  # fmt: skip
    r = await client.patch(f"{KB}/categories/{limit['id']}", headers=h["editor"], json={"parent_id": None})
    assert (r.json()["path"], r.json()["parent_id"]) == ("额度", None)
    r = await client.patch(f"{KB}/categories/{limit['id']}", headers=h["editor"], json={"sort": 9})
    assert (r.json()["path"], r.json()["sort"]) == ("额度", 9), "no parent_id given: it stays where it is"
    r = await client.delete(f"{KB}/categories/{cards['id']}", headers=h["editor"])
    assert r.status_code == 204
    r = await client.delete(f"{KB}/categories/{cards['id']}", headers=h["editor"])
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(
        f"{KB}/synonyms", headers=h["editor"], json={"canonical": "挂失", "terms": ["冻结卡", "止付"]}
    )
    assert r.status_code == 201, r.text
    group = r.json()
    r = await client.post(f"{KB}/synonyms", headers=h["editor"], json={"canonical": "冻结", "terms": ["止付"]})
    assert r.status_code == 409
    assert "a word belongs to one group" in r.json()["detail"]
    r = await client.patch(f"{KB}/synonyms/{group['id']}", headers=h["editor"],
                           json={"canonical": "挂失", "terms": ["冻结卡", "止付", "锁卡"]})  # fmt: skip
    assert r.json()["terms"] == ["冻结卡", "止付", "锁卡"]
    assert [g["canonical"] for g in (await client.get(f"{KB}/synonyms", headers=h["editor"])).json()] == ["挂失"]
    assert (await client.get(f"{KB}/synonyms", headers=h["agent"])).status_code == 403
    assert (await client.delete(f"{KB}/synonyms/{group['id']}", headers=h["editor"])).status_code == 204
    assert (await client.get(f"{KB}/synonyms", headers=h["editor"])).json() == []
