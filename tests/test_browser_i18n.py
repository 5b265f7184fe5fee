"""Every language in a real browser: Playwright driving Debian's Chromium against `python app.py`.

In 中文 no tab shows an English word outside an allow-list (numbers, formulas, code, loss and library names,
identifiers, units), its error toast included; with a pseudo-locale catalog (tests/pseudo_locale.py: every
template wrapped in ⟦ ⟧) in a folder named by LOSSAPP_LOCALE_DIRS, the language switch offers that language
and every text the app shows (its labels and the results the library renders) comes from it, Gradio's own upload
areas aside: adding a language is adding one catalog file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from pseudo_locale import PSEUDO, write_pseudo_locale
from stray_english import stray_english
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    BROWSER_TIMEOUT,
    STAMP,
    Server,
    app_page,
    app_server,
    browser,
    expect,
    record_toasts,
    shot,
    start_server,
    stop_server,
    toast_with,
    wait,
)

from lossapp import i18n, render, service
from lossapp.i18n import tr
from lossapp.registry import LossSpec, lookup
from lossapp.ui import calculator, confusion_tab
from lossapp.ui.strings import family_label, t

pytestmark = pytest.mark.browser

TABS = ("calculator", "confusion", "check", "curves", "examples")
# the elements whose text is the app's (the header, the language switch, the tabs); Gradio's own footer is not
ROOTS = [".la-header", "#la-lang", "#la-tabs", ".toast-wrap"]
# code, formulas (KaTeX) and charts are not words to translate; a textarea holds the user's own text; a cited
# source's own title (an article's section heading) is quoted as written
NOT_TEXT = ["code", "pre", ".katex", ".cm-editor", "svg", "canvas", "textarea", "style", "script", "cite"]
# Gradio's own texts (an upload area's "Drop File Here"): in the browser's locale, English for the pseudo-locale
GRADIO_TEXT = ["[data-testid='upload-text']"]

# names beyond tests/stray_english.py's that stay as they are: libraries, the language's own name, verdicts
# (fixed ids, DESIGN.md section 6), metrics, parameters, dtypes, file types, a formula's product
ALLOWED = {"english", "lossapp", "numpy", "mmdetection", "torchvision", "retinanet", "gradio", "katex", "huber",
           "focal", "hinge", "smooth", "jaccard", "weight", "alpha", "beta", "gamma", "delta", "lambda", "margin",
           "exact", "rounding", "convention", "mistake", "incorrect", "error", "precision", "recall", "accuracy",
           "specificity", "float", "csv", "tsv", "txt", "npy", "npz", "pt", "md", "markdown", "kx"}
PSEUDO_TEXT = re.compile(r"⟦[^⟦⟧]*⟧")

COLLECT = r"""([roots, skip]) => {
  const out = [];
  const skipping = skip.join(',');
  const shown = el => el.checkVisibility({checkVisibilityCSS: true}) && !el.closest(skipping);
  for (const root of roots.flatMap(r => [...document.querySelectorAll(r)])) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (!text || !node.parentElement || !shown(node.parentElement)) continue;
      // a name broken for narrow screens (torch.nn.<wbr>functional) is one word
      if (node.previousSibling?.nodeName === 'WBR' && out.length) out[out.length - 1] += text; else out.push(text);
    }
    for (const box of root.querySelectorAll('textarea, input')) {
      if (!shown(box.parentElement)) continue;
      if (box.placeholder) out.push(box.placeholder);
      if (box.getAttribute('role') === 'listbox') out.push(box.value);
    }
  }
  return out; }"""


def stray_words(texts: list[str]) -> dict[str, str]:
    """English words outside ⟦ ⟧, code, names and acronyms (BCE, CSV), and not a name given a value (`tp = 20`,
    a parameter or a variable of a formula), each with the text it was found in."""
    joined = "\n".join(texts)
    while PSEUDO_TEXT.search(joined):  # innermost first: a field may be a message of its own
        joined = PSEUDO_TEXT.sub(" ", joined)
    found: dict[str, str] = {}
    for line in joined.split("\n"):
        for word in stray_english(line, ALLOWED):
            if not word.isupper() and not re.search(rf"\b{word}\s*=", line):
                found.setdefault(word, line.strip()[:160])
    return found


def listing(found: dict[str, dict[str, str]]) -> str:
    """'tab: word: the text it is in', one a line."""
    return "\n".join(f"{tab}: {word}: {line}" for tab, words in found.items() for word, line in sorted(words.items()))


def visible_text(pg, skip: list[str] = ()) -> list[str]:
    return pg.evaluate(COLLECT, [ROOTS, [*NOT_TEXT, *skip]])


def switch_language(pg, lang: str) -> None:
    """Choose `lang` and wait until the labels (the Compute button, the tabs) and the shown result are in it. A click
    that lands while the page is still wiring its events (a busy machine) can be lost, so it is repeated until the
    radio holds it (as test_browser_share.switch_to_chinese does)."""
    radio = pg.locator(f"#la-lang input[value=\"{lang}\"]")
    for _ in range(10):
        pg.locator("#la-lang").get_by_text(t("language_name", lang), exact=True).click()
        try:
            expect(radio).to_be_checked(timeout=3000)
            break
        except AssertionError:
            continue
    tabs = [t(f"tab_{tab}", lang) for tab in TABS]
    wait(pg, """([button, tabs]) => {
        const labels = [...document.querySelectorAll('#la-tabs [role=tab]')].map(t => t.innerText.trim());
        return document.querySelector('#la-compute')?.textContent.trim() === button
            && tabs.every(t => labels.includes(t)); }""", [t("compute", lang), tabs])


def open_every_accordion(pg, panel: str) -> None:
    """Open the tab's closed accordions, so their contents are read too."""
    closed = pg.locator(f"{panel} button.label-wrap:not(.open)")
    for left in reversed(range(closed.count())):
        closed.first.click()
        expect(closed).to_have_count(left)


