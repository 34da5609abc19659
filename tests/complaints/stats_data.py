"""The fixed data set of the statistics tests (test_stats.py, test_export.py, the reports page test):
complaint rows inserted directly with known local times (Asia/Shanghai), several on the edges of the
periods, and the exact figures they must give. Generated data only.

Cases and their dimensions (category, business line, channel, root cause, responsible party):

====  ===========================  ===============================================  ===============
case  received (local)             accepted / decided / due / closed (local)        status
====  ===========================  ===============================================  ===============
c1    11-02 10:00                  11-02 / 11-10 / 11-17 / 11-12                    closed
c2    11-03 10:00                  11-03 / 11-20 / 11-18 (late; breached 11-19)     decided
c3    11-05 10:00                  11-06 / 11-09 / 11-21                            confirmed
c4    11-10 10:00 (major, 越级)    11-11 / — / 11-26                                investigating
c5    11-13 07:00 (11-12 23:00Z)   —                                                received
c6    11-13 20:00                  —                                                not_accepted
c7    11-14 10:00                  11-14 (then merged into c4)                      merged
c8    11-01 00:00:00 (edge)        11-01 01:00 / 12-01 00:00:00 (edge) / 11-16      decided
c9    10-31 23:59:59 (edge)        11-01 00:00:00 / 11-30 23:59:59 / 11-15; b 11-16 decided
c10   11-30 23:59                  —                                                received
c11   12-01 00:00:00 (edge)        —                                                received
c12   10-20 10:00                  10-21 / 11-04 / 11-05 / 11-06; reopened 11-08    investigating
c13   10-05 10:00                  10-06 / 10-15 / 10-21 / 10-20; reopen 10-31 23:59:59  closed
c14   10-08 10:00                  10-08 / 10-25 / 10-23 (late; breached 10-24) / 10-28  closed
c15   10-31 22:00                  10-31 23:00 / 11-02 09:00 / 11-16 / 11-03        closed
c16   11-22 23:30 Sun (major)      —                                                received
c17   11-23 00:00 Mon (major, 越级) —                                               received
c18   10-12 10:00                  10-12 / 10-27 16:00 / 10-27                      confirmed
====  ===========================  ===============================================  ===============
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from kefu.complaints.models import ClockChange
from kefu.core import runtime
from tests.complaints.conftest import complaint_row

SH = ZoneInfo("Asia/Shanghai")
#: the clock while the tests run: after every event of the data set
NOW = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)


def L(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0, year: int = 2026) -> dt.datetime:  # noqa: N802
    """A local (Shanghai) time as UTC."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH).astimezone(dt.UTC)


def due(month: int, day: int) -> dt.datetime:
    """due_at of a term whose last day is ``month-day``: the first instant of the next local day."""
    return (dt.datetime(2026, month, day, tzinfo=SH) + dt.timedelta(days=1)).astimezone(dt.UTC)


FEE = {"category": "quality.fee", "root_cause": "fee_policy", "responsible_party": "product_dept"}
ATT = {"category": "service.attitude", "business_line": "cards", "root_cause": "staff_attitude",
       "responsible_party": "service_center"}  # fmt: skip

