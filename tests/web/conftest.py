"""Browser fixtures: the real server on loopback, Debian's chromium driven by Playwright.

The server runs as `phienhieu serve` would (a subprocess, the sample SQLite
database created on first start) on a free 127.0.0.1 port. Chromium comes
from /usr/bin/chromium (scripts/setup-browser installs it, Playwright's Python
package and axe-core). Without them the browser tests skip locally and fail
under CI=true, so a missing browser can never pass unseen.

Every page a test opens is watched: each request it makes and each console
error is recorded, and the fixture fails the test if a request left
127.0.0.1 or the console reported an error the test did not expect.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Request,
        ViewportSize,
    )

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "web" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 360, "height": 740}
# Chrome reports an HTTP error status of the page itself as a console error; tests that
# open an error page on purpose declare the status they expect.
STATUS_ERROR = re.compile(r"the server responded with a status of (\d+)")


def _missing(what: str) -> NoReturn:
    """Skip locally, fail under CI: the browser tests must run in CI."""
    message = f"{what}; run scripts/setup-browser"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {message}")
    pytest.skip(f"browser tests skipped: {message}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `phienhieu serve` on a new SQLite database with the sample edition."""
    folder = tmp_path_factory.mktemp("web-server")
    port = _free_port()
    env = {
        **os.environ,
        "PHIENHIEU_DATABASE_URL": f"sqlite:///{folder / 'phienhieu.sqlite3'}",
        "PHIENHIEU_AUTO_INIT": "true",
    }
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from app.cli import main; main()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is missing")
    # launch() gives chromium a fresh, temporary user-data-dir, removed on close.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page and what it did: every request URL and every console error."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def goto(self, path: str, status: int = 200) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status == status, f"{path}: {response.status}"
        if status >= 400:
            self.expected_statuses.add(status)

    def expect_status(self, status: int) -> None:
        """The next page is an error page on purpose (the console will say so)."""
        self.expected_statuses.add(status)

    def shoot(self, name: str) -> Path:
        """A full-page screenshot in tests/artifacts/web/, named by page and width."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        path = ARTIFACTS / f"{name}-{width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def unexpected_console_errors(self) -> list[str]:
        out = []
        for text in self.console_errors:
            status = STATUS_ERROR.search(text)
            if status is None or int(status.group(1)) not in self.expected_statuses:
                out.append(text)
        return out

    def check(self) -> None:
        """No request left loopback; no console error the test did not expect."""
        foreign = [u for u in self.requests if urlsplit(u).hostname != "127.0.0.1"]
        assert not foreign, f"requests left 127.0.0.1: {foreign}"
        assert self.requests, "the page made no request at all"
        errors = self.unexpected_console_errors()
        assert not errors, f"console errors: {errors}"


def _watch(context: BrowserContext, base: str) -> Iterator[Watched]:
    page = context.new_page()
    watched = Watched(page, base)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_page_error(error: Any) -> None:
        watched.console_errors.append(f"uncaught: {error}")

    context.on("request", on_request)  # the context also sees requests of pages opened later
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield watched
    watched.check()
    context.close()


@pytest.fixture
def desktop(browser: Browser, server: str) -> Iterator[Watched]:
    """A page 1280 px wide, watched."""
    yield from _watch(browser.new_context(viewport=DESKTOP), server)


@pytest.fixture
def mobile(browser: Browser, server: str) -> Iterator[Watched]:
    """A phone-sized page, 360 px wide, with touch and the mobile viewport rules."""
    context = browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    yield from _watch(context, server)


@pytest.fixture
def no_script(browser: Browser, server: str) -> Iterator[Watched]:
    """A page with JavaScript turned off: the forms must still work."""
    yield from _watch(browser.new_context(viewport=DESKTOP, java_script_enabled=False), server)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        _missing(f"axe-core is missing at {AXE.relative_to(ROOT)}")
    return AXE.read_text("utf-8")


@pytest.fixture
def axe_page(browser: Browser, server: str) -> Iterator[Watched]:
    """A page where axe-core can be injected (the site's CSP forbids inline scripts)."""
    yield from _watch(browser.new_context(viewport=DESKTOP, bypass_csp=True), server)
