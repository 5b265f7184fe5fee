"""The "Check my answer" tab (lossapp/ui/check_tab.py) in-process — the verdict card of every verdict in
English and 中文, the conventions table, the tab's event handlers, batch grading of a CSV end to end
(the sample, malformed rows, the upload limits) — and the /check endpoint of the served app through
gradio_client."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import csv
import html
import io
import logging
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from gradio_client import Client
from gradio_client.exceptions import AppError
from ui_fixtures import Server, app_server  # noqa: F401  (app_server is a fixture)

import lossapp
from lossapp.i18n import msg, tr
from lossapp.inputs import InputError
from lossapp.ui import build_app, check_tab
from lossapp.ui.check_tab import VERDICT_STYLE, card_html, conventions_frame, run_check
from lossapp.ui.common import Translations, gr
from lossapp.ui.strings import t

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "answers_sample.csv"
BCE = ("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
TRUE_BCE = 0.9263412213637533

# (loss, pred, target, params, claimed) -> verdict, one case per verdict
CASES = {
    "exact": (*BCE, {}, "0.92634"),
    "rounding": (*BCE, {}, "0.9264"),
    "mistake": (*BCE, {}, "0.4023"),
    "convention": ("bce", "[1.0, 0.3]", "[0, 1]", {}, "8.661"),
    "incorrect": (*BCE, {}, "0.8"),
}
SAMPLE_VERDICTS = {"s01": "rounding", "s02": "exact", "s03": "mistake", "s04": "exact", "s05": "mistake",
                   "s06": "convention", "s07": "convention", "s08": "incorrect", "s09": "mistake", "s10": "error"}


def _check(verdict: str) -> dict[str, Any]:
    loss, pred, target, params, claimed = CASES[verdict]
    return run_check(loss, pred, target, params, "mean", claimed)


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities decoded, whitespace collapsed)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _attr(fragment: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', fragment)
    assert match, name
    return match.group(1)


# -- the verdict card ------------------------------------------------------------------------------------


@pytest.mark.parametrize("verdict", list(CASES))
def test_card_of_each_verdict(verdict: str) -> None:
    state = _check(verdict)
    v = state["verdict"]
    assert v.verdict == verdict
    card = card_html(v, "en", state["result"])
    assert _attr(card, "data-verdict") == verdict
    _, bg, accent, mark = VERDICT_STYLE[verdict]
    assert f"--chk-accent: {accent};" in card and f"--chk-bg: {bg};" in card  # coloured per verdict
    text = _text(card)
    assert text.startswith(f"{mark} {verdict} {t('g_' + verdict, 'en')}")
    claimed = CASES[verdict][4]
    decimals = len(claimed.split(".")[1])
    assert f"claimed {claimed} written to {decimals} decimal" in text
    assert f"true value {v.value:.10g}" in text
    lo, hi = v.interval
    digits = max(6, decimals + 2)
    assert f"[{lo:.{digits}g}, {hi:.{digits}g}]" in text  # the interval with the inputs rounded as written
    assert _text(html.escape(v.explanation)) in text
    assert "matches torch.nn.functional.binary_cross_entropy on cpu/float32" in text


def test_rounding_card_is_article_002() -> None:
    state = _check("rounding")
    v = state["verdict"]
    assert v.decimals == 4 and v.value == pytest.approx(TRUE_BCE, abs=1e-15)
    lo, hi = v.interval
    assert lo <= 0.92635 <= hi and hi - lo < 3e-4  # the claim's band [0.92635, 0.92645] overlaps it
    text = _text(card_html(v, "en", state["result"]))
    assert "[0.926212, 0.926471]" in text
    assert "0.9263 to 4 decimals" in text
    assert "the inputs were themselves rounded" in text
    # the picture: the attainable range, the claim's rounding band and the true value on one axis
    card = card_html(v, "en", state["result"])
    assert 'id="la-check-line"' in card and "la-chk-band" in card and "la-chk-true" in card


def test_mistake_and_convention_cards_list_what_reproduces_the_claim() -> None:
    mistake = _check("mistake")["verdict"]
    card = card_html(mistake, "en")
    table = card[card.index('id="la-check-matches"'):]
    assert "<code>log10</code>" in table and "log base 10 instead of the natural log" in table
    log10 = next(m for m in mistake.mistakes if m.id == "log10")
    assert f"{log10.value:.10g}" in table
    assert log10.value == pytest.approx(TRUE_BCE / math.log(10), rel=1e-12)
    assert f"{log10.value:.4f}" == "0.4023"

    convention = _check("convention")["verdict"]
    card = card_html(convention, "en")
    table = _text(card[card.index('id="la-check-matches"'):])
    assert "convention keras_clip Keras: probabilities clipped to [1e-7, 1 − 1e-7]" in table
    p, y = torch.tensor([1.0, 0.3], dtype=torch.float64).clamp(1e-7, 1 - 1e-7), torch.tensor([0.0, 1.0])
    keras = float(torch.mean(-(y * torch.log(p) + (1 - y) * torch.log(1 - p))))
    assert convention.conventions[0].value == pytest.approx(keras, rel=1e-12)
    assert f"{keras:.10g}" in table
    # exact / rounding / incorrect reproduce nothing: no table
    for verdict in ("exact", "rounding", "incorrect"):
        assert "la-check-matches" not in card_html(_check(verdict)["verdict"], "en")


def test_card_in_chinese() -> None:
    state = _check("rounding")
    v = state["verdict"]
    card = card_html(v, "zh", state["result"])
    text = _text(card)
    assert text.startswith("≈ 舍入 rounding 在输入的舍入误差范围内正确")
    assert "给出的答案 0.9264 写到 4 位小数" in text
    assert "真实值 0.9263412214 保留 4 位小数为 0.9263" in text
    assert "输入按所写位数舍入时的取值区间 [0.926212, 0.926471]" in text
    assert _text(html.escape(v.explanation_zh)) in text
    assert v.explanation not in text
    assert tr(lossapp.LOSSES["bce"].title, "zh") in text
    mistake = _text(card_html(_check("mistake")["verdict"], "zh"))
    assert "常见错误" in mistake and "log10" in mistake and "用以 10 为底的对数代替自然对数" in mistake


def test_decimals_in_words() -> None:
    one = _text(card_html(_check("incorrect")["verdict"], "en"))
    assert "written to 1 decimal " in one and "0.9 to 1 decimal " in one
    whole = run_check("mse", "[10.0, 20.0]", "[0.0, 0.0]", {}, "mean", "500")["verdict"]
    assert whole.verdict == "mistake" and whole.decimals == 0  # Σ = 500: the sum instead of the mean
    # "5" (one significant digit) for Σ = 5 is matched by chance too easily: the mistake is only a possibility
    few = run_check("mse", "[1.0, 2.0]", "[2.0, 4.0]", {}, "mean", "5")["verdict"]
    assert few.verdict == "incorrect" and [p.id for p in few.possible] == ["sum_instead_of_mean"]
    assert t("chk_kind_possible", "en") in _text(card_html(few, "en"))
    text = _text(card_html(whole, "en"))
    assert "written as a whole number" in text and "取整为" in _text(card_html(whole, "zh"))


def test_card_without_a_claim_and_before_any_check() -> None:
    state = run_check(*BCE, {}, "mean", "  ")
    assert state["verdict"] is None
    card = card_html(None, "en", state["result"])
    assert _attr(card, "data-verdict") == "none"
    assert "0.926341" in _text(card) and t("chk_no_claim", "en") in _text(card)
    assert t("chk_nothing", "zh") in _text(card_html(None, "zh"))
    frame = conventions_frame(state["conventions"], "en")
    assert list(frame.columns) == ["library", "convention", "value", "difference", "gives the claim"]
    assert frame.iloc[0].tolist()[:4] == ["PyTorch", "PyTorch (this result)", "0.9263412214", "0"]
    assert set(frame["gives the claim"]) == {""}


def test_conventions_table_values_and_the_reproducing_row() -> None:
    state = _check("convention")
    frame = conventions_frame(state["conventions"], "en", state["verdict"])
    rows = {r["convention"]: r for r in frame.to_dict("records")}
    keras = rows["Keras: probabilities clipped to [1e-7, 1 − 1e-7]"]
    assert keras["gives the claim"] == "✓" and keras["library"] == "Keras"
    assert [r["gives the claim"] for r in frame.to_dict("records")].count("✓") == 1
    # sklearn's log_loss clips to float64's machine epsilon: the value written out from the formula
    eps = torch.finfo(torch.float64).eps
    sklearn = float(torch.mean(-torch.log(torch.tensor([1.0 - (1.0 - eps), 0.3], dtype=torch.float64))))
    assert float(rows["scikit-learn log_loss: clipped to the machine epsilon"]["value"]) == pytest.approx(sklearn, rel=1e-9)
    zh = conventions_frame(state["conventions"], "zh", state["verdict"])
    assert list(zh.columns) == ["库", "约定", "值", "差值", "得到所给答案"]
    assert any(CJK.search(str(x)) for x in zh["约定"])


def test_card_escapes_html() -> None:
    bad = {"verdict": "incorrect", "claimed": 1.0, "claimed_text": "<b>1</b>", "value": 2.0, "decimals": 0,
           "interval": None, "explanation": "<script>alert(1)</script>", "mistakes": [], "conventions": []}
    card = card_html(bad, "en")
    assert "<script>" not in card and "&lt;script&gt;" in card and "<b>1</b>" not in card
    assert "not established" in _text(card)


def test_render_outputs_opens_with_article_002_and_switches_language() -> None:
    en = check_tab.render_outputs(check_tab.PRESET, "en")
    assert _attr(en[0], "data-verdict") == "rounding"
    assert isinstance(en[2], pd.DataFrame) and en[2].iloc[0, 0] == "PyTorch"
    result = lossapp.compute(*BCE)
    assert tr(result.steps[0].title, "en") in en[3] and r"\frac{2.779}{3} = 0.926341" in en[3]
    zh = check_tab.render_outputs(check_tab.PRESET, "zh")
    assert "舍入" in _text(zh[0]) and tr(result.steps[0].title, "zh") in zh[3]
    empty = check_tab.render_outputs(None, "en")
    assert t("chk_nothing", "en") in empty[0] and empty[2] is None


# -- the tab's handlers, in a Blocks of its own ----------------------------------------------------------


@pytest.fixture(scope="module")
def tab() -> Any:
    with gr.Blocks() as demo:
        lang = gr.Radio([("English", "en"), ("中文", "zh")], value="en")
        tr_ui = Translations()
        built = check_tab.build(tr_ui)
        check_tab.wire(built, lang)
    built.extra["lang"] = lang
    built.extra["tr_ui"] = tr_ui
    built.extra["demo"] = demo
    return built


def _inputs(tab: Any, lang: str, loss: str, pred: str, target: str, claimed: str, reduction: str = "mean",
            **params: Any) -> dict[Any, Any]:
    data = {tab.extra["lang"]: lang, tab.loss: loss, tab.pred: pred, tab.target: target, tab.reduction: reduction,
            tab.device: "cpu", tab.dtype: "float32", tab.claimed: claimed}
    for c in tab.controls:
        data[c.component] = params.get(c.param.name, c.component.value) if c.spec == loss else c.component.value
    return data


def test_on_check_handler(tab: Any) -> None:
    state, card, warnings, conventions, solution = tab.extra["on_check"](_inputs(tab, "en", *BCE, "0.4023"))
    assert state["verdict"].verdict == "mistake" and _attr(card, "data-verdict") == "mistake"
    assert "Steps" in solution and conventions.iloc[0, 0] == "PyTorch"
    # the generated parameter controls reach the loss: weighted BCE
    data = _inputs(tab, "en", *BCE, "", weight="[1, 2, 3]")
    state, *_ = tab.extra["on_check"](data)
    expected = F.binary_cross_entropy(torch.tensor([0.2947, 0.5898, 0.4863], dtype=torch.float64),
                                      torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),
                                      weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert state["result"].value == pytest.approx(expected.item(), rel=1e-12) and state["verdict"] is None
    # the lint warnings are shown with the result
    state, card, warnings, *_ = tab.extra["on_check"](_inputs(tab, "en", "cross_entropy", "[[0.7, 0.2, 0.1]]",
                                                              "[0]", "0.5"))
    assert warnings.startswith("**⚠ Input checks**") and len(state["result"].warnings) >= 1


def test_on_check_errors_in_the_users_language(tab: Any) -> None:
    with pytest.raises(gr.Error) as caught:
        tab.extra["on_check"](_inputs(tab, "en", "bce", "[0.2947, abc]", "[1, 0]", "0.9"))
    assert "pred: expected a number, got 'abc'" in str(caught.value.message)
    with pytest.raises(gr.Error) as caught:
        tab.extra["on_check"](_inputs(tab, "zh", *BCE, "zero point nine"))
    assert caught.value.message == msg("check.claim_not_a_number", got="'zero point nine'").render("zh")
    assert CJK.search(caught.value.message)
    with pytest.raises(gr.Error, match="one number"):  # reduction none has no single value to claim
        tab.extra["on_check"](_inputs(tab, "en", *BCE, "0.9", reduction="none"))


def test_on_check_shows_user_text_escaped_and_internal_errors_without_internals(
        tab: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(gr.Error) as caught:  # the modal renders HTML: the user's text shows as typed
        tab.extra["on_check"](_inputs(tab, "en", "bce", "<img src=x onerror=alert(1)>", "[1]", "0.9"))
    assert "got '&lt;img'" in caught.value.message and "<" not in caught.value.message

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("secret internals")

    monkeypatch.setattr(check_tab.service, "compute", broken)
    with caplog.at_level(logging.ERROR, logger="lossapp.ui"):
        for lang, title in (("en", "Internal error"), ("zh", "内部错误")):
            with pytest.raises(gr.Error) as caught:
                tab.extra["on_check"](_inputs(tab, lang, *BCE, "0.9264"))
            assert caught.value.title == title and "secret" not in caught.value.message
            assert re.search(r"[0-9a-f]{8}", caught.value.message)
    assert len(caplog.records) == 2 and "secret internals" in caplog.text


def test_every_label_of_the_tab_switches_language(tab: Any) -> None:
    tr_ui: Translations = tab.extra["tr_ui"]
    assert len(tr_ui.items) > 60  # the parameter controls of every loss, the inputs, the buttons, the accordions
    for (component, _), en, zh in zip(tr_ui.items, tr_ui.updates("en"), tr_ui.updates("zh"), strict=True):
        texts = [(en.get(k), zh.get(k)) for k in ("label", "info", "placeholder", "value")
                 if isinstance(en, dict) and isinstance(en.get(k), str) and en.get(k)]
        for a, b in texts:
            assert a != b or not re.search(r"[a-z]{4,}", a), (type(component).__name__, a)
            if a != b:
                assert CJK.search(b), (type(component).__name__, a, b)
    for key in ("tab_check", "chk_intro", "chk_button", "v_convention", "g_mistake", "grade_intro", "gcol_explanation"):
        assert CJK.search(t(key, "zh")) and t(key, "zh") != t(key, "en"), key


def test_the_app_has_the_tab_after_the_confusion_matrix() -> None:
    demo = build_app()
    tabs = [b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Tab) and (b.elem_id or "").startswith("la-tab-")]
    assert tabs[:3] == ["la-tab-calculator", "la-tab-confusion", "la-tab-check"]
    tab = next(b for b in demo.blocks.values() if isinstance(b, gr.Tab) and b.elem_id == "la-tab-check")
    assert tab.label == "Check my answer" and tab.id == "check"
    labels = [fn(lg) for c, fn in demo.lossapp_translations.items if c is tab for lg in ("en", "zh")]
    assert [x.label for x in labels] == ["Check my answer", "检查答案"]
    # the tab's handlers are private: the public API stays /compute, /confusion, /check (and the complete JSON's
    # /compute_full, /check_full)
    api = demo.get_api_info()
    assert set(api["named_endpoints"]) == {"/compute", "/compute_full", "/confusion", "/check", "/check_full"}


# -- batch grading ------------------------------------------------------------------------------------


def test_grade_the_sample_end_to_end(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    state = check_tab.grade_upload(SAMPLE, lambda done, total: calls.append((done, total)))
    df = state["df"]
    assert dict(zip(df["id"], df["verdict"], strict=True)) == SAMPLE_VERDICTS
    assert calls == [(i, 10) for i in range(11)]
    assert set(SAMPLE_VERDICTS.values()) == {"exact", "rounding", "convention", "mistake", "incorrect", "error"}
    rows = df.set_index("id")
    assert rows.loc["s03", "mistakes"] == "log10" and rows.loc["s05", "mistakes"] == "alpha_on_both_classes"
    assert rows.loc["s06", "conventions"] == "keras_clip"
    assert rows.loc["s07", "conventions"] == "label_smoothing_other_classes"
    assert rows.loc["s09", "mistakes"] == "dice_coefficient_not_loss"
    assert rows.loc["s01", "value"] == pytest.approx(TRUE_BCE, abs=1e-15)
    assert rows.loc["s04", "value"] == F.mse_loss(torch.tensor([2.5, 0.0, 2.0, 8.0]),
                                                  torch.tensor([3.0, -0.5, 2.0, 7.0]), reduction="sum").item()
    # the malformed row: an error verdict with the reason, and the batch went on past it
    assert "pred: expected a number, got 'abc'" in rows.loc["s10", "explanation"]
    assert math.isnan(rows.loc["s10", "value"])
    # the summary counts, the chips and the chart
    table_of_counts = check_tab.summary(df)
    counts = dict(zip(table_of_counts["verdict"], table_of_counts["count"], strict=True))
    assert counts == {"exact": 2, "convention": 2, "mistake": 3, "rounding": 1, "incorrect": 1, "error": 1}
    summary, chart, table = check_tab.render_grade(state, "en")
    assert _text(summary) == ("10 answers graded: 2 exact 2 convention 3 mistake 1 rounding 1 incorrect 1 error")
    frame = chart["value"]
    assert frame["verdict"].tolist() == ["exact", "convention", "mistake", "rounding", "incorrect", "error"]
    assert frame["count"].tolist() == [2, 2, 3, 1, 1, 1] and chart["visible"] is True
    assert chart["y_lim"][0] == 0 and chart["y_lim"][1] >= 3
    assert list(table.columns) == ["id", "loss", "verdict", "true value", "claimed", "mistakes", "conventions",
                                   "explanation"]
    assert table["verdict"].tolist() == [SAMPLE_VERDICTS[i] for i in table["id"]]
    # in Chinese: headers, verdict words, explanations
    summary_zh, chart_zh, table_zh = check_tab.render_grade(state, "zh")
    assert _text(summary_zh).startswith("已评分 10 个答案：") and "3 常见错误" in _text(summary_zh)
    assert chart_zh["x_title"] == "判定" and chart_zh["title"] == "判定统计"
    assert table_zh.columns[2] == "判定" and table_zh.iloc[0, 2] == "舍入"
    assert all(CJK.search(x) for x in table_zh["解释"])
    # the verdicts CSV to download: every row, both languages
    with open(state["path"], encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [r["id"] for r in written] == list(SAMPLE_VERDICTS) and written[9]["verdict"] == "error"
    assert set(written[0]) >= {"id", "verdict", "value", "claimed", "mistakes", "explanation", "explanation_zh"}
    assert written[6]["claimed"] == "0.4960"  # the claim as written


def test_on_grade_handler_drives_the_progress_bar(tab: Any) -> None:
    seen: list[Any] = []

    def progress(value: Any, desc: str | None = None, total: Any = None, unit: str = "steps") -> None:
        seen.append((value, desc, unit))

    out = tab.extra["on_grade"]("en", str(SAMPLE), None, progress)
    state, summary, _, _, download = out
    assert len(state["df"]) == 10 and "10 answers graded" in _text(summary)
    assert download["value"] == state["path"] and download["interactive"] is True
    assert seen[0] == (0.0, "reading the CSV", "steps")
    assert ((10, 10), "grading", "answers") in seen and ((0, 10), "grading", "answers") in seen
    with pytest.raises(gr.Error, match="Choose an answers CSV first"):
        tab.extra["on_grade"]("en", None, None, progress)


def test_malformed_rows_never_stop_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "id,loss,pred,target,params,claimed\n"
        'a,bce,"[0.2947, 0.5898, 0.4863]","[1, 0, 0]",{not json},0.9264\n'
        'b,no_such_loss,"[0.1]","[1]",{},0.5\n'
        'c,mse,"[1.0, 2.0]","[1.0]",{},0.5\n'
        'd,mse,"[1.0, 2.0]","[1.0, 2.0]",{},\n'
        "e,mse\n"
        'f,mse,"[1.0, 2.0]","[2.0, 4.0]",{},2.5\n', encoding="utf-8")
    df = check_tab.grade_upload(path)["df"]
    assert df["verdict"].tolist() == ["error"] * 5 + ["exact"]
    reasons = df["explanation"].tolist()
    assert "params: expected a JSON object" in reasons[0]
    assert "no_such_loss" in reasons[1]
    assert "expected a claimed answer" in reasons[3] and "expected at least 6 columns" in reasons[4]
    assert all(CJK.search(x) for x in df["explanation_zh"][:5])


def test_upload_limits_and_safe_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"id,loss,pred,target,params,claimed\n" + b"x" * check_tab.MAX_UPLOAD_BYTES)
    with pytest.raises(InputError, match=r"answers CSV: expected at most 2,000,000 bytes, got 2,000,03\d"):
        check_tab.read_answers(big)
    many = tmp_path / "many.csv"
    many.write_text("id,loss,pred,target,params,claimed\n" + "a,mse,[1],[1],{},0\n" * (check_tab.MAX_UPLOAD_ROWS + 1))
    with pytest.raises(InputError, match="expected at most 2,000 answer rows, got 2,001"):
        check_tab.read_answers(many)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,loss,pred,target,params,claimed\nÉ,mse,[1],[1],{},0\n".encode("latin-1"))
    with pytest.raises(InputError, match="expected UTF-8 text"):
        check_tab.read_answers(latin)
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="got a binary file"):
        check_tab.read_answers(binary)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="got an empty file"):
        check_tab.read_answers(empty)
    # an uploaded file whose text is a path is graded as CSV text, never opened as a path
    sneaky = tmp_path / "sneaky.csv"
    sneaky.write_text(str(SAMPLE))
    df = check_tab.grade_upload(sneaky)["df"]
    assert df["verdict"].tolist() == ["error"] and "expected at least" in df["explanation"][0]
    # a BOM and CRLF line ends are fine
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfid,loss,pred,target,params,claimed\r\nz,mse,\"[1, 2]\",\"[2, 4]\",{},2.5\r\n")
    assert check_tab.grade_upload(bom)["df"]["verdict"].tolist() == ["exact"]
    # the limits are in the user's language
    rows = msg("grade.upload_too_many_rows", limit="2,000", got="2,001")
    assert rows == "answers CSV: expected at most 2,000 answer rows, got 2,001"
    assert rows.render("zh") == "答案 CSV：最多 2,000 行答案，实际为 2,001 行"


HOSTILE = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1+1", '=HYPERLINK("http://x.invalid")']


def test_the_verdicts_download_is_safe_to_open_in_a_spreadsheet(tab: Any, tmp_path: Path) -> None:
    """Answers whose cells are formulas come back in verdicts.csv as text (a leading quote), from the upload
    handler the Grade button runs; the true values stay numbers."""
    path = tmp_path / "answers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "loss", "pred", "target", "params", "claimed"])
        for cell in HOSTILE:
            writer.writerow([cell, "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "0.9264"])
        writer.writerow(["s-claim", "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "-1+1"])
        writer.writerow(["s-loss", "=1+1", "[0.5]", "[1]", "{}", "0.5"])
    state, *_, download = tab.extra["on_grade"]("en", str(path), lambda *a, **k: None)
    assert download["value"] == state["path"] and Path(state["path"]).name == "verdicts.csv"
    with open(state["path"], encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:len(HOSTILE) + 1]] == ["'" + h for h in HOSTILE]
    assert rows[-2][4] == "'-1+1" and rows[-1][1] == "'=1+1"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    assert float(rows[1][3]) == pytest.approx(TRUE_BCE, rel=1e-12)
    assert list(state["df"]["id"][:len(HOSTILE)]) == HOSTILE  # the table shown keeps the text as given
    assert tab.grade_table.buttons == ["fullscreen"]  # no copy button: a pasted formula would run


def test_sample_csv_is_small_and_covers_every_verdict() -> None:
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    assert 8 <= len(rows) <= 10
    assert {r["loss"] for r in rows} >= {"bce", "mse", "focal", "cross_entropy", "smooth_l1", "dice"}
    assert [r["id"] for r in rows] == list(SAMPLE_VERDICTS)


# -- the checker's evidence on the card (issue 12) -------------------------------------------------------


def test_card_of_a_claim_per_element() -> None:
    """Article 003's focal pixels with the article's last formula (α on both classes): pixel 0 right, pixel 1 the
    mistake; a row per element, coloured by its verdict, in English and 中文."""
    state = run_check("focal", "[0.45, 0.7]", "[1, 0]", {"input": "probabilities", "alpha": 0.25, "gamma": 2.0},
                      "none", "[0.0604, 0.1475]")
    card = card_html(state["verdict"], "en", state["result"])
    assert _attr(card, "data-verdict") == "mistake"
    rows = re.findall(r'<tr class="la-chk-element" data-verdict="(\w+)"', card)
    assert rows == ["exact", "mistake"]
    text = _text(card)
    assert "one verdict per element (2 elements): 1 exact, 1 mistake" in text
    assert "0.0604" in text and "0.4424600056" in text and "alpha_on_both_classes" in text
    assert t("chk_elements", "en") in text and "one per element (2)" in text
    zh = _text(card_html(state["verdict"], "zh", state["result"]))
    assert "逐个元素" in zh and "1 个精确，1 个常见错误" in zh
    assert 'id="la-check-elements"' not in card_html(_check("rounding")["verdict"], "en")  # one number: no rows


def test_card_of_a_mistake_reached_over_the_rounding_box() -> None:
    state = run_check(*BCE, {}, "mean", "-0.9264")
    card = _text(card_html(state["verdict"], "en", state["result"]))
    assert _attr(card_html(state["verdict"], "en"), "data-verdict") == "mistake"
    assert "missing_minus" in card and "ranges over [-0.926471, -0.926212] with the inputs rounded" in card
    assert "输入舍入时取值范围为 [-0.926471, -0.926212]" in _text(card_html(state["verdict"], "zh"))


def test_card_of_a_claim_of_too_few_digits() -> None:
    state = run_check(*BCE, {}, "mean", "0.5")
    card = card_html(state["verdict"], "en", state["result"])
    assert _attr(card, "data-verdict") == "incorrect"
    text = _text(card)
    assert "possible (too few digits to decide)" in text and "labels_swapped" in text
    assert "可能（有效数字太少，无法判定）" in _text(card_html(state["verdict"], "zh"))


@pytest.mark.parametrize(("claimed", "verdict"), [("≈0.9264", "rounding"), ("0,9264", "rounding"), ("92.6%", "exact"),
                                                  ("0.93 (2 d.p.)", "exact"), ("-0.9264", "mistake"),
                                                  ("０．９２６４", "rounding")])
def test_the_tab_reads_claims_as_people_write_them(claimed: str, verdict: str) -> None:
    state = run_check(*BCE, {}, "mean", claimed)
    assert state["verdict"].verdict == verdict
    assert claimed in _text(card_html(state["verdict"], "en", state["result"]))


# -- /check through gradio_client against `python app.py` ----------------------------------------------


@pytest.fixture(scope="module")
def client(app_server: Server) -> Client:  # noqa: F811
    return Client(app_server.url, verbose=False)


def test_check_endpoint_through_gradio_client(client: Client) -> None:
    data = client.predict(*BCE, "{}", "mean", "cpu", "float32", "0.9264", api_name="/check")
    check = data["check"]
    assert check["verdict"] == "rounding" and check["decimals"] == 4 and check["claimed"] == 0.9264
    assert check["value"] == pytest.approx(TRUE_BCE, abs=1e-15) and data["value"] == check["value"]
    assert check["interval"] == pytest.approx(lossapp.check(*BCE, claimed="0.9264").interval, abs=1e-15)
    assert check["interval"][0] == pytest.approx(0.926212, abs=1e-6) and check["interval"][1] == pytest.approx(0.926471, abs=1e-6)
    assert "inputs were themselves rounded" in check["explanation"] and CJK.search(check["explanation_zh"])
    mistake = client.predict(*BCE, "{}", "mean", "cpu", "float32", "0.4023", api_name="/check")["check"]
    assert mistake["verdict"] == "mistake" and [m["id"] for m in mistake["mistakes"]] == ["log10"]
    convention = client.predict("bce", "[1.0, 0.3]", "[0, 1]", "{}", "mean", "cpu", "float32", "8.661",
                                api_name="/check")["check"]
    assert convention["verdict"] == "convention" and convention["conventions"][0]["id"] == "keras_clip"
    focal = client.predict("focal", "[1.2, -0.8, 0.3, -1.5]", "[1, 0, 1, 0]", '{"alpha": 0.25, "gamma": 2}', "mean",
                           "cpu", "float32", "0.0098", api_name="/check")
    assert focal["params"]["alpha"] == 0.25 and "alpha_on_both_classes" in [m["id"] for m in focal["check"]["mistakes"]]
    with pytest.raises(AppError, match=r"claimed: expected a number such as 0\.9264, got 'abc'"):
        client.predict(*BCE, "{}", "mean", "cpu", "float32", "abc", api_name="/check")
    with pytest.raises(AppError, match="params: expected a JSON object"):
        client.predict(*BCE, "{weight: 1}", "mean", "cpu", "float32", "0.9", api_name="/check")


def test_check_endpoint_per_element_and_written_forms(client: Client) -> None:
    data = client.predict("bce", "[0.45, 0.7]", "[1, 0]", "{}", "none", "cpu", "float32", "[0.7985, 1.2040]",
                          api_name="/check")["check"]
    assert data["verdict"] == "exact" and [e["verdict"] for e in data["elements"]] == ["exact", "exact"]
    assert data["claimed"] == [0.7985, 1.204]
    minus = client.predict(*BCE, "{}", "mean", "cpu", "float32", "-0.9264", api_name="/check")["check"]
    assert minus["verdict"] == "mistake" and minus["mistakes"][0]["id"] == "missing_minus"
    assert client.predict(*BCE, "{}", "mean", "cpu", "float32", "92.6%", api_name="/check")["check"]["verdict"] == "exact"
