"""``kefu kb``: import and export entries, load synonyms, search and evaluate from the command line.

``search`` and ``eval`` use the live entries of the configured database (what agents see), or with
``--faq FILE.jsonl`` (and optional ``--synonyms FILE.tsv``) a file instead, without a database.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

kb_app = typer.Typer(help="Knowledge base: import/export, synonyms, search, evaluation", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

FaqOpt = Annotated[Path | None, typer.Option("--faq", help="search a FAQ file instead of the database's live entries")]
SynOpt = Annotated[Path | None, typer.Option("--synonyms", help="synonyms TSV to use with --faq")]
RerankOpt = Annotated[bool | None, typer.Option("--rerank/--no-rerank", help="re-rank with the embedded model")]


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _engine_from_files(faq: Path, synonyms: Path | None, rerank: bool) -> Any:
    from kefu.knowledge.search import evaluate as ev
    from kefu.knowledge.search.engine import SearchEngine
    from kefu.knowledge.search.rerank import make_reranker
    from kefu.knowledge.search.text import Synonyms

    try:
        docs = ev.docs_from_lines(ev.read_jsonl(faq))
        groups = ev.read_synonyms(synonyms) if synonyms else []
    except (OSError, ValueError, KeyError) as exc:
        _fail(f"cannot read the FAQ: {exc}")
        raise  # unreachable
    reranker = None
    if rerank:
        reranker = make_reranker()
        reranker.warm(docs)
    return SearchEngine(docs, Synonyms(groups), reranker=reranker)


def _engine_from_db(rerank: bool | None) -> Any:
    from kefu.cli import _runtime, _with_close
    from kefu.knowledge import index

    rt = _runtime()
    if rerank is not None:
        rt.settings.kb_rerank = rerank

    async def go() -> Any:
        h = index.holder(rt)
        engine = await h.rebuild()
        if h.warm_task is not None:
            h.warm_task.cancel()
        if h.reranker is not None:
            err.print("[dim]embedding entries for the re-ranker (cached in var/kb-embeddings.npz)…[/dim]")
            await asyncio.to_thread(h.warm_now, engine)
        return engine

    return asyncio.run(_with_close(rt, go()))


def _engine(faq: Path | None, synonyms: Path | None, rerank: bool | None) -> Any:
    if faq is not None:
        if not faq.is_file():
            _fail(f"no file {faq}")
        return _engine_from_files(faq, synonyms, bool(rerank))
    return _engine_from_db(rerank)


@kb_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="the question; '-' reads one query per line from stdin")],
    top: Annotated[int, typer.Option(min=1, max=50, help="results per query")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (always JSON with '-')")] = False,
    faq: FaqOpt = None,
    synonyms: SynOpt = None,
    rerank: RerankOpt = None,
) -> None:
    """Search the knowledge base as an agent would (nothing is logged)."""
    engine = _engine(faq, synonyms, rerank)

    def results(q: str) -> list[dict[str, Any]]:
        return [{"key": h.doc.key, "question": h.doc.question, "score": round(h.score, 4),
                 "confidence": h.confidence} for h in engine.search(q, top=top)]  # fmt: skip

    if query == "-":
        for line in sys.stdin:
            q = line.strip()
            if q:
                sys.stdout.write(json.dumps({"query": q, "results": results(q)}, ensure_ascii=False) + "\n")
                sys.stdout.flush()
        return
    rows = results(query)
    if as_json:
        sys.stdout.write(json.dumps({"query": query, "results": rows}, ensure_ascii=False) + "\n")
        return
    if not rows:
        console.print("no results")
        raise typer.Exit(0)
    table = Table("#", "key", "question", "score", "confidence")
    for n, r in enumerate(rows, 1):
        table.add_row(str(n), r["key"], r["question"], f"{r['score']:.2f}", f"{r['confidence']:.2f}")
    console.print(table)


@kb_app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(help="TSV: query<TAB>expected key, one per line")],
    faq: FaqOpt = None,
    synonyms: SynOpt = None,
    rerank: RerankOpt = None,
    misses: Annotated[int, typer.Option(help="print this many misses")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
) -> None:
    """Top-1, recall@3, MRR and latency p50/p95 of the search on labelled queries."""
    from kefu.knowledge.search import evaluate as ev

    try:
        pairs = ev.read_eval(file)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    engine = _engine(faq, synonyms, rerank)
    known = {d.key for d in engine.docs}
    unknown = sorted({k for _, k in pairs if k not in known})
    if unknown:
        err.print(f"[yellow]warning:[/yellow] {len(unknown)} expected keys are not live entries, e.g. {unknown[:5]}")
    report = ev.evaluate(lambda q: [h.doc.key for h in engine.search(q, top=10)], pairs)
    figures = report.as_dict() | {"entries": len(engine.docs), "rerank": engine.reranker is not None}
    if as_json:
        sys.stdout.write(json.dumps(figures, ensure_ascii=False) + "\n")
    else:
        console.print(
            f"{report.n} queries over {len(engine.docs)} entries: top-1 {report.top1:.1%}, "
            f"recall@3 {report.recall3:.1%}, MRR {report.mrr:.3f}, latency p50 {report.p50_ms:.2f} ms, "
            f"p95 {report.p95_ms:.2f} ms"
        )
    for m in report.misses[:misses]:
        err.print(f"miss: {m['query']}  expected {m['expected']}  got {m['got']}")


@kb_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSON lines: key, category a/b, question, similar, keywords, answer")],
    publish: Annotated[bool, typer.Option("--publish", help="publish at once (a trusted bulk load)")] = False,
) -> None:
    """Create or update entries by key (a re-import of the same file changes nothing)."""
    from kefu.cli import _runtime, _with_close
    from kefu.knowledge import importer
    from kefu.knowledge.search import evaluate as ev

    try:
        lines = ev.read_jsonl(file)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    rt = _runtime()

    async def go() -> dict[str, Any]:
        async with rt.db.transaction() as s:
            return await importer.import_entries(s, actor=None, lines=lines, publish=publish)

    result = asyncio.run(_with_close(rt, go()))
    for e in result.get("errors", [])[:50]:
        err.print(f"line {e.get('line')} ({e.get('key') or '-'}): {e.get('message')}")
    console.print(
        f"created {result.get('created', 0)}, updated {result.get('updated', 0)}, "
        f"unchanged {result.get('unchanged', 0)}, errors {len(result.get('errors', []))}"
        + (" (published)" if publish else " (drafts: submit them for review)")
    )
    if result.get("errors"):
        raise typer.Exit(1)


@kb_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
) -> None:
    """Every entry as JSON lines (the import format plus status, products, channels and dates)."""
    from kefu.cli import _runtime, _with_close
    from kefu.knowledge import importer

    rt = _runtime()

    async def go() -> list[dict[str, Any]]:
        async with rt.db.transaction() as s:
            return await importer.export_entries(s)

    rows = asyncio.run(_with_close(rt, go()))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{len(rows)} entries written to {out}")


@kb_app.command("synonyms")
def synonyms_load(
    file: Annotated[Path, typer.Argument(help="TSV: canonical term, then its variants, tab-separated")],
) -> None:
    """Load synonym groups (merged into existing groups of the same canonical term)."""
    from kefu.cli import _runtime, _with_close
    from kefu.knowledge import demo
    from kefu.knowledge.search import evaluate as ev

    try:
        groups = ev.read_synonyms(file)
    except OSError as exc:
        _fail(str(exc))
    rt = _runtime()

    async def go() -> int:
        async with rt.db.transaction() as s:
            return await demo.load_synonyms(s, groups)

    n = asyncio.run(_with_close(rt, go()))
    console.print(f"{n} synonym groups created or extended")
