"""Complaint statistics (R5.5, R5.7): weekly and monthly reports by category, business line, channel,
root cause and responsible party; completion, on-time and reopen rates; the average days to a decision;
a daily series for the chart; recurring root causes as risk points, compared with the previous period.

Which date puts a case in a period (the cohort rules; docs/complaints.md, "Statistics"):

* received, major, 越级 risk, not accepted, merged — ``received_at`` in the period (every case);
* accepted and completion — ``accepted_at`` in the period, merged duplicates left out (they are handled
  through their primary case); *completed* = decided or closed before the period's end;
* decided, on time, days to decision — ``decided_at`` in the period; on time iff ``decided_at < due_at``;
  days = local day of the decision − local day of acceptance;
* closed — ``closed_at``; reopened — cases with a reopen clock change requested in the period;
  breached — ``breached_at``; open now — received before the period's end and in an open status today;
* root cause and responsible party breakdowns, and risk points, count the cases decided in the period
  (the findings are final by then); the other breakdowns count the cases received.

A period is a range of local days (``settings.timezone``) turned into half-open UTC bounds
``[first day 00:00, day after the last 00:00)``. Counting runs in SQL (GROUP BY over the five stored
dimensions at once, rolled up here); the daily series buckets by local day with a CASE over the
day boundaries computed in Python, so SQLite and PostgreSQL need no date functions of their own.
Only the cases decided in the period are read row by row (a few columns) for the days to decision.
Reports are center-wide: COMPLAINT_REPORT is held by center-wide complaint roles only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.complaints import taxonomy
from kefu.complaints.models import OPEN, ClockChange, ClockChangeKind, Complaint, Status
from kefu.complaints.periods import (  # noqa: F401 - the period API is part of stats' API
    AT_HELP,
    PERIOD_KINDS,
    Period,
    custom_period,
    day_start_utc,
    following,
    local_day,
    parse_at,
    period_for,
    previous,
)
from kefu.core import clock, i18n

DIMENSIONS = ("top_category", "category", "business_line", "channel", "root_cause", "responsible_party")
#: breakdowns whose headline ``count`` is the cases decided in the period (findings are final then)
DECIDED_DIMENSIONS = frozenset({"root_cause", "responsible_party"})
#: (figure, kind) of the totals in report order; kind count | rate | days (i18n complaint.report.figure.*)
FIGURES: tuple[tuple[str, str], ...] = (
    ("received", "count"), ("accepted", "count"), ("completed", "count"), ("completion_rate", "rate"),
    ("decided", "count"), ("decided_on_time", "count"), ("on_time_rate", "rate"),
    ("avg_days_to_decision", "days"), ("closed", "count"), ("reopened", "count"), ("reopen_rate", "rate"),
    ("major", "count"), ("escalation_risk", "count"), ("breached", "count"), ("not_accepted", "count"),
    ("merged", "count"), ("open_now", "count"),
)  # fmt: skip

Combo = tuple[str, str, str, str | None, str | None]  # category, business line, channel, root cause, party


# ---- the report --------------------------------------------------------------------------------


@dataclass
class Report:
    period: Period
    previous_period: Period
    generated_at: dt.datetime
    timezone: str
    locale: str
    totals: dict[str, Any]
    previous_totals: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    daily: list[dict[str, Any]]
    risk_points: list[dict[str, Any]]
    risk_min_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.as_dict(), "previous_period": self.previous_period.as_dict(),
            "generated_at": self.generated_at.isoformat(), "timezone": self.timezone, "locale": self.locale,
            "totals": self.totals, "previous_totals": self.previous_totals, "breakdowns": self.breakdowns,
            "daily": self.daily, "risk_points": self.risk_points, "risk_min_count": self.risk_min_count,
        }  # fmt: skip


@dataclass
class _Acc:
    received: int = 0
    accepted: int = 0
    completed: int = 0
    decided: int = 0
    on_time: int = 0
    days_sum: int = 0
    days_n: int = 0


@dataclass
class _Decided:
    combo: Combo
    decided_at: dt.datetime
    on_time: bool
    days: int | None  # local days from acceptance to decision


@dataclass
class _Cohorts:
    #: combo, n, major, 越级 risk, not accepted, merged
    received: list[tuple[Combo, int, int, int, int, int]] = field(default_factory=list)
    accepted: list[tuple[Combo, int, int]] = field(default_factory=list)  # n, completed
    decided: list[_Decided] = field(default_factory=list)
    closed: int = 0
    reopened: int = 0
    breached: int = 0
    open_now: int = 0


_DIM_COLS = (Complaint.category, Complaint.business_line, Complaint.channel, Complaint.root_cause,
             Complaint.responsible_party)  # fmt: skip


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((cond, 1), else_=0))


def _combo(row: Sequence[Any]) -> Combo:
    return (str(row[0]), str(row[1]), str(row[2]), row[3], row[4])


async def _collect(session: AsyncSession, period: Period, tz: str) -> _Cohorts:
    lo, hi = period.bounds(tz)
    out = _Cohorts()
    received = (
        select(*_DIM_COLS, func.count(), _count_if(Complaint.major.is_(True)),
               _count_if(Complaint.escalation_risk.is_(True)), _count_if(Complaint.status == Status.NOT_ACCEPTED.value),
               _count_if(Complaint.status == Status.MERGED.value))
        .where(Complaint.received_at >= lo, Complaint.received_at < hi)
        .group_by(*_DIM_COLS)
    )  # fmt: skip
    for row in await session.execute(received):
        out.received.append((_combo(row), int(row[5]), int(row[6]), int(row[7]), int(row[8]), int(row[9])))
    completed = or_(Complaint.decided_at < hi, Complaint.closed_at < hi)
    accepted = (
        select(*_DIM_COLS, func.count(), _count_if(completed))
        .where(Complaint.accepted_at >= lo, Complaint.accepted_at < hi, Complaint.status != Status.MERGED.value)
        .group_by(*_DIM_COLS)
    )
    for row in await session.execute(accepted):
        out.accepted.append((_combo(row), int(row[5]), int(row[6])))
    decided = select(*_DIM_COLS, Complaint.accepted_at, Complaint.decided_at, Complaint.due_at).where(
        Complaint.decided_at >= lo, Complaint.decided_at < hi
    )
    for row in await session.execute(decided):
        accepted_at, decided_at, due_at = row[5], row[6], row[7]
        if decided_at is None:  # excluded by the WHERE clause; keeps the type checker informed
            continue
        days = (local_day(decided_at, tz) - local_day(accepted_at, tz)).days if accepted_at is not None else None
        out.decided.append(_Decided(_combo(row), decided_at, due_at is not None and decided_at < due_at, days))

    def count_in(col: Any) -> Any:
        return select(func.count()).select_from(Complaint).where(col >= lo, col < hi).scalar_subquery()

    reopened = (
        select(func.count(func.distinct(ClockChange.complaint_id)))
        .where(ClockChange.kind == ClockChangeKind.REOPEN.value, ClockChange.status != "rejected",
               ClockChange.requested_at >= lo, ClockChange.requested_at < hi)
        .scalar_subquery()
    )  # fmt: skip
    open_now = (
        select(func.count())
        .select_from(Complaint)
        .where(Complaint.status.in_([s.value for s in OPEN]), Complaint.received_at < hi)
        .scalar_subquery()
    )
    row = (await session.execute(select(count_in(Complaint.closed_at), reopened, count_in(Complaint.breached_at),
                                        open_now))).one()  # fmt: skip
    out.closed, out.reopened, out.breached, out.open_now = (int(v or 0) for v in row)
    return out


async def _received_per_day(session: AsyncSession, period: Period, tz: str) -> list[int]:
    """Cases received on each local day of the period (a CASE over the day boundaries, grouped in SQL)."""
    lo, hi = period.bounds(tz)
    edges = [day_start_utc(period.start + dt.timedelta(days=i + 1), tz) for i in range(period.days)]
    bucket = case(*[(Complaint.received_at < e, i) for i, e in enumerate(edges)], else_=len(edges) - 1)
    sub = select(bucket.label("d")).where(Complaint.received_at >= lo, Complaint.received_at < hi).subquery()
    counts = [0] * period.days
    for d, n in await session.execute(select(sub.c.d, func.count()).group_by(sub.c.d)):
        counts[int(d)] += int(n)
    return counts


def _round(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 decimals (half up); None when there is nothing to divide by."""
    return None if whole == 0 else _round(Decimal(part) / Decimal(whole), "0.0001")


