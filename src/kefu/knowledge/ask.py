"""The self-service bot's answer (R4.6): the same live entries agents use, with a confidence.

At or above ``kb_bot_threshold`` the bot gives the best entry's answer (never its internal notes) and
the entry's counter moves (``bot_answers``); below it, the bot says it is not sure, offers the closest
questions as suggestions and a human agent, and the question is logged as unmatched for the editors.
A small per-address limit keeps the public endpoint from being used to scrape the base.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.errors import TooManyRequests
from kefu.knowledge import index
from kefu.knowledge.search.text import normalise

HANDOFF = "抱歉，我还不能确定您问题的答案。您可以换个说法再问，或转人工客服为您服务。"
ANSWERED = "以下答案供您参考；如仍有疑问，可随时转人工客服。"
SUGGEST_ABOVE = 0.25
PER_MINUTE = 30


class Limiter:
    """Requests per client address in a sliding minute (in-process; each node limits on its own)."""

    def __init__(self, per_minute: int = PER_MINUTE) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}

    def check(self, address: str) -> None:
        now = time.monotonic()
        q = self.seen.setdefault(address, deque())
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            raise TooManyRequests("Too many questions from this address; wait a minute and ask again.")
        q.append(now)
        if len(self.seen) > 10_000:  # forget idle addresses
            for key in [k for k, v in self.seen.items() if not v or now - v[-1] > 60]:
                del self.seen[key]


def limiter(rt: Any) -> Limiter:
    lim = rt.extras.get("kb_ask_limiter")
    if lim is None:
        lim = rt.extras["kb_ask_limiter"] = Limiter()
    return lim  # type: ignore[no-any-return]


async def ask(rt: Any, session: AsyncSession, *, question: str, channel: str = "web") -> dict[str, Any]:
    text = index.check_query(question)
    h = index.holder(rt)
    engine = await h.current(session)
    hits = engine.search(text, top=3, rerank=h.can_rerank(engine))
    best = hits[0] if hits else None
    confidence = best.confidence if best else 0.0
    threshold = rt.settings.kb_bot_threshold
    suggestions = [{"key": h.doc.key, "question": h.doc.question} for h in hits if h.confidence >= SUGGEST_ABOVE]
    if best is not None and confidence >= threshold:
        from kefu.knowledge import hits as counters
        from kefu.knowledge.markdown import render

        await counters.record(session, entry_id=best.doc.entry_id, kind="bot")
        return {
            "answered": True, "confidence": confidence, "handoff": False, "message": ANSWERED,
            "entry": {"key": best.doc.key, "question": best.doc.question, "answer_markdown": best.doc.answer,
                      "answer_html": render(best.doc.answer)},
            "suggestions": suggestions[1:],
        }  # fmt: skip
    from kefu.knowledge import unmatched

    await unmatched.log(session, query=text, normalised=normalise(text), source="bot",
                        best_score=confidence if best else None)  # fmt: skip
    return {"answered": False, "confidence": confidence, "handoff": True, "message": HANDOFF, "entry": None,
            "suggestions": suggestions}  # fmt: skip
