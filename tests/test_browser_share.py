"""Sharing, the keyboard, errors at their field and copying, in a real browser (Playwright driving Debian's
Chromium against `python app.py`).

A computation's link (lossapp.ui.share) opened in a new page shows the same result, for the calculator, the
Check tab and the confusion matrix; Ctrl+Enter computes from any input, Enter in the claimed answer checks
(lossapp.ui.keyboard); a bad input's message appears next to its field (lossapp.ui.field_errors). Every test
waits for what it asserts (no sleeps)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    BROWSER_TIMEOUT,
    DESKTOP,
    Server,
    app_server,
    browser,
    expect,
    open_app,
)

pytestmark = pytest.mark.browser

PRED, TARGET, VALUE = "[0.3, 0.8]", "[1, 0]", "1.40671"  # BCE: (−ln 0.3 − ln 0.2) / 2


@pytest.fixture()
def context(browser) -> Iterator[object]:  # noqa: F811
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    ctx.set_default_timeout(BROWSER_TIMEOUT)
    try:
        yield ctx
    finally:
        ctx.close()


def switch_to_chinese(page) -> None:
    """Choose 中文 and wait for the page's labels in it. A click that lands while the page is still wiring its
    events (a phone-sized page under load) can be lost, so it is repeated until the radio holds it."""
    radio = page.locator("#la-lang input[value=zh]")
    for _ in range(10):
        radio.click()
        try:
            expect(radio).to_be_checked(timeout=3000)
            break
        except AssertionError:
            continue
    expect(page.locator("#la-share-copy")).to_have_text("复制链接")


def _fill(page, selector: str, value: str) -> None:
    box = page.locator(f"{selector} textarea, {selector} input").first
    box.fill(value)


# the share bar's link once it is one (an address with a query) holding every parameter of `want`: read in the
# same instant it is tested (the bar is rewritten as the results arrive), falsy until then
SHARED_LINK = """(want) => {
    const box = document.querySelector('#la-share-link textarea, #la-share-link input');
    const value = box ? box.value : '';
    if (!/^http:\\/\\/.*\\?tab=/.test(value)) return false;
    const query = new URL(value).searchParams;
    return Object.entries(want).every(([key, v]) => query.get(key) === v) ? value : false; }"""


def _link(page, **want: str) -> str:
    """The link of the last computation, once the share bar shows it with the parameters `want`."""
    return page.wait_for_function(SHARED_LINK, arg=want).json_value()


def test_a_calculator_link_reproduces_the_result(context, app_server: Server) -> None:  # noqa: F811
    page = open_app(context, app_server.url)
    _fill(page, "#la-pred", PRED)
    _fill(page, "#la-target", TARGET)
    page.click("#la-compute")
    expect(page.locator("#la-value")).to_have_text(VALUE)
    link = _link(page, pred=PRED, target=TARGET)
    query = parse_qs(urlparse(link).query)
    assert query["tab"] == ["calculator"] and query["loss"] == ["bce"]
    assert query["pred"] == [PRED] and query["target"] == [TARGET]
    page.wait_for_function("(want) => location.href === want", arg=link)  # the address bar holds it too

    other = open_app(context, link)
    expect(other.locator("#la-value")).to_have_text(VALUE)
    expect(other.locator("#la-pred textarea")).to_have_value(PRED)
    expect(other.locator("#la-share-link textarea, #la-share-link input").first).to_have_value(link)  # to pass on


def test_a_link_with_parameters_and_language(context, app_server: Server) -> None:  # noqa: F811
    url = (app_server.url + "?tab=calculator&loss=smooth_l1&pred=%5B0.5%2C+2.0%5D&target=%5B0.0%2C+0.0%5D"
           "&reduction=sum&p.beta=0.5&lang=zh")
    page = open_app(context, url)
    # smooth L1, beta 0.5: |0.5| ≤ 0.5 → 0.5·0.25/0.5 = 0.25; |2| > 0.5 → 2 − 0.25 = 1.75; sum 2.0
    expect(page.locator("#la-value")).to_have_text("2")
    expect(page.locator("#la-lang input[value=zh]")).to_be_checked()


def test_check_and_confusion_links(context, app_server: Server) -> None:  # noqa: F811
    page = open_app(context, app_server.url)
    page.click("#la-tabs [role=tab] >> nth=2")  # Check my answer
    _fill(page, "#la-check-claimed", "0.4023")
    page.click("#la-check-button")
    expect(page.locator("#la-check-result")).to_contain_text("mistake")
    link = _link(page, tab="check", claimed="0.4023")
    assert parse_qs(urlparse(link).query)["claimed"] == ["0.4023"]
    other = open_app(context, link)
    expect(other.locator("#la-check-result")).to_contain_text("mistake")
    expect(other.locator("#la-check-claimed textarea, #la-check-claimed input").first).to_have_value("0.4023")

    conf = open_app(context, app_server.url + "?tab=confusion&tp=30&fp=10&fn=10&tn=50&metric=iou")
    # IoU = 30 / (30 + 10 + 10) = 0.6
    expect(conf.locator("#la-conf-headline")).to_contain_text("iou = 0.6")


def test_copy_link_puts_it_on_the_clipboard(context, app_server: Server) -> None:  # noqa: F811
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url.rstrip("/"))
    page = open_app(context, app_server.url)
    page.click("#la-compute")
    link = _link(page)
    page.click("#la-share-copy")
    page.wait_for_function("async (want) => (await navigator.clipboard.readText()) === want", arg=link)


def test_ctrl_enter_computes_and_enter_checks(context, app_server: Server) -> None:  # noqa: F811
    page = open_app(context, app_server.url)
    _fill(page, "#la-pred", PRED)
    _fill(page, "#la-target", TARGET)
    page.locator("#la-target textarea").press("Control+Enter")
    expect(page.locator("#la-value")).to_have_text(VALUE)
    expect(page.locator("#la-target textarea")).to_have_value(TARGET)  # no new line typed

    _fill(page, "#la-claimed", "1.4067")
    page.locator("#la-claimed textarea, #la-claimed input").first.press("Enter")
    expect(page.locator("#la-verdict")).to_contain_text("exact")

    page.click("#la-tabs [role=tab] >> nth=2")  # Check my answer: Enter in the claim checks
    claimed = page.locator("#la-check-claimed textarea, #la-check-claimed input").first
    claimed.fill("0.4023")
    claimed.press("Enter")
    expect(page.locator("#la-check-result")).to_contain_text("mistake")
    _fill(page, "#la-check-pred", "[0.2947, 0.5898, 0.4863]")
    claimed.fill("0.9263")
    page.locator("#la-check-pred textarea").press("Meta+Enter")
    expect(page.locator("#la-check-result")).to_contain_text("exact")

    page.click("#la-tabs [role=tab] >> nth=1")  # the confusion matrix
    tp = page.locator("#la-tp input").first
    tp.fill("30")
    tp.press("Control+Enter")
    expect(page.locator("#la-dice-f1")).to_contain_text("0.8")  # Dice = 60 / (60 + 5 + 10)


def test_an_error_shows_next_to_its_field(context, app_server: Server) -> None:  # noqa: F811
    page = open_app(context, app_server.url)
    _fill(page, "#la-pred", "[0.3, x]")
    _fill(page, "#la-target", TARGET)
    page.click("#la-compute")
    note = page.locator("#la-pred .la-field-error")
    expect(note).to_contain_text("expected a number, got 'x'")
    expect(page.locator("#la-target .la-field-error")).to_have_count(0)

    _fill(page, "#la-pred", "[0.3, 0.8, 0.5]")  # editing the field clears its note
    expect(note).to_have_count(0)
    page.click("#la-compute")
    expect(page.locator("#la-pred .la-field-error")).to_contain_text("same shape")
    expect(page.locator("#la-target .la-field-error")).to_contain_text("same shape")

    page.click("#la-tabs [role=tab] >> nth=2")
    claimed = page.locator("#la-check-claimed textarea, #la-check-claimed input").first
    claimed.fill("about 0.9")
    page.click("#la-check-button")
    expect(page.locator("#la-check-claimed .la-field-error")).to_contain_text("expected a number")


def test_a_parameter_error_shows_at_its_control(context, app_server: Server) -> None:  # noqa: F811
    url = app_server.url + "?tab=calculator&loss=cross_entropy&pred=%5B%5B1%2C+2%5D%2C+%5B3%2C+4%5D%5D&target=%5B0%2C+1%5D&p.weight=%5B1%2C+x%5D"
    page = open_app(context, url)
    note = page.locator(".la-params .la-field-error")
    expect(note).to_contain_text("parameter weight: expected a number")
    expect(note).to_have_count(1)
    expect(page.locator("#la-pred .la-field-error")).to_have_count(0)


def test_copy_the_value_a_formula_and_the_solution_and_download_the_latex(context, app_server: Server) -> None:  # noqa: F811
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url.rstrip("/"))
    page = open_app(context, app_server.url)
    _fill(page, "#la-pred", PRED)
    _fill(page, "#la-target", TARGET)
    page.click("#la-compute")
    expect(page.locator("#la-value")).to_have_text(VALUE)
    clipboard = "async (want) => (await navigator.clipboard.readText()) === want"

    page.locator("#la-result .la-copy").click()
    page.wait_for_function(clipboard, arg=VALUE)

    formulas = page.locator("#la-solution .katex-display .la-copy")
    expect(formulas.first).to_be_attached()
    formulas.first.click(force=True)  # shown on hover
    page.wait_for_function(clipboard, arg=r"\log p_n")  # step 1's formula, as LaTeX

    page.locator("#la-solution").hover()
    page.locator("#la-solution button[aria-label*='opy'], #la-solution button[title*='opy']").first.click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()).includes('$$L = \\\\frac{2.813}{2}')")

    page.click("#la-out-tabs [role=tab] >> nth=5")  # Downloads
    with page.expect_download() as download:
        page.click("#la-dl-tex")
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "bce_solution_en.tex"
    assert "\\documentclass[11pt]{article}" in text and text.rstrip().endswith("\\end{document}")


def test_sharing_on_a_phone_in_dark_theme_and_chinese(browser, app_server: Server) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(BROWSER_TIMEOUT)
    try:
        page = open_app(context, app_server.url + "?__theme=dark")
        switch_to_chinese(page)
        _fill(page, "#la-pred", PRED)
        _fill(page, "#la-target", TARGET)
        page.click("#la-compute")
        expect(page.locator("#la-value")).to_have_text(VALUE)
        link = _link(page, pred=PRED, lang="zh")
        query = parse_qs(urlparse(link).query)
        assert query["lang"] == ["zh"] and query["__theme"] == ["dark"] and query["pred"] == [PRED]

        other = open_app(context, link)
        expect(other.locator("#la-value")).to_have_text(VALUE)
        expect(other.locator("#la-lang input[value=zh]")).to_be_checked()
        assert other.evaluate("() => document.body.classList.contains('dark')")
    finally:
        context.close()


# every formula with a copy button: [whether the button is clear of the formula's box, whether the formula's box
# scrolls when its content is wider, whether the button is inside the viewport]
COPY_BUTTONS_CLEAR = """() => [...document.querySelectorAll('#la-check-solution .la-copyable')].map((display) => {
  const formula = display.querySelector(':scope > .katex'), button = display.querySelector(':scope > .la-copy');
  const f = formula.getBoundingClientRect(), b = button.getBoundingClientRect();
  const scrolls = formula.scrollWidth <= formula.clientWidth || getComputedStyle(formula).overflowX === 'auto';
  return [b.left >= f.right - 0.5, scrolls, b.right <= innerWidth];
})"""


def test_a_formulas_copy_button_never_covers_it_on_a_phone(browser, app_server: Server) -> None:  # noqa: F811
    """On a phone a formula can be wider than the column: it scrolls on its own, its copy button beside it."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(BROWSER_TIMEOUT)
    try:
        page = open_app(context, app_server.url + "?tab=check&loss=bce&pred=%5B0.2947%2C+0.5898%2C+0.4863%5D"
                                                  "&target=%5B1%2C+0%2C+0%5D&claimed=0.9264")
        page.wait_for_function("() => document.querySelectorAll('#la-check-solution .la-copyable').length >= 10")
        placed = page.evaluate(COPY_BUTTONS_CLEAR)
        assert placed and all(all(checks) for checks in placed), placed
        wide = page.evaluate("() => [...document.querySelectorAll('#la-check-solution .la-copyable > .katex')]"
                             ".some((f) => f.scrollWidth > f.clientWidth)")
        assert wide  # the loss's own formula is wider than a phone's column: the case the layout is for
    finally:
        context.close()


