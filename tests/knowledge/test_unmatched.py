"""Unmatched queries (R4.3): personal data scrubbed before anything is stored, counted per normalised
text, Shanghai day and source, listed most frequent first, resolved by editors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kefu.core import clock
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge import unmatched
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, principal_of, raw_rows
from tests.knowledge.conftest_loop import DAY, T0, center

WEEK = (DAY - dt.timedelta(days=6), DAY + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号13800138000收不到验证码", "我的手机号***收不到验证码"),
        ("+86 138-0013-8000 换号了", "*** 换号了"),
        ("身份证11010119900307123X过期了", "身份证***过期了"),
        ("身份证号110101900307123", "身份证号***"),  # 15-digit ID
        ("卡号6222021234567890123被吞了", "卡号***被吞了"),
        ("卡号 6222 0212 3456 7890 挂失", "卡号 *** 挂失"),
        ("信用卡 4392 2500 3000 写错了", "信用卡 *** 写错了"),  # 12 digits
        ("发到 zhang.san+kefu@example.com 了吗", "发到 *** 了吗"),
        ("全角号码１３８００１３８０００", "全角号码***"),
        ("信用卡年费多少", "信用卡年费多少"),  # nothing personal: unchanged
        ("拨打95588转人工，2026年11月23日，kb-12", "拨打95588转人工，2026年11月23日，kb-12"),
    ],
)
def test_scrub_replaces_personal_data(text, expected):
    assert unmatched.scrub(text) == expected


async def _log(rt, query: str, source: str = "agent", score: float | None = 0.2, norm: str | None = None) -> None:
    async with rt.db.transaction() as s:
        await unmatched.log(s, query=query, normalised=norm if norm is not None else query, source=source,
                            best_score=score)  # fmt: skip


async def _list(rt, **kw):
    kw.setdefault("start", WEEK[0])
    kw.setdefault("end", WEEK[1])
    async with rt.db.transaction() as s:
        return await unmatched.list_unmatched(s, **kw)


async def test_counted_per_text_day_and_source_most_frequent_first(rt):
    clock.freeze(T0)
    for _ in range(3):
        await _log(rt, "外币汇款限额多少", score=0.3)
    await _log(rt, "外币汇款限额多少？", "bot", None, norm="外币汇款限额多少")
    await _log(rt, "手机银行闪退")
    clock.freeze(dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC))  # 00:30 on the 24th in Shanghai
    await _log(rt, "外币汇款限额多少", score=0.4)
    await _log(rt, "手机银行闪退")
    await _log(rt, "   ", norm="  ")  # nothing left to count
    rows = await raw_rows(rt, "SELECT query_norm, source, day, count FROM kb_unmatched ORDER BY id")
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [
        ("外币汇款限额多少", "agent", "2026-11-23", 3), ("外币汇款限额多少", "bot", "2026-11-23", 1),
        ("手机银行闪退", "agent", "2026-11-23", 1), ("外币汇款限额多少", "agent", "2026-11-24", 1),
        ("手机银行闪退", "agent", "2026-11-24", 1),
    ]  # fmt: skip
    items = await _list(rt)
    assert [(i["query"], i["count"], i["days"], i["sources"]) for i in items] == [
        ("外币汇款限额多少", 5, 2, ["agent", "bot"]), ("手机银行闪退", 2, 2, ["agent"]),
    ]  # fmt: skip
    assert items[0]["best_score"] == pytest.approx(0.4)
    assert items[0]["last_at"] == dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC)
    assert [(i["query"], i["count"]) for i in await _list(rt, source="bot")] == [("外币汇款限额多少", 1)]
    assert [i["query"] for i in await _list(rt, start=DAY, end=DAY, limit=1)] == ["外币汇款限额多少"]
    assert await _list(rt, start=DAY + dt.timedelta(days=2), end=DAY + dt.timedelta(days=3)) == []
    with pytest.raises(ValidationFailed):
        await _list(rt, source="email")
    with pytest.raises(ValidationFailed):
        await _list(rt, start=DAY, end=DAY - dt.timedelta(days=1))


async def test_personal_data_never_reaches_the_table(rt):
    clock.freeze(T0)
    long_tail = "我的卡" * 70 + "6222021234567890123"  # the cut at 200 characters comes after scrubbing
    await _log(rt, "卡号6222021234567890123被吞了", norm="卡号6222021234567890123被吞了")
    await _log(rt, "13800138000 查余额", "bot", norm="13800138000 查余额")
    await _log(rt, long_tail, norm=long_tail)
    stored = " ".join(r[0] + r[1] for r in await raw_rows(rt, "SELECT query_norm, sample FROM kb_unmatched"))
    assert not any(d in stored for d in ("6222", "1380", "0123"))
    assert {i["query"] for i in await _list(rt)} >= {"卡号***被吞了", "*** 查余额"}
    assert all(len(r[0]) <= 200 for r in await raw_rows(rt, "SELECT query_norm FROM kb_unmatched"))


async def test_resolve_hides_it_until_it_comes_back(rt):
    clock.freeze(T0)
    p = await center(rt)
    await _log(rt, "外币汇款限额多少")
    await _log(rt, "外币汇款限额多少", "bot")
    await _log(rt, "手机银行闪退")
    first = (await _list(rt))[0]
    assert first["query"] == "外币汇款限额多少"
    async with rt.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            await unmatched.resolve(s, actor=principal_of(p["a1"]), unmatched_id=first["id"], note="已补充")
        with pytest.raises(NotFound):
            await unmatched.resolve(s, actor=principal_of(p["editor"]), unmatched_id=999_999, note="已补充")
        with pytest.raises(ValidationFailed):
            await unmatched.resolve(s, actor=principal_of(p["editor"]), unmatched_id=first["id"], note=" ")
        done = await unmatched.resolve(s, actor=principal_of(p["editor"]), unmatched_id=first["id"],
                                       note="已新增条目 kb-7，客户电话13800138000")  # fmt: skip
    assert done["resolved_rows"] == 2  # both sources
    assert [i["query"] for i in await _list(rt)] == ["手机银行闪退"]
    assert [(i["query"], i["resolved"]) for i in await _list(rt, include_resolved=True)] == [
        ("外币汇款限额多少", True), ("手机银行闪退", False),
    ]  # fmt: skip
    (row,) = await audit_rows(rt, "kb.unmatched.resolve")
    after = json.loads(row.after)
    assert (after["query"], after["rows"], after["note"]) == ("外币汇款限额多少", 2, "已新增条目 kb-7，客户电话***")
    await _log(rt, "外币汇款限额多少")  # still unanswered: open again
    assert [(i["query"], i["count"]) for i in await _list(rt)] == [("外币汇款限额多少", 2), ("手机银行闪退", 1)]


async def test_unmatched_routes(rt, client):
    clock.freeze(T0)
    p = await center(rt)
    await _log(rt, "外币汇款限额多少")
    lead = await auth_headers(client, p["lead1"])
    r = await client.get("/api/v1/kb/unmatched", headers=lead)
    assert r.status_code == 200, r.text
    (item,) = r.json()
    assert (item["query"], item["sample"], item["count"], item["sources"]) == ("外币汇款限额多少", "外币汇款限额多少", 1,
                                                                              ["agent"])  # fmt: skip
    assert (await client.get("/api/v1/kb/unmatched", headers=await auth_headers(client, p["a1"]))).status_code == 403
    r = await client.post(f"/api/v1/kb/unmatched/{item['id']}/resolve", json={"note": "已补充"}, headers=lead)
    assert r.status_code == 403  # team leads read the report; editors deal with it
    editor = await auth_headers(client, p["editor"])
    r = await client.post(f"/api/v1/kb/unmatched/{item['id']}/resolve", json={"note": "已补充条目"}, headers=editor)
    assert r.status_code == 200, r.text
    assert r.json()["resolved_rows"] == 1
    assert (await client.get("/api/v1/kb/unmatched", headers=editor)).json() == []
    r = await client.get("/api/v1/kb/unmatched", params={"include_resolved": "true", "source": "agent"}, headers=editor)
    assert [i["resolved"] for i in r.json()] == [True]
