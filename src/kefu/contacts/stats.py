"""Historical service level per queue and interval (R1.2): offered, answered, answered within the
target (``answer_within_rings`` × ``ring_seconds``), abandoned, ASA, abandonment rate, AHT and occupancy.

Contacts are counted by arrival in the interval, in the queue where they ended (after any overflow).
The database groups them by 15-minute UTC slots (one SQL query per call, both dialects); slots roll
up into local 15-minute, hour or day intervals of ``settings.timezone`` (every real zone's offset is
a multiple of 15 minutes, so a slot never straddles two local intervals). Occupancy comes from the
``presence_log`` intervals of all agents, clipped to each interval. Formulas: docs/contacts.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Float, Integer, and_, case, cast, func, literal_column, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts import repository as repo
from kefu.contacts.models import Channel, Contact, ContactEvent, ContactStatus, Direction, FollowUp, FollowUpStatus
from kefu.contacts.service import invalid
from kefu.core import clock
from kefu.core.config import Settings
from kefu.routing.models import PresenceLog

Interval = Literal["15min", "hour", "day"]
INTERVALS: dict[str, dt.timedelta] = {"15min": dt.timedelta(minutes=15), "hour": dt.timedelta(hours=1),
                                      "day": dt.timedelta(days=1)}  # fmt: skip
SLOT_SECONDS = 900
#: A caller who hangs up within this many seconds is a short abandon: left out of service level and
#: abandonment rate (misdials, callers who change their mind at once), reported separately.
SHORT_ABANDON_SECONDS = 5.0
MAX_PERIOD = dt.timedelta(days=93)
WORKING = ("busy", "offered", "wrap_up")
AVAILABLE = ("ready", "offered", "busy", "wrap_up")
_COUNTS = ("offered", "answered", "answered_within_target", "abandoned", "abandoned_short", "wait_sum", "handled",
           "handle_sum")  # fmt: skip


def check_period(since: dt.datetime, until: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The period in UTC, or a 422 naming what is wrong."""
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise invalid(name, "Give the time with a time zone, e.g. 2026-11-23T00:00:00+08:00.")
        if not 2000 <= value.year <= 2100:
            raise invalid(name, "Give a time between the years 2000 and 2100.")
    since, until = since.astimezone(dt.UTC), until.astimezone(dt.UTC)
    if until <= since:
        raise invalid("until", "The end of the period must be after its start.")
    if until - since > MAX_PERIOD:
        raise invalid("until", f"A report covers at most {MAX_PERIOD.days} days; split the period.")
    return since, until


def bucket_start(t: dt.datetime, interval: str, tz: ZoneInfo) -> dt.datetime:
    """The UTC start of the local interval that holds ``t``."""
    local = t.astimezone(tz)
    if interval == "15min":
        local = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    elif interval == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(dt.UTC)


def bucket_end(start: dt.datetime, interval: str, tz: ZoneInfo) -> dt.datetime:
    if interval == "day":
        day = start.astimezone(tz).date() + dt.timedelta(days=1)
        end = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    else:
        end = start + INTERVALS[interval]
    return end if end > start else start + dt.timedelta(minutes=15)


def _slot(dialect: str) -> Any:
    size: Any = literal_column(str(SLOT_SECONDS))
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", Contact.arrived_at) / size), Integer)
    return cast(func.strftime("%s", Contact.arrived_at), Integer) / size


def _aggregates() -> list[Any]:
    answered = Contact.answered_at.is_not(None)
    abandoned = Contact.status == ContactStatus.ABANDONED.value
    handled = and_(Contact.talk_seconds.is_not(None), Contact.wrapup_seconds.is_not(None))
    short = and_(abandoned, func.coalesce(Contact.wait_seconds, 0.0) < SHORT_ABANDON_SECONDS)
    return [
        func.count().label("offered"),
        func.sum(case((answered, 1), else_=0)).label("answered"),
        func.sum(case((and_(answered, Contact.within_target.is_(True)), 1), else_=0)).label("answered_within_target"),
        func.sum(case((abandoned, 1), else_=0)).label("abandoned"),
        func.sum(case((short, 1), else_=0)).label("abandoned_short"),
        func.sum(case((answered, func.coalesce(Contact.wait_seconds, 0.0)), else_=0.0)).label("wait_sum"),
        func.sum(case((handled, 1), else_=0)).label("handled"),
        func.sum(case((handled, Contact.talk_seconds + Contact.wrapup_seconds), else_=0.0)).label("handle_sum"),
    ]