def show_tab(pg, tab: str, lang: str) -> None:
    """Open `tab` (by its label in `lang`) with its accordions, and wait for its content to be there."""
    pg.locator("#la-tabs").get_by_role("tab", name=t(f"tab_{tab}", lang), exact=True).click()
    panel = f"#la-tab-{tab}"
    expect(pg.locator(panel)).to_be_visible()
    open_every_accordion(pg, panel)
    ready = {"calculator": "#la-badge", "confusion": "#la-dice-f1", "check": "#la-check-card[data-verdict]",
             "curves": "#la-curve-trunc canvas, #la-curve-trunc svg", "examples": "#la-card-002_bce_three_pixels"}
    expect(pg.locator(ready[tab]).first).to_be_visible()
    if tab == "examples":  # the cards' values arrive with the page load
        expect(pg.locator("#la-card-002_bce_three_pixels")).to_contain_text("0.926341")
    if tab == "calculator":  # the worked solution follows the value in a second event
        wait(pg, "() => { const s = document.querySelector('#la-solution');"
                 " return !!s && s.innerText.length > 100 && !s.innerText.includes('$$'); }")


def language_page(browser, url: str, locale: str) -> Iterator[object]:  # noqa: F811
    with app_page(browser, url, locale=locale) as pg:
        # the page load fills the Check tab and the examples (in English): wait for it, or it could land after the
        # language switch and write over its texts
        for tab, ready in (("check", "#la-check-card[data-verdict]"), ("examples", "#la-card-002_bce_three_pixels")):
            pg.locator("#la-tabs").get_by_role("tab", name=t(f"tab_{tab}", "en"), exact=True).click()
            expect(pg.locator(ready)).to_contain_text(re.compile(r"\d"))
        expect(pg.locator("#la-card-002_bce_three_pixels")).to_contain_text("0.926341")
        pg.locator("#la-tabs").get_by_role("tab", name=t("tab_calculator", "en"), exact=True).click()
        yield pg


