"""The Lab tab in a real browser: pick an experiment, change a parameter, Run; see its plots, its claim and the
holds / does-not-hold badge, in English and in 中文 (the language switch re-runs the last experiment). No request
may leave 127.0.0.1. Screenshots: artifacts/screenshots/lab.png and lab_zh.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stray_english import stray_english
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    Server,
    app_page,
    app_server,
    browser,
    expect,
    leaves_machine,
    shot,
)

from lossapp.examples import source_title
from lossapp.i18n import tr
from lossapp.lab import EXPERIMENTS, run_experiment
from lossapp.ui.lab_tab import say

pytestmark = pytest.mark.browser

EXPERIMENT = "focal_imbalance"
VERDICT = "#la-lab-verdict"


@pytest.fixture(scope="module")
def page(browser, app_server: Server) -> Iterator[object]:  # noqa: F811
    outside: list[str] = []
    with app_page(browser, app_server.url, {"width": 1400, "height": 1100},
                  on_request=lambda url: outside.append(url) if leaves_machine(url) else None) as pg:
        yield pg
    assert outside == [], outside


def choose_experiment(pg, name: str, lang: str) -> None:
    label = f"{tr(EXPERIMENTS[name].title, lang)} ({name})"
    box = pg.locator("#la-lab-experiment input")
    box.click()
    box.fill(tr(EXPERIMENTS[name].title, lang))
    pg.get_by_role("option", name=label, exact=True).click()
    pg.wait_for_function("(label) => document.querySelector('#la-lab-experiment input').value === label", arg=label)


def set_param(pg, index: int, value: str) -> None:
    box = pg.locator(f"#la-lab-param-{index} textarea, #la-lab-param-{index} input").first
    box.fill(value)
    box.press("Tab")


def wait_for_plots(pg, record: dict) -> None:
    """Every panel of the record drawn with its axis titles (SVG), its title above and its legend below (HTML)."""
    for i, (panel, title) in enumerate(record["panels"].items()):
        series = [s for s in record["series"] if s["panel"] == panel]
        chart = pg.locator(f"#la-lab-plot-{i} svg").first
        for text in (series[0]["x_label"], series[0]["y_label"]):
            expect(chart).to_contain_text(text)
        expect(pg.locator(f"#la-lab-plot-{i}-title")).to_have_text(title)
        for s in series:
            expect(pg.locator(f"#la-lab-plot-{i}-legend")).to_contain_text(s["name"])


def test_an_experiment_runs_in_english_with_its_plots_and_verdict(page) -> None:
    pg = page
    pg.locator("#la-tabs").get_by_role("tab", name=say("tab", "en"), exact=True).click()
    expect(pg.locator(VERDICT)).to_have_text(say("not_run", "en"))
    choose_experiment(pg, EXPERIMENT, "en")
    expect(pg.locator("#la-lab-param-5")).to_be_visible()  # focal_imbalance has six parameters
    expect(pg.locator("#la-lab-claim")).to_contain_text(source_title("000_6833348b64a02e28.txt", "en"))
    pg.locator("#la-lab-run").click()
    expect(pg.locator(f'{VERDICT}[data-experiment="{EXPERIMENT}"][data-holds="true"]')).to_be_visible()
    expect(pg.locator("#la-lab-badge")).to_contain_text(say("holds", "en"))
    wait_for_plots(pg, run_experiment(EXPERIMENT))
    expect(pg.locator("#la-lab-finding")).to_contain_text("focal_loss_share")
    shot(pg, "lab")

    set_param(pg, 5, "1")  # negative_logit = 1: the negatives are as hard as the positives
    pg.locator("#la-lab-run").click()
    expect(pg.locator(f'{VERDICT}[data-holds="false"]')).to_be_visible()
    expect(pg.locator("#la-lab-badge")).to_contain_text(say("fails", "en"))


def test_the_language_switch_reruns_it_in_chinese(page) -> None:
    pg = page
    pg.locator("#la-lang").get_by_text("中文", exact=True).click()
    expect(pg.locator("#la-tabs").get_by_role("tab", name=say("tab", "zh"), exact=True)).to_be_visible()
    expect(pg.locator("#la-lab-badge")).to_contain_text(say("fails", "zh"))  # the last run, again, in 中文
    set_param(pg, 5, "-4")
    pg.locator("#la-lab-run").click()
    expect(pg.locator("#la-lab-badge")).to_contain_text(say("holds", "zh"))
    expect(pg.locator("#la-lab-claim")).to_contain_text("论断")
    wait_for_plots(pg, run_experiment(EXPERIMENT, lang="zh"))
    shot(pg, "lab_zh")
    text = pg.locator("#la-tab-lab").inner_text()
    names = {p.name for p in EXPERIMENTS[EXPERIMENT].params} | set(run_experiment(EXPERIMENT)["finding"])  # code
    assert stray_english(text, names) == [], [line for line in text.splitlines() if stray_english(line, names)]
    pg.locator("#la-lang").get_by_text("English", exact=True).click()
    expect(pg.locator("#la-lab-badge")).to_contain_text(say("holds", "en"))


# the finding's shown cells (Gradio's virtual table: role=gridcell) that do not fit: their text overflows the cell,
# or the cell reaches past the finding's box (cut off behind a sideways scroll)
CLIPPED_FINDING = """() => {
    const box = document.querySelector('#la-lab-finding').getBoundingClientRect();
    const cells = [...document.querySelectorAll('#la-lab-finding [role=gridcell]')].filter(c => c.checkVisibility());
    const clipped = cells.filter(c => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > box.right + 0.5);
    return [cells.length, clipped.map(c => c.innerText)]; }"""


def test_the_finding_fits_a_phone_with_whole_numbers(browser, app_server: Server) -> None:  # noqa: F811
    """On a phone the finding's table fits the screen: long names break, every value is whole (none cut off behind
    a sideways scroll)."""
    name = "l1_l2_smooth_l1"
    record = run_experiment(name)
    with app_page(browser, app_server.url, {"width": 390, "height": 844}) as pg:
        pg.locator("#la-tabs").get_by_role("tab", name=say("tab", "en"), exact=True).click()
        choose_experiment(pg, name, "en")
        pg.locator("#la-lab-run").click()
        expect(pg.locator(f'{VERDICT}[data-experiment="{name}"]')).to_be_visible()
        finding = pg.locator("#la-lab-finding")
        for key in record["finding"]:
            expect(finding).to_contain_text(key)
        shown, clipped = pg.evaluate(CLIPPED_FINDING)
        assert shown >= 2 * len(record["finding"]) and clipped == [], (shown, clipped)
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390