def _filters(since: dt.datetime, until: dt.datetime, queue: str | None) -> list[Any]:
    out = [
        Contact.channel == Channel.PHONE.value,
        Contact.direction == Direction.INBOUND.value,
        Contact.queued_at.is_not(None),
        Contact.status.not_in([ContactStatus.REJECTED.value, ContactStatus.SCHEDULED.value]),
        Contact.arrived_at >= since,
        Contact.arrived_at < until,
    ]
    if queue:
        out.append(Contact.queue_code == queue)
    return out


def _ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den > 0 else None


def figures(counts: dict[str, float], occupancy: float | None) -> dict[str, Any]:
    """The derived figures from summed counts (formulas in docs/contacts.md)."""
    offered, answered = int(counts["offered"]), int(counts["answered"])
    within, abandoned, short = int(counts["answered_within_target"]), int(counts["abandoned"]), int(counts["abandoned_short"])  # fmt: skip
    return {
        "offered": offered,
        "answered": answered,
        "answered_within_target": within,
        "abandoned": abandoned,
        "abandoned_short": short,
        "service_level": _ratio(within, answered + abandoned - short),
        "asa_seconds": _ratio(counts["wait_sum"], answered, 2),
        "abandon_rate": _ratio(abandoned - short, offered - short),
        "aht_seconds": _ratio(counts["handle_sum"], counts["handled"], 2),
        "occupancy": occupancy,
    }


async def _presence(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime, interval: str | None, tz: ZoneInfo
) -> dict[dt.datetime | None, tuple[float, float]]:
    """(working seconds, available seconds) per interval start (None: the whole period)."""
    stmt = select(PresenceLog.presence, PresenceLog.started_at, PresenceLog.ended_at).where(
        PresenceLog.presence.in_(AVAILABLE),
        PresenceLog.started_at < until,
        or_(PresenceLog.ended_at.is_(None), PresenceLog.ended_at > since),
    )
    now = clock.now()
    out: dict[dt.datetime | None, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for presence, started, ended in (await session.execute(stmt)).all():
        t, end = max(started, since), min(ended or now, until)
        working = presence in WORKING
        while t < end:
            key = bucket_start(t, interval, tz) if interval else None
            stop = min(end, bucket_end(key, interval, tz)) if key is not None and interval else end
            seconds = (stop - t).total_seconds()
            out[key][1] += seconds
            if working:
                out[key][0] += seconds
            t = stop
    return {k: (v[0], v[1]) for k, v in out.items()}


def _occupancy(pair: tuple[float, float] | None) -> float | None:
    return _ratio(pair[0], pair[1]) if pair else None


async def service_level(
    session: AsyncSession,
    *,
    since: dt.datetime,
    until: dt.datetime,
    queue: str | None,
    interval: Interval,
    settings: Settings,
) -> list[dict[str, Any]]:
    """One row per queue and local interval that had offered contacts, oldest first, then by queue."""
    if interval not in INTERVALS:
        raise invalid("interval", "Interval is 15min, hour or day.")
    since, until = check_period(since, until)
    tz = ZoneInfo(settings.timezone)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    slot = _slot(dialect).label("slot")
    stmt = (
        select(Contact.queue_code, slot, *_aggregates())
        .where(*_filters(since, until, queue))
        .group_by(Contact.queue_code, slot)
    )
    sums: dict[tuple[str, dt.datetime], dict[str, float]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0.0))
    for row in (await session.execute(stmt)).mappings():
        start = dt.datetime.fromtimestamp(int(row["slot"]) * SLOT_SECONDS, dt.UTC)
        acc = sums[(row["queue_code"], bucket_start(start, interval, tz))]
        for name in _COUNTS:
            acc[name] += float(row[name] or 0)
    presence = await _presence(session, since=since, until=until, interval=interval, tz=tz)
    out = []
    for (code, start), counts in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        out.append({
            "queue": code,
            "interval_start": start.astimezone(tz),
            "interval_end": bucket_end(start, interval, tz).astimezone(tz),
            **figures(counts, _occupancy(presence.get(start))),
        })  # fmt: skip
    return out


