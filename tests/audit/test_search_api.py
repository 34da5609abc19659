"""Audit search over the API: filters, paging, and who may use it."""

from __future__ import annotations

import datetime as dt

from kefu.core import audit, clock
from tests.factories import auth_headers, make_staff

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


async def _entries(rt) -> None:
    """12 entries an hour apart: actions a.x / a.y / b.z, two actors, some denied."""
    for i in range(12):
        clock.freeze(T0 + dt.timedelta(hours=i))
        async with rt.db.transaction() as s:
            await audit.record(
                s,
                action=["a.x", "a.y", "b.z"][i % 3],
                object_type="case" if i % 2 else "ticket",
                object_id=i,
                outcome="denied" if i % 4 == 0 else "ok",
                actor="alice" if i < 6 else "bob",
                after={"i": i},
            )
    clock.freeze(None)


async def _search(client, headers, **params):
    r = await client.get("/api/v1/audit", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_filters_and_paging(rt, client):
    auditor = await make_staff(rt, roles=["auditor"])
    headers = await auth_headers(client, auditor)
    await _entries(rt)

    body = await _search(client, headers, action="a.x")
    assert body["total"] == 4
    assert [e["object_id"] for e in body["items"]] == ["9", "6", "3", "0"]  # newest first
    assert body["items"][0]["after"] == {"i": 9}
    assert (await _search(client, headers, action="a."))["total"] == 8  # prefix ending in "."
    assert (await _search(client, headers, action="a"))["total"] == 0  # no prefix without the dot
    assert (await _search(client, headers, actor="bob"))["total"] == 6
    assert (await _search(client, headers, actor="bob", object_type="case"))["total"] == 3
    assert [e["object_id"] for e in (await _search(client, headers, object_id="7"))["items"]] == ["7"]
    assert {e["object_id"] for e in (await _search(client, headers, outcome="denied"))["items"]} == {"0", "4", "8"}
    window = await _search(
        client,
        headers,
        since=(T0 + dt.timedelta(hours=2)).isoformat(),
        until=(T0 + dt.timedelta(hours=5)).isoformat(),
        object_type="ticket",
    )
    assert [e["object_id"] for e in window["items"]] == ["4", "2"]
    # the same instant in Beijing time selects the same entries
    bj = dt.timezone(dt.timedelta(hours=8))
    window_bj = await _search(
        client,
        headers,
        since=(T0 + dt.timedelta(hours=2)).astimezone(bj).isoformat(),
        until=(T0 + dt.timedelta(hours=5)).astimezone(bj).isoformat(),
        object_type="ticket",
    )
    assert window_bj["items"] == window["items"]

    # paging through "test" entries, 5 at a time, by before_seq
    seen: list[str] = []
    params: dict[str, object] = {"limit": 5, "object_type": "case"}
    pages = 0
    while True:
        page = await _search(client, headers, **params)
        assert page["total"] == 6
        seen += [e["object_id"] for e in page["items"]]
        pages += 1
        if page["next_before_seq"] is None:
            break
        params["before_seq"] = page["next_before_seq"]
    assert seen == ["11", "9", "7", "5", "3", "1"]
    assert pages == 2


async def test_bad_filters_are_422_naming_the_field(rt, client):
    auditor = await make_staff(rt, roles=["auditor"])
    headers = await auth_headers(client, auditor)
    for params, field in (
        ({"since": "2026-11-23T08:00:00"}, "since"),
        ({"until": "not-a-date"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"before_seq": 2**70}, "before_seq"),
        ({"before_seq": "abc"}, "before_seq"),
        ({"action": "x" * 81}, "action"),
    ):
        r = await client.get("/api/v1/audit", headers=headers, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], r.json()


async def test_only_audit_roles_may_search_or_verify(rt, client):
    expectations = {
        "auditor": (200, 200),
        "supervisor": (200, 403),
        "admin": (403, 403),
        "agent": (403, 403),
        "team_lead": (403, 403),
    }
    for role, (search_status, verify_status) in expectations.items():
        headers = await auth_headers(client, await make_staff(rt, roles=[role]))
        r = await client.get("/api/v1/audit", headers=headers)
        assert r.status_code == search_status, (role, r.text)
        r = await client.get("/api/v1/audit/verify", headers=headers)
        assert r.status_code == verify_status, (role, r.text)
        if verify_status == 200:
            assert r.json()["ok"] is True
            assert r.json()["checked"] > 0
