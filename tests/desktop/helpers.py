"""Helpers of the agent desktop tests: call scripts written through the service in their own
transaction, and the routing set-up of the phone page tests (queue ``general``, department
``card_backoffice``) plus a ``cards`` queue for a scenario script. Generated data only."""

from __future__ import annotations

from typing import Any

from kefu.core import runtime
from kefu.routing import config_service
from kefu.scripts import service as scripts


async def add_cards_queue(rt: runtime.Runtime) -> None:
    async with rt.db.transaction() as s:
        await config_service.create_queue(s, actor=None, code="cards", name="银行卡挂失", skills=["cards"])


async def add_script(rt: runtime.Runtime, **data: Any) -> int:
    values = {"name": "话术", "greeting": "您好，{customer}，我是{agent_no}号", "channel": "phone", "locale": "zh-Hans"}
    values.update(data)
    async with rt.db.transaction() as s:
        return (await scripts.create(s, actor=None, data=values)).id
