"""The search index of live entries, one per process, kept fresh on every node.

The index is built in memory from the live copies of published, in-date entries and the editors'
synonym table (``SearchEngine``). A change that affects it (publish, retire, synonym edit) calls
``notify_changed(session)``: after the commit the *generation* moves (an in-process counter in
embedded mode; a Redis counter in cluster mode) and the node that made the change rebuilds at once,
so the editor's next search sees it. Other nodes compare their generation with the shared one at
most every ``kb_index_poll_seconds`` (0.5 s) when they search, and rebuild in the background while
the old index keeps answering; a new day (Asia/Shanghai) also rebuilds, so campaign answers expire
by themselves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import clock
from kefu.core.auth import Principal
from kefu.core.db import after_commit
from kefu.core.errors import ValidationFailed
from kefu.knowledge.models import EntryStatus, KbCategory, KbEntry, KbSynonym
from kefu.knowledge.search.engine import Doc, Hit, SearchEngine, highlight
from kefu.knowledge.search.rerank import E5Reranker, make_reranker
from kefu.knowledge.search.text import Synonyms, normalise

log = structlog.get_logger(__name__)

EXTRA_KEY = "kb_index"
MAX_QUERY = 200
#: Up to this many entries the node that made a change rebuilds before answering (under a second on this
#: machine: 0.4 s for 1,000 entries); a larger base is rebuilt in the background (docs/benchmarks.md).
WAIT_FOR_REBUILD = 2_000


def local_today(settings: Any) -> dt.date:
    return clock.local(clock.now(), getattr(settings, "timezone", "Asia/Shanghai")).date()


def _in_date(live: dict[str, Any], today: dt.date) -> bool:
    start, end = live.get("effective_from"), live.get("effective_to")
    if start and dt.date.fromisoformat(start) > today:
        return False
    return not (end and dt.date.fromisoformat(end) < today)


def doc_of(entry_id: int, live: dict[str, Any]) -> Doc:
    return Doc(
        entry_id=entry_id, key=str(live.get("key", "")), question=str(live.get("question", "")),
        similar=tuple(live.get("similar") or ()), keywords=tuple(live.get("keywords") or ()),
        answer=str(live.get("answer", "")), category_id=live.get("category_id"),
        category=str(live.get("category", "")),
    )  # fmt: skip


async def load_docs(session: AsyncSession, today: dt.date) -> list[Doc]:
    """Live copies of the entries agents may see today."""
    rows = await session.execute(
        select(KbEntry.id, KbEntry.live)
        .where(KbEntry.live.is_not(None), KbEntry.status != EntryStatus.RETIRED.value)
        .order_by(KbEntry.id)
    )
    docs = []
    for entry_id, raw in rows:
        live = json.loads(raw or "{}")
        if _in_date(live, today):
            docs.append(doc_of(entry_id, live))
    return docs


async def load_synonyms(session: AsyncSession) -> Synonyms:
    rows = (await session.execute(select(KbSynonym.canonical, KbSynonym.terms))).all()
    return Synonyms((canonical, json.loads(terms)) for canonical, terms in rows)


async def load_tree(session: AsyncSession) -> dict[int, set[int]]:
    """Category id -> itself and every descendant (for the category filter)."""
    rows = (await session.execute(select(KbCategory.id, KbCategory.parent_id))).all()
    children: dict[int | None, list[int]] = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    out: dict[int, set[int]] = {}
    for cid, _ in rows:
        seen, stack = set(), [cid]
        while stack:
            c = stack.pop()
            if c not in seen:
                seen.add(c)
                stack.extend(children.get(c, []))
        out[cid] = seen
    return out


async def _load(session: AsyncSession, today: dt.date) -> tuple[list[Doc], Synonyms, dict[int, set[int]]]:
    return await load_docs(session, today), await load_synonyms(session), await load_tree(session)


class IndexHolder:
    """This process's index, its generation and the day it was built for."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.engine: SearchEngine | None = None
        self.tree: dict[int, set[int]] = {}
        self.generation: str | None = None
        self.day: dt.date | None = None
        self.checked = 0.0
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.local_generation = 0
        self.built_at: dt.datetime | None = None
        self.build_seconds = 0.0
        self._redis: Any = None
        self.reranker: E5Reranker | None = make_reranker() if rt.settings.kb_rerank else None
        self.warm_engine: SearchEngine | None = None  # the engine whose entries the re-ranker has embedded
        self.warm_task: asyncio.Task[None] | None = None
        self._cache_loaded = False
        #: embed entries for the re-ranker in the background after each build (``kefu serve`` turns it on;
        #: short-lived commands such as ``kefu kb import`` leave it off)
        self.auto_warm = False

    @property
    def embeddings_file(self) -> Path:
        return Path(self.rt.settings.var_dir) / "kb-embeddings.npz"

    # ---- generation ---------------------------------------------------------------------------

    def _key(self) -> str:
        return f"{self.rt.settings.redis_prefix}:kb:generation"

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.rt.settings.redis_url)
        return self._redis

    async def shared_generation(self) -> str:
        if not self.rt.settings.redis_url:
            return str(self.local_generation)
        value = await self._client().get(self._key())
        return value.decode() if value else "0"

    async def bump(self) -> None:
        if self.rt.settings.redis_url:
            await self._client().incr(self._key())
        else:
            self.local_generation += 1

    # ---- building ----------------------------------------------------------------------------

    async def rebuild(self, session: AsyncSession | None = None) -> SearchEngine:
        """Build from the database: in ``session`` when given (a request already holding SQLite's writer
        turn must not ask for another), else in a transaction of its own."""
        async with self.lock:
            generation = await self.shared_generation()
            today = local_today(self.rt.settings)
            started = time.perf_counter()
            if session is not None:
                docs, synonyms, tree = await _load(session, today)
            else:
                async with self.rt.db.transaction() as s:
                    docs, synonyms, tree = await _load(s, today)
            engine = await asyncio.to_thread(SearchEngine, docs, synonyms, reranker=self.reranker)
            if self.warm_engine is not None and self.reranker is not None and self.reranker.is_warm(docs):
                self.warm_engine = engine  # nothing new to embed
            self.engine, self.tree, self.generation, self.day = engine, tree, generation, today
            self.built_at = clock.now()
            self.build_seconds = time.perf_counter() - started
            self.checked = time.monotonic()
            log.info("kb_index_built", entries=len(docs), synonyms=len(synonyms), seconds=round(self.build_seconds, 3))
            self._start_warming(engine)
            return engine

    # ---- the re-ranker's embeddings -------------------------------------------------------------

    def warm_now(self, engine: SearchEngine) -> None:
        """Embed what the re-ranker lacks for ``engine`` (blocking; the CLI and a background thread)."""
        if self.reranker is None:
            return
        if not self._cache_loaded:
            self._cache_loaded = True
            try:
                self.reranker.load(self.embeddings_file)
            except (OSError, ValueError, KeyError):
                log.warning("kb_embeddings_unreadable")
        if self.reranker.warm(engine.docs):
            try:
                self.reranker.save(self.embeddings_file)
            except OSError:
                log.warning("kb_embeddings_not_saved")
        self.warm_engine = engine

    def _start_warming(self, engine: SearchEngine) -> None:
        if not self.auto_warm or self.reranker is None or (self.warm_task is not None and not self.warm_task.done()):
            return

        async def warm() -> None:
            try:
                await asyncio.to_thread(self.warm_now, engine)
            except Exception:  # the search goes on with BM25 alone
                log.exception("kb_rerank_warm_failed")
            if self.engine is not None and self.engine is not engine:
                self._start_warming(self.engine)

        self.warm_task = asyncio.create_task(warm(), name="kefu-kb-embeddings")

    def can_rerank(self, engine: SearchEngine) -> bool:
        return self.reranker is not None and self.warm_engine is engine

    async def current(self, session: AsyncSession) -> SearchEngine:
        """The index to search now; rebuilt first if there is none or it belongs to another day."""
        if self.engine is None or self.day != local_today(self.rt.settings):
            return await self.rebuild(session)
        now = time.monotonic()
        if now - self.checked >= self.rt.settings.kb_index_poll_seconds:
            self.checked = now
            if await self.shared_generation() != self.generation and (self.task is None or self.task.done()):
                self.task = asyncio.create_task(self._background(), name="kefu-kb-index")
        return self.engine

    async def _background(self) -> None:
        try:
            await self.rebuild()
        except Exception:  # the old index keeps answering; the next check tries again
            log.exception("kb_index_rebuild_failed")

    async def aclose(self) -> None:
        for task in (self.task, self.warm_task):
            if task is not None and not task.done():
                task.cancel()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


