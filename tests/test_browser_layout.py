"""The app's layout in a real browser (Playwright driving Debian's Chromium): readable on a 1400×1000 desktop and on a
390×844 phone, in light and dark theme, in English and 中文.

- no table column is clipped at 1400 px (the per-element table of BCE and of a 12-column cross-entropy, the
  comparison with PyTorch, the worked solution's comparison), and no cell is broken inside a word or a number;
- on a phone the five tabs are labelled and in view, the dropdowns' values are not under their arrows, the badge
  stays inside its card, a wide table scrolls sideways in its box instead of squeezing its columns;
- in the dark theme the confusion matrix's TP/FN/FP/TN captions have contrast against their cells;
- the plots name their legends and keep a probability axis within [0, 1];
- a screenshot of every tab in both languages and both themes, on the desktop and on the phone, lands in
  artifacts/screenshots/ as <tab>_<lang>_<theme>.png and <tab>_<lang>_<theme>_phone.png.

Every check waits for the condition it asserts (a wait_for_function predicate or Playwright's expect), never sleeps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    SCREENSHOTS,
    STAMP,
    Server,
    app_server,
    browser,
    expect,
    open_app,
    shot,
    wait,
)

import lossapp
from lossapp.i18n import msg, tr
from lossapp.lab import run_experiment
from lossapp.registry import lookup
from lossapp.ui import calculator
from lossapp.ui.lab_tab import FIRST as LAB_FIRST
from lossapp.ui.lab_tab import say as lab_say
from lossapp.ui.strings import t

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
TABS = ["calculator", "confusion", "check", "curves", "examples", "lab"]
READY = {"calculator": "#la-badge", "confusion": "#la-cm-tp", "check": "#la-check-card[data-verdict]",
         "curves": "#la-curve-trunc svg", "examples": "#la-card-002_bce_three_pixels",
         "lab": "#la-lab-verdict[data-holds]"}
CE_2D = ("[[1.5, -0.3, -0.8], [0.2, -2.1, 0.4]]", "[0, 2]")
# (N, C, d1, d2) = (2, 3, 2, 2): the per-element table has 12 columns, four of them lists of 3
CE_4D = ("[[[[-1.126, 0.849], [0.468, -1.152]], [[0.692, -0.158], [-0.251, -0.316]], "
         "[[1.444, -0.434], [-2.115, 0.266]]], [[[0.166, 0.932], [0.618, 0.874]], "
         "[[1.259, -0.413], [-0.143, 2.005]], [[-0.841, -0.112], [0.054, -2.316]]]]",
         "[[[2, 0], [1, 1]], [[1, 2], [1, 1]]]")

NEW_RESULT = """([before, caption]) => { const r = document.querySelector('#la-result .la-result');
    return !!r && r.dataset.stamp !== before && !!document.querySelector('#la-badge')
        && r.querySelector('.la-caption').textContent.startsWith(caption); }"""
# the details of a new computation: its table (of `rows` rows: every computation here has another count)
DETAILS = """(rows) => document.querySelector('#la-table-wrap')?.dataset.rows === String(rows)"""

# a box (or a box inside it) whose content is wider than itself: [id, scrollWidth, clientWidth] for each
CLIPPED = """(selectors) => selectors.flatMap(sel => [...document.querySelectorAll(sel)])
    .flatMap(e => [e, ...e.querySelectorAll('*')])
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display === 'block')
    .map(e => [e.id || e.className || e.tagName, e.scrollWidth, e.clientWidth])"""
# the charts of a tab whose title, plot or legend is wider than the chart's box or runs off the page: [id, part]
CHARTS_FIT = """(tab) => { const out = [];
    for (const chart of document.querySelectorAll(`#la-tab-${tab} .la-chart`)) {
        if (chart.offsetParent === null) continue;
        const box = chart.getBoundingClientRect();
        if (box.left < 0 || box.right > document.documentElement.clientWidth + 1) out.push([chart.id, 'page']);
        for (const part of chart.querySelectorAll('.la-chart-title, .la-chart-legend, svg')) {
            const r = part.getBoundingClientRect();
            if (r.width === 0 || r.left < box.left - 1 || r.right > box.right + 1
                || part.scrollWidth > Math.ceil(r.width) + 1) out.push([chart.id, part.className.baseVal ?? part.className]);
        }
    }
    return out; }"""
# table cells with a word or a number broken over two lines ("agree/s", "1.58e-/08"): [word, line boxes]
BROKEN_CELLS = """(selector) => {
    const out = [];
    for (const cell of document.querySelectorAll(selector)) {
        if (cell.offsetParent === null) continue;
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of node.textContent.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index); range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) out.push([word[0], lines.size]);
            }
        }
    }
    return out; }"""


def open_page(browser, url: str, viewport: dict[str, int], theme: str) -> object:  # noqa: F811
    pg = open_app(browser.new_context(viewport=viewport, locale="en-US"), f"{url}?__theme={theme}")
    wait(pg, "(dark) => document.body.classList.contains('dark') === dark", theme == "dark")
    # the page load fills the Check tab and the article examples: wait for it before anything else
    for tab, ready in (("check", READY["check"]), ("examples", READY["examples"])):
        main_tab(pg, tab, "en").click()
        expect(pg.locator(ready)).to_contain_text("0.9")
    main_tab(pg, "calculator", "en").click()
    return pg


def main_tab(pg, tab: str, lang: str) -> object:
    label = lab_say("tab", lang) if tab == "lab" else t(f"tab_{tab}", lang)
    return pg.locator("#la-tabs").get_by_role("tab", name=label, exact=True)


def out_tab(pg, key: str, lang: str) -> object:
    return pg.locator("#la-out-tabs").get_by_role("tab", name=t(key, lang), exact=True)


def switch_language(pg, lang: str) -> None:
    pg.locator("#la-lang").get_by_text(t("language_name", lang), exact=True).click()
    expect(pg.locator("#la-compute")).to_have_text(t("compute", lang))
    expect(main_tab(pg, "examples", lang)).to_be_visible()


def compute(pg, lang: str, loss: str = "", pred: str = "", target: str = "", rows: int = 3) -> None:
    """Compute (another loss and input when given) and wait for the value and the details of this computation."""
    spec = lookup(loss or "bce")
    if loss:
        box = pg.locator("#la-loss input")
        box.click()
        box.fill(spec.name)
        pg.locator("ul[role=listbox] li").filter(has_text=f" · {spec.name}").first.click()
        expect(box).to_have_value(f"{tr(spec.title, lang)} · {spec.name}")
        expect(pg.locator("#la-info")).to_contain_text(tr(spec.title, lang))  # the loss's change has landed
        # and so has the switch of the inputs (kept or replaced by the example, said in the note), so that what is
        # typed next is not replaced after it
        expect(pg.locator("#la-input-note")).to_contain_text(tr(spec.title, lang))
        for box_id, text in (("#la-pred", pred), ("#la-target", target)):
            pg.locator(f"{box_id} textarea").fill(text)
            expect(pg.locator(f"{box_id} textarea")).to_have_value(text)
    before = pg.evaluate(STAMP)
    pg.locator("#la-compute").click()
    wait(pg, NEW_RESULT, [before, f"{tr(spec.title, lang)} · "])
    out_tab(pg, "out_table", lang).click()  # a tab's content is in the page while the tab is open
    wait(pg, DETAILS, rows)


def show(pg, tab: str, lang: str) -> None:
    """Open a main tab and wait for its content (the calculator: a computed result; the Lab: a run's verdict and
    plots)."""
    main_tab(pg, tab, lang).click()
    expect(pg.locator(f"#la-tab-{tab}")).to_be_visible()
    if tab == "lab" and not pg.locator(READY[tab]).count():
        pg.locator("#la-lab-run").click()
    expect(pg.locator(READY[tab]).first).to_be_visible()
    if tab == "examples":
        expect(pg.locator(READY[tab])).to_contain_text("0.926341")
    if tab == "curves":
        expect(pg.locator("#la-curve-focal-legend")).to_contain_text(t("legend_gamma", lang))
        expect(pg.locator("#la-curve-focal-title")).to_have_text(t("focal_title", lang))
    if tab == "lab":  # the first run's first plot, drawn with its title in the page's language
        expect(pg.locator("#la-lab-verdict")).to_have_attribute("data-experiment", LAB_FIRST)
        record = run_experiment(LAB_FIRST, {}, lang=lang)
        expect(pg.locator("#la-lab-plot-0-title")).to_have_text(next(iter(record["panels"].values())))
        expect(pg.locator("#la-lab-plot-0-legend")).to_contain_text(record["series"][-1]["name"])
    if tab in ("curves", "lab"):  # every chart: title, plot and legend inside its box, inside the page
        wait(pg, "(tab) => [...document.querySelectorAll(`#la-tab-${tab} .la-chart`)].filter(c => c.offsetParent)"
                 ".every(c => c.querySelector('svg [aria-roledescription=axis]'))", tab)
        try:  # a chart drawn at first at another width is redrawn to fit its box: wait for it
            wait(pg, f"(tab) => ({CHARTS_FIT})(tab).length === 0", tab)
        except Exception:
            pytest.fail(f"{tab}: charts that do not fit: {pg.evaluate(CHARTS_FIT, tab)}")


# -- desktop: tables ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desktop(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    pg = open_page(browser, app_server.url, DESKTOP, "light")
    try:
        yield pg
    finally:
        pg.context.close()


def assert_tables_fit(pg, what: str) -> None:
    """The per-element table and the comparison, each in its own tab: no box clips its columns, no cell breaks."""
    for key, wrap in (("out_table", "#la-table-wrap"), ("out_comparison", "#la-comparison-wrap")):
        out_tab(pg, key, "en").click()
        expect(pg.locator(wrap)).to_be_visible()
        assert pg.evaluate(CLIPPED, [wrap]) == [], (what, key)
        assert pg.evaluate(BROKEN_CELLS, f"{wrap} th, {wrap} td") == [], (what, key)
        shot(pg, f"layout_{what}_{key.removeprefix('out_')}")


def test_no_table_column_is_clipped_at_1400px(desktop) -> None:
    pg = desktop
    compute(pg, "en")
    assert_tables_fit(pg, "bce")
    headers = pg.locator("#la-table-table th").all_inner_texts()
    assert "l" in headers and "clamp log(1−p)" in headers  # the loss column, in view (the box clips none)
    comparison = pg.locator("#la-comparison-table th").all_inner_texts()
    assert comparison[-2:] == [t("col_diff", "en"), t("col_agrees", "en")]
    show(pg, "check", "en")  # the Check tab's conventions table
    expect(pg.locator("#la-check-conventions-wrap")).to_contain_text("PyTorch")
    assert pg.evaluate(CLIPPED, ["#la-check-conventions-wrap"]) == []
    assert pg.evaluate(BROKEN_CELLS, "#la-check-conventions-wrap th, #la-check-conventions-wrap td") == []
    main_tab(pg, "calculator", "en").click()
    # the worked solution's own comparison table: whole numbers and words on one line ("1.58e-08", "agrees")
    out_tab(pg, "out_solution", "en").click()
    assert pg.evaluate(CLIPPED, ["#la-solution table"]) == []
    assert pg.evaluate(BROKEN_CELLS, "#la-solution table th, #la-solution table td") == []
    compute(pg, "en", "cross_entropy", *CE_2D, rows=2)
    assert_tables_fit(pg, "cross_entropy")
    gradient = pg.locator("#la-comparison-table tr").nth(2).locator("td").nth(1)
    expect(gradient.locator("div")).to_have_count(2)  # the (2, 3) gradient as 2 rows of 3
    compute(pg, "en", "cross_entropy", *CE_4D, rows=8)
    assert_tables_fit(pg, "cross_entropy_4d")
    heads = pg.locator("#la-table-table th")
    expect(heads).to_have_count(12)
    expect(heads.nth(5).locator("sup")).to_have_text("x−m")  # e^{x−m} written with its superscript
    # the plot of an (N, C, d1, d2) input draws curves, with a legend named after what its series are
    out_tab(pg, "out_plot", "en").click()
    texts = "(sel) => [...document.querySelectorAll(sel + ' svg text')].map(e => e.textContent)"
    wait(pg, f"(want) => want.every(w => ({texts})('#la-plot-loss').includes(w))", [t("x_logit", "en")])
    legend = pg.locator("#la-plot-loss-legend")  # the legend: HTML below the plot, its title first
    expect(legend.locator(".la-chart-legend-title")).to_have_text(msg("plots.legend_sample").render("en"))
    expect(legend).to_contain_text("sample 0 (y = 2)")
    assert not {"series", "curve"} & {*pg.evaluate(texts, "#la-plot-loss"), *legend.locator(".la-chart-key").all_inner_texts()}
    shot(pg, "layout_cross_entropy_4d_plot")


def test_a_probability_axis_stays_within_0_and_1(desktop) -> None:
    """A p_t axis runs over [0, 1] with its whole title in view, for 200 elements too (their pins not joined)."""
    pg = desktop
    # three classes, as the example of softmax_focal whose parameters (α per class) the switch loads
    pred = json.dumps([[round(-4 + 8 * i / 199, 3), 0.0, 0.0] for i in range(200)])
    target = json.dumps([i % 2 for i in range(200)])
    compute(pg, "en", "softmax_focal", pred, target, rows=200)
    out_tab(pg, "out_plot", "en").click()
    axis = f"X-axis titled '{t('x_pt', 'en')}' for a linear scale with values from 0.0 to 1.0"
    wait(pg, """(label) => [...document.querySelectorAll('#la-plot-loss svg [aria-roledescription=axis]')]
        .some(a => a.getAttribute('aria-label') === label)""", axis)
    inside = pg.evaluate("""(title) => { const text = [...document.querySelectorAll('#la-plot-loss svg text')]
            .find(e => e.textContent === title);
        const box = text.getBoundingClientRect(), svg = text.closest('svg').getBoundingClientRect();
        return box.left >= svg.left && box.right <= svg.right && box.bottom <= svg.bottom; }""", t("x_pt", "en"))
    assert inside
    shot(pg, "layout_p_t_plot")


# -- phone ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    pg = open_page(browser, app_server.url, PHONE, "light")
    try:
        yield pg
    finally:
        pg.context.close()


FORMULA_FADES = """() => [...document.querySelectorAll('#la-solution .la-copyable > .katex')]
    .filter(k => k.checkVisibility())
    .map(k => [k.scrollWidth > k.clientWidth + 1, getComputedStyle(k).maskImage !== 'none'])"""


def test_a_formula_wider_than_a_phone_fades_at_its_edge(phone) -> None:
    """On a narrow phone a formula that does not fit scrolls sideways in its own box and fades at the edge where
    more of it lies; one that fits is not faded."""
    pg = phone
    pg.set_viewport_size({"width": 300, "height": PHONE["height"]})
    try:
        switch_language(pg, "en")
        main_tab(pg, "calculator", "en").click()
        compute(pg, "en")
        out_tab(pg, "out_solution", "en").click()
        wait(pg, f"() => ({FORMULA_FADES})().some(([wide]) => wide)", what="a formula wider than the screen")
        formulas = pg.evaluate(FORMULA_FADES)
        assert any(not wide for wide, _ in formulas)
        assert all(wide == faded for wide, faded in formulas), formulas
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= 300  # only the formula scrolls
    finally:
        pg.set_viewport_size(PHONE)


def test_the_phone_layout_has_labelled_tabs_and_tidy_controls(phone) -> None:
    pg = phone
    for lang in ("en", "zh"):
        switch_language(pg, lang)
        for tab in TABS:  # every tab has its label, fully on screen (none behind an unlabelled "⋯")
            button = main_tab(pg, tab, lang)
            expect(button).to_be_visible()
            for _ in range(300):  # (the tab bar may still be re-laying out the labels of the language just chosen)
                box = button.bounding_box()
                if box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]:
                    break
                pg.wait_for_timeout(100)
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (tab, box)
    switch_language(pg, "en")
    main_tab(pg, "calculator", "en").click()
    compute(pg, "en")
    # (each condition below is waited for: on a busy machine the page may still be laying out the last update)
    # the dropdowns' values are not under their arrows: the text fits its box, which keeps room for the arrow
    for dropdown, n in (("#la-reduction input", 0), ("#la-tab-calculator .la-dd", 1), ("#la-tab-calculator .la-dd", 2)):
        wait(pg, FITS, [dropdown, n], what=f"{dropdown} (the {n}th) fits its box")
    # the badge stays inside its card
    wait(pg, BADGE_IN_CARD, what="the badge inside its card")
    # a wide table scrolls sideways in its own box; its columns keep their width (no letters per line)
    compute(pg, "en", "cross_entropy", *CE_2D, rows=2)
    out_tab(pg, "out_table", "en").click()
    wrap = pg.locator("#la-table-wrap")
    expect(wrap).to_be_visible()
    wait(pg, "() => { const e = document.querySelector('#la-table-wrap');"
             " return e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'; }",
         what="the table scrolling sideways in its box")
    wait(pg, f"() => ({BROKEN_CELLS})('#la-table-wrap th, #la-table-wrap td').length === 0", what="whole words")
    # the page itself does not scroll sideways
    wait(pg, f"() => document.documentElement.scrollWidth <= {PHONE['width']}", what="no sideways page scroll")
    shot(pg, "layout_phone_table")
    # the Check tab's conventions table: whole words and numbers, sideways scroll in its box
    show(pg, "check", "en")
    expect(pg.locator("#la-check-conventions-wrap")).to_contain_text("PyTorch")
    wait(pg, f"() => ({BROKEN_CELLS})('#la-check-conventions-wrap th, #la-check-conventions-wrap td').length === 0",
         what="whole words in the conventions table")
    wait(pg, f"() => document.documentElement.scrollWidth <= {PHONE['width']}", what="no sideways page scroll")
    # the article examples' cards: the stated value, lossapp's and the verdict all inside the card
    show(pg, "examples", "en")
    wait(pg, CARD_TABLES_CLIPPED + ".length === 0", what="every card's table inside its card")


# the n-th of the matching inputs (a dropdown's value) fits its box, which keeps room for the arrow
FITS = """([sel, n]) => { const match = document.querySelectorAll(sel)[n],
    e = match && (match.tagName === 'INPUT' ? match : match.querySelector('input'));
    return !!e && e.clientWidth > 0 && e.scrollWidth <= e.clientWidth; }"""

# the badge lies inside the result's card (half a pixel of rounding allowed on the right)
BADGE_IN_CARD = """() => { const card = document.querySelector('#la-result .la-result'),
    badge = document.querySelector('#la-badge');
    if (!card || !badge) return false;
    const c = card.getBoundingClientRect(), b = badge.getBoundingClientRect();
    return b.width > 0 && b.left >= c.left && b.right <= c.right + 0.5; }"""


# the article examples' cards whose table (stated / lossapp / verdict) runs past the card's edge
CARD_TABLES_CLIPPED = """[...document.querySelectorAll('.la-card')].filter((card) => card.offsetParent).filter((card) =>
    [...card.querySelectorAll('table')].some((t) => t.scrollWidth > t.clientWidth + 1
                                              || t.getBoundingClientRect().right > card.getBoundingClientRect().right
                                              || [...t.querySelectorAll('td, th')].some((c) => c.scrollWidth > c.clientWidth + 1)))"""


# the legend entries (and title) of a chart's HTML legend that are clipped or run off the page: [text, scrollWidth,
# clientWidth, left, right]; none when every one is whole and inside the viewport
LEGEND_CLIPPED = """(sel) => [...document.querySelectorAll(`${sel} .la-chart-legend-title, ${sel} .la-chart-key`)]
    .map(e => [e.textContent, e.scrollWidth, e.clientWidth, e.getBoundingClientRect()])
    .filter(([, scroll, client, r]) => scroll > client || r.width === 0 || r.left < 0
                                      || r.right > document.documentElement.clientWidth)
    .map(([text, scroll, client, r]) => [text, scroll, client, r.left, r.right])"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_calculators_plot_legends_are_whole_on_a_phone(browser, app_server: Server, lang: str) -> None:  # noqa: F811
    """At 390×844 the loss and derivative plots' legends (HTML below each plot, in the plot's colours) show every
    entry whole and on screen: the title, the curves and the pins of "your data, y = 1" ..., in the page's language."""
    spec = lookup("bce")
    details = calculator.render_details({"result": lossapp.compute(spec.name, spec.example["pred"],
                                                                   spec.example["target"])}, lang)
    pg = open_page(browser, app_server.url, PHONE, "light")
    try:
        switch_language(pg, lang)
        compute(pg, lang)  # BCE's example, the calculator's default
        out_tab(pg, "out_plot", lang).click()
        for chart, (_, title, plot, _) in (("#la-plot-loss", details[4:8]), ("#la-plot-dloss", details[8:12])):
            legend = pg.locator(f"{chart}-legend")
            expect(pg.locator(f"{chart}-title")).to_have_text(re.sub(r"<[^>]+>", "", title))
            expect(legend.locator(".la-chart-legend-title")).to_have_text(msg("plots.legend_target").render(lang))
            names = list(dict.fromkeys(plot["value"]["series"]))
            assert len(names) == 4, names  # y = 0, y = 1 and their pins
            expect(legend.locator(".la-chart-key")).to_have_text(names)
            try:  # the plot is drawn to the width of its box: wait until nothing of the legend is clipped
                wait(pg, f"(sel) => ({LEGEND_CLIPPED})(sel).length === 0", f"{chart}-legend")
            except AssertionError:
                pytest.fail(f"{chart}: clipped legend entries {pg.evaluate(LEGEND_CLIPPED, f'{chart}-legend')}")
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        pg.locator("#la-plot-loss-title").scroll_into_view_if_needed()
        shot(pg, f"layout_phone_plot_legend_{lang}")
    finally:
        pg.context.close()


