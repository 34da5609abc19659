"""Weekly statistics to management, monthly to departments (R5.5): the report of the period just ended,
e-mailed through the outbox to the addresses in ``KEFU_COMPLAINT_DIGEST_WEEKLY_TO`` (every Monday) and
``KEFU_COMPLAINT_DIGEST_MONTHLY_TO`` (on the 1st), in ``KEFU_COMPLAINT_DIGEST_LOCALE``.

The mail holds counts and rates only (no personal data): the key figures beside the previous period, the
risk points, and where to find the full report (page and CSV/XLSX exports). ``daily_job`` runs every
hour from the worker and sends what is due that local day; each period is sent once: the check and the
write happen in one transaction under a lock (SQLite's single writer; a transaction-level advisory lock
on PostgreSQL), and an outbox row of kind ``complaint_digest`` with the period in its subject marks it sent.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import email as email_channel
from kefu.channels.models import OutboundMessage
from kefu.complaints import stats
from kefu.complaints.export import fmt
from kefu.complaints.periods import Period, period_for
from kefu.core import audit, clock, i18n

KIND = "complaint_digest"
#: the figures a digest quotes, in order
DIGEST_FIGURES = ("received", "accepted", "completion_rate", "decided", "on_time_rate", "avg_days_to_decision",
                  "closed", "reopen_rate", "breached", "major", "escalation_risk", "open_now")  # fmt: skip


def due_periods(today: dt.date) -> list[Period]:
    """The periods whose digest is due on local day ``today``: last week on Mondays, last month on the 1st."""
    out = []
    if today.isoweekday() == 1:
        out.append(period_for("week", today - dt.timedelta(days=1)))
    if today.day == 1:
        out.append(period_for("month", today - dt.timedelta(days=1)))
    return out


def recipients(settings: Any, kind: str) -> list[str]:
    return list(settings.complaint_digest_weekly_to if kind == "week" else settings.complaint_digest_monthly_to)


def subject(report: stats.Report) -> str:
    return i18n.t(f"complaint.digest.subject.{report.period.kind}", report.locale, label=report.period.label)


def body(report: stats.Report, *, reports_path: str) -> str:
    loc = report.locale
    kinds = dict(stats.FIGURES)
    lines = [i18n.t(f"complaint.digest.intro.{report.period.kind}", loc, label=report.period.label,
                    start=report.period.start.isoformat(), end=report.period.end.isoformat()), ""]  # fmt: skip
    for name in DIGEST_FIGURES:
        kind = kinds[name]
        now, before = fmt(kind, report.totals.get(name)), fmt(kind, report.previous_totals.get(name))
        label = i18n.t(f"complaint.report.figure.{name}", loc)
        lines.append(i18n.t("complaint.digest.line", loc, figure=label, value=now or "—", previous=before or "—"))
    lines.append("")
    if report.risk_points:
        lines.append(i18n.t("complaint.digest.risks", loc, n=report.risk_min_count))
        for p in report.risk_points:
            lines.append(i18n.t("complaint.digest.risk", loc, label=p["label"], count=p["count"],
                                previous=p.get("previous", 0)))  # fmt: skip
    else:
        lines.append(i18n.t("complaint.digest.no_risks", loc, n=report.risk_min_count))
    lines += ["", i18n.t("complaint.digest.where", loc, path=reports_path)]
    return "\n".join(lines)


async def _lock(session: AsyncSession, key: str) -> None:
    """Serialise digest sending across workers (SQLite already has one writer at a time)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode())})


async def _already_sent(session: AsyncSession, subject_line: str) -> bool:
    stmt = select(OutboundMessage.id).where(OutboundMessage.kind == KIND, OutboundMessage.subject == subject_line)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none() is not None


async def send(
    session: AsyncSession, *, period: Period, settings: Any, to: list[str] | None = None, force: bool = False
) -> int:
    """E-mail the report of ``period`` to ``to`` (default: the configured list of its kind). Returns how many
    messages were queued: 0 when nobody is configured, or when it was sent before (unless ``force``)."""
    addresses = [a for a in (to if to is not None else recipients(settings, period.kind)) if a]
    if not addresses:
        return 0
    locale = i18n.normalise(settings.complaint_digest_locale) or i18n.DEFAULT_LOCALE
    report = await stats.report(session, period=period, settings=settings, locale=locale)
    title = subject(report)
    await _lock(session, f"{KIND}:{title}")
    if not force and await _already_sent(session, title):
        return 0
    path = f"/complaints/reports?period={period.kind}&at={period.start.isoformat()}"
    text_body = body(report, reports_path=path)
    port = email_channel.get_port()
    for address in addresses:
        await port.send(session, recipient=address, subject=title, body=text_body, kind=KIND)
    await audit.record(session, action="complaint.digest", object_type="complaint_report", object_id=period.label,
                       after={"period": period.as_dict(), "recipients": len(addresses)})  # fmt: skip
    return len(addresses)


async def daily_job(rt: Any) -> dict[str, int]:
    """The worker's daily run: send the digests due today (local day), once each."""
    settings = rt.settings
    today = clock.local(clock.now(), settings.timezone).date()
    sent: dict[str, int] = {}
    for period in due_periods(today):
        async with rt.db.transaction() as s:
            sent[period.kind] = await send(s, period=period, settings=settings)
    return sent
