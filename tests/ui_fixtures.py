"""Fixtures for the app's tests: the app served by `python app.py` in a subprocess on a free port.

Import them into a test module (or conftest.py):

    from ui_fixtures import app_server  # noqa: F401  (pytest fixture; tests/ is on sys.path)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
START_TIMEOUT = 180.0  # seconds: importing torch and gradio on a busy 2-core machine is slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen
    log: Path
    temp_dir: Path | None = None  # its GRADIO_TEMP_DIR: uploads and downloads


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer on {url} within {timeout:.0f}s:\n"
                       f"{log.read_text(errors='replace')[-4000:]}")


def start_server(env_extra: dict[str, str] | None = None, port: int | None = None) -> Server:
    """`python app.py` on 127.0.0.1:<free port> with a temporary folder of its own, waiting until it answers."""
    port = port or free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"app-{port}.log"
    temp_dir = Path(tempfile.mkdtemp(prefix="lossapp-test-gradio-"))
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", "GRADIO_TEMP_DIR": str(temp_dir)}
    env.pop("PORT", None)
    env.update(env_extra or {})
    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=handle,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    server = Server(url, port, process, log, temp_dir)
    try:
        _wait_until_up(url, process, log, START_TIMEOUT)
    except Exception:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    """SIGTERM (the app shuts down as on Ctrl-C), then its temporary folder goes."""
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    if server.temp_dir is not None:
        shutil.rmtree(server.temp_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def app_server() -> Iterator[Server]:
    """The app, served once per test session."""
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


# -- the browser (Playwright driving Debian's Chromium; `playwright install` cannot download browsers here) --

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
BROWSER_TIMEOUT = 60_000  # ms: a busy 2-core machine


def _unavailable(message: str) -> None:
    """Under CI a browser test that cannot run is a failure, never a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = shutil.which("chromium")
    if path is None:
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    sync_api.expect.set_options(timeout=BROWSER_TIMEOUT)  # expect()'s own default is 5 s: too short when busy
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


DESKTOP = {"width": 1400, "height": 1000}
APP_READY = "#la-compute"  # the Compute button: the app's page is there
# the shown result's stamp (a new one per computation), and "a result with another stamp than `before` is shown"
STAMP = "() => document.querySelector('#la-result .la-result')?.dataset.stamp || ''"
NEW_STAMP = ("(before) => { const s = document.querySelector('#la-result .la-result')?.dataset.stamp; "
             "return !!s && s !== before; }")
# what a timed-out wait reports of the page
PAGE_STATE = r"""() => ({
    loss: document.querySelector('#la-loss input')?.value,
    value: document.querySelector('#la-value')?.textContent,
    result: document.querySelector('#la-result')?.innerText,
    note: document.querySelector('#la-input-note')?.innerText,
    pred: (document.querySelector('#la-pred textarea')?.value || '').slice(0, 200),
    card: (document.querySelector('#la-check-card')?.innerText || '').slice(0, 300),
    upload: (document.querySelector('#la-upload')?.textContent || '').replace(/\s+/g, ' ').slice(0, 300),
    summary: document.querySelector('#la-grade-summary')?.innerText,
    toasts: [...document.querySelectorAll('.toast-body')].map(t => t.innerText),
    pending: document.querySelectorAll('.pending, .generating').length})"""


def open_app(context: Any, url: str, on_request: Callable[[str], None] | None = None) -> Any:
    """A new page of the browser `context` on the app at `url`, once the app is there (its Compute button), with
    the default timeout BROWSER_TIMEOUT; every URL the page requests goes to `on_request`, from the first."""
    pg = context.new_page()
    pg.set_default_timeout(BROWSER_TIMEOUT)
    if on_request is not None:
        pg.on("request", lambda request: on_request(request.url))
    pg.goto(url)
    pg.wait_for_selector(APP_READY)
    return pg


@contextmanager
def app_page(browser: Any, url: str, viewport: dict[str, int] | None = None, locale: str = "en-US",
             on_request: Callable[[str], None] | None = None) -> Iterator[Any]:
    """`open_app` in a browser context of its own (DESKTOP-sized unless `viewport` says otherwise), closed after."""
    context = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
    try:
        yield open_app(context, url, on_request)
    finally:
        context.close()


def open_accordion(pg: Any, accordion: str, inside: str) -> None:
    """Open the accordion `accordion` (where it is closed) until `inside`, an element in it, is visible: a click that
    lands while a busy page is still re-rendering can be lost, so it is repeated (never a second click on an open one,
    which would close it)."""
    content = pg.locator(inside)
    for _ in range(5):
        if content.is_visible():
            return
        pg.locator(f"{accordion} button.label-wrap").first.click()
        try:
            expect(content).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            continue
    expect(content).to_be_visible()


def fill(pg: Any, selector: str, text: str) -> None:
    """Type `text` into the textarea of `selector` and leave it, so the app has the new value before the next click."""
    box = pg.locator(f"{selector} textarea")
    box.fill(text)
    box.press("Tab")


def wait(pg: Any, script: str, arg: object = None, what: str = "") -> None:
    """page.wait_for_function, failing with what the page (PAGE_STATE) and the app's server log showed then."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.wait_for_function(script, arg=arg)
    except PlaywrightTimeout:
        state = pg.evaluate(PAGE_STATE)
        log = ARTIFACTS / f"app-{urlparse(pg.url).port}.log"  # start_server's log of the app on that port
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise AssertionError(f"timed out waiting for {what or script}: page {state}\nserver log:\n{tail}") from None


TOAST_RECORDER = """() => {
    if (window.__laToasts) return;
    window.__laToasts = [];
    const entries = new WeakMap();  // a toast's entry follows its text while it is shown (the app relabels titles)
    const note = () => document.querySelectorAll('.toast-body').forEach(body => {
        const title = body.querySelector('.toast-title')?.innerText || '';
        if (!body.innerText.trim() || !title) return;
        if (!entries.has(body)) { entries.set(body, {}); window.__laToasts.push(entries.get(body)); }
        Object.assign(entries.get(body), {title, text: body.innerText});
    });
    new MutationObserver(note).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def record_toasts(pg: Any) -> None:
    """Keep every toast the page shows from now on (its title and text) in window.__laToasts: a toast leaves after
    its few seconds, and on a busy machine that can be before an assertion on the live page first looks."""
    pg.evaluate(TOAST_RECORDER)


def toast_with(pg: Any, text: str) -> dict[str, str]:
    """The first recorded toast (record_toasts) whose text contains `text`, waiting for it."""
    find = "(text) => (window.__laToasts || []).find(t => t.text.includes(text)) || null"
    wait(pg, find, text, what=f"a toast with {text!r}")
    return pg.evaluate(find, text)


def expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertion on `locator` (timeout BROWSER_TIMEOUT, set by the browser fixture).
    A browser test checks the page with this or with a wait_for_function predicate, never with a snapshot read
    right after an action: on a loaded machine the page catches up late. (Imported here, when a test runs:
    without Playwright the browser fixture says why.)"""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def leaves_machine(url: str) -> bool:
    """True for a request that would go anywhere but this machine (data:, blob: and about: stay)."""
    parsed = urlparse(url)
    return parsed.scheme not in ("data", "blob", "about") and parsed.hostname not in ("127.0.0.1", "localhost")


SCREENSHOTS = ARTIFACTS / "screenshots"


def shot(pg: Any, name: str) -> Path:
    """A full-page screenshot of the page as artifacts/screenshots/NAME.png (a test artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path