def average(total: int, n: int) -> float | None:
    return None if n == 0 else _round(Decimal(total) / Decimal(n), "0.1")


def _totals(c: _Cohorts) -> dict[str, Any]:
    received = sum(r[1] for r in c.received)
    accepted = sum(a[1] for a in c.accepted)
    completed = sum(a[2] for a in c.accepted)
    on_time = sum(1 for d in c.decided if d.on_time)
    days = [d.days for d in c.decided if d.days is not None]
    return {
        "received": received, "accepted": accepted, "completed": completed,
        "completion_rate": rate(completed, accepted), "decided": len(c.decided), "decided_on_time": on_time,
        "on_time_rate": rate(on_time, len(c.decided)), "avg_days_to_decision": average(sum(days), len(days)),
        "closed": c.closed, "reopened": c.reopened, "reopen_rate": rate(c.reopened, c.closed),
        "major": sum(r[2] for r in c.received), "escalation_risk": sum(r[3] for r in c.received),
        "breached": c.breached, "not_accepted": sum(r[4] for r in c.received),
        "merged": sum(r[5] for r in c.received), "open_now": c.open_now,
    }  # fmt: skip


#: where each stored dimension sits in a Combo
_POSITION = {dim: i for i, dim in enumerate(DIMENSIONS[1:])}


def _key(dim: str, combo: Combo) -> str | None:
    if dim == "top_category":
        return taxonomy.top_of(combo[0])
    return combo[_POSITION[dim]]


