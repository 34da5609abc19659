"""The knowledge base written for this project (data/kb): its size and shape, and a floor under the
search quality it reaches without the re-ranker (``kefu kb eval`` and ``make bench`` print the figures,
re-ranker included; this guards against a change that quietly makes search worse)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kefu.knowledge.search import evaluate as ev
from kefu.knowledge.search.engine import SearchEngine
from kefu.knowledge.search.text import Synonyms

DATA = Path(__file__).resolve().parents[2] / "data" / "kb"


def test_faq_eval_and_synonyms_are_well_formed():
    lines = ev.read_jsonl(DATA / "faq.jsonl")
    assert len(lines) >= 300
    keys = [x["key"] for x in lines]
    assert len(set(keys)) == len(keys)
    for x in lines:
        assert len(x["category"].split("/")) == 2, x["key"]
        assert x["question"], x["key"]
        assert x["answer"], x["key"]
        assert 3 <= len(x["similar"]) <= 6, x["key"]
        assert x["keywords"], x["key"]
    areas = Counter(x["category"].split("/")[0] for x in lines)
    assert len(areas) >= 10  # cards, accounts, transfers, e-banking, credit cards, loans, deposits ...
    pairs = ev.read_eval(DATA / "eval.tsv")
    assert len(pairs) >= 600
    assert {k for _, k in pairs} <= set(keys)
    assert len(ev.read_synonyms(DATA / "synonyms.tsv")) >= 50


def test_search_quality_floor_without_the_reranker():
    docs = ev.docs_from_lines(ev.read_jsonl(DATA / "faq.jsonl"))
    engine = SearchEngine(docs, Synonyms(ev.read_synonyms(DATA / "synonyms.tsv")))
    report = ev.evaluate(lambda q: [h.doc.key for h in engine.search(q)], ev.read_eval(DATA / "eval.tsv"))
    assert report.top1 >= 0.72, report.as_dict()
    assert report.recall3 >= 0.88, report.as_dict()
