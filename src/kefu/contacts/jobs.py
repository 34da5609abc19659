"""Timers of the contacts domain: follow-up reminders and escalation (R1.7).

``followup_sweep`` runs every minute (a huey periodic task). Each follow-up is reminded once (when
due within ``followup_remind_minutes``) and escalated once (when overdue and still open); a
conditional UPDATE claims each one, so two workers running the sweep at once never notify twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from kefu.contacts import repository as repo
from kefu.contacts.models import FollowUp, FollowUpStatus
from kefu.core import clock, events

REMINDER_EVENT = "followup.reminder"
OVERDUE_EVENT = "followup.overdue"


async def followup_sweep(rt: Any) -> dict[str, int]:
    """Remind owners of follow-ups due soon and escalate overdue ones to the team lead(s), once each."""
    settings = rt.settings
    reminded = escalated = 0
    async with rt.db.transaction() as s:
        now = clock.now()
        window = dt.timedelta(minutes=settings.followup_remind_minutes)
        due_soon = await repo.follow_ups_to_remind(s, now=now, until=now + window) if window else []
        for f in due_soon:
            claimed = await s.execute(
                update(FollowUp)
                .where(
                    FollowUp.id == f.id, FollowUp.reminded_at.is_(None), FollowUp.status == FollowUpStatus.OPEN.value
                )
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            reminded += 1
            await events.emit(s, REMINDER_EVENT, {
                "follow_up_id": f.id, "owner_id": f.owner_id, "team_id": f.team_id, "due_at": f.due_at.isoformat(),
            })  # fmt: skip
        for f in await repo.follow_ups_overdue(s, now=now):
            claimed = await s.execute(
                update(FollowUp)
                .where(
                    FollowUp.id == f.id, FollowUp.escalated_at.is_(None), FollowUp.status == FollowUpStatus.OPEN.value
                )
                .values(escalated_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            escalated += 1
            leads = await repo.team_leads(s, f.team_id)
            await events.emit(s, OVERDUE_EVENT, {
                "follow_up_id": f.id, "owner_id": f.owner_id, "team_id": f.team_id, "team_lead_ids": leads,
                "due_at": f.due_at.isoformat(), "needs_owner": f.needs_owner,
            })  # fmt: skip
    return {"reminded": reminded, "escalated": escalated}
