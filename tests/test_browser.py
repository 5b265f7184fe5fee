"""The app in a real browser: Playwright driving Debian's Chromium against `python app.py`.

Enter the BCE article example and see 0.926341 with KaTeX-rendered steps; switch to 中文; get a readable
error for malformed input; upload .npy files (100,000 elements); load an article example from its tab;
the confusion tab shows Dice = F1 = 0.7273 for 20/5/10/65; the curves draw. No request may leave
127.0.0.1. A screenshot of each tab goes to artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    BROWSER_TIMEOUT,
    NEW_STAMP,
    SCREENSHOTS,
    STAMP,
    Server,
    app_page,
    app_server,
    browser,
    expect,
    fill,
    leaves_machine,
    open_accordion,
    shot,
    wait,
)

import lossapp
from lossapp import render
from lossapp.i18n import tr

pytestmark = pytest.mark.browser

TIMEOUT = BROWSER_TIMEOUT
# Every check of the page waits for what it asserts (a wait() predicate or Playwright's auto-waiting expect),
# never reads a snapshot right after an action: on a loaded machine the page catches up late.


class Traffic:
    """Every URL the page requested that did not go to this machine."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.count = 0

    def record(self, url: str) -> None:
        self.count += 1
        if leaves_machine(url):
            self.outside.append(url)


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture(scope="module")
def page(browser, app_server: Server, traffic: Traffic) -> Iterator[object]:  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with app_page(browser, app_server.url, on_request=traffic.record) as pg:
        yield pg


def open_tab(pg, label: str) -> None:
    pg.locator("#la-tabs").get_by_role("tab", name=label, exact=True).click()


def wait_for_language(pg, lang: str) -> None:
    """After a click on the language switch: wait until the switch has reached the buttons, the app's tabs and
    the calculator's output tabs (separate updates: one being done says nothing of the others)."""
    want = {"en": ("Compute", ["Calculator", "Confusion matrix", "Check my answer", "Curves", "Article examples"],
                   "Worked solution"),
            "zh": ("计算", ["计算器", "混淆矩阵", "检查答案", "曲线", "文章示例"], "详细解答")}[lang]
    wait(pg, """([button, tabs, solutionTab]) => {
        const labels = [...document.querySelectorAll('#la-tabs [role=tab]')].map(t => t.innerText.trim());
        const outTabs = [...document.querySelectorAll('#la-out-tabs [role=tab]')].map(t => t.innerText.trim());
        return document.querySelector('#la-compute')?.textContent.trim() === button
            && tabs.every(t => labels.includes(t)) && outTabs.includes(solutionTab); }""", list(want),
         what=f"the page in {lang}")


def after_new_result(pg, action, what: str) -> str:
    """Run `action` (a click) and wait for a new computation's result (its stamp changes); its value."""
    before = pg.evaluate(STAMP)
    action()
    wait(pg, NEW_STAMP, before, what=what)
    return pg.locator("#la-value").inner_text()


def compute_and_wait(pg, expected: str | None = None) -> str:
    """Click Compute and return the new value (checked against `expected` when given)."""
    value = after_new_result(pg, lambda: pg.locator("#la-compute").click(), "a new result after Compute")
    if expected is not None:
        assert value == expected
    return value


KATEX_DONE = """([sel, displays, annotations]) => {
    const box = document.querySelector(sel);
    if (!box || box.querySelectorAll('.katex-display').length < displays || box.innerText.includes('$$')) return false;
    const tex = [...box.querySelectorAll('.katex-mathml annotation')].map(a => a.textContent).join(' ');
    return annotations.every(a => tex.includes(a)); }"""


# -- the tests (in order: they share one page) --------------------------------------------------------