async def totals(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime, queue: str | None, settings: Settings
) -> dict[str, Any]:
    """The whole period: one entry per queue and one for all of them (``all``)."""
    since, until = check_period(since, until)
    tz = ZoneInfo(settings.timezone)
    stmt = select(Contact.queue_code, *_aggregates()).where(*_filters(since, until, queue)).group_by(Contact.queue_code)
    occupancy = _occupancy((await _presence(session, since=since, until=until, interval=None, tz=tz)).get(None))
    queues, overall = [], dict.fromkeys(_COUNTS, 0.0)
    for row in (await session.execute(stmt.order_by(Contact.queue_code))).mappings():
        counts = {name: float(row[name] or 0) for name in _COUNTS}
        for name in _COUNTS:
            overall[name] += counts[name]
        queues.append({"queue": row["queue_code"], **figures(counts, occupancy)})
    return {
        "since": since.astimezone(tz), "until": until.astimezone(tz), "target_seconds": settings.answer_target_seconds,
        "short_abandon_seconds": SHORT_ABANDON_SECONDS, "queues": queues, "all": figures(overall, occupancy),
    }  # fmt: skip


# ---- the wallboard's figures of the day (kefu.routing.monitor) ----------------------------------------

#: The wallboard's "this interval": the current local half hour (no setting; docs/contacts.md).
LIVE_INTERVAL = dt.timedelta(minutes=30)
_PERIOD_COUNTS = ("offered", "answered", "abandoned")


