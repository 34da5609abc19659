"""The FAQ search engine: BM25 (bm25s) over the tokens of ``text.tokens``, in memory, pure and
deterministic (no database, no clock), so that the index service, the CLI, the evaluation and the
benchmark all run the same code.

Chosen by measurement on data/kb/eval.tsv (``kefu kb eval``; figures in docs/knowledge.md):
- one document per entry of its standard question, similar questions and keywords (better than
  scoring each paraphrase apart and taking the best: a customer's words are spread over several);
- a second index of the answer text, added with weight ``w_answer``;
- character unigrams and bigrams; pinyin bigrams as tokens cost top-1 here, so same-sound typos are
  corrected before search instead (``text.Speller``);
- optionally a re-ranker of the top ``rerank_depth`` (``rerank.E5Reranker``).

``confidence`` (0-1) is the share of the query's information (IDF-weighted tokens) that the best entry
covers: 1.0 when every meaningful token of the query occurs in it. The bot and the unmatched-query log
use it; BM25 scores themselves are not comparable between queries.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np

from kefu.knowledge.search.text import STOP_CHARS, Speller, Synonyms, is_cjk, normalise, strip_frames, tokens

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


@dataclass(frozen=True)
class Doc:
    entry_id: int
    key: str
    question: str
    similar: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    answer: str = ""
    category_id: int | None = None
    category: str = ""


@dataclass(frozen=True)
class Weights:
    w_answer: float = 0.7
    k1: float = 1.2
    b: float = 0.75
    pinyin: bool = False
    unigrams: bool = True
    rerank_depth: int = 30


@dataclass(frozen=True)
class Query:
    text: str
    corrected: str  # normal form, same-sound typos corrected
    prepared: str  # corrected plus synonyms: what the tokens come from
    tokens: list[str]


@dataclass
class Hit:
    doc: Doc
    score: float
    confidence: float
    matched: str  # the question or similar question closest to the query
    bm25: tuple[float, float] = (0.0, 0.0)  # (question field, answer field) for the re-ranker

    @property
    def entry_id(self) -> int:
        return self.doc.entry_id


#: Re-ranks hits for a query (normal form, typos corrected): returns new scores in the same order.
Reranker = Callable[[str, list[Hit]], list[float]]


@dataclass
class _Field:
    model: Any
    idf: np.ndarray  # per token id
    df: np.ndarray  # documents per token id
    indices: np.ndarray  # bm25s's token-major sparse matrix: the (sorted) documents of each token ...
    indptr: np.ndarray  # ... are indices[indptr[t]:indptr[t + 1]]

    def has(self, token_id: int, doc: int) -> bool:
        lo, hi = int(self.indptr[token_id]), int(self.indptr[token_id + 1])
        i = lo + int(np.searchsorted(self.indices[lo:hi], doc))
        return i < hi and int(self.indices[i]) == doc


def _build(texts: Sequence[list[str]], weights: Weights) -> _Field:
    rows = [t if t else ["\u2400"] for t in texts]  # bm25s needs a token in every document
    model = bm25s.BM25(k1=weights.k1, b=weights.b)
    model.index(rows, show_progress=False)
    indptr = np.asarray(model.scores["indptr"])
    df = np.diff(indptr)
    idf = np.log1p((len(rows) - df + 0.5) / (df + 0.5))
    return _Field(model=model, idf=idf, df=df, indices=np.asarray(model.scores["indices"]), indptr=indptr)


class SearchEngine:
    """An immutable index of entries; build a new one to change it."""

    def __init__(
        self,
        docs: Iterable[Doc],
        synonyms: Synonyms | None = None,
        *,
        weights: Weights | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.docs: list[Doc] = list(docs)
        self.synonyms = synonyms or Synonyms()
        self.weights = weights or Weights()
        self.reranker = reranker
        self.by_id = {d.entry_id: i for i, d in enumerate(self.docs)}
        self.questions: _Field | None = None
        self.answers: _Field | None = None
        if self.docs:
            self.questions = _build([self._tok(" ".join((d.question, *d.similar, *d.keywords))) for d in self.docs],
                                    self.weights)  # fmt: skip
            self.answers = _build([self._tok(d.answer) for d in self.docs], self.weights)
        self.speller = Speller.from_counts(self._bigram_counts())
        self._top_idf = float(self.questions.idf.max()) if self.questions is not None else 1.0
        self._category = np.asarray([d.category_id or 0 for d in self.docs], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.docs)

    def _bigram_counts(self) -> dict[str, int]:
        """Chinese character bigrams of the entries with the number of entries using them (from the index)."""
        counts: dict[str, int] = {}
        for f in (self.questions, self.answers):
            if f is None:
                continue
            for token, tid in f.model.vocab_dict.items():
                if len(token) == 2 and is_cjk(token):
                    counts[token] = counts.get(token, 0) + int(f.df[tid])
        return counts

    def prepare(self, text: str) -> str:
        """A document's text as indexed: normal form plus synonyms."""
        return self.synonyms.expand(normalise(text))

    def corrected(self, query: str) -> str:
        """A query in normal form with same-sound typos corrected (before synonyms)."""
        return self.speller.correct(normalise(query))

    def prepare_query(self, query: str) -> str:
        return self.analyse(query).prepared

    def analyse(self, query: str) -> Query:
        """The query read once: typos corrected (for the re-ranker), synonyms added, tokens."""
        corrected = self.corrected(query)
        prepared = self.synonyms.expand(corrected)
        return Query(text=query, corrected=corrected, prepared=prepared, tokens=self._tokens(prepared))

    def _tok(self, text: str) -> list[str]:
        return self._tokens(self.prepare(text))

    def _tokens(self, prepared: str) -> list[str]:
        return tokens(prepared, pinyin=self.weights.pinyin, unigrams=self.weights.unigrams)

    # ---- search ---------------------------------------------------------------------------------

    @staticmethod
    def _scores(f: _Field, q: list[str], n: int) -> np.ndarray:
        ids = f.model.get_tokens_ids(q)
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(f.model.get_scores_from_ids(ids))

    def search(self, query: str | Query, *, top: int = 10, category_ids: set[int] | None = None,
               rerank: bool = True) -> list[Hit]:  # fmt: skip
        """Best entries first. ``query`` is the text, or what ``analyse`` made of it (read it only once)."""
        if self.questions is None or self.answers is None:
            return []
        read = query if isinstance(query, Query) else self.analyse(query)
        prepared, q = read.prepared, read.tokens
        if not q:
            return []
        n = len(self.docs)
        s_q = self._scores(self.questions, q, n)
        s_a = self._scores(self.answers, q, n)
        total = s_q + self.weights.w_answer * s_a
        if category_ids is not None:
            total = np.where(np.isin(self._category, list(category_ids)), total, 0.0)
        use_reranker = rerank and self.reranker is not None
        want = max(top, self.weights.rerank_depth) if use_reranker else top
        k = min(want, int((total > 0).sum()))
        if k <= 0:
            return []
        cand = np.argpartition(-total, k - 1)[:k]
        cand = cand[np.argsort(-total[cand], kind="stable")]
        hits = [self._hit(int(pos), float(total[pos]), q, prepared, (float(s_q[pos]), float(s_a[pos])))
                for pos in cand]  # fmt: skip
        if use_reranker and self.reranker is not None and len(hits) > 1:
            for h, s in zip(hits, self.reranker(read.corrected, hits), strict=True):
                h.score = s
            hits.sort(key=lambda h: -h.score)
        return hits[:top]

    def _hit(self, pos: int, score: float, q: list[str], prepared: str, bm25: tuple[float, float]) -> Hit:
        doc = self.docs[pos]
        return Hit(doc=doc, score=score, confidence=self._coverage(q, pos), matched=_closest(doc, prepared),
                   bm25=bm25)  # fmt: skip

    def _coverage(self, q: list[str], pos: int) -> float:
        """IDF-weighted share of the query's tokens found in the entry's questions and keywords."""
        f = self.questions
        assert f is not None  # noqa: S101
        vocab = f.model.vocab_dict
        total = covered = 0.0
        for t in dict.fromkeys(q):
            if t.startswith("py:"):
                continue
            tid = vocab.get(t)
            weight = float(f.idf[tid]) if tid is not None else self._top_idf
            total += weight
            if tid is not None and f.has(tid, pos):
                covered += weight
        return round(covered / total, 4) if total > 0 else 0.0


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _closest(doc: Doc, prepared_query: str) -> str:
    """The standard or similar question sharing the most character bigrams with the query."""
    want = _bigrams(strip_frames(prepared_query))
    best, best_n = doc.question, -1
    for text in (doc.question, *doc.similar):
        n = len(want & _bigrams(normalise(text)))
        if n > best_n:
            best, best_n = text, n
    return best


