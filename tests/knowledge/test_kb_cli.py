"""``kefu kb``: import (idempotent by key, errors per line), export, search (one query, or one JSON line
per stdin line), evaluation, and the same on a FAQ file without a database. Generated entries only."""

from __future__ import annotations

import json

from tests.factories import cli_env, run_cli

LINES = [
    {"key": "t-card-loss", "category": "借记卡/挂失补办", "question": "借记卡丢失后如何挂失？",
     "similar": ["银行卡丢了怎么办"], "keywords": ["挂失"], "answer": "1. 拨打客服热线挂失。\n2. 或在手机银行挂失。"},
    {"key": "t-lpr", "category": "贷款/住房贷款", "question": "房贷利率如何转换为LPR？", "similar": ["LPR转换怎么办"],
     "keywords": ["LPR"], "answer": "在手机银行“贷款”页面申请转换。"},
]  # fmt: skip


def _write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def _env(settings):
    return cli_env(settings, KEFU_KB_RERANK="false")


def test_import_is_idempotent_and_publishes_when_asked(settings, tmp_path):
    path = _write(tmp_path, "faq.jsonl", LINES)
    r = run_cli(["kb", "import", str(path), "--publish"], _env(settings))
    assert r.exit_code == 0, r.output
    assert "created 2" in r.output
    assert "published" in r.output
    r = run_cli(["kb", "import", str(path), "--publish"], _env(settings))
    assert r.exit_code == 0
    assert "created 0" in r.output
    assert "unchanged 2" in r.output
    changed = [dict(LINES[0], answer="1. 拨打客服热线 400-000-0000 挂失。")]
    r = run_cli(["kb", "import", str(_write(tmp_path, "b.jsonl", changed)), "--publish"], _env(settings))
    assert r.exit_code == 0
    assert "updated 1" in r.output
    r = run_cli(["kb", "export"], _env(settings))
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert {x["key"] for x in rows} == {"t-card-loss", "t-lpr"}
    assert next(x for x in rows if x["key"] == "t-card-loss")["answer"].startswith("1. 拨打客服热线 400")


def test_import_reports_bad_lines_and_keeps_the_good_ones(settings, tmp_path):
    bad = [LINES[0], {"key": "t-bad", "category": "x", "question": "", "answer": ""}]
    r = run_cli(["kb", "import", str(_write(tmp_path, "bad.jsonl", bad))], _env(settings))
    assert r.exit_code == 1
    assert "line 2" in r.output
    assert "created 1" in r.output
    (tmp_path / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    r = run_cli(["kb", "import", str(tmp_path / "broken.jsonl")], _env(settings))
    assert r.exit_code == 1
    assert "not valid JSON" in r.output


def test_search_one_query_and_stdin_queries_as_json_lines(settings, tmp_path):
    run_cli(["kb", "import", str(_write(tmp_path, "faq.jsonl", LINES)), "--publish"], _env(settings))
    r = run_cli(["kb", "search", "銀行卡遺失了如何掛失", "--json"], _env(settings))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["results"][0]["key"] == "t-card-loss"
    r = run_cli(["kb", "search", "-", "--top", "1"], _env(settings), input="U盾 过期\nlpr转换\n\n房贷 LPR\n")
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["query"] for o in out] == ["U盾 过期", "lpr转换", "房贷 LPR"]
    assert out[1]["results"][0]["key"] == "t-lpr"
    assert set(out[1]["results"][0]) >= {"key", "question", "score"}
    assert all(len(o["results"]) <= 1 for o in out)


def test_eval_prints_top1_recall_mrr_and_latency(settings, tmp_path):
    run_cli(["kb", "import", str(_write(tmp_path, "faq.jsonl", LINES)), "--publish"], _env(settings))
    tsv = tmp_path / "eval.tsv"
    tsv.write_text("卡丢了怎么挂失\tt-card-loss\nLPR 怎么转\tt-lpr\n汽车保养\tt-lpr\n", encoding="utf-8")
    r = run_cli(["kb", "eval", str(tsv), "--json"], _env(settings))
    figures = json.loads(r.stdout)
    assert figures["queries"] == 3
    assert abs(figures["top1"] - 2 / 3) < 1e-3
    assert {"recall_at_3", "mrr", "p50_ms", "p95_ms"} <= set(figures)
    (tmp_path / "bad.tsv").write_text("no tab here\n", encoding="utf-8")
    r = run_cli(["kb", "eval", str(tmp_path / "bad.tsv")], _env(settings))
    assert r.exit_code == 1
    assert "query<TAB>key" in r.output


def test_search_a_faq_file_without_a_database_with_the_reranker(settings, tmp_path):
    path = _write(tmp_path, "faq.jsonl", LINES)
    r = run_cli(["kb", "search", "LPR怎么转换", "--faq", str(path), "--rerank", "--json"], _env(settings))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["results"][0]["key"] == "t-lpr"
    r = run_cli(["kb", "search", "x", "--faq", str(tmp_path / "missing.jsonl")], _env(settings))
    assert r.exit_code == 1
    assert "no file" in r.output
