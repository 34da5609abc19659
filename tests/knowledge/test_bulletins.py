"""Bulletins (R4.4): who sees which (validity, teams, skills), reading and acknowledging urgent ones,
receipts scoped to the team lead's team, changes that ask everyone to read again, withdrawal."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge import bulletins
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_staff, principal_of
from tests.knowledge.conftest_loop import T0, center, give_skills

DAY = dt.timedelta(days=1)


async def _post(rt, who, title: str, **kw) -> int:
    kw.setdefault("body", f"{title}：详见正文。")
    async with rt.db.transaction() as s:
        return (await bulletins.create(s, actor=principal_of(who), title=title, **kw)).id


async def _board(rt, who) -> list[str]:
    async with rt.db.transaction() as s:
        return [b["title"] for b in await bulletins.for_staff(s, actor=principal_of(who), now=clock.now())]


async def _call(rt, fn, who, **kw):
    async with rt.db.transaction() as s:
        return await fn(s, actor=principal_of(who), **kw)


@pytest.fixture
async def board(rt):
    """The center, agents' skills and one bulletin of each kind, posted at T0 by the editor."""
    clock.freeze(T0)
    p = await center(rt)
    await give_skills(rt, p["a1"], cards=5)
    await give_skills(rt, p["b1"], cards=3, general=2)
    ed = p["editor"]
    ids = {
        "everyone": await _post(rt, ed, "系统升级通知"),
        "team1": await _post(rt, ed, "一组排班调整", audience_teams=[p["t1"]]),
        "cards": await _post(rt, ed, "挂失新规", audience_skills=["cards"]),
        "t2cards": await _post(rt, ed, "二组挂失培训", audience_teams=[p["t2"]], audience_skills=["cards"]),
        "future": await _post(rt, ed, "明日活动", valid_from=T0 + DAY),
        "expired": await _post(rt, ed, "上周活动", valid_from=T0 - 3 * DAY, valid_to=T0 - DAY),
        "withdrawn": await _post(rt, ed, "发错的通知"),
        "urgent": await _post(rt, ed, "紧急：暂停境外交易", priority="urgent"),
    }
    await _call(rt, bulletins.withdraw, ed, bulletin_id=ids["withdrawn"], reason="内容有误")
    return p, ids


async def test_each_reader_sees_the_current_bulletins_of_their_team_and_skills(rt, board):
    p, _ = board
    urgent_first = ["紧急：暂停境外交易"]
    assert await _board(rt, p["a1"]) == urgent_first + ["挂失新规", "一组排班调整", "系统升级通知"]
    assert await _board(rt, p["a2"]) == urgent_first + ["一组排班调整", "系统升级通知"]
    assert await _board(rt, p["b1"]) == urgent_first + ["二组挂失培训", "挂失新规", "系统升级通知"]
    assert await _board(rt, p["lead2"]) == urgent_first + ["系统升级通知"]
    assert await _board(rt, p["editor"]) == urgent_first + ["系统升级通知"]  # no team, no skills
    clock.advance(DAY)
    assert await _board(rt, p["a2"]) == urgent_first + ["明日活动", "一组排班调整", "系统升级通知"]


async def test_read_and_acknowledge(rt, board):
    p, ids = board
    async with rt.db.transaction() as s:
        assert await bulletins.unacknowledged_urgent(s, actor=principal_of(p["a1"]), now=clock.now()) == 1
    read = await _call(rt, bulletins.mark_read, p["a1"], bulletin_id=ids["urgent"])
    assert (read["read_at"], read["acked_at"], read["needs_ack"]) == (T0, None, True)
    clock.advance(dt.timedelta(minutes=5))
    acked = await _call(rt, bulletins.acknowledge, p["a1"], bulletin_id=ids["urgent"])
    assert (acked["read_at"], acked["acked_at"], acked["needs_ack"]) == (T0, T0 + dt.timedelta(minutes=5), False)
    clock.advance(dt.timedelta(minutes=5))
    again = await _call(rt, bulletins.acknowledge, p["a1"], bulletin_id=ids["urgent"])  # idempotent
    assert again["acked_at"] == T0 + dt.timedelta(minutes=5)
    await _call(rt, bulletins.mark_read, p["a1"], bulletin_id=ids["urgent"])
    acked_directly = await _call(rt, bulletins.acknowledge, p["a2"], bulletin_id=ids["urgent"])  # reading implied
    assert acked_directly["read_at"] == acked_directly["acked_at"] == T0 + dt.timedelta(minutes=10)
    async with rt.db.transaction() as s:
        assert await bulletins.unacknowledged_urgent(s, actor=principal_of(p["a1"]), now=clock.now()) == 0
        assert await bulletins.unacknowledged_urgent(s, actor=principal_of(p["b1"]), now=clock.now()) == 1
    assert len(await audit_rows(rt, "bulletin.read")) == 1  # the first read of each reader
    assert len(await audit_rows(rt, "bulletin.acknowledge")) == 2
    with pytest.raises(Conflict, match="Only urgent bulletins"):
        await _call(rt, bulletins.acknowledge, p["a1"], bulletin_id=ids["everyone"])
    for who, key in (("b1", "team1"), ("a2", "cards"), ("a1", "future"), ("a1", "expired"), ("a1", "withdrawn")):
        with pytest.raises(NotFound):
            await _call(rt, bulletins.mark_read, p[who], bulletin_id=ids[key])
    async with rt.db.transaction() as s:  # managers open any bulletin, readers only their current ones
        assert (await bulletins.visible(s, actor=principal_of(p["editor"]), bulletin_id=ids["future"],
                                        now=clock.now())).id == ids["future"]  # fmt: skip
        with pytest.raises(NotFound):
            await bulletins.visible(s, actor=principal_of(p["a1"]), bulletin_id=ids["future"], now=clock.now())