def test_calculator_bce_article_example(page) -> None:
    pg = page
    # pick the loss through the family and the loss picker
    pg.locator("#la-family").get_by_text("Regression", exact=True).click()
    wait(pg, "() => document.querySelector('#la-loss input').value.includes('· l1')")
    pg.locator("#la-family").get_by_text("Classification", exact=True).click()
    wait(pg, "() => !document.querySelector('#la-loss input').value.includes('· l1')")
    loss_box = pg.locator("#la-loss input")
    loss_box.click()
    loss_box.fill("Binary cross-entropy (BCE)")
    pg.get_by_role("option", name="Binary cross-entropy (BCE) · bce", exact=True).click()
    wait(pg, "() => document.querySelector('#la-loss input').value.endsWith('· bce')")
    fill(pg, "#la-pred", "[0.2947, 0.5898, 0.4863]")
    fill(pg, "#la-target", "[1, 0, 0]")
    value = compute_and_wait(pg, "0.926341")
    assert value == "0.926341"
    expect(pg.locator("#la-badge")).to_contain_text(
        "matches torch.nn.functional.binary_cross_entropy on cpu/float32 (|Δ| = ")
    expect(pg.locator("#la-badge")).to_have_class(re.compile(r"\bok\b"))
    wait(pg, KATEX_DONE, ["#la-solution", 8, [r"\log 0.2947", r"\frac{2.779}{3} = 0.926341"]],
         what="the worked solution typeset by KaTeX")  # every formula, none left as $$...$$
    expect(pg.locator("#la-solution")).to_contain_text("Binary cross-entropy per element")
    shot(pg, "calculator")


def test_plot_and_snippet_tabs(page) -> None:
    pg = page
    pg.locator("#la-out-tabs").get_by_role("tab", name="Plot", exact=True).click()
    pg.wait_for_selector("#la-plot-loss canvas, #la-plot-loss svg")
    shot(pg, "calculator_plot")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Reproduce in PyTorch", exact=True).click()
    expect(pg.locator("#la-snippet")).to_contain_text("F.binary_cross_entropy(")
    expect(pg.locator("#la-snippet")).to_contain_text("torch.tensor([0.2947, 0.5898, 0.4863]")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Downloads", exact=True).click()
    for button in ("#la-dl-json", "#la-dl-md", "#la-dl-csv", "#la-dl-npz"):  # enabled with the details (2nd event)
        expect(pg.locator(f"{button} button, button{button}").first).to_be_enabled()
    with pg.expect_download() as download:
        pg.locator("#la-dl-json").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["loss"] == "bce" and round(data["value"], 6) == 0.926341
    with pg.expect_download() as download:
        pg.locator("#la-dl-md").click()
    assert r"\frac{2.779}{3} = 0.926341" in Path(download.value.path()).read_text(encoding="utf-8")
    with pg.expect_download() as download:
        pg.locator("#la-dl-csv").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 3 and float(table[0]["pred"]) == 0.2947
    with pg.expect_download() as download:
        pg.locator("#la-dl-npz").click()
    assert download.value.suggested_filename == "bce_elements.npz"
    arrays = np.load(download.value.path())
    result = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    assert np.array_equal(arrays["loss"], result.unreduced.numpy()) and arrays["gradient"].shape == (3,)
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()


def test_downloads_are_written_on_demand_and_removed(page, app_server: Server) -> None:  # noqa: F811
    """Computing writes no file; a click writes one (into the server's temporary folder); the next
    computation removes the previous result's files."""
    pg = page
    folders = lambda: sorted(app_server.temp_dir.glob("lossapp-*"))  # noqa: E731
    written = folders()
    assert len(written) == 1 and {p.name for p in written[0].iterdir()} == {
        "bce_result.json", "bce_solution_en.md", "bce_table.csv", "bce_elements.npz"}
    compute_and_wait(pg, "0.926341")
    wait(pg, "() => !document.querySelector('#la-dl-csv')?.disabled")
    assert folders() == []  # the new result has no files until they are asked for
    pg.locator("#la-out-tabs").get_by_role("tab", name="Downloads", exact=True).click()
    with pg.expect_download() as download:
        pg.locator("#la-dl-csv").click()
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith('\ufeff"index","pred","target"')
    assert [p.name for p in folders()[0].iterdir()] == ["bce_table.csv"]
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()


