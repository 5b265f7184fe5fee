"""The calculator's traps in normal use (issue 11, items 1-5 and 9), in a real browser: Playwright driving Debian's
Chromium against `python app.py` at 1400×1000.

After Compute the result is in view; a failed Compute clears the previous result; focal computes with its
defaults; switching the loss keeps inputs of the same kinds (and says so) or loads the new loss's example (and
says why); the "input:" line follows the `input` parameter; every loss in the dropdown computes from its example
and from the seeded random input, and the "Reproduce in PyTorch" snippet shown is the library's, which runs on its
own and prints the same value.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from ui_fixtures import (  # noqa: F401  (app_server and browser are fixtures)
    NEW_STAMP,
    STAMP,
    Server,
    app_page,
    app_server,
    browser,
    expect,
    fill,
    open_accordion,
    record_toasts,
    toast_with,
    wait,
)

import lossapp
from lossapp import render, service
from lossapp.i18n import tr
from lossapp.registry import LOSSES, LossSpec
from lossapp.ui.strings import family_label, t

pytestmark = pytest.mark.browser

SNIPPET = "() => [...document.querySelectorAll('#la-snippet .cm-line')].map(l => l.textContent).join('\\n')"


@pytest.fixture(scope="module")
def page(browser, app_server: Server) -> Iterator[Any]:  # noqa: F811
    with app_page(browser, app_server.url) as pg:
        yield pg


def compute_and_wait(pg: Any) -> str:
    """Click Compute, wait for the new result and return its value."""
    before = pg.evaluate(STAMP)
    pg.locator("#la-compute").click()
    wait(pg, NEW_STAMP, before, what="a new result after Compute")
    return pg.locator("#la-value").inner_text()


def pred_is(pg: Any, text: str, what: str) -> None:
    wait(pg, "(text) => document.querySelector('#la-pred textarea')?.value === text", text, what=what)


def option(spec: LossSpec) -> str:
    return f"{tr(spec.title, 'en')} · {spec.name}"


def pick_loss(pg: Any, spec: LossSpec) -> None:
    """Choose `spec` in the loss dropdown (of the family shown)."""
    box = pg.locator("#la-loss input")
    box.click()
    box.fill(tr(spec.title, "en"))
    pg.get_by_role("option", name=option(spec), exact=True).click()
    wait(pg, "(name) => document.querySelector('#la-loss input').value.endsWith('· ' + name)", spec.name)


def switched_to(pg: Any, spec: LossSpec) -> None:
    """Wait until the switch to `spec` is done: its info shown and the note about the inputs written for it."""
    title = tr(spec.title, "en")
    wait(pg, """(title) => {
        const note = document.querySelector('#la-input-note')?.innerText || '';
        return (document.querySelector('#la-info')?.innerText || '').includes(title)
            && (note.startsWith('Inputs kept: ' + title + ' reads')
                || note.startsWith('Inputs replaced by the example of ' + title + ':')); }""", title,
         what=f"the switch to {spec.name}")


def in_view(selector: str) -> str:
    return f"""() => {{ const box = document.querySelector('{selector}');
        if (!box) return false;
        const r = box.getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }}"""


def open_random_input(pg: Any) -> None:
    """Open the random-input accordion (where it is closed)."""
    open_accordion(pg, "#la-random", "#la-generate")


def no_error_toast(pg: Any) -> None:
    expect(pg.locator(".toast-body")).to_have_count(0)


def close_toasts(pg: Any) -> None:
    """Close every toast, as a user would, until none is left. A toast that arrives after a pass (a busy machine
    delivers them late) is closed by the next; the mouse then leaves the corner, since Gradio pauses a toast's
    timer while the pointer is over it."""
    from playwright.sync_api import Error as PlaywrightError

    def left() -> bool:
        for close in pg.locator(".toast-close").all():
            with contextlib.suppress(PlaywrightError):  # it closed itself meanwhile
                close.click(timeout=5_000)
        pg.mouse.move(0, 0)
        return pg.locator(".toast-body").count() > 0

    passes = 0
    while left() and passes < 20:
        passes += 1
        pg.wait_for_timeout(250)  # a pass over toasts still animating in: let them settle before the next
    no_error_toast(pg)


def expected_params(spec: LossSpec) -> dict[str, Any]:
    """The parameters after "Use the example input": the controls' defaults, then the example's."""
    given = {p.name: "" if p.default is None else p.default for p in spec.params}
    given.update((spec.example or {}).get("params") or {})
    return service.control_values(spec, given)


def run_alone(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"the snippet failed:\n{code}\n{out.stderr}"
    return out.stdout.strip()


# -- the tests (in order: they share one page) --------------------------------------------------------


def test_the_result_comes_into_view_after_compute(page) -> None:
    pg = page
    pg.locator("#la-compute").scroll_into_view_if_needed()
    wait(pg, in_view("#la-compute"))
    # the trap: at 1400×1000 the button sits below the fold, the result panel above it
    assert not pg.evaluate(in_view("#la-result")), "the result is already in view: nothing to scroll"
    assert compute_and_wait(pg) == "0.926341"
    wait(pg, in_view("#la-value"), what="the value scrolled into view")
    wait(pg, in_view("#la-badge"), what="the badge scrolled into view")


def test_a_failed_compute_clears_the_previous_result(page) -> None:
    pg = page
    pg.locator("#la-out-tabs").get_by_role("tab", name="Reproduce in PyTorch", exact=True).click()
    wait(pg, "() => document.querySelector('#la-snippet')?.innerText.includes('0.926341')")
    fill(pg, "#la-pred", "[0.2947, abc, 0.4863]")
    record_toasts(pg)
    pg.locator("#la-compute").click()
    toast_with(pg, "pred: expected a number, got 'abc'")
    failed = t("compute_failed", "en")
    wait(pg, "(text) => document.querySelector('#la-result')?.innerText.includes(text)", failed,
         what="the result panel saying that Compute failed")
    expect(pg.locator("#la-value")).to_have_count(0)
    expect(pg.locator("#la-badge")).to_have_count(0)
    wait(pg, "() => !document.querySelector('#la-snippet')?.innerText.includes('F.binary_cross_entropy')",
         what="the snippet cleared")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()
    expect(pg.locator("#la-solution")).not_to_contain_text("0.926341")
    pg.locator("#la-out-tabs").get_by_role("tab", name="Downloads", exact=True).click()
    for button in ("#la-dl-json", "#la-dl-md", "#la-dl-csv", "#la-dl-npz"):
        expect(pg.locator(f"{button} button, button{button}").first).to_be_disabled()
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()
    close_toasts(pg)
    fill(pg, "#la-pred", "[0.2947, 0.5898, 0.4863]")
    assert compute_and_wait(pg) == "0.926341"


def test_focal_computes_with_its_default_parameters(page) -> None:
    pg = page
    focal = LOSSES["focal"]
    pick_loss(pg, focal)
    switched_to(pg, focal)
    expect(pg.locator("#la-input-note")).to_contain_text("it reads pred as logits and target as 0/1 labels, "
                                                         "where Binary cross-entropy (BCE) read probabilities")
    pred_is(pg, focal.example["pred"], "focal's example")
    expect(pg.locator("#la-result")).to_contain_text(t("nothing_yet", "en"))  # BCE's result is gone
    avg_factor = pg.locator(".la-params").get_by_label("avg_factor").locator("visible=true")
    expect(avg_factor).to_have_value("")
    fill(pg, "#la-pred", "[0.45, 0.7]")
    fill(pg, "#la-target", "[1, 0]")
    expected = render.value_text(lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]").value)
    assert compute_and_wait(pg) == expected
    no_error_toast(pg)


def test_switching_loss_keeps_inputs_of_the_same_kinds_and_replaces_the_others(page) -> None:
    pg = page
    bce_logits, ce = LOSSES["bce_with_logits"], LOSSES["cross_entropy"]
    pick_loss(pg, bce_logits)  # logits and 0/1 labels, as focal: kept
    switched_to(pg, bce_logits)
    expect(pg.locator("#la-input-note")).to_have_text(
        "Inputs kept: BCE with logits reads them as Focal loss (sigmoid) did (pred: logits; target: 0/1 labels).")
    expect(pg.locator("#la-pred textarea")).to_have_value("[0.45, 0.7]")
    expect(pg.locator("#la-result")).to_contain_text(t("nothing_yet", "en"))
    expected = render.value_text(lossapp.compute("bce_with_logits", "[0.45, 0.7]", "[1, 0]").value)
    assert compute_and_wait(pg) == expected
    pick_loss(pg, ce)  # class indices: replaced
    switched_to(pg, ce)
    pred_is(pg, ce.example["pred"], "cross-entropy's example")
    expect(pg.locator("#la-target textarea")).to_have_value(ce.example["target"])
    expect(pg.locator("#la-info")).to_contain_text("input: logits ·")
    # the input line follows the `input` parameter, and so does the random pred's kind
    input_box = pg.locator(".la-params").get_by_label("input", exact=True).locator("visible=true")
    input_box.click()
    pg.get_by_role("option", name="probabilities", exact=True).click()
    expect(pg.locator("#la-info")).to_contain_text("input: probabilities ·")
    open_random_input(pg)
    pg.locator("#la-generate").click()
    made = service.random_input(0, "2, 3", "distribution", "classes", 0, ce)
    pred_is(pg, made.pred_text, "rows of probabilities")
    rows = json.loads(pg.locator("#la-pred textarea").input_value())
    assert all(abs(sum(row) - 1) < 1e-6 for row in rows)
    expected = render.value_text(lossapp.compute("cross_entropy", made.pred_text, made.target_text,
                                                 input="probabilities").value)
    assert compute_and_wait(pg) == expected
    input_box.click()
    pg.get_by_role("option", name="logits", exact=True).click()
    expect(pg.locator("#la-info")).to_contain_text("input: logits ·")


def test_every_loss_computes_from_its_example_and_from_random_input(page) -> None:
    """Every loss of the dropdown: "Use the example input" + Compute, then Generate + Compute; no error, the
    library's value; the snippet shown is the library's; for BCE and KL divergence (random 0/1 labels and
    log-probabilities) the snippet shown runs on its own and prints the built-in's value."""
    pg = page
    pg.locator("#la-out-tabs").get_by_role("tab", name="Reproduce in PyTorch", exact=True).click()
    open_random_input(pg)
    ran = []
    for family in service.families():
        specs = service.specs_in(family)
        pg.locator("#la-family").get_by_text(family_label(family, "en"), exact=True).click()
        for k, spec in enumerate(specs):
            if k or pg.evaluate("() => document.querySelector('#la-loss input').value") != option(spec):
                if k:
                    pick_loss(pg, spec)
                switched_to(pg, spec)
            params = expected_params(spec)
            pg.locator("#la-use-example").click()
            pred_is(pg, spec.example["pred"], f"{spec.name}'s example")
            example = service.compute(spec.name, spec.example["pred"], spec.example.get("target"), params, None,
                                      "cpu", "float32")
            assert compute_and_wait(pg) == render.value_text(example.value), spec.name
            no_error_toast(pg)
            made = service.random_input(0, "2, 3", *service.default_random_kinds(spec, params), 0, spec)
            pg.locator("#la-generate").click()
            pred_is(pg, made.pred_text, f"{spec.name}'s random input")
            result = service.compute(spec.name, made.pred_text, made.target_text, params, None, "cpu", "float32")
            value = compute_and_wait(pg)
            assert value == render.value_text(result.value), spec.name
            no_error_toast(pg)
            snippet = render.torch_snippet(result, sources=made.sources)
            wait(pg, f"""(value) => {{ const code = ({SNIPPET})();
                return code.includes('torch.manual_seed(0)')
                    && code.split('\\n').some(line => line.endsWith('# lossapp: ' + value)); }}""", value,
                 what=f"{spec.name}'s snippet")
            shown = pg.evaluate(SNIPPET)
            assert shown.strip() == snippet.strip(), spec.name
            if spec.name in ("bce", "kl_div"):
                printed = run_alone(shown)
                assert printed == f"tensor({result.reference.value:.6f})", (spec.name, printed)
                ran.append(spec.name)
    assert ran == ["bce", "kl_div"]
    pg.locator("#la-out-tabs").get_by_role("tab", name="Worked solution", exact=True).click()