async def test_receipts_are_scoped_to_the_team_leads_team(rt, board):
    p, ids = board
    await _call(rt, bulletins.acknowledge, p["a1"], bulletin_id=ids["urgent"])
    clock.advance(dt.timedelta(minutes=1))
    await _call(rt, bulletins.mark_read, p["b1"], bulletin_id=ids["urgent"])

    def staff(r) -> list[tuple[int, bool, bool]]:
        return [(i["staff_id"], i["read_at"] is not None, i["acked_at"] is not None) for i in r["items"]]

    everyone = sorted([p[k].id for k in ("a1", "a2", "b1", "lead1", "lead2")])
    for who in ("editor", "sup", "reviewer"):  # managers, center-wide roles and other receipt readers: all
        r = await _call(rt, bulletins.receipts, p[who], bulletin_id=ids["urgent"])
        assert sorted(i["staff_id"] for i in r["items"]) == everyone
        assert (r["audience"], r["read"], r["acknowledged"]) == (5, 2, 1)
    r = await _call(rt, bulletins.receipts, p["lead1"], bulletin_id=ids["urgent"])
    assert sorted(staff(r)) == sorted([(p["a1"].id, True, True), (p["a2"].id, False, False),
                                       (p["lead1"].id, False, False)])  # fmt: skip
    r = await _call(rt, bulletins.receipts, p["lead2"], bulletin_id=ids["urgent"])
    assert sorted(staff(r)) == sorted([(p["b1"].id, True, False), (p["lead2"].id, False, False)])
    r = await _call(rt, bulletins.receipts, p["editor"], bulletin_id=ids["cards"])
    assert sorted(i["staff_id"] for i in r["items"]) == sorted([p["a1"].id, p["b1"].id])  # skill holders only
    r = await _call(rt, bulletins.receipts, p["lead1"], bulletin_id=ids["t2cards"])
    assert r["items"] == []  # not lead1's team
    with pytest.raises(PermissionDenied):
        await _call(rt, bulletins.receipts, p["a1"], bulletin_id=ids["urgent"])
    teamless = await make_staff(rt, roles=["team_lead"])
    with pytest.raises(PermissionDenied, match="lead no team"):
        await _call(rt, bulletins.receipts, teamless, bulletin_id=ids["urgent"])
    with pytest.raises(NotFound):
        await _call(rt, bulletins.receipts, p["editor"], bulletin_id=999_999)