SPACE_PAGE = """<!doctype html><html><body><script>
window.received = [];
window.addEventListener('message', (event) => window.received.push({origin: event.origin, data: event.data}));
</script><iframe id="app" src="%s" allow="local-network-access" style="width: 1400px; height: 1000px"></iframe></body></html>"""


def test_inside_a_space_the_link_is_handed_to_the_space_page(context, app_server: Server) -> None:  # noqa: F811
    """Inside a Hugging Face Space the app runs in an iframe of huggingface.co, which only sees the app's links
    through postMessage: the Space page is served here by Playwright (nothing leaves the machine)."""
    space = "https://huggingface.co/spaces/someone/lossapp"
    # a public page may frame the app on 127.0.0.1 only with Chromium's local-network-access permission
    context.grant_permissions(["local-network-access"], origin="https://huggingface.co")
    context.route(space, lambda route: route.fulfill(content_type="text/html", body=SPACE_PAGE % app_server.url))
    page = context.new_page()
    page.goto(space)
    app = page.frame_locator("#app")
    app.locator("#la-compute").wait_for()
    app.locator("#la-pred textarea").fill(PRED)
    app.locator("#la-target textarea").fill(TARGET)
    app.locator("#la-compute").click()
    expect(app.locator("#la-value")).to_have_text(VALUE)
    page.wait_for_function("() => window.received.some((m) => m.data && m.data.queryString)")
    message = page.evaluate("() => window.received.find((m) => m.data && m.data.queryString)")
    query = parse_qs(message["data"]["queryString"].lstrip("?"))
    assert query["tab"] == ["calculator"] and query["pred"] == [PRED] and query["target"] == [TARGET]
    assert message["data"]["hash"] == ""
