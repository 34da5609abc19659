"""Shared harness of the browser tests: Debian's chromium driven by Playwright, against a real uvicorn
server on a fresh SQLite database built from the migrations. Skipped, with the reason, when chromium
is missing."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
MISSING: str | None = None
if not Path(CHROMIUM).exists():
    MISSING = f"browser tests need chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
try:
    from playwright import sync_api
except ImportError:  # pragma: no cover - playwright is a dev dependency
    sync_api = None  # type: ignore[assignment]
    MISSING = MISSING or "browser tests need playwright (pip install -e .[dev])"

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every browser test, with the reason, when chromium or playwright is missing."""
    if MISSING is None:
        return
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=MISSING))


ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
PASSWORD = "E2e-pass-2026x"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(tmp: Path) -> dict[str, str]:
    return {
        "KEFU_DATABASE_URL": f"sqlite:///{tmp / 'kefu.db'}",
        "KEFU_VAR_DIR": str(tmp / "var"),
        "KEFU_SECRET_KEY": "e2e-secret-" + base64.b16encode(os.urandom(12)).decode(),
        "KEFU_DATA_KEY": "1:" + base64.b64encode(os.urandom(32)).decode(),
        "KEFU_ENVIRONMENT": "test",
        "KEFU_ARGON2_TIME_COST": "1",
        "KEFU_ARGON2_MEMORY_KIB": "1024",
        "KEFU_TOTP_REQUIRED_ROLES": "admin",
        "KEFU_EMBEDDED_WORKER": "false",
        "KEFU_DEMO_ON_FIRST_START": "false",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_KB_RERANK": "false",  # the re-ranker embeds every entry at start (~40 s of CPU); tested on its own
    }


def settings_from(env: dict[str, str]) -> Any:
    """Settings for seeding the server's database from the test process."""
    from kefu.core.config import Settings

    return Settings(
        database_url=env["KEFU_DATABASE_URL"], var_dir=Path(env["KEFU_VAR_DIR"]),
        secret_key=env["KEFU_SECRET_KEY"], data_key=env["KEFU_DATA_KEY"],  # type: ignore[arg-type]
        argon2_time_cost=1, argon2_memory_kib=1024, environment="test",
    )  # fmt: skip


@contextmanager
def running_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, seed: Callable[[dict[str, str]], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Migrate a fresh database, seed it (``seed(env)`` returns facts for the tests), serve it on a free port."""
    from kefu.core.migrate import upgrade

    tmp = tmp_path_factory.mktemp(name)
    (tmp / "var").mkdir()
    env = server_env(tmp)
    upgrade(env["KEFU_DATABASE_URL"])
    seeded = seed(env)
    port = free_port()
    log_file = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "kefu.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield {"base": base, **seeded}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # still draining requests (a load test): stop it hard
            proc.kill()
            proc.wait(timeout=10)
        log_file.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())  # the confirm() before consequential actions
    yield pg
    context.close()


def context_page(browser: Any, viewport: dict[str, int] | None = None) -> Any:
    """A page in a new browser context (its own cookies: another person), Chinese locale, Shanghai time."""
    context = browser.new_context(viewport=viewport or VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())
    return pg


def sign_in(pg: Any, base: str, staff_no: str, then: str = "/phone") -> None:
    """Sign in with the test password and open ``then``."""
    pg.goto(base + "/login")
    pg.fill("#staff_no", staff_no)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/")
    pg.goto(base + then)
