"""Service level, ASA, abandonment, AHT and occupancy on hand-made records: the formulas, what is
counted, local interval edges (Asia/Shanghai), and presence intervals that straddle interval edges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kefu.contacts import stats
from kefu.contacts.models import Contact
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.routing.models import PresenceLog
from tests.factories import make_staff

SH = ZoneInfo("Asia/Shanghai")


def local(day: int, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, h, m, s, tzinfo=SH)


def contact(arrived: dt.datetime, **kw) -> Contact:
    """A contact row as the record would hold it; ``wait``/``talk``/``wrap`` in seconds."""
    wait, talk, wrap = kw.pop("wait", None), kw.pop("talk", None), kw.pop("wrap", None)
    status = kw.pop("status", "closed" if wrap is not None else "wrap_up" if talk is not None else "connected")
    answered = status not in ("queued", "abandoned", "rejected", "scheduled")
    now = clock.now()
    fields = {
        "channel": "phone", "direction": "inbound", "queue_code": "general", "status": status,
        "arrived_at": arrived, "queued_at": arrived, "ivr_choices": "", "priority_bonus": 0.0, "hold_seconds": 0.0,
        "offers": 0, "transfers": 0, "created_at": now, "updated_at": now, "wait_seconds": wait,
        "talk_seconds": talk, "wrapup_seconds": wrap,
    }  # fmt: skip
    if answered and wait is not None:
        fields.update(answered_at=arrived + dt.timedelta(seconds=wait), within_target=wait <= 15)
    fields.update(kw)
    return Contact(**fields)


async def _store(rt, *rows) -> None:
    async with rt.db.transaction() as s:
        s.add_all(rows)


@pytest.fixture
async def day_of_calls(rt):
    clock.freeze(local(23, 12, 10).astimezone(dt.UTC))
    x = await make_staff(rt, roles=["agent"])
    await _store(
        rt,
        contact(local(23, 9, 10), wait=10, talk=100, wrap=20),
        contact(local(23, 9, 20), wait=20, talk=200, wrap=40),
        contact(local(23, 9, 30), wait=30, status="abandoned"),
        contact(local(23, 9, 40), wait=3, status="abandoned"),  # short abandon
        contact(local(23, 9, 59, 59), wait=5, talk=60),  # wrap-up not recorded yet: not in AHT
        contact(local(23, 10, 0, 0), wait=12),  # still talking
        contact(local(23, 10, 5), status="queued"),
        contact(local(23, 10, 6), status="rejected", queued_at=None),
        contact(local(23, 10, 7), direction="outbound", wait=1),
        contact(local(23, 10, 8), channel="chat", wait=1),
        contact(local(23, 10, 9), queue_code="loans", wait=2),
        contact(local(23, 8, 59, 59), wait=1),  # before the period
        contact(local(23, 13, 0), wait=1),  # at the end of the period: excluded
        PresenceLog(staff_id=x.id, presence="ready", started_at=local(23, 9, 30), ended_at=local(23, 10, 30)),
        PresenceLog(staff_id=x.id, presence="busy", started_at=local(23, 10, 30), ended_at=local(23, 11, 15)),
        PresenceLog(
            staff_id=x.id,
            presence="not_ready",
            reason="break",
            started_at=local(23, 11, 15),
            ended_at=local(23, 11, 45),
        ),  # fmt: skip
        PresenceLog(staff_id=x.id, presence="ready", started_at=local(23, 11, 45), ended_at=None),  # still ready
        PresenceLog(staff_id=x.id, presence="busy", started_at=local(23, 7, 0), ended_at=local(23, 8, 0)),
    )


async def test_hourly_service_level(rt, day_of_calls):
    async with rt.db.transaction() as s:
        rows = await stats.service_level(s, since=local(23, 9), until=local(23, 13), queue=None, interval="hour",
                                         settings=rt.settings)  # fmt: skip
    got = {(r["queue"], r["interval_start"].hour): r for r in rows}
    assert list(got) == [("general", 9), ("general", 10), ("loans", 10)]
    nine = got[("general", 9)]
    assert nine["interval_start"] == local(23, 9)
    assert nine["interval_end"] == local(23, 10)
    assert nine["interval_start"].utcoffset() == dt.timedelta(hours=8)
    assert {k: nine[k] for k in ("offered", "answered", "answered_within_target", "abandoned", "abandoned_short")} == {
        "offered": 5, "answered": 3, "answered_within_target": 2, "abandoned": 2, "abandoned_short": 1}  # fmt: skip
    assert nine["service_level"] == pytest.approx(2 / (3 + 2 - 1))
    assert nine["asa_seconds"] == pytest.approx((10 + 20 + 5) / 3, abs=0.01)
    assert nine["abandon_rate"] == pytest.approx((2 - 1) / (5 - 1))
    assert nine["aht_seconds"] == pytest.approx((100 + 20 + 200 + 40) / 2)
    assert nine["occupancy"] == 0.0  # ready 30 min, never busy
    ten = got[("general", 10)]
    assert (ten["offered"], ten["answered"], ten["service_level"], ten["abandon_rate"], ten["aht_seconds"]) == (
        2, 1, 1.0, 0.0, None)  # fmt: skip
    assert ten["occupancy"] == pytest.approx(0.5)  # ready 30 min + busy 30 min
    assert got[("loans", 10)]["asa_seconds"] == 2.0


async def test_totals_and_occupancy_of_open_presence(rt, day_of_calls):
    async with rt.db.transaction() as s:
        total = await stats.totals(s, since=local(23, 9), until=local(23, 13), queue=None, settings=rt.settings)
        general = await stats.totals(s, since=local(23, 9), until=local(23, 13), queue="general", settings=rt.settings)
    assert [q["queue"] for q in total["queues"]] == ["general", "loans"]
    overall = total["all"]
    assert (overall["offered"], overall["answered"], overall["answered_within_target"]) == (8, 5, 4)
    assert overall["service_level"] == pytest.approx(4 / (5 + 2 - 1), abs=1e-4)
    # available: ready 9:30-10:30, busy 10:30-11:15, ready 11:45-12:10 (now) = 130 min; working 45 min
    assert overall["occupancy"] == pytest.approx(45 / 130, abs=1e-4)
    assert total["target_seconds"] == 15.0
    assert [q["queue"] for q in general["queues"]] == ["general"]
    assert general["all"]["service_level"] == pytest.approx(3 / (4 + 2 - 1))


async def test_fifteen_minute_edges(rt, day_of_calls):
    async with rt.db.transaction() as s:
        rows = await stats.service_level(s, since=local(23, 9), until=local(23, 13), queue="general",
                                         interval="15min", settings=rt.settings)  # fmt: skip
    by_start = {r["interval_start"]: r["offered"] for r in rows}
    assert by_start == {local(23, 9): 1, local(23, 9, 15): 1, local(23, 9, 30): 2, local(23, 9, 45): 1,
                        local(23, 10): 2}  # fmt: skip


async def test_local_day_edges_and_presence_across_midnight(rt):
    clock.freeze(local(25, 9).astimezone(dt.UTC))
    x = await make_staff(rt, roles=["agent"])
    y = await make_staff(rt, roles=["agent"])
    await _store(
        rt,
        contact(local(23, 23, 59, 59), wait=4),  # 15:59:59 UTC: still the 23rd in Shanghai
        contact(local(24, 0, 0, 0), wait=20),  # 16:00:00 UTC on the 23rd: the 24th in Shanghai
        PresenceLog(staff_id=x.id, presence="ready", started_at=local(23, 23), ended_at=local(24, 1)),
        PresenceLog(staff_id=y.id, presence="wrap_up", started_at=local(23, 23, 30), ended_at=local(24, 0, 30)),
    )
    async with rt.db.transaction() as s:
        rows = await stats.service_level(s, since=local(23, 0), until=local(25, 0), queue=None, interval="day",
                                         settings=rt.settings)  # fmt: skip
    assert [(r["interval_start"], r["interval_end"], r["offered"], r["service_level"]) for r in rows] == [
        (local(23, 0), local(24, 0), 1, 1.0), (local(24, 0), local(25, 0), 1, 0.0)]  # fmt: skip
    assert [r["occupancy"] for r in rows] == [pytest.approx(30 / 90, abs=1e-4), pytest.approx(30 / 90, abs=1e-4)]


async def test_empty_period(rt):
    async with rt.db.transaction() as s:
        assert await stats.service_level(s, since=local(23, 0), until=local(24, 0), queue=None, interval="hour",
                                         settings=rt.settings) == []  # fmt: skip
        total = await stats.totals(s, since=local(23, 0), until=local(24, 0), queue=None, settings=rt.settings)
    assert total["all"]["offered"] == 0
    assert total["all"]["service_level"] is None
    assert total["all"]["occupancy"] is None


@pytest.mark.parametrize(("since", "until", "words"), [
    (dt.datetime(2026, 11, 23), local(24, 0), "time zone"),  # noqa: DTZ001
    (local(24, 0), local(23, 0), "after its start"),
    (local(1, 0), local(1, 0) + dt.timedelta(days=94), "at most 93 days"),
    (local(1, 0).replace(year=1), local(1, 0), "between the years"),
])  # fmt: skip
async def test_period_is_checked(rt, since, until, words):
    async with rt.db.transaction() as s:
        with pytest.raises(ValidationFailed, match=words):
            await stats.service_level(s, since=since, until=until, queue=None, interval="hour", settings=rt.settings)