# -- dark theme -------------------------------------------------------------------------------------------------

CONTRAST = """() => {
    const rgba = c => { const m = c.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
    const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                                 return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    return [...document.querySelectorAll('.la-matrix td.cell small')].map(small => {
        const [r, g, b, a] = rgba(getComputedStyle(small).color);
        const alpha = a * Number(getComputedStyle(small).opacity);
        const bg = rgba(getComputedStyle(small.parentElement).backgroundColor);
        const seen = [r, g, b].map((v, i) => alpha * v + (1 - alpha) * bg[i]);
        const [hi, lo] = [lum(seen), lum(bg)].sort((x, y) => y - x);
        return [small.textContent, (hi + 0.05) / (lo + 0.05)];
    }); }"""


def test_dark_theme_confusion_captions_are_visible(browser, app_server: Server) -> None:  # noqa: F811
    pg = open_page(browser, app_server.url, DESKTOP, "dark")
    try:
        show(pg, "confusion", "en")
        expect(pg.locator(".la-matrix td.cell small")).to_have_count(4)
        contrast = dict(pg.evaluate(CONTRAST))
        assert set(contrast) == {"TP", "FN", "FP", "TN"}
        assert all(ratio >= 3.0 for ratio in contrast.values()), contrast
        shot(pg, "layout_dark_confusion")
    finally:
        pg.context.close()


