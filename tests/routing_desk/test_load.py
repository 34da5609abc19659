"""Load: 200 agents on websockets and 50 calls/s through the CTI API against a real server; no contact lost.

The run is short here (KEFU_LOAD_SECONDS, 10 s by default, ~500 calls); ``make bench`` runs it for minutes.
An embedded (SQLite) server cannot answer 50 calls/s: callers queue and many abandon; what is checked is
that every call still ends with a record (answered and wrapped up, or abandoned) and nothing errs.
"""

from __future__ import annotations

import asyncio
import os

from bench import loadtest

from tests.e2e.conftest import running_server, settings_from


def test_two_hundred_agents_fifty_calls_a_second_lose_nothing(tmp_path_factory):
    seconds = float(os.environ.get("KEFU_LOAD_SECONDS", "10"))
    holder = {}

    def seed(env):
        holder["settings"] = settings_from(env)
        return loadtest.seed(holder["settings"], agents=200)

    with running_server(tmp_path_factory, "load", seed) as srv:
        report = asyncio.run(loadtest.drive(srv["base"], cti_key=srv["cti_key"], agents=srv["agents"],
                                            calls_per_s=50, seconds=seconds, patience_s=20))  # fmt: skip
    report = asyncio.run(loadtest.verify(holder["settings"], report))
    summary = report.summary()
    print(summary)  # noqa: T201 - shown with -s; the figures live in make bench
    assert report.calls >= 50 * seconds * 0.9
    assert not report.errors, report.errors[:5]
    assert report.lost == [], f"contacts without a final state: {report.lost[:10]} ({summary})"
    assert report.without_wrapup == []
    assert sum(report.final_states.values()) == report.calls
    assert report.answered > 0, summary
    assert report.final_states.get("closed", 0) == report.answered