async def start_serving(rt: Any) -> None:
    """At ``kefu serve`` start: build the index and begin embedding for the re-ranker in the background."""
    h = holder(rt)
    h.auto_warm = True
    try:
        await h.rebuild()
    except Exception:  # the first search tries again
        log.exception("kb_index_build_failed")


def holder(rt: Any) -> IndexHolder:
    h = rt.extras.get(EXTRA_KEY)
    if h is None:
        h = rt.extras[EXTRA_KEY] = IndexHolder(rt)
    return h  # type: ignore[no-any-return]


async def notify_changed(session: AsyncSession) -> None:
    """Call after a change that affects search; after the commit every node's index follows."""
    from kefu.core import runtime

    async def _kb_index_changed() -> None:
        h = holder(runtime.get())
        await h.bump()
        if h.engine is None or len(h.engine) <= WAIT_FOR_REBUILD:
            await h.rebuild()  # the editor's next search sees the change
        elif h.task is None or h.task.done():
            h.task = asyncio.create_task(h._background(), name="kefu-kb-index")

    hooks = session.info.setdefault("after_commit", [])
    if not any(getattr(fn, "__name__", "") == "_kb_index_changed" for fn in hooks):
        after_commit(session, _kb_index_changed)


# ---- the search service ------------------------------------------------------------------------


