"""Complaint statistics: the monthly report (``kefu.complaints.stats.report``) over 50,000 generated
complaints, beside two naive peers measured in the same run on the same database:

- loading every complaint as an ORM object (every encrypted field decrypted) and counting in Python —
  what a report written on top of the repository would do;
- loading the needed columns of every complaint (no decryption) and counting in Python.

Both peers compute the same totals and category counts as the report, and the figures are checked
against each other (a mismatch is an error, not a timing). The complaints are generated (no real
people): received over the twelve months before the report month, in varied states, categories,
business lines, channels and root causes. SQLite always; PostgreSQL too when KEFU_BENCH_DATABASE_URL
is set. Run alone: ``python -m bench.complaints``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import time
from collections import Counter
from typing import Any

from sqlalchemy import insert, select

from bench.foundation import Result, on_each_database
from kefu.complaints import stats, taxonomy
from kefu.complaints.models import OPEN, Complaint
from kefu.core import clock, runtime
from kefu.core.config import Settings

N = 50_000
BATCH = 5_000
REPEAT = 5
TARGET_S = 1.0  # a monthly report over 50,000 cases should come back within a second
MONTH = stats.period_for("month", dt.date(2026, 11, 1))
NOW = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
LEAVES = sorted(taxonomy.leaf_codes(None))
LINES = sorted(taxonomy.BUSINESS_LINES)
CAUSES = sorted(taxonomy.ROOT_CAUSES)
PARTIES = sorted(taxonomy.RESPONSIBLE_PARTIES)
CHANNELS = ("phone", "phone", "phone", "form", "email", "letter", "chat", "branch", "regulator")


def _rows(rng: random.Random, start: int, n: int) -> list[dict[str, Any]]:
    span = (MONTH.end - MONTH.start).days + 366
    first = stats.day_start_utc(MONTH.start - dt.timedelta(days=365), "Asia/Shanghai")
    out = []
    for i in range(start, start + n):
        received = first + dt.timedelta(seconds=rng.randrange(span * 86_400))
        age = (NOW - received).days
        row: dict[str, Any] = {
            "number": f"TS{received:%Y%m%d}-{i:07d}", "channel": rng.choice(CHANNELS), "received_at": received,
            "complainant_name": f"测试客户{i}", "complainant_phone": f"139{i:08d}", "matter": "测试事项：年费争议。",
            "business_line": rng.choice(LINES), "category": rng.choice(LEAVES), "severity": "normal",
            "major": rng.random() < 0.03, "escalation_risk": rng.random() < 0.05, "status": "received",
            "locale": "zh-Hans", "escalation_reasons": "[]", "clock_unit": "calendar", "clock_state": "not_started",
            "term_days": 15, "extension_level": 0, "paused_days": 0, "warned_level": 0, "reopen_count": 0,
            "created_at": received, "updated_at": received, "accepted_at": None, "decided_at": None,
            "closed_at": None, "due_at": None, "breached_at": None, "root_cause": None, "responsible_party": None,
        }  # fmt: skip
        if age > 2 and rng.random() < 0.95:
            accepted = received + dt.timedelta(hours=rng.uniform(1, 48))
            row.update(status="investigating", accepted_at=accepted, clock_state="running",
                       due_at=accepted + dt.timedelta(days=16))  # fmt: skip
            if age > 10 and rng.random() < 0.9:
                decided = accepted + dt.timedelta(days=rng.uniform(1, 20))
                row.update(status="closed" if age > 20 else "decided", decided_at=decided, clock_state="stopped",
                           root_cause=rng.choice(CAUSES), responsible_party=rng.choice(PARTIES),
                           breached_at=row["due_at"] if decided > row["due_at"] else None)  # fmt: skip
                if age > 20:
                    row["closed_at"] = decided + dt.timedelta(days=rng.uniform(1, 5))
        elif rng.random() < 0.3:
            row["status"] = "not_accepted"
        out.append(row)
    return out


async def _generate(rt: runtime.Runtime) -> None:
    rng = random.Random(6)  # generated data, the same every run
    for start in range(0, N, BATCH):
        async with rt.db.transaction() as s:
            await s.execute(insert(Complaint), _rows(rng, start, BATCH))


def _naive_counts(rows: list[Any], tz: str) -> dict[str, Any]:
    """The figures the peers compute from rows in Python (the same rules as stats)."""
    lo, hi = MONTH.bounds(tz)
    received = [r for r in rows if lo <= r.received_at < hi]
    accepted = [r for r in rows if r.accepted_at and lo <= r.accepted_at < hi and r.status != "merged"]
    completed = [r for r in accepted if (r.decided_at and r.decided_at < hi) or (r.closed_at and r.closed_at < hi)]
    decided = [r for r in rows if r.decided_at and lo <= r.decided_at < hi]
    on_time = [r for r in decided if r.due_at and r.decided_at < r.due_at]
    days = [(stats.local_day(r.decided_at, tz) - stats.local_day(r.accepted_at, tz)).days for r in decided]
    return {
        "received": len(received), "accepted": len(accepted), "completed": len(completed),
        "decided": len(decided), "decided_on_time": len(on_time),
        "avg_days_to_decision": stats.average(sum(days), len(days)),
        "closed": sum(1 for r in rows if r.closed_at and lo <= r.closed_at < hi),
        "open_now": sum(1 for r in rows if r.status in {s.value for s in OPEN} and r.received_at < hi),
        "category": dict(Counter(r.category for r in received)),
    }  # fmt: skip


async def _peer_orm(rt: runtime.Runtime) -> dict[str, Any]:
    async with rt.db.transaction() as s:
        rows = list((await s.execute(select(Complaint))).scalars())
    return _naive_counts(rows, rt.settings.timezone)


async def _peer_columns(rt: runtime.Runtime) -> dict[str, Any]:
    cols = (Complaint.received_at, Complaint.accepted_at, Complaint.decided_at, Complaint.closed_at,
            Complaint.due_at, Complaint.status, Complaint.category)  # fmt: skip
    async with rt.db.transaction() as s:
        rows = list(await s.execute(select(*cols)))
    return _naive_counts(rows, rt.settings.timezone)


async def _ours(rt: runtime.Runtime) -> dict[str, Any]:
    async with rt.db.transaction() as s:
        report = await stats.report(s, period=MONTH, settings=rt.settings, locale="zh-Hans")
    figures = {k: report.totals[k] for k in ("received", "accepted", "completed", "decided", "decided_on_time",
                                              "avg_days_to_decision", "closed", "open_now")}  # fmt: skip
    figures["category"] = {r["key"]: r["received"] for r in report.breakdowns["category"] if r["received"]}
    return figures


async def _timed(fn: Any, rt: runtime.Runtime) -> tuple[float, dict[str, Any]]:
    await fn(rt)  # warm the caches and the connection pool
    times, result = [], {}
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = await fn(rt)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


async def _bench(label: str, settings: Settings) -> list[Result]:
    rt = runtime.build(settings)
    clock.freeze(NOW)
    try:
        t0 = time.perf_counter()
        await _generate(rt)
        print(f"  ({label}: {N:,} complaints generated in {time.perf_counter() - t0:.1f} s)")
        ours, mine = await _timed(_ours, rt)
        orm, by_orm = await _timed(_peer_orm, rt)
        narrow, by_cols = await _timed(_peer_columns, rt)
        if not mine == by_orm == by_cols:
            raise RuntimeError(f"the report and its peers disagree: {mine} / {by_orm} / {by_cols}")
        name = f"monthly report, {N // 1000}k cases ({label})"
        return [
            Result(name, _ms(ours), "all rows as ORM + Python count", _ms(orm), f"< {TARGET_S:g} s", ours < TARGET_S),
            Result(name, _ms(ours), "needed columns + Python count", _ms(narrow), f"< {TARGET_S:g} s", ours < TARGET_S),
        ]  # fmt: skip
    finally:
        clock.freeze(None)
        await rt.close()


async def run_all() -> list[Result]:
    return await on_each_database("complaints", _bench)


if __name__ == "__main__":
    asyncio.run(run_all())