# -- screenshots of every tab: both languages, both themes, desktop and phone ------------------------------------


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_every_tab(browser, app_server: Server, lang: str, theme: str, device: str) -> None:  # noqa: F811
    pg = open_page(browser, app_server.url, DESKTOP if device == "desktop" else PHONE, theme)
    suffix = "" if device == "desktop" else "_phone"
    try:
        switch_language(pg, lang)
        compute(pg, lang)
        for tab in TABS:
            show(pg, tab, lang)
            path = shot(pg, f"{tab}_{lang}_{theme}{suffix}")
            assert path.parent == SCREENSHOTS
            if device == "phone":  # the page itself does not scroll sideways
                assert pg.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], tab
        main_tab(pg, "calculator", lang).click()
        for key in ("out_table", "out_plot"):
            out_tab(pg, key, lang).click()
            if key == "out_plot":
                expect(pg.locator("#la-plot-loss-legend .la-chart-legend-title")).to_have_text(
                    msg("plots.legend_target").render(lang))
                wait(pg, "() => !!document.querySelector('#la-plot-loss svg [aria-roledescription=axis]')")
            shot(pg, f"calculator_{key.removeprefix('out_')}_{lang}_{theme}{suffix}")
        if device == "desktop":
            assert pg.evaluate(CLIPPED, ["#la-table-wrap"]) == []
    finally:
        pg.context.close()
