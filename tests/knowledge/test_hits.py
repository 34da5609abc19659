"""Hit counters (R4.3): one row per entry and Shanghai day, summed by a portable upsert; attaching an
entry to a contact once; the frequency report's bands, category totals and suggestions for a FIXED data
set with exactly known bands."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.knowledge import hits, service, unmatched
from tests.contacts.conftest import handled
from tests.customers.helpers import audit_rows
from tests.factories import auth_headers, make_staff, principal_of, raw_rows
from tests.knowledge.conftest_loop import DAY, T0, center, draft_entry, live_entry

START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


async def _record(rt, entry_id: int, kind: str, n: int = 1, day: dt.date | None = None) -> None:
    async with rt.db.transaction() as s:
        await hits.record(s, entry_id=entry_id, kind=kind, n=n, day=day)


async def _counts(rt, entry_id: int) -> list[tuple]:
    rows = await raw_rows(rt, "SELECT day, opens, attaches, bot_answers FROM kb_hits WHERE entry_id = :e ORDER BY day",
                          e=entry_id)  # fmt: skip
    return [(str(r[0]), r[1], r[2], r[3]) for r in rows]


def test_local_day_is_the_shanghai_calendar_day():
    assert hits.local_day(dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 23)
    assert hits.local_day(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 24)
    assert hits.local_day(dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == dt.date(
        2026, 11, 24
    )


def test_quantile_interpolates_between_sorted_values():
    values = [0, 0, 1, 2, 3, 5, 8, 13, 21, 40]
    assert hits.quantile(values, 0.9) == pytest.approx(22.9)
    assert hits.quantile(values, 0.6) == pytest.approx(6.2)
    assert hits.quantile(values, 0.25) == pytest.approx(1.25)
    assert hits.quantile([], 0.5) == 0.0
    assert hits.quantile([7], 0.9) == 7
    limits = {"very_high": 22.9, "high": 6.2, "low": 1.25}
    assert [hits.band(n, limits) for n in (40, 22, 6, 2, 1, 0)] == ["very_high", "high", "low", "low", "very_low",
                                                                    "very_low"]  # fmt: skip
    assert hits.band(0, {"very_high": 0.0, "high": 0.0, "low": 0.0}) == "very_low"  # no hit is never frequent


async def test_counters_add_up_per_entry_and_shanghai_day(rt):
    clock.freeze(T0)
    p = await center(rt)
    e = await live_entry(rt, p, category="借记卡/挂失", question="借记卡丢了怎么挂失")
    await _record(rt, e, "open")
    await _record(rt, e, "open")
    await _record(rt, e, "bot", n=3)
    await _record(rt, e, "attach")
    clock.freeze(dt.datetime(2026, 11, 23, 15, 59, 59, tzinfo=dt.UTC))  # 23:59:59 in Shanghai
    await _record(rt, e, "open")
    clock.freeze(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC))  # midnight in Shanghai: a new day
    await _record(rt, e, "open")
    await _record(rt, e, "open", n=2, day=dt.date(2026, 11, 1))
    assert await _counts(rt, e) == [("2026-11-01", 2, 0, 0), ("2026-11-23", 3, 1, 3), ("2026-11-24", 1, 0, 0)]
    async with rt.db.transaction() as s:
        days = await hits.daily(s, entry_id=e, start=DAY, end=DAY + dt.timedelta(days=1))
        assert [(d["day"], d["hits"]) for d in days] == [(DAY, 7), (DAY + dt.timedelta(days=1), 1)]
        with pytest.raises(ValidationFailed):
            await hits.record(s, entry_id=e, kind="like")
        with pytest.raises(ValidationFailed):
            await hits.record(s, entry_id=e, kind="open", n=0)
        with pytest.raises(ValidationFailed):
            await hits.daily(s, entry_id=e, start=DAY, end=DAY - dt.timedelta(days=1))


# ---- the fixed data set ------------------------------------------------------------------------------
# category → [(question, hits in the period)]; the hits are spread over kinds and days of November.
DATA = {
    "借记卡/挂失": [("借记卡丢了怎么挂失", 40), ("挂失后多久能补卡", 2), ("临时挂失有效期多久", 3), ("挂失手续费", 1)],
    "理财/停售产品": [("旧理财产品到期怎么赎回", 0), ("停售产品的收益怎么查", 0)],
    "信用卡/年费": [("信用卡年费多少", 5), ("年费怎么减免", 8), ("年费什么时候扣", 13), ("刷几次免年费", 21)],
}
#: quantiles of [0, 0, 1, 2, 3, 5, 8, 13, 21, 40]: 0.90 → 22.9, 0.60 → 6.2, 0.25 → 1.25
EXPECTED_BANDS = {40: "very_high", 21: "high", 13: "high", 8: "high", 5: "low", 3: "low", 2: "low", 1: "very_low",
                  0: "very_low"}  # fmt: skip


async def _fixed_data_set(rt, p) -> dict[str, int]:
    """Entry ids by question, with the hits of DATA recorded (and some that must not count)."""
    ids: dict[str, int] = {}
    for category, rows in DATA.items():
        for question, n in rows:
            ids[question] = e = await live_entry(rt, p, category=category, question=question)
            if n >= 10:  # spread over two days and all three kinds
                await _record(rt, e, "open", n - 6, day=dt.date(2026, 11, 5))
                await _record(rt, e, "attach", 4, day=dt.date(2026, 11, 20))
                await _record(rt, e, "bot", 2, day=dt.date(2026, 11, 20))
            elif n:
                await _record(rt, e, "open", n, day=dt.date(2026, 11, 10))
    # outside the period, retired, or never published: none of it counts
    await _record(rt, ids["旧理财产品到期怎么赎回"], "open", 50, day=dt.date(2026, 10, 31))
    await _record(rt, ids["停售产品的收益怎么查"], "open", 50, day=dt.date(2026, 12, 1))
    retired = await live_entry(rt, p, category="理财/停售产品", question="已下线的理财问题")
    await _record(rt, retired, "open", 99, day=dt.date(2026, 11, 10))
    async with rt.db.transaction() as s:
        await service.retire(s, actor=principal_of(p["reviewer"]), entry_id=retired, reason="产品已下线")
    ids["draft"] = await draft_entry(rt, p, category="信用卡/年费", question="尚未发布的问题")
    return ids


async def test_frequency_report_bands_for_a_fixed_data_set(rt):
    clock.freeze(T0)
    p = await center(rt)
    ids = await _fixed_data_set(rt, p)
    async with rt.db.transaction() as s:
        await unmatched.log(s, query="外币汇款限额", normalised="外币汇款限额", source="agent", best_score=0.1)
        report = await hits.frequency_report(s, start=START, end=END, settings=rt.settings)
    assert report["thresholds"] == {"very_high": 22.9, "high": 6.2, "low": 1.25}
    by_id = {r["entry_id"]: r for r in report["entries"]}
    assert set(by_id) == {ids[q] for rows in DATA.values() for q, _ in rows}  # live entries only, zero hits too
    for rows in DATA.values():
        for question, n in rows:
            row = by_id[ids[question]]
            assert (row["question"], row["hits"], row["band"]) == (question, n, EXPECTED_BANDS[n])
    top = by_id[ids["借记卡丢了怎么挂失"]]
    assert (top["opens"], top["attaches"], top["bot_answers"], top["category"]) == (34, 4, 2, "借记卡/挂失")
    assert [r["hits"] for r in report["entries"]] == [40, 21, 13, 8, 5, 3, 2, 1, 0, 0]  # busiest first

    totals = {c["category"]: c for c in report["categories"]}
    assert [c["category"] for c in report["categories"]] == ["信用卡/年费", "借记卡/挂失", "理财/停售产品"]
    assert (totals["信用卡/年费"]["entries"], totals["信用卡/年费"]["hits"]) == (4, 47)
    assert totals["借记卡/挂失"]["bands"] == {"very_high": 1, "high": 0, "low": 2, "very_low": 1}
    assert totals["理财/停售产品"]["bands"] == {"very_high": 0, "high": 0, "low": 0, "very_low": 2}

    assert [(x["category"], x["reason"], x["entries"]) for x in report["suggestions"]] == [
        ("借记卡/挂失", "move_hot_entries", [ids["借记卡丢了怎么挂失"]]),
        ("理财/停售产品", "merge_or_retire", [ids["旧理财产品到期怎么赎回"], ids["停售产品的收益怎么查"]]),
    ]
    assert "parent category" in report["suggestions"][1]["message"]
    assert [(u["query"], u["count"]) for u in report["top_unmatched"]] == [("外币汇款限额", 1)]


async def test_custom_band_settings_move_the_thresholds(rt):
    clock.freeze(T0)
    p = await center(rt)
    ids = await _fixed_data_set(rt, p)
    strict = rt.settings.model_copy(update={"kb_band_very_high": 0.5, "kb_band_high": 0.4, "kb_band_low": 0.1})
    async with rt.db.transaction() as s:
        report = await hits.frequency_report(s, start=START, end=END, settings=strict)
    # 0.5 → 4.0, 0.4 → 2.6, 0.1 → 0.0 (zero hits stay very low)
    bands = {r["hits"]: r["band"] for r in report["entries"]}
    assert bands == {40: "very_high", 21: "very_high", 13: "very_high", 8: "very_high", 5: "very_high", 3: "high",
                     2: "low", 1: "low", 0: "very_low"}  # fmt: skip
    assert ids


def test_big_categories_are_suggested_for_splitting():
    rows = [{"entry_id": i, "category_id": 7, "category": "信用卡", "hits": 5, "band": "high"} for i in range(41)]
    (hint,) = hits.suggestions(rows, {})
    assert (hint["reason"], len(hint["entries"]), hint["category"]) == ("split", 41, "信用卡")
    assert hits.suggestions(rows[:40], {}) == []


async def test_report_period_is_checked(rt):
    async with rt.db.transaction() as s:
        with pytest.raises(ValidationFailed, match="on or after"):
            await hits.frequency_report(s, start=END, end=START, settings=rt.settings)
        with pytest.raises(ValidationFailed, match="at most 366 days"):
            await hits.frequency_report(s, start=dt.date(2025, 1, 1), end=END, settings=rt.settings)


# ---- attaching an entry to a contact -----------------------------------------------------------------


async def test_attach_once_per_contact_and_only_live_entries(rt):
    clock.freeze(T0)
    p = await center(rt)
    e = await live_entry(rt, p, category="借记卡/挂失", question="借记卡丢了怎么挂失")
    draft = await draft_entry(rt, p, category="借记卡/挂失", question="还在写的问题")
    c = await handled(rt, p["a1"].id)
    async with rt.db.transaction() as s:
        first = await hits.attach(s, actor=principal_of(p["a1"]), entry_id=e, contact_id=c.id)
        first_id = first.id
        assert (first.contact_id, first.entry_id, first.entry_version, first.staff_id) == (c.id, e, 1, p["a1"].id)
    async with rt.db.transaction() as s:
        again = await hits.attach(s, actor=principal_of(p["a1"]), entry_id=e, contact_id=c.id)
        assert again.id == first_id
        assert [a.entry_id for a in await hits.attachments_of(s, actor=principal_of(p["a1"]), contact_id=c.id)] == [e]
    assert await _counts(rt, e) == [("2026-11-23", 0, 1, 0)]  # counted once
    (row,) = await audit_rows(rt, "kb.attach")
    assert (row.object_type, row.object_id, json.loads(row.after)["entry_id"]) == ("contact", str(c.id), e)
    async with rt.db.transaction() as s:
        with pytest.raises(NotFound, match="contact"):  # b1 cannot see a1's contact
            await hits.attach(s, actor=principal_of(p["b1"]), entry_id=e, contact_id=c.id)
        with pytest.raises(NotFound, match="not published"):
            await hits.attach(s, actor=principal_of(p["a1"]), entry_id=draft, contact_id=c.id)
    async with rt.db.transaction() as s:
        await service.retire(s, actor=principal_of(p["reviewer"]), entry_id=e, reason="规则已变")
    c2 = await handled(rt, p["a1"].id)
    async with rt.db.transaction() as s:
        with pytest.raises(NotFound):
            await hits.attach(s, actor=principal_of(p["a1"]), entry_id=e, contact_id=c2.id)


async def test_attach_and_report_routes(rt, client):
    clock.freeze(T0)
    p = await center(rt)
    e = await live_entry(rt, p, category="借记卡/挂失", question="借记卡丢了怎么挂失")
    c = await handled(rt, p["a1"].id)
    agent = await auth_headers(client, p["a1"])
    for _ in range(2):
        r = await client.post(f"/api/v1/kb/entries/{e}/attach", json={"contact_id": c.id}, headers=agent)
        assert r.status_code == 200, r.text
        assert (r.json()["entry_id"], r.json()["contact_id"]) == (e, c.id)
    r = await client.get("/api/v1/kb/attachments", params={"contact_id": c.id}, headers=agent)
    assert [a["entry_id"] for a in r.json()] == [e]
    r = await client.post(f"/api/v1/kb/entries/{e}/attach", json={"contact_id": c.id},
                          headers=await auth_headers(client, p["b1"]))  # fmt: skip
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")

    assert (await client.get("/api/v1/kb/reports/frequency", headers=agent)).status_code == 403
    lead = await auth_headers(client, p["lead1"])
    r = await client.get("/api/v1/kb/reports/frequency", headers=lead)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"]) == ("2026-10-25", "2026-11-23")  # the last 30 days by default
    assert [(x["entry_id"], x["attaches"], x["band"]) for x in body["entries"]] == [(e, 1, "very_high")]
    r = await client.get("/api/v1/kb/hits", params={"entry_id": e, "start": "2026-11-23", "end": "2026-11-23"},
                         headers=lead)  # fmt: skip
    assert r.json() == [{"day": "2026-11-23", "opens": 0, "attaches": 1, "bot_answers": 0, "hits": 1}]
    r = await client.get("/api/v1/kb/reports/frequency", params={"start": "2026-11-30", "end": "2026-11-01"},
                         headers=lead)  # fmt: skip
    assert r.status_code == 422
    assert "start date" in r.json()["detail"]
    qa = await make_staff(rt, roles=["qa_inspector"])
    assert (await client.get("/api/v1/kb/reports/frequency", headers=await auth_headers(client, qa))).status_code == 403
