"""The one clock. Storage is UTC; screens use the configured zone (Asia/Shanghai by default)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def freeze(at: dt.datetime | None) -> None:
    """Tests only: pin the clock (``None`` releases it)."""
    global _frozen
    _frozen = at


def advance(delta: dt.timedelta) -> None:
    global _frozen
    _frozen = (_frozen or dt.datetime.now(dt.UTC)) + delta


def local(value: dt.datetime, tz: str = "Asia/Shanghai") -> dt.datetime:
    return value.astimezone(ZoneInfo(tz))
