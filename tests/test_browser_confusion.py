"""The confusion-matrix tab's keyboard and errors, and a switch of the calculator's loss, in a real browser
(Playwright driving Debian's Chromium against `python app.py`).

Enter in the confusion tab's claimed answer checks it, Ctrl+Enter in its masks computes from them
(lossapp.ui.keyboard); a bad count, metric or claim shows its message next to that field and in the result area,
and the previous result is gone (lossapp.ui.confusion_tab, lossapp.ui.field_errors); picking softmax_focal in the
calculator loads its example, which computes, and a per-class α of another length than the input's classes is
blamed at α. Every test waits for what it asserts (no sleeps)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    BROWSER_TIMEOUT,
    Server,
    app_server,
    browser,
    expect,
    shot,
)

from lossapp.i18n import tr
from lossapp.registry import LOSSES

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    ctx.set_default_timeout(BROWSER_TIMEOUT)
    try:
        pg = ctx.new_page()
        pg.goto(app_server.url)
        pg.wait_for_selector("#la-compute")
        yield pg
    finally:
        ctx.close()


def _box(pg, selector: str):
    return pg.locator(f"{selector} textarea, {selector} input").first


def _confusion(pg) -> None:
    pg.click("#la-tabs [role=tab] >> nth=1")
    expect(pg.locator("#la-conf-compute")).to_be_visible()
    expect(pg.locator("#la-dice-f1")).to_contain_text("0.7273")  # article 003's counts, computed on opening


def test_enter_in_the_claim_checks(page) -> None:
    _confusion(page)
    claimed = _box(page, "#la-conf-claimed")
    claimed.fill("0.7273")
    claimed.press("Enter")
    expect(page.locator("#la-conf-headline .la-verdict")).to_contain_text("exact")


def test_ctrl_enter_in_the_masks_uses_them(page) -> None:
    """(On a fresh page: a Compute writes the page's link, which a page load still under way would run again.)"""
    _confusion(page)
    page.locator("#la-conf-masks").get_by_text("From a prediction and a target mask").click()
    _box(page, "#la-conf-pred").fill("[0.9, 0.2, 0.7, 0.4]")
    target = _box(page, "#la-conf-target")
    target.fill("[1, 0, 0, 1]")
    target.press("Control+Enter")
    for cell in ("tp", "fp", "fn", "tn"):  # ŷ = [1, 0, 1, 0] against [1, 0, 0, 1]: one of each
        expect(page.locator(f"#la-cm-{cell}")).to_have_text(f"1{cell.upper()}")
    expect(page.locator("#la-dice-f1")).to_contain_text("0.5")
    expect(_box(page, "#la-tp")).to_have_value("1")
    expect(target).to_have_value("[1, 0, 0, 1]")  # no new line typed


@pytest.mark.parametrize(("fill", "fields", "words"), [
    ({"#la-tp": "-1"}, ("#la-tp",), "count for tp, got -1"),
    ({"#la-tn": ""}, ("#la-tn", "#la-conf-metric"), "expected tn for metric mcc"),
    ({"#la-conf-claimed": "abc"}, ("#la-conf-claimed",), "claimed: expected a number"),
])
def test_a_bad_count_metric_or_claim_is_shown_at_its_field_and_clears_the_result(page, fill, fields,
                                                                                 words) -> None:
    _confusion(page)
    if "#la-tn" in fill:  # MCC needs TN
        metric = page.locator("#la-conf-metric input")
        metric.click()
        page.get_by_role("option", name="mcc", exact=True).click()
        expect(metric).to_have_value("mcc")
    for selector, text in fill.items():
        _box(page, selector).fill(text)
    page.click("#la-conf-compute")
    for selector in fields:
        expect(page.locator(f"{selector} .la-field-error")).to_contain_text(words)
    expect(page.locator("#la-conf-headline .la-result-error")).to_contain_text(words)
    expect(page.locator("#la-dice-f1")).to_have_count(0)  # the previous result is gone
    expect(page.locator("#la-cm-tp")).to_have_text("—TP")
    if "#la-tp" in fill:
        shot(page, "confusion_error")


def test_on_a_phone_the_matrix_fits_and_the_worked_identity_scrolls(browser, app_server: Server) -> None:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    ctx.set_default_timeout(BROWSER_TIMEOUT)
    try:
        pg = ctx.new_page()
        pg.goto(app_server.url)
        pg.wait_for_selector("#la-compute")
        _confusion(pg)
        expect(pg.locator("#la-conf-identity .katex-display").first).to_be_visible()
        pg.wait_for_function("""() => [...document.querySelectorAll('#la-conf-identity .katex-display')].every((d) => {
            const r = d.getBoundingClientRect();
            return r.right <= window.innerWidth + 1 && getComputedStyle(d).overflowX === 'auto'; })""")
        # the whole matrix in view: its last column (FN, TN) inside the screen
        pg.wait_for_function("""() => ['#la-cm-fn', '#la-cm-tn'].every((id) => {
            const cell = document.querySelector(id);
            return cell && cell.getBoundingClientRect().right <= window.innerWidth; })""")
        shot(pg, "confusion_phone_identity")
    finally:
        ctx.close()


def test_switching_to_softmax_focal_loads_its_example_and_a_wrong_alpha_is_blamed_at_alpha(page) -> None:
    spec = LOSSES["softmax_focal"]
    title = tr(spec.title, "en")
    box = page.locator("#la-loss input")
    box.click()
    box.fill(title)
    page.get_by_role("option", name=f"{title} · {spec.name}", exact=True).click()
    expect(page.locator("#la-input-note")).to_contain_text(f"Inputs replaced by the example of {title}")
    pred = page.locator("#la-pred textarea")
    expect(pred).to_have_value(spec.example["pred"])
    page.click("#la-compute")
    expect(page.locator("#la-value")).to_be_visible()

    pred.fill("[[2.0, 0.5], [0.1, 1.5]]")
    page.locator("#la-target textarea").fill("[0, 1]")
    page.click("#la-compute")
    alpha = page.locator("#la-tab-calculator .la-field-error[data-field='param:alpha']")
    expect(alpha).to_contain_text("parameter alpha: expected one value per class, shape (2,)")
    expect(alpha).to_contain_text("got shape (3,)")
    expect(page.locator("#la-value")).to_have_count(0)