def half_hour_start(t: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC start of the local half hour that holds ``t``."""
    local = t.astimezone(tz)
    return local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0).astimezone(dt.UTC)


async def day_by_half_hour(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime, settings: Settings
) -> dict[str, Any]:
    """Today's inbound calls per local half hour (all queues; ``series``, oldest first, every half hour from
    ``since`` to the one holding ``until``), and the current half hour's figures per queue and overall
    (``interval``). One grouped query on the indexed ``arrived_at`` range."""
    since, until = check_period(since, until)
    tz = ZoneInfo(settings.timezone)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    slot = _slot(dialect).label("slot")
    stmt = select(Contact.queue_code, slot, *_aggregates()).where(*_filters(since, until, None))
    sums: dict[dt.datetime, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0.0))
    current_start = half_hour_start(until, tz)
    current: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0.0))
    for row in (await session.execute(stmt.group_by(Contact.queue_code, slot))).mappings():
        start = half_hour_start(dt.datetime.fromtimestamp(int(row["slot"]) * SLOT_SECONDS, dt.UTC), tz)
        for name in _COUNTS:
            value = float(row[name] or 0)
            sums[start][name] += value
            if start == current_start:
                current[row["queue_code"]][name] += value
                current[""][name] += value
    series = []
    t = half_hour_start(since, tz)
    while t <= current_start:
        f = figures(sums[t], None) if t in sums else figures(dict.fromkeys(_COUNTS, 0.0), None)
        series.append({"start": t.astimezone(tz), "end": (t + LIVE_INTERVAL).astimezone(tz),
                       **{k: f[k] for k in (*_PERIOD_COUNTS, "service_level")}})  # fmt: skip
        t += LIVE_INTERVAL
    empty = figures(dict.fromkeys(_COUNTS, 0.0), None)
    return {
        "minutes": int(LIVE_INTERVAL.total_seconds() // 60),
        "start": current_start.astimezone(tz),
        "end": (current_start + LIVE_INTERVAL).astimezone(tz),
        "queues": [{"queue": code, **figures(c, None)} for code, c in sorted(current.items()) if code],
        "all": figures(current[""], None) if "" in current else empty,
        "series": series,
    }


def _first_response_seconds(dialect: str) -> Any:
    """The ``seconds`` of a ``first_response`` contact event (JSON text) as a number, in both dialects."""
    if dialect == "postgresql":
        return cast(cast(ContactEvent.data, JSONB)["seconds"].astext, Float)
    return type_coerce(ContactEvent.data, JSON)["seconds"].as_float()


async def channels_today(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime, settings: Settings
) -> list[dict[str, Any]]:
    """Per channel (calls, chats, e-mails): waiting now (queued or offered, whenever they arrived), inbound
    contacts that arrived today and were handled (answered by an agent) and, for chat and e-mail, how many
    first replies came within the channel's target (R1.3: ``chat_first_response_seconds``,
    ``email_first_response_hours``), from the ``first_response`` contact events."""
    since, until = check_period(since, until)
    channels = (Channel.PHONE.value, Channel.CHAT.value, Channel.EMAIL.value)
    waiting_q = (
        select(Contact.channel, func.count())
        .where(Contact.status.in_([ContactStatus.QUEUED.value, ContactStatus.OFFERED.value]),
               Contact.channel.in_(channels))
        .group_by(Contact.channel)
    )  # fmt: skip
    waiting = {ch: int(n) for ch, n in (await session.execute(waiting_q)).all()}
    today = [Contact.arrived_at >= since, Contact.arrived_at < until, Contact.direction == Direction.INBOUND.value,
             Contact.channel.in_(channels)]  # fmt: skip
    handled_q = (
        select(Contact.channel, func.count(), func.sum(case((Contact.answered_at.is_not(None), 1), else_=0)))
        .where(*today, Contact.status != ContactStatus.REJECTED.value)
        .group_by(Contact.channel)
    )
    counts = {ch: (int(n), int(h or 0)) for ch, n, h in (await session.execute(handled_q)).all()}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    seconds = _first_response_seconds(dialect)
    targets = {Channel.CHAT.value: settings.chat_first_response_seconds,
               Channel.EMAIL.value: settings.email_first_response_hours * 3600}  # fmt: skip
    first: dict[str, dict[str, Any]] = {}
    for ch, target in targets.items():
        fr_q = (
            select(func.count(), func.sum(case((seconds <= target, 1), else_=0)))
            .select_from(ContactEvent)
            .join(Contact, Contact.id == ContactEvent.contact_id)
            .where(*today, Contact.channel == ch, ContactEvent.kind == "first_response")
        )
        measured, within = (int(n or 0) for n in (await session.execute(fr_q)).one())
        first[ch] = {"target_seconds": target, "measured": measured, "within": within,
                     "rate": _ratio(within, measured)}  # fmt: skip
    out = []
    for ch in channels:
        offered, handled = counts.get(ch, (0, 0))
        row: dict[str, Any] = {"channel": ch, "waiting": waiting.get(ch, 0), "offered": offered, "handled": handled}
        if ch in first:
            row["first_response"] = first[ch]
        out.append(row)
    return out


async def follow_ups_due(
    session: AsyncSession, *, principal: Any, now: dt.datetime, day_end: dt.datetime
) -> dict[str, Any]:
    """Open follow-ups due later today and overdue, in the principal's scope: center-wide roles the whole
    center, a team lead their team, anyone else their own (``contacts.repository`` decides the scope)."""
    stmt = select(
        func.sum(case((FollowUp.due_at > now, 1), else_=0)), func.sum(case((FollowUp.due_at <= now, 1), else_=0))
    ).where(FollowUp.status == FollowUpStatus.OPEN.value, FollowUp.due_at < day_end)
    if repo.center_wide(principal):
        scope = "all"
    elif (team := repo.leads_team(principal)) is not None:
        scope, stmt = "team", stmt.where(FollowUp.team_id == team)
    else:
        scope, stmt = "mine", stmt.where(FollowUp.owner_id == principal.staff_id)
    due, overdue = (await session.execute(stmt)).one()
    return {"scope": scope, "due_today": int(due or 0), "overdue": int(overdue or 0)}
