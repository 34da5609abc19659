"""HTTP endpoints of the complaint statistics (R5.5, R5.7): the weekly / monthly report as JSON and its
CSV and XLSX exports. All need COMPLAINT_REPORT.

``GET /api/v1/complaints/reports?period=week|month&at=2026-11-23`` (``at`` may also be ``2026-11`` or
``2026-W48``; default today), or ``period=custom&start=…&end=…`` (at most 366 days);
``locale`` chooses the language of the labels (default: the signed-in person's). Reports hold
counts only, no personal data, so they are not audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from kefu.complaints import export, stats
from kefu.complaints.common import invalid
from kefu.core import clock, i18n
from kefu.core.auth import DbSession, Principal, require
from kefu.core.permissions import Permission

router = APIRouter(prefix="/api/v1/complaints/reports", tags=["complaints"])

Reporter = Annotated[Principal, require(Permission.COMPLAINT_REPORT)]
PeriodKind = Annotated[
    Literal["week", "month", "custom"], Query(description="week (ISO, Monday–Sunday), month or custom")
]
At = Annotated[str | None, Query(max_length=10, description="a day 2026-11-23, a month 2026-11 or a week 2026-W48")]
Day = Annotated[dt.date | None, Query(description="custom period: first / last local day")]
Locale = Annotated[str | None, Query(max_length=10, description="zh-Hans, zh-Hant or en")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def resolve_period(kind: str, at: str | None, start: dt.date | None, end: dt.date | None, *, tz: str) -> stats.Period:
    """The period the query asks for; 422 naming the field when it cannot be read."""
    if kind == "custom":
        if start is None or end is None:
            raise invalid("start" if start is None else "end", "A custom period needs both a start and an end day.")
        try:
            return stats.custom_period(start, end)
        except ValueError as exc:
            raise invalid("end", str(exc)) from None
    try:
        day = stats.parse_at(at, today=stats.local_day(clock.now(), tz))
        return stats.period_for(kind, day)
    except ValueError as exc:
        raise invalid("at", str(exc)) from None


async def build(
    db: Any, principal: Principal, settings: Any, kind: str, at: str | None, start: dt.date | None,
    end: dt.date | None, locale: str | None,
) -> stats.Report:  # fmt: skip
    period = resolve_period(kind, at, start, end, tz=settings.timezone)
    loc = i18n.normalise(locale) or i18n.normalise(principal.locale) or settings.default_locale
    return await stats.report(db, period=period, settings=settings, locale=loc)


def _settings() -> Any:
    from kefu.core import runtime

    return runtime.get().settings


def filename(report: stats.Report, ext: str) -> str:
    return f"complaints-{report.period.kind}-{report.period.label.replace('..', '_')}.{ext}"


def attachment(body: bytes, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})  # fmt: skip


@router.get("", response_model=dict[str, Any])
async def get_report(
    db: DbSession, principal: Reporter, period: PeriodKind = "month", at: At = None, start: Day = None,
    end: Day = None, locale: Locale = None,
) -> dict[str, Any]:  # fmt: skip
    """Totals (with the previous period's), breakdowns, the daily series and the risk points of one period."""
    report = await build(db, principal, _settings(), period, at, start, end, locale)
    return report.to_dict()


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_csv(
    db: DbSession, principal: Reporter, period: PeriodKind = "month", at: At = None, start: Day = None,
    end: Day = None, locale: Locale = None,
) -> Response:  # fmt: skip
    """The report as CSV (UTF-8 with BOM, sections separated by an empty row)."""
    report = await build(db, principal, _settings(), period, at, start, end, locale)
    return attachment(export.to_csv(report), "text/csv; charset=utf-8", filename(report, "csv"))


@router.get("/export.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def export_xlsx(
    db: DbSession, principal: Reporter, period: PeriodKind = "month", at: At = None, start: Day = None,
    end: Day = None, locale: Locale = None,
) -> Response:  # fmt: skip
    """The report as an Excel workbook with native charts."""
    report = await build(db, principal, _settings(), period, at, start, end, locale)
    return attachment(export.to_xlsx(report), XLSX, filename(report, "xlsx"))
