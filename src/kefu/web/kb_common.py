"""What the knowledge-base pages share: safe Markdown, search snippets, local days and times, the category
tree flattened for selects, and turning service results (view dicts or rows) into template dicts."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock
from kefu.knowledge.markdown import render as render_markdown
from kefu.staff import repository as staff_repo
from kefu.web import desk
from kefu.web.pages import settings_of

_MARK = re.compile(r"(<mark>|</mark>)")


def markdown(text: str | None) -> Markup:
    """Markdown rendered safely (``knowledge.markdown``: raw HTML shown as text, http(s) links only)."""
    return Markup(render_markdown(text or ""))  # noqa: S704 - the renderer escapes everything (html disabled)


def snippet(value: str | None) -> Markup:
    """The search API's ``snippet_html`` (escaped text with <mark>), re-escaped except for <mark>."""
    out: list[str] = []
    for part in _MARK.split(value or ""):
        out.append(part if part in ("<mark>", "</mark>") else str(escape(html.unescape(part))))
    text = "".join(out)
    if text.count("<mark>") != text.count("</mark>"):
        text = text.replace("<mark>", "").replace("</mark>", "")
    return Markup(text)  # noqa: S704 - every part but <mark> is escaped above


def as_dict(row: Any) -> dict[str, Any]:
    """A service result as a dict: a view dict stays as it is, a model row gives its columns."""
    if row is None:
        return {}
    if isinstance(row, dict):
        return dict(row)
    table = getattr(row, "__table__", None)
    if table is not None:
        return {c.key: getattr(row, c.key) for c in table.columns}
    mapping = getattr(row, "_mapping", None)
    if mapping is not None:
        return dict(mapping)
    return dict(vars(row))


def as_list(value: Any) -> list[Any]:
    """A JSON list column (text) or a list, as a list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except ValueError:
            return [value]
        return list(loaded) if isinstance(loaded, list) else [loaded]
    return list(value)


def lines(value: str | None, *, limit: int = 50, size: int = 300) -> list[str]:
    """One item per line (or separated by commas / Chinese commas / semicolons), trimmed, no duplicates."""
    parts = re.split(r"[\n\r;；,，、]+", value or "")
    out: list[str] = []
    for part in parts:
        item = part.strip()[:size]
        if item and item not in out:
            out.append(item)
    return out[:limit]


def per_line(value: str | None, *, limit: int = 50, size: int = 300) -> list[str]:
    """One item per line only (paraphrases may contain commas)."""
    out: list[str] = []
    for part in (value or "").splitlines():
        item = part.strip()[:size]
        if item and item not in out:
            out.append(item)
    return out[:limit]


def rt_of(request: Request) -> Any:
    return request.app.state.runtime


def tz_of(request: Request) -> ZoneInfo:
    return ZoneInfo(getattr(settings_of(request), "timezone", None) or "Asia/Shanghai")


def today(request: Request) -> dt.date:
    """Today's local calendar day (Asia/Shanghai by default)."""
    return clock.now().astimezone(tz_of(request)).date()


def clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def as_id(value: str | None) -> int | None:
    return desk.as_id(value)


def parse_day(value: str | None, field: str) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise desk.field_error(field, "Write dates as YYYY-MM-DD.") from exc
    if not LOCAL_YEARS[0] <= day.year <= LOCAL_YEARS[1]:  # date arithmetic near year 1 or 9999 overflows
        raise desk.field_error(field, f"Choose a date between {LOCAL_YEARS[0]} and {LOCAL_YEARS[1]}.")
    return day


#: the years a datetime-local input may name (beyond them the conversion to UTC, or the services' date
#: arithmetic, overflows: 0001-01-01T00:00 in Shanghai is before year 1 in UTC)
LOCAL_YEARS = (1900, 2999)


def parse_local(request: Request, value: str | None, field: str) -> dt.datetime | None:
    """A datetime-local input (YYYY-MM-DDTHH:MM, local time) as an aware UTC datetime; a text that is not a
    time, or a time outside ``LOCAL_YEARS``, is a field error (never an OverflowError)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError as exc:
        raise desk.field_error(field, "Write the time as YYYY-MM-DD HH:MM.") from exc
    low, high = LOCAL_YEARS
    if not low <= moment.year <= high:
        raise desk.field_error(field, f"Write the time as YYYY-MM-DD HH:MM, in a year from {low} to {high}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz_of(request))
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:  # an explicit offset at the edge of the range
        raise desk.field_error(field, "Write the time as YYYY-MM-DD HH:MM.") from exc


def local_input(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """An aware datetime as a datetime-local input value in local time."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def flat_categories(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The category tree as a flat list in tree order, each node with its depth (for selects and lists)."""
    out: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        out.append({**node, "depth": depth, "has_children": bool(node.get("children"))})
        for child in node.get("children") or []:
            walk(child, depth + 1)

    for root in tree:
        walk(root, 0)
    return out


async def team_options(db: AsyncSession) -> list[dict[str, Any]]:
    """Teams for an audience choice: [{id, name}]."""
    return [{"id": t.id, "name": t.name} for t in await staff_repo.list_teams(db)]


async def names_of(db: AsyncSession, ids: set[Any]) -> dict[int, str]:
    """{staff id: 'name staff_no'} for the ids given (None and 0 skipped)."""
    wanted = {int(i) for i in ids if i}
    found = await staff_repo.names_of(db, wanted) if wanted else {}
    return {i: f"{name} {no}" for i, (no, name) in found.items()}
