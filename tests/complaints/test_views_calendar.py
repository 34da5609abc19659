"""The case page says when a due date falls in a year whose public holidays nobody has entered yet (the
State Council announces them each November): such a date counts weekends only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.complaints import views
from kefu.core import clock
from tests.complaints.case_helpers import accepted
from tests.complaints.conftest import People
from tests.factories import principal_of


async def _unknown_year(rt: Any, people: People, complaint_id: int) -> Any:
    async with rt.db.transaction() as s:
        detail = await views.case_detail(s, actor=principal_of(people.handler), complaint_id=complaint_id,
                                         now=clock.now())  # fmt: skip
    return detail["calendar_unknown_year"]


async def test_a_due_date_in_a_year_without_holidays_is_flagged(rt: Any, people: People, cal: Any) -> None:
    try:
        clock.freeze(dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC))
        known = await accepted(rt, people.agent, people.handler)  # due 2026-12-08: 2026 is in the calendar
        clock.freeze(dt.datetime(2026, 12, 21, 1, 0, tzinfo=dt.UTC))
        unknown = await accepted(rt, people.agent, people.handler)  # due 2027-01-05: 2027 is not
        assert await _unknown_year(rt, people, known.id) is None
        assert await _unknown_year(rt, people, unknown.id) == 2027
    finally:
        clock.freeze(None)