def test_language_switch_to_chinese(page) -> None:
    pg = page
    pg.locator("#la-lang").get_by_text("中文", exact=True).click()
    wait_for_language(pg, "zh")
    expect(pg.locator("#la-pred")).to_contain_text("预测值（pred）")
    expect(pg.locator("#la-badge")).to_contain_text("上一致")
    result = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    expect(pg.locator("#la-solution")).to_contain_text(tr(result.steps[0].title, "zh"))
    expect(pg.locator("#la-solution")).to_contain_text("步骤")
    shot(pg, "calculator_zh")
    pg.locator("#la-lang").get_by_text("English", exact=True).click()
    wait_for_language(pg, "en")
    expect(pg.locator("#la-badge")).to_contain_text("matches torch.nn.functional.binary_cross_entropy")
    expect(pg.locator("#la-solution")).to_contain_text("Binary cross-entropy per element")


def test_malformed_input_shows_a_readable_error(page) -> None:
    pg = page
    fill(pg, "#la-pred", "[0.2947, abc, 0.4863]")
    pg.locator("#la-compute").click()
    toast = pg.locator(".toast-body").filter(has_text="expected a number").first
    expect(toast).to_contain_text("pred: expected a number, got 'abc'")
    expect(toast).not_to_contain_text("Traceback")
    shot(pg, "calculator_error")
    close = toast.locator(".toast-close")
    if close.count():
        close.first.click()


def test_seeded_random_input(page) -> None:
    pg = page
    open_accordion(pg, "#la-random", "#la-generate")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shape = pg.locator("#la-random").get_by_label("Shape of pred")
    four = "() => document.querySelector('#la-pred textarea').value.split(',').length === 4"
    for _ in range(3):  # a click in the same instant as the typing can still send the old shape: type, leave, retry
        shape.fill("4")
        shape.press("Tab")
        pg.locator("#la-generate").click()
        try:
            pg.wait_for_function(four, timeout=20_000)
            break
        except PlaywrightTimeout:
            continue
    wait(pg, four)
    pred, target = pg.locator("#la-pred textarea").input_value(), pg.locator("#la-target textarea").input_value()
    generated = lossapp.inputs.random_inputs(0, ["rand(4)", "randint(0, 2, (4,))"])
    # float32's shortest decimals (no 17-digit floats), which give back exactly the generator's float32 tensor
    assert np.array_equal(np.array(json.loads(pred), dtype=np.float32), generated[0].numpy())
    assert json.loads(pred) == [float(str(v)) for v in generated[0].numpy()] and json.loads(target) == generated[1].tolist()
    expected = render.value_text(lossapp.compute("bce", pred, target).value)
    assert compute_and_wait(pg, expected) == expected
    pg.locator("#la-out-tabs").get_by_role("tab", name="Reproduce in PyTorch", exact=True).click()
    expect(pg.locator("#la-snippet")).to_contain_text("torch.manual_seed(0)")
    expect(pg.locator("#la-snippet")).to_contain_text("pred = torch.rand(4)")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()


def test_upload_npy_files_100k(page, tmp_path: Path) -> None:
    pg = page
    rng = np.random.default_rng(0)
    pred, target = rng.random(100_000), (rng.random(100_000) > 0.5).astype(np.float64)
    np.save(tmp_path / "pred.npy", pred)
    np.save(tmp_path / "target.npy", target)
    expected = render.value_text(lossapp.compute("bce", pred, target).value)
    open_accordion(pg, "#la-upload", "#la-pred-file")
    pg.locator("#la-pred-file input[type=file]").set_input_files(str(tmp_path / "pred.npy"))
    pg.locator("#la-target-file input[type=file]").set_input_files(str(tmp_path / "target.npy"))
    wait(pg, "() => ['pred', 'target'].every(n => document.body.innerText.includes(n + ': (100000,), 100,000 values'))",
         what="both files read")  # Compute reads both uploads: wait for the second, not only the first
    fill(pg, "#la-claimed", "")
    assert compute_and_wait(pg, expected) == expected
    # the value comes first; the worked solution, the table and the rest follow in a second event
    expect(pg.locator("#la-solution")).to_contain_text("shape (100000,)")
    table_note = pg.locator("#la-out-tabs").get_by_role("tab", name="Per-element table", exact=True)
    table_note.click()
    wait(pg, "() => document.body.innerText.includes('of 100,000 rows')")
    shot(pg, "calculator_upload")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()