def check_query(query: str) -> str:
    text = (query or "").strip()
    if not text:
        raise ValidationFailed("Type a question or a few words to search for.", extra={"field": "q"})
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"Search text is limited to {MAX_QUERY} characters; shorten it.", extra={"field": "q"})
    return text


def _preview(answer: str, limit: int = 90) -> str:
    plain = " ".join(answer.replace("#", " ").replace("*", " ").split())
    return plain if len(plain) <= limit else plain[:limit] + "…"


def hit_view(hit: Hit, normalised_query: str) -> dict[str, Any]:
    d = hit.doc
    return {
        "entry_id": d.entry_id, "key": d.key, "question": d.question, "category": d.category,
        "category_id": d.category_id, "score": round(hit.score, 4), "confidence": hit.confidence,
        "matched": hit.matched, "snippet_html": highlight(hit.matched, normalised_query),
        "question_html": highlight(d.question, normalised_query, limit=300), "answer_preview": _preview(d.answer),
    }  # fmt: skip


async def search(
    rt: Any,
    session: AsyncSession,
    *,
    actor: Principal | None,
    query: str,
    top: int = 10,
    category_id: int | None = None,
    source: str = "agent",
    log_unmatched: bool = True,
) -> dict[str, Any]:
    """Search the live entries. With ``log_unmatched`` a query whose best result is weak is recorded for
    the editors (personal data scrubbed); searches as one types pass False."""
    text = check_query(query)
    h = holder(rt)
    engine = await h.current(session)
    categories = None
    if category_id is not None:
        if category_id not in h.tree:
            raise ValidationFailed(f"No knowledge category {category_id}; pick one from the tree.",
                                   extra={"field": "category_id"})  # fmt: skip
        categories = h.tree[category_id]
    started = time.perf_counter()
    read = engine.analyse(text)
    hits = engine.search(read, top=top, category_ids=categories, rerank=log_unmatched and h.can_rerank(engine))
    took = (time.perf_counter() - started) * 1000
    normalised = read.prepared
    best = hits[0].confidence if hits else 0.0
    matched = best >= rt.settings.kb_unmatched_below
    if log_unmatched and not matched:
        from kefu.knowledge import unmatched

        await unmatched.log(session, query=text, normalised=normalise(text), source=source,
                            best_score=best if hits else None)  # fmt: skip
    return {
        "query": text, "normalised": normalised, "matched": matched, "took_ms": round(took, 3),
        "items": [hit_view(hit, normalised) for hit in hits],
    }  # fmt: skip