class Labeller:
    """Labels of codes in one locale: categories from the configured tree, channels from i18n."""

    def __init__(self, settings: Any, locale: str) -> None:
        self.locale = locale
        self.categories = taxonomy.category_labels(settings)

    def __call__(self, dim: str, code: str | None) -> str:
        if code is None:
            return self.text("complaint.report.unset", "—")
        if dim in ("top_category", "category"):
            labels = self.categories.get(code) or {}
            return labels.get(self.locale) or labels.get("zh-Hans") or code
        if dim == "channel":
            return self.text(f"complaint.channel.{code}", code)
        mapping = {"business_line": taxonomy.BUSINESS_LINES, "root_cause": taxonomy.ROOT_CAUSES,
                   "responsible_party": taxonomy.RESPONSIBLE_PARTIES}[dim]  # fmt: skip
        return taxonomy.label(mapping, code, self.locale)

    def text(self, key: str, fallback: str, **params: Any) -> str:
        value = i18n.t(key, self.locale, **params)
        return fallback if value == key else value


def _breakdown(dim: str, c: _Cohorts, label: Labeller) -> list[dict[str, Any]]:
    accs: dict[str | None, _Acc] = defaultdict(_Acc)
    for combo, n, *_ in c.received:
        accs[_key(dim, combo)].received += n
    for combo, n, done in c.accepted:
        acc = accs[_key(dim, combo)]
        acc.accepted += n
        acc.completed += done
    for d in c.decided:
        acc = accs[_key(dim, d.combo)]
        acc.decided += 1
        acc.on_time += d.on_time
        if d.days is not None:
            acc.days_sum += d.days
            acc.days_n += 1
    rows: list[dict[str, Any]] = []
    for key, a in accs.items():
        rows.append({
            "key": key, "label": label(dim, key), "count": a.decided if dim in DECIDED_DIMENSIONS else a.received,
            "received": a.received, "accepted": a.accepted, "completed": a.completed,
            "completion": rate(a.completed, a.accepted), "decided": a.decided, "decided_on_time": a.on_time,
            "on_time": rate(a.on_time, a.decided), "avg_days": average(a.days_sum, a.days_n),
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["count"], -r["received"], r["key"] is None, r["key"] or ""))
    return rows


def _root_causes(decided: Iterable[_Decided]) -> Counter[str]:
    return Counter(d.combo[3] for d in decided if d.combo[3] is not None)


def _risk_points(cur: _Cohorts, prev: _Cohorts, min_count: int, label: Labeller) -> list[dict[str, Any]]:
    """Root causes with at least ``min_count`` cases decided in the period (R5.7), the previous
    period's count and trend, and the business lines they concentrate in (most first)."""
    now, before = _root_causes(cur.decided), _root_causes(prev.decided)
    points: list[dict[str, Any]] = []
    for rc, n in now.items():
        if n < min_count:
            continue
        lines = Counter(d.combo[1] for d in cur.decided if d.combo[3] == rc)
        p = before.get(rc, 0)
        points.append({
            "key": rc, "label": label("root_cause", rc), "count": n, "previous": p, "change": n - p,
            "trend": "new" if p == 0 else "up" if n > p else "down" if n < p else "same",
            "business_lines": [
                {"key": bl, "label": label("business_line", bl), "count": k, "share": rate(k, n)}
                for bl, k in sorted(lines.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        })  # fmt: skip
    points.sort(key=lambda x: (-x["count"], x["key"]))
    return points


async def report(session: AsyncSession, *, period: Period, settings: Any, locale: str) -> Report:
    """The report of one period with the previous period's totals beside it."""
    tz = settings.timezone
    loc = i18n.normalise(locale) or i18n.DEFAULT_LOCALE
    label = Labeller(settings, loc)
    before = previous(period)
    cur, prev = await _collect(session, period, tz), await _collect(session, before, tz)
    received = await _received_per_day(session, period, tz)
    decided = [0] * period.days
    for d in cur.decided:
        decided[(local_day(d.decided_at, tz) - period.start).days] += 1
    daily = [{"day": (period.start + dt.timedelta(days=i)).isoformat(), "received": received[i],
              "decided": decided[i]} for i in range(period.days)]  # fmt: skip
    min_count = int(settings.complaint_risk_min_count)
    return Report(
        period=period, previous_period=before, generated_at=clock.now(), timezone=tz, locale=loc,
        totals=_totals(cur), previous_totals=_totals(prev),
        breakdowns={dim: _breakdown(dim, cur, label) for dim in DIMENSIONS}, daily=daily,
        risk_points=_risk_points(cur, prev, min_count, label), risk_min_count=min_count,
    )  # fmt: skip


def delta(kind: str, current: Any, before: Any) -> float | int | None:
    """Current minus previous: cases for counts, rate points (0.05 = 5 points) for rates, days for days."""
    if current is None or before is None:
        return None
    if kind == "count":
        return int(current) - int(before)
    return _round(Decimal(str(current)) - Decimal(str(before)), "0.0001" if kind == "rate" else "0.1")
