"""Evaluation of a search engine on labelled queries (``kefu kb eval``, the benchmark, the tests).

Files: the FAQ as JSON lines (``{"key", "category" "a/b", "question", "similar", "keywords", "answer"}``),
labelled queries as TSV (``query<TAB>expected key``), synonyms as TSV (canonical term, then variants).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kefu.knowledge.search.engine import Doc

#: Anything that answers a query with keys, best first.
Ranker = Callable[[str], Sequence[str]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return out


def docs_from_lines(lines: Iterable[dict[str, Any]]) -> list[Doc]:
    """Engine documents from FAQ lines (ids by position; categories numbered by path)."""
    categories: dict[str, int] = {}
    docs = []
    for n, item in enumerate(lines, 1):
        path = str(item.get("category", ""))
        cid = categories.setdefault(path, len(categories) + 1)
        docs.append(
            Doc(
                entry_id=n, key=str(item["key"]), question=str(item["question"]),
                similar=tuple(item.get("similar") or ()), keywords=tuple(item.get("keywords") or ()),
                answer=str(item.get("answer", "")), category_id=cid, category=path,
            )
        )  # fmt: skip
    return docs


def read_eval(path: Path) -> list[tuple[str, str]]:
    pairs = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{path}:{n}: expected 'query<TAB>key'")
            pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def read_synonyms(path: Path) -> list[tuple[str, list[str]]]:
    groups = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = [p.strip() for p in line.rstrip("\n").split("\t") if p.strip()]
            if len(parts) >= 2 and not parts[0].startswith("#"):
                groups.append((parts[0], parts[1:]))
    return groups


@dataclass
class Report:
    n: int
    top1: float
    recall3: float
    mrr: float
    p50_ms: float
    p95_ms: float
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"queries": self.n, "top1": round(self.top1, 4), "recall_at_3": round(self.recall3, 4),
                "mrr": round(self.mrr, 4), "p50_ms": round(self.p50_ms, 3), "p95_ms": round(self.p95_ms, 3)}  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def evaluate(rank: Ranker, pairs: Sequence[tuple[str, str]], *, depth: int = 10) -> Report:
    """Top-1 accuracy, recall@3 and MRR (over the first ``depth`` results), latency per query."""
    top1 = recall3 = 0
    rr = 0.0
    times: list[float] = []
    misses = []
    for query, expected in pairs:
        started = time.perf_counter()
        keys = list(rank(query))[:depth]
        times.append((time.perf_counter() - started) * 1000)
        if keys[:1] == [expected]:
            top1 += 1
        if expected in keys[:3]:
            recall3 += 1
        if expected in keys:
            rr += 1 / (keys.index(expected) + 1)
        if keys[:1] != [expected]:
            misses.append({"query": query, "expected": expected, "got": keys[:3]})
    n = max(1, len(pairs))
    return Report(n=len(pairs), top1=top1 / n, recall3=recall3 / n, mrr=rr / n, p50_ms=percentile(times, 50),
                  p95_ms=percentile(times, 95), misses=misses)  # fmt: skip