@pytest.fixture(scope="module")
def zh_page(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    # a Chinese browser: Gradio's own texts (the upload areas) are in its locale, the app's in the switch's
    yield from language_page(browser, app_server.url, "zh-CN")


def test_every_tab_in_chinese_has_no_stray_english(zh_page) -> None:
    pg = zh_page
    switch_language(pg, "zh")
    pg.locator("#la-compute").click()  # a result in the calculator: the badge, the solution, the table
    found: dict[str, dict[str, str]] = {}
    for tab in TABS:
        show_tab(pg, tab, "zh")
        found[tab] = stray_words(visible_text(pg))
        shot(pg, f"i18n_zh_{tab}")
    assert not any(found.values()), listing(found)


def test_an_error_toast_in_chinese_has_no_english(zh_page) -> None:
    pg = zh_page
    switch_language(pg, "zh")
    pg.locator("#la-tabs").get_by_role("tab", name=t("tab_calculator", "zh"), exact=True).click()
    pred = pg.locator("#la-pred textarea")
    pred.fill("[0.2947, abc, 0.4863]")
    pred.press("Tab")
    record_toasts(pg)
    pg.locator("#la-compute").click()
    toast = toast_with(pg, "abc")
    assert toast["title"].strip() == t("toast_error", "zh"), toast  # Gradio's English "Error", replaced
    text = toast["text"]
    assert "期望" in text, text
    assert stray_words([text.replace("'abc'", "")]) == {} and "Error" not in text, text


def test_a_switch_while_the_page_loads_is_kept(browser, app_server: Server) -> None:  # noqa: F811
    """中文 chosen before the page load has filled the examples and the Check tab: they end up in 中文 too."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.set_default_timeout(BROWSER_TIMEOUT)
        pg.goto(app_server.url)
        pg.locator("#la-lang").get_by_text("中文", exact=True).click()
        switch_language(pg, "zh")
        show_tab(pg, "check", "zh")
        expect(pg.locator("#la-check-card")).to_contain_text(t("g_rounding", "zh"))
        show_tab(pg, "examples", "zh")
        card = pg.locator("#la-card-002_bce_three_pixels")
        expect(card).to_contain_text(t("stated", "zh"))
        expect(card).not_to_contain_text(t("stated", "en"))
    finally:
        context.close()


# the text of an output block once no event is pending on it and it holds `want` (falsy until then)
SETTLED_TEXT = """([selector, want]) => {
    const block = document.querySelector(selector);
    if (!block || block.querySelector('.pending, .generating, .progress-text, .meta-text, .eta-bar')
        || block.classList.contains('pending')) return false;
    const text = block.innerText;
    return text.includes(want) ? text : false; }"""


def test_a_switch_right_after_compute_ends_in_the_language_chosen(browser, app_server: Server) -> None:  # noqa: F811
    """中文 chosen just after Compute on an input that takes a moment: whichever event lands first (the switch's
    re-render, the value, the worked solution), the result ends in 中文, its headline and its worked solution."""
    rng = np.random.default_rng(7)
    pred = "[" + ", ".join(f"{x:.4f}" for x in rng.uniform(0.01, 0.99, 20_000)) + "]"
    target = "[" + ", ".join(str(int(x)) for x in rng.random(20_000) > 0.5) + "]"
    result = service.compute("bce", pred, target, {}, "mean", "cpu", "float32")
    with app_page(browser, app_server.url) as pg:
        for box, text in (("#la-pred", pred), ("#la-target", target)):
            pg.locator(f"{box} textarea").fill(text)
            pg.locator(f"{box} textarea").press("Tab")
        before = pg.evaluate(STAMP)
        pg.locator("#la-compute").click()
        pg.locator("#la-lang").get_by_text(t("language_name", "zh"), exact=True).click()
        switch_language(pg, "zh")
        wait(pg, """([before, caption, step, english]) => {
            const r = document.querySelector('#la-result .la-result');
            const solution = document.querySelector('#la-solution')?.innerText || '';
            return !!r && r.dataset.stamp !== before
                && r.querySelector('.la-caption')?.textContent.startsWith(caption)
                && solution.includes(step) && !solution.includes(english); }""",
             [before, f"{tr(result.spec.title, 'zh')} · ", tr(result.steps[0].title, "zh"),
              tr(result.steps[0].title, "en")], what="the result and its worked solution in 中文")
        # read once no event is pending on the result (Gradio's "processing | 0.3/0.3s" status is not the app's):
        # the language the result settles in, with nothing left to overwrite it
        caption = f"{tr(result.spec.title, 'zh')} · "
        text = pg.wait_for_function(SETTLED_TEXT, arg=["#la-result", caption]).json_value()
        assert stray_words([text]) == {}, text
        expect(pg.locator("#la-result .la-caption")).to_contain_text(caption)
        expect(pg.locator("#la-solution")).to_contain_text(tr(result.steps[0].title, "zh"))


# -- every loss's badge in 中文 ------------------------------------------------------------------------------

NEW_RESULT = """([before, caption]) => {
    const result = document.querySelector('#la-result .la-result');
    return !!result && result.dataset.stamp !== before
        && result.querySelector('.la-caption')?.textContent.startsWith(caption); }"""


def example_result(spec: LossSpec, reduction: str) -> object:
    """The result the calculator computes for the loss's example with the controls the example sets."""
    example = spec.example or {}
    given = {p.name: calculator.control_value(p, (example.get("params") or {}).get(p.name, p.default))
             for p in spec.params}
    target = example.get("target") if spec.target_kind is not None else None
    return service.compute(spec.name, example.get("pred"), target, service.control_values(spec, given), reduction,
                           "cpu", "float32")


def choose_loss(pg, spec: LossSpec, lang: str) -> None:
    """Pick the loss through its family and the loss picker, and wait until the picker shows it."""
    pg.locator("#la-family").get_by_text(family_label(spec.family, lang), exact=True).click()
    in_family = [label for label, _ in calculator.loss_choices(spec.family, lang)]
    wait(pg, "(labels) => labels.includes(document.querySelector('#la-loss input').value)", in_family)
    label = f"{tr(spec.title, lang)} · {spec.name}"
    box = pg.locator("#la-loss input")
    box.click()
    box.fill(tr(spec.title, lang))
    pg.get_by_role("option", name=label, exact=True).click()
    wait(pg, "(label) => document.querySelector('#la-loss input').value === label", label)


@pytest.fixture(scope="module")
def zh_calculator(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    """A page of its own in 中文 on the calculator (the tab tests leave accordions open and toasts up)."""
    for pg in language_page(browser, app_server.url, "zh-CN"):
        switch_language(pg, "zh")
        pg.locator("#la-tabs").get_by_role("tab", name=t("tab_calculator", "zh"), exact=True).click()
        yield pg


@pytest.mark.parametrize("loss", [s.name for s in service.calculator_specs()])
def test_every_losss_badge_in_chinese(zh_calculator, loss: str) -> None:
    """Each loss with its example input, computed in 中文: the result's header (caption, value, badge) has no
    English, and the badge is lossapp.render.badge_text's Chinese for that result."""
    pg, spec = zh_calculator, lookup(loss)
    choose_loss(pg, spec, "zh")
    pred = pg.locator("#la-pred textarea")
    pred.fill("")  # the example's arrival is then seen, even where it equals the previous loss's
    pg.locator("#la-use-example").click()
    expect(pred).to_have_value((spec.example or {}).get("pred") or "")
    before = pg.evaluate(STAMP)
    pg.locator("#la-compute").click()
    wait(pg, NEW_RESULT, [before, f"{tr(spec.title, 'zh')} · "])
    caption = pg.locator("#la-result .la-caption").inner_text()
    reduction = caption.rsplit(":", 1)[1].strip()  # the one the page sent ("…· 归约方式: mean")
    result = example_result(spec, reduction)
    assert caption == calculator.result_caption(result, "zh")
    badge = render.badge_text(result, "zh")
    expect(pg.locator("#la-badge")).to_have_text(re.compile(r"^. " + re.escape(badge) + "$"))
    # read once no event is pending on the result (Gradio's "queue: 1/1 | 0.7/0.6s" is not the page's English)
    text = pg.wait_for_function(SETTLED_TEXT, arg=["#la-result", caption]).json_value()
    found = stray_words([text])
    assert found == {}, found


def test_the_confusion_badge_in_chinese_for_every_metric(zh_calculator) -> None:
    pg = zh_calculator
    pg.locator("#la-tabs").get_by_role("tab", name=t("tab_confusion", "zh"), exact=True).click()
    headline = pg.locator("#la-conf-headline .la-caption")
    for metric in confusion_tab.METRICS:
        box = pg.locator("#la-tab-confusion").get_by_label(t("metric", "zh"), exact=True)
        box.click()
        pg.get_by_role("option", name=metric, exact=True).click()
        expect(box).to_have_value(metric)
        pg.locator("#la-conf-compute").click()
        result = service.confusion(**confusion_tab.ARTICLE_COUNTS, metric=metric)
        expect(headline).to_contain_text(f"{metric} = ")
        expect(headline).to_contain_text(render.badge_text(result, "zh"))
        # the headline's text once no computation is under way on it (Gradio's "queue: 1/1 | 0.2s" status is not
        # the app's; the default metric's result from the page load is already there while the click's is queued)
        texts = [pg.wait_for_function(SETTLED_TEXT, arg=["#la-conf-headline", f"{metric} = "]).json_value()]
        assert stray_words(texts) == {}, (metric, texts)


SVG_TEXTS = "(sel) => [...document.querySelectorAll(sel + ' svg text')].map(t => t.textContent.trim()).filter(t => t)"


def chart_texts(pg, selector: str, expected: list[str]) -> list[str]:
    """The texts of the chart's SVG (Gradio's plots render Vega-Lite as SVG), once all of `expected` are there."""
    wait(pg, f"([sel, want]) => {{ const have = ({SVG_TEXTS})(sel); return want.every(w => have.includes(w)); }}",
         [selector, expected])
    return pg.evaluate(SVG_TEXTS, selector)


def test_the_charts_axes_and_legends_in_chinese(zh_calculator) -> None:
    """The calculator's loss and gradient plots and the curves tab's: their axis titles, legend titles and legend
    entries (SVG text; the curves' titles and legends: HTML around the plot) are the catalogs' Chinese with no stray
    English."""
    pg, spec = zh_calculator, lookup("bce")
    pg.locator("#la-tabs").get_by_role("tab", name=t("tab_calculator", "zh"), exact=True).click()
    choose_loss(pg, spec, "zh")
    pred = pg.locator("#la-pred textarea")
    pred.fill("")
    pg.locator("#la-use-example").click()
    expect(pred).to_have_value(spec.example["pred"])
    before = pg.evaluate(STAMP)
    pg.locator("#la-compute").click()
    wait(pg, NEW_RESULT, [before, f"{tr(spec.title, 'zh')} · "])
    reduction = pg.locator("#la-result .la-caption").inner_text().rsplit(":", 1)[1].strip()
    details = calculator.render_details({"result": example_result(spec, reduction)}, "zh")
    pg.locator("#la-out-tabs").get_by_role("tab", name=t("out_plot", "zh"), exact=True).click()
    found: dict[str, dict[str, str]] = {}
    for selector, (_, _, update, _) in zip(("#la-plot-loss", "#la-plot-dloss"), (details[4:8], details[8:12]),
                                           strict=True):  # each chart's [box, title, plot, legend]
        texts = chart_texts(pg, selector, [update["x_title"], update["y_title"]])  # the axes: SVG
        legend = pg.locator(f"{selector}-legend")  # title and legend: HTML
        for name in dict.fromkeys(update["value"]["series"]):
            expect(legend).to_contain_text(name)
        texts += [pg.locator(f"{selector}-{part}").inner_text() for part in ("title", "legend")]
        found[selector] = stray_words(texts)
    show_tab(pg, "curves", "zh")
    for selector, x_key, y_key, legend in (("#la-curve-focal", "x_pt", "y_loss", "legend_gamma"),
                                           ("#la-curve-bce", "x_p", "y_loss", "legend_target"),
                                           ("#la-curve-reg", "x_d", "y_value", "legend_losses"),
                                           ("#la-curve-trunc", "x_p", "y_weight", "legend_weighting")):
        texts = chart_texts(pg, selector, [t(x_key, "zh"), t(y_key, "zh")])  # the axes: SVG
        expect(pg.locator(f"{selector}-legend")).to_contain_text(t(legend, "zh"))  # title and legend: HTML
        texts += [pg.locator(f"{selector}-{part}").inner_text() for part in ("title", "legend")]
        found[selector] = stray_words(texts)
    expect(pg.locator("#la-curve-trunc-legend")).to_contain_text("软截断")  # the curves redrawn with names in 中文
    shot(pg, "i18n_zh_charts")
    assert not any(found.values()), listing(found)


# -- a pseudo-locale: a language the app learns from one catalog file ----------------------------------------


@pytest.fixture(scope="module")
def pseudo_server(tmp_path_factory) -> Iterator[Server]:
    """The app started with a pseudo-locale catalog in LOSSAPP_LOCALE_DIRS (and this process reading it too)."""
    folder = tmp_path_factory.mktemp("locales")
    write_pseudo_locale(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.LOCALE_DIRS_ENV, str(folder))
        server = start_server({i18n.LOCALE_DIRS_ENV: str(folder)})
        try:
            yield server
        finally:
            stop_server(server)
            i18n.catalog.cache_clear()


@pytest.fixture(scope="module")
def pseudo_page(browser, pseudo_server: Server) -> Iterator[object]:  # noqa: F811
    yield from language_page(browser, pseudo_server.url, "en-US")


def test_a_catalog_file_is_a_language_of_the_app(pseudo_page) -> None:
    pg = pseudo_page
    expect(pg.locator("#la-lang")).to_contain_text(t("language_name", PSEUDO))  # offered by the switch
    switch_language(pg, PSEUDO)
    pg.locator("#la-compute").click()
    found: dict[str, dict[str, str]] = {}
    for tab in TABS:
        show_tab(pg, tab, PSEUDO)
        found[tab] = stray_words(visible_text(pg, skip=GRADIO_TEXT))
        shot(pg, f"i18n_pseudo_{tab}")
    assert not any(found.values()), listing(found)