# ---- snippets -----------------------------------------------------------------------------------


def highlight(text: str, query_normalised: str, *, limit: int = 120) -> str:
    """``text`` HTML-escaped, cut to ``limit`` characters around the first match, with the characters
    the query shares (as bigrams, or as meaningful single characters) wrapped in ``<mark>``."""
    norm = [normalise(ch) or " " for ch in text]
    q = strip_frames(query_normalised)
    bigrams = {q[i : i + 2] for i in range(len(q) - 1)}
    singles = {ch for ch in q if ch.strip() and ch not in STOP_CHARS}
    marked = [False] * len(text)
    for i in range(len(text) - 1):
        if norm[i] + norm[i + 1] in bigrams:
            marked[i] = marked[i + 1] = True
    for i, ch in enumerate(norm):
        if ch in singles and not ch.isascii():
            marked[i] = True
    start = 0
    if len(text) > limit and any(marked):
        start = max(0, marked.index(True) - 20)
    end = min(len(text), start + limit)
    out: list[str] = ["…" if start else ""]
    i = start
    while i < end:
        j = i
        while j < end and marked[j] == marked[i]:
            j += 1
        chunk = html.escape(text[i:j])
        out.append(f"<mark>{chunk}</mark>" if marked[i] else chunk)
        i = j
    if end < len(text):
        out.append("…")
    return "".join(out)