def test_article_example_loads_into_the_calculator(page) -> None:
    pg = page
    open_tab(pg, "Article examples")
    card = pg.locator("#la-card-002_bce_three_pixels")
    expect(card).to_contain_text("0.926341")
    expect(card).to_contain_text("BCE on three pixels")  # English again after the language test
    expect(card).to_contain_text("0.9264")
    expect(card).to_contain_text("rounding")
    shot(pg, "examples")
    value = after_new_result(pg, lambda: pg.locator("#la-load-002_bce_three_pixels").click(),
                             "the example's result")
    assert value == "0.926341"
    expect(pg.locator("#la-tab-calculator")).to_be_visible()
    expect(pg.locator("#la-pred textarea")).to_have_value("[0.2947, 0.5898, 0.4863]")
    expect(pg.locator("#la-verdict")).to_contain_text("rounding")
    shot(pg, "calculator_example")


def test_confusion_tab_dice_equals_f1(page) -> None:
    pg = page
    open_tab(pg, "Confusion matrix")
    expect(pg.locator("#la-dice-f1")).to_have_text("Dice = F1 = 0.7273")
    for key, count in (("tp", "20"), ("fp", "5"), ("fn", "10"), ("tn", "65")):
        expect(pg.locator(f"#la-cm-{key}")).to_have_text(re.compile(rf"^\s*{count}\s*{key.upper()}\s*$"))
    wait(pg, KATEX_DONE, ["#la-conf-identity", 1, [r"\frac{2 \cdot 20}{2 \cdot 20 + 5 + 10} = 0.7273"]],
         what="the Dice = F1 identity typeset by KaTeX")  # typeset when the tab is first shown
    shot(pg, "confusion")
    # new counts: 30/10/10/50 gives Dice = 60/80 = 0.75
    for key, value in (("tp", "30"), ("fp", "10"), ("fn", "10"), ("tn", "50")):
        pg.locator(f"#la-{key} input").fill(value)
        pg.locator(f"#la-{key} input").press("Tab")
    pg.locator("#la-conf-compute").click()
    wait(pg, "() => document.querySelector('#la-dice-f1')?.textContent === 'Dice = F1 = 0.75'")


def test_curves_tab_draws(page) -> None:
    pg = page
    open_tab(pg, "Curves")
    for plot in ("la-curve-focal", "la-curve-bce", "la-curve-reg", "la-curve-reg-d", "la-curve-trunc"):
        pg.wait_for_selector(f"#{plot} canvas, #{plot} svg")
    wait(pg, "() => (document.querySelector('#la-curve-focal-legend')?.innerText || '').includes('γ = 5')",
         what="the focal curves' legend")
    shot(pg, "curves")


def test_use_via_api_page_documents_the_endpoints(page) -> None:
    pg = page
    pg.get_by_text("Use via API").first.click()
    wait(pg, "(texts) => texts.every(t => document.body.innerText.includes(t))",
         ["API name: /compute", "API name: /confusion", "API name: /check",
          "Compute a loss step by step and compare it with PyTorch's built-in."], what="the API page")
    pg.screenshot(path=str(SCREENSHOTS / "api.png"))


def test_no_request_left_the_machine(traffic: Traffic) -> None:
    assert traffic.count > 20
    assert traffic.outside == [], traffic.outside


def test_screenshots_exist() -> None:
    names = {p.stem for p in SCREENSHOTS.glob("*.png")}
    assert {"calculator", "calculator_zh", "confusion", "curves", "examples"} <= names