CASES: dict[str, dict[str, Any]] = {
    "c1": {**ATT, "received_at": L(11, 2), "accepted_at": L(11, 2, 11), "decided_at": L(11, 10, 15),
           "due_at": due(11, 17), "closed_at": L(11, 12), "status": "closed"},
    "c2": {**FEE, "business_line": "credit_cards", "channel": "form", "received_at": L(11, 3),
           "accepted_at": L(11, 3, 11), "decided_at": L(11, 20), "due_at": due(11, 18),
           "breached_at": L(11, 19, 9), "status": "decided"},
    "c3": {**FEE, "business_line": "credit_cards", "received_at": L(11, 5), "accepted_at": L(11, 6),
           "decided_at": L(11, 9), "due_at": due(11, 21), "status": "confirmed"},
    "c4": {"category": "service.wait", "business_line": "cards", "received_at": L(11, 10),
           "accepted_at": L(11, 11), "due_at": due(11, 26), "status": "investigating", "major": True,
           "severity": "major", "escalation_risk": True},
    "c5": {"category": "general.advice", "business_line": "ebanking", "channel": "email", "received_at": L(11, 13, 7)},
    "c6": {"category": "general.policy", "business_line": "accounts", "channel": "letter",
           "received_at": L(11, 13, 20), "status": "not_accepted"},
    "c7": {"category": "service.wait", "business_line": "cards", "received_at": L(11, 14),
           "accepted_at": L(11, 14, 11), "status": "merged"},
    "c8": {**FEE, "business_line": "credit_cards", "received_at": L(11, 1, 0), "accepted_at": L(11, 1, 1),
           "decided_at": L(12, 1, 0), "due_at": due(11, 16), "status": "decided"},
    "c9": {**FEE, "business_line": "transfers", "channel": "chat", "responsible_party": "it",
           "received_at": L(10, 31, 23, 59, 59), "accepted_at": L(11, 1, 0), "decided_at": L(11, 30, 23, 59, 59),
           "due_at": due(11, 15), "breached_at": L(11, 16, 8), "status": "decided"},
    "c10": {"category": "service.error", "business_line": "transfers", "received_at": L(11, 30, 23, 59)},
    "c11": {"category": "service.error", "business_line": "transfers", "received_at": L(12, 1, 0)},
    "c12": {**FEE, "business_line": "credit_cards", "received_at": L(10, 20), "accepted_at": L(10, 21),
            "decided_at": L(11, 4), "due_at": due(11, 5), "closed_at": L(11, 6), "status": "investigating",
            "reopen_count": 1},
    "c13": {**FEE, "business_line": "credit_cards", "received_at": L(10, 5), "accepted_at": L(10, 6),
            "decided_at": L(10, 15), "due_at": due(10, 21), "closed_at": L(10, 20), "status": "closed",
            "reopen_count": 1},
    "c14": {**ATT, "received_at": L(10, 8), "accepted_at": L(10, 8, 11), "decided_at": L(10, 25),
            "due_at": due(10, 23), "breached_at": L(10, 24, 9), "closed_at": L(10, 28), "status": "closed"},
    "c15": {**ATT, "received_at": L(10, 31, 22), "accepted_at": L(10, 31, 23), "decided_at": L(11, 2, 9),
            "due_at": due(11, 16), "closed_at": L(11, 3), "status": "closed"},
    "c16": {"category": "emergency.fraud", "business_line": "ebanking", "received_at": L(11, 22, 23, 30),
            "major": True, "severity": "major"},
    "c17": {"category": "emergency.fraud", "business_line": "ebanking", "channel": "regulator",
            "received_at": L(11, 23, 0), "major": True, "regulator_involved": True, "escalation_risk": True},
    "c18": {**ATT, "received_at": L(10, 12), "accepted_at": L(10, 12, 11), "decided_at": L(10, 27, 16),
            "due_at": due(10, 27), "status": "confirmed"},
}  # fmt: skip
#: reopen clock changes: (case, requested at)
REOPENS = (("c12", L(11, 8)), ("c13", L(10, 31, 23, 59, 59)))


async def seed(rt: runtime.Runtime) -> dict[str, int]:
    """Insert the data set; returns the id of each case."""
    ids: dict[str, int] = {}
    async with rt.db.transaction() as s:
        for name, fields in CASES.items():
            row = await complaint_row(s, **fields)
            ids[name] = row.id
        for name, at in REOPENS:
            s.add(ClockChange(complaint_id=ids[name], kind="reopen", status="done", requested_at=at,
                              effective_date=at.astimezone(SH).date()))  # fmt: skip
        merged = await s.get(type(row), ids["c7"])
        assert merged is not None
        merged.merged_into_id = ids["c4"]
    return ids


#: the figures of November 2026 (Nov 1–30 local) and of October 2026, its previous period
NOVEMBER = {
    "received": 11, "accepted": 6, "completed": 4, "completion_rate": 0.6667, "decided": 6, "decided_on_time": 4,
    "on_time_rate": 0.6667, "avg_days_to_decision": 12.2, "closed": 3, "reopened": 1, "reopen_rate": 0.3333,
    "major": 3, "escalation_risk": 2, "breached": 2, "not_accepted": 1, "merged": 1, "open_now": 6,
}  # fmt: skip
OCTOBER = {
    "received": 6, "accepted": 5, "completed": 3, "completion_rate": 0.6, "decided": 3, "decided_on_time": 2,
    "on_time_rate": 0.6667, "avg_days_to_decision": 13.7, "closed": 2, "reopened": 1, "reopen_rate": 0.5,
    "major": 0, "escalation_risk": 0, "breached": 1, "not_accepted": 0, "merged": 0, "open_now": 1,
}  # fmt: skip