async def test_rewording_asks_everyone_again_and_withdrawn_ones_stay_down(rt, board):
    p, ids = board
    await _call(rt, bulletins.acknowledge, p["a1"], bulletin_id=ids["urgent"])
    await _call(rt, bulletins.update, p["editor"], bulletin_id=ids["urgent"], valid_to=T0 + 7 * DAY)
    r = await _call(rt, bulletins.receipts, p["editor"], bulletin_id=ids["urgent"])
    assert r["acknowledged"] == 1  # the period changed, not the wording
    await _call(rt, bulletins.update, p["editor"], bulletin_id=ids["urgent"], body="更正：暂停境外线上交易。")
    r = await _call(rt, bulletins.receipts, p["editor"], bulletin_id=ids["urgent"])
    assert (r["read"], r["acknowledged"]) == (0, 0)
    async with rt.db.transaction() as s:
        assert await bulletins.unacknowledged_urgent(s, actor=principal_of(p["a1"]), now=clock.now()) == 1
    updates = await audit_rows(rt, "bulletin.update")
    assert [json.loads(u.after)["receipts_cleared"] for u in updates] == [0, 1]
    with pytest.raises(Conflict, match="withdrawn"):
        await _call(rt, bulletins.update, p["editor"], bulletin_id=ids["withdrawn"], title="改正后的通知")
    with pytest.raises(Conflict, match="already withdrawn"):
        await _call(rt, bulletins.withdraw, p["editor"], bulletin_id=ids["withdrawn"], reason="再撤一次")
    (row,) = await audit_rows(rt, "bulletin.withdraw")
    assert row.purpose == "内容有误"
    async with rt.db.transaction() as s:
        rows, total = await bulletins.list_all(s)
        assert total == 7
        assert ids["withdrawn"] not in [b.id for b in rows]
        assert (await bulletins.list_all(s, include_withdrawn=True))[1] == 8


async def test_bulletins_are_checked(rt, board):
    p, ids = board
    ed = p["editor"]
    for kw, field in (
        ({"valid_from": T0, "valid_to": T0 - DAY}, "valid_to"),
        ({"audience_skills": ["magic"]}, "audience_skills"),
        ({"audience_teams": [999_999]}, "audience_teams"),
        ({"priority": "high"}, "priority"),
        ({"valid_from": dt.datetime(2026, 11, 23, 9, 0)}, "valid_from"),  # noqa: DTZ001 - no zone on purpose
    ):
        with pytest.raises(ValidationFailed) as err:
            await _post(rt, ed, "有问题的通知", **kw)
        assert err.value.extra["errors"][0]["field"] == field
    with pytest.raises(ValidationFailed):
        await _post(rt, ed, " ")
    with pytest.raises(ValidationFailed):
        await _call(rt, bulletins.update, ed, bulletin_id=ids["everyone"], valid_from=None)
    with pytest.raises(ValidationFailed):
        await _call(rt, bulletins.update, ed, bulletin_id=ids["everyone"], colour="red")
    with pytest.raises(PermissionDenied):
        await _post(rt, p["lead1"], "组长不能发通知")


async def test_bulletin_routes(rt, client, board):
    p, ids = board
    editor = await auth_headers(client, p["editor"])
    r = await client.post("/api/v1/bulletins", headers=editor,
                          json={"title": "新卡上线", "body": "**周一**起发售。", "priority": "urgent",
                                "audience_teams": [p["t1"]]})  # fmt: skip
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    agent = await auth_headers(client, p["a2"])
    assert (await client.post("/api/v1/bulletins", headers=agent, json={"title": "x1", "body": "y"})).status_code == 403
    r = await client.get("/api/v1/bulletins", headers=agent)
    assert r.status_code == 200, r.text
    assert r.json()["unacknowledged_urgent"] == 2
    assert [b["id"] for b in r.json()["items"]][:2] == [new, ids["urgent"]]
    assert (await client.post(f"/api/v1/bulletins/{new}/read", headers=agent)).json()["read_at"] is not None
    r = await client.post(f"/api/v1/bulletins/{new}/ack", headers=agent)
    assert (r.status_code, r.json()["needs_ack"]) == (200, False)
    r = await client.post(f"/api/v1/bulletins/{ids['everyone']}/ack", headers=agent)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/v1/bulletins/{ids['t2cards']}", headers=agent)).status_code == 404
    assert (await client.get(f"/api/v1/bulletins/{new}", headers=agent)).json()["acked_at"] is not None
    r = await client.get(f"/api/v1/bulletins/{new}/receipts", headers=await auth_headers(client, p["lead1"]))
    assert (r.status_code, r.json()["audience"], r.json()["acknowledged"]) == (200, 3, 1)
    assert (await client.get(f"/api/v1/bulletins/{new}/receipts", headers=agent)).status_code == 403
    r = await client.patch(f"/api/v1/bulletins/{new}", headers=editor, json={"valid_to": "2026-11-30T18:00:00+08:00"})
    assert (r.status_code, r.json()["valid_to"]) == (200, "2026-11-30T10:00:00Z")
    r = await client.get("/api/v1/bulletins/all", headers=editor)
    assert (r.status_code, r.json()["total"]) == (200, 8)
    r = await client.post(f"/api/v1/bulletins/{new}/withdraw", headers=editor, json={"reason": "已改为邮件通知"})
    assert r.json()["withdrawn_at"] is not None
    assert (await client.get(f"/api/v1/bulletins/{new}", headers=agent)).status_code == 404
