"""Demo knowledge base: the FAQ written for this project (data/kb/faq.jsonl, published), the synonym
table (data/kb/synonyms.tsv), bulletins, and a month of generated hit counts so that the frequency
report has something to band."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock
from kefu.knowledge.models import KbBulletin, KbEntry, KbHit, KbSynonym

DATA = Path(__file__).resolve().parents[3] / "data" / "kb"


async def load_synonyms(session: AsyncSession, groups: Sequence[tuple[str, Sequence[str]]]) -> int:
    """Create each group, or add the new variants to the group of the same canonical term."""
    from kefu.knowledge import index

    changed = 0
    now = clock.now()
    for canonical, variants in groups:
        row = (await session.execute(select(KbSynonym).where(KbSynonym.canonical == canonical))).scalar_one_or_none()
        if row is None:
            session.add(KbSynonym(canonical=canonical, terms=json.dumps(list(dict.fromkeys(variants)),
                                                                        ensure_ascii=False), updated_at=now))  # fmt: skip
            changed += 1
            continue
        terms = json.loads(row.terms)
        merged = list(dict.fromkeys([*terms, *variants]))
        if merged != terms:
            row.terms, row.updated_at = json.dumps(merged, ensure_ascii=False), now
            changed += 1
    await session.flush()
    if changed:
        await index.notify_changed(session)
    return changed


async def _seed_hits(session: AsyncSession, today: dt.date, *, seed: int = 7) -> None:
    """30 days of opens and attaches: a few very popular entries, a long tail (Zipf-like)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    ids = (await session.execute(select(KbEntry.id).order_by(KbEntry.id))).scalars().all()
    ranked = list(ids)
    rng.shuffle(ranked)
    for rank, entry_id in enumerate(ranked, 1):
        daily = 40.0 / rank
        for back in range(30):
            opens = int(rng.random() * 2 * daily)
            if opens:
                session.add(KbHit(entry_id=entry_id, day=today - dt.timedelta(days=back), opens=opens,
                                  attaches=opens // 3, bot_answers=0))  # fmt: skip


async def _seed_bulletins(session: AsyncSession) -> None:
    now = clock.now()
    items: list[dict[str, Any]] = [
        {"title": "【紧急】近期冒充客服诈骗高发", "priority": "urgent",
         "body": "近期有不法分子冒充本行客服，以“注销校园贷”“调整征信”为由诱导客户转账。\n\n"
                 "1. 接到此类咨询，请明确告知客户本行不会要求转账到“安全账户”；\n"
                 "2. 提醒客户拨打 96110 反诈专线；\n3. 在小结中选择“风险提示”。"},
        {"title": "信用卡积分兑换活动延期至月底", "priority": "normal",
         "body": "积分兑换电子券活动延期至本月最后一天，兑换规则不变。客户咨询时可引导至手机银行“积分商城”。"},
    ]  # fmt: skip
    for item in items:
        session.add(KbBulletin(title=item["title"], body=item["body"], priority=item["priority"],
                               audience_teams="[]", audience_skills="[]", valid_from=now,
                               valid_to=now + dt.timedelta(days=30), created_at=now, updated_at=now))  # fmt: skip


async def seed(session: AsyncSession) -> dict[str, int]:
    """Load the demo knowledge base unless entries already exist. Returns what was loaded."""
    from kefu.knowledge import importer, index
    from kefu.knowledge.search import evaluate as ev

    if (await session.execute(select(func.count()).select_from(KbEntry))).scalar_one():
        return {}
    out: dict[str, int] = {}
    faq = DATA / "faq.jsonl"
    if faq.is_file():
        result = await importer.import_entries(session, actor=None, lines=ev.read_jsonl(faq), publish=True)
        out["entries"] = int(result.get("created", 0))
    synonyms = DATA / "synonyms.tsv"
    if synonyms.is_file():
        out["synonyms"] = await load_synonyms(session, ev.read_synonyms(synonyms))
    await _seed_hits(session, index.local_today(_settings()))
    await _seed_bulletins(session)
    await session.flush()
    await index.notify_changed(session)
    return out


def _settings() -> Any:
    from kefu.core.config import get_settings

    return get_settings()
