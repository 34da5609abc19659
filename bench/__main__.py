"""`make bench`: run every benchmark and print its figures beside a peer measured in the same run."""

from __future__ import annotations

import asyncio
import sys

from bench import banking, chat, complaints, foundation, knowledge, loadtest, routing, simulate


def main() -> int:
    results = asyncio.run(foundation.run_all())
    results += asyncio.run(banking.run_all())
    results += routing.main()
    results += simulate.main()
    results += knowledge.main()
    results += asyncio.run(complaints.run_all())
    results += asyncio.run(chat.run_all())
    results += loadtest.main()
    failed = [r for r in results if r.met is False]
    print()
    print(f"{len(results)} measurements, {len(results) - len(failed)} met their target, {len(failed)} missed")
    return 1 if failed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
