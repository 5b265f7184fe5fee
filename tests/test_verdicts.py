"""The answer checker: claims, every verdict, the golden article case, the exact-at-every-decimal property,
the incorrect explanation, JSON and Chinese."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from stray_english import stray_english

import lossapp
from lossapp.i18n import has_zh, localize, tr
from lossapp.inputs import InputError, limits
from lossapp.verdicts import VERDICTS, Verdict, check, check_result, format_rounded, parse_claim, rounds_to

BCE = {"pred": "[0.2947, 0.5898, 0.4863]", "target": "[1, 0, 0]"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _bce_torch() -> float:
    p = torch.tensor([0.2947, 0.5898, 0.4863], dtype=torch.float64)
    return float(F.binary_cross_entropy(p, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)))


# -- claims ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("claimed", "value", "decimals"), [
    ("0.9264", 0.9264, 4), ("0.92640", 0.9264, 5), (" 0.9 ", 0.9, 1), ("3", 3.0, 0), ("9.264e-1", 0.9264, 4),
    ("1.5E-3", 0.0015, 4), ("−0.25", -0.25, 2), ("+.5", 0.5, 1), (0.9264, 0.9264, 4), (0.1, 0.1, 1), (2, 2.0, 0),
    (1e-05, 1e-05, 5), ("nan", math.nan, 0),
])
def test_parse_claim(claimed, value: float, decimals: int) -> None:
    c = parse_claim(claimed)
    assert c.decimals == decimals
    assert (math.isnan(c.value) and math.isnan(value)) or c.value == value


@pytest.mark.parametrize("bad", ["abc", "0.9.2", "1,5,0", "", "2**3", True, None, [0.9], "≈", "%", "0.93 (x d.p.)"])
def test_bad_claims_are_input_errors(bad) -> None:
    with pytest.raises(InputError, match=r"claimed: expected a number such as 0\.9264, got") as info:
        parse_claim(bad)
    for form in ("≈0.9264", "0,9264", "92.6%", "0.93 (2 d.p.)", "[0.7985, 1.2040]"):  # the accepted forms
        assert form in str(info.value)
    assert "0.93（2 位小数）" in info.value.message.render("zh")


def test_rounds_to_accepts_both_neighbours_of_a_tie() -> None:
    assert rounds_to(0.92635, parse_claim("0.9264")) and rounds_to(0.92635, parse_claim("0.9263"))
    assert not rounds_to(0.92634, parse_claim("0.9264"))


# -- the golden case (article 002) ---------------------------------------------------------------------------------

def test_golden_rounding() -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.9264")
    assert v.verdict == "rounding"
    assert v.value == pytest.approx(_bce_torch(), rel=1e-12)
    assert v.decimals == 4 and v.rounded == "0.9263"
    lo, hi = v.interval
    assert lo == pytest.approx(0.92621, abs=1e-5) and hi == pytest.approx(0.92647, abs=1e-5)
    assert "inputs were themselves rounded" in v.explanation and "pred written to 4 decimals" in v.explanation
    assert "输入本身就是舍入过的" in v.explanation_zh
    assert not v.mistakes and not v.conventions


def test_golden_log10_mistake() -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.4023")
    assert v.verdict == "mistake"
    assert [m.id for m in v.mistakes] == ["log10"]
    assert v.mistakes[0].value == pytest.approx(_bce_torch() / math.log(10), rel=1e-12)
    assert "log10" in v.explanation or "log base 10" in v.explanation


def test_cli_golden_case(capsys: pytest.CaptureFixture[str]) -> None:
    from lossapp.__main__ import main
    assert main(["bce", "--pred", BCE["pred"], "--target", BCE["target"], "--claimed", "0.9264"]) == 0
    out = capsys.readouterr().out
    assert "rounding" in out and "inputs were themselves rounded" in out
    assert main(["bce", "--pred", BCE["pred"], "--target", BCE["target"], "--claimed", "0.4023", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["check"]["verdict"] == "mistake" and data["check"]["mistakes"][0]["id"] == "log10"


# -- exact at every number of decimals (property) ---------------------------------------------------------------------

PROPERTY_CASES = [
    ("bce", BCE["pred"], BCE["target"], {}),
    ("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", {}),
    ("mse", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]", {}),
    ("focal", "[[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]", "[[1, 0, 0], [0, 1, 1]]", {"alpha": 0.25, "gamma": 2.0}),
    ("dice", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]", {"per_sample": True}),
]
_RESULTS: dict[str, lossapp.Result] = {}


def _result(i: int) -> lossapp.Result:
    name, pred, target, params = PROPERTY_CASES[i]
    if name not in _RESULTS:
        _RESULTS[name] = lossapp.compute(name, pred, target, **params)
    return _RESULTS[name]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(PROPERTY_CASES) - 1), st.integers(1, 8), st.booleans())
def test_true_value_is_exact_at_every_decimal(i: int, decimals: int, as_text: bool) -> None:
    r = _result(i)
    text = f"{r.value:.{decimals}f}"
    claimed = text if as_text else float(text)
    v = check_result(r, claimed)
    assert v.verdict == "exact", (text, v.explanation)
    assert v.decimals == (decimals if as_text else parse_claim(float(text)).decimals)


def test_every_example_gets_a_verdict() -> None:
    from lossapp.examples import load_examples, run_example
    seen = 0
    for ex in load_examples():
        _, verdict = run_example(ex)
        if ex.stated is not None:
            assert verdict is not None and verdict.verdict in VERDICTS
            seen += 1
    assert seen >= 1


# -- each verdict on constructed cases ------------------------------------------------------------------------------------

def test_exact_from_the_float32_reference() -> None:
    """A claim printed from torch's float16 result at many decimals: exact, and the explanation says why."""
    r = lossapp.compute("mse", "[0.1234, 0.5678]", "[0.3, 0.9]", dtype="float16")
    ref = float(r.reference.value)
    claimed = f"{ref:.7f}"
    assert not rounds_to(float(r.value), parse_claim(claimed))
    v = check_result(r, claimed)
    assert v.verdict == "exact" and "float16" in v.explanation


def test_convention_verdict() -> None:
    # p = 1 for a negative: torch clamps log(1 − p) at −100; Keras clips p to 1 − 1e-7 first
    claimed = (-math.log(1e-7) - math.log(1 - 0.3)) / 2
    v = check("bce", "[1.0, 0.3]", "[0, 0]", claimed=f"{claimed:.5f}")
    assert v.verdict == "convention"
    assert v.conventions[0].id == "keras_clip" and "Keras" in v.explanation
    torch_value = float(F.binary_cross_entropy(torch.tensor([1.0, 0.3]), torch.tensor([0.0, 0.0])))
    assert v.value == pytest.approx(torch_value, rel=1e-6)


def test_incorrect_says_how_far_and_which_step() -> None:
    p = torch.tensor([0.2947, 0.5898, 0.4863], dtype=torch.float64)
    terms = F.binary_cross_entropy(p, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), reduction="none")
    claimed = f"{float(terms[0] + terms[2]) / 3:.5f}"  # the middle term forgotten
    v = check("bce", BCE["pred"], BCE["target"], claimed=claimed)
    assert v.verdict == "incorrect"
    assert v.off["abs"] == pytest.approx(float(claimed) - _bce_torch(), rel=1e-9)
    assert v.off["units"] == pytest.approx((float(claimed) - _bce_torch()) * 1e5, rel=1e-9)
    assert v.off["rel"] == pytest.approx((float(claimed) - _bce_torch()) / _bce_torch(), rel=1e-9)
    assert v.step == {"symbol": "l", "explanation": f"the term l_1 = {float(terms[1]):.10g} left out of the sum",
                      "explanation_zh": f"求和时漏掉了项 l_1 = {float(terms[1]):.10g}"}
    assert "units of its last decimal" in v.explanation and "step l" in v.explanation
    assert "rounding of the inputs cannot explain it" in v.explanation


def test_incorrect_wrong_denominator() -> None:
    r = lossapp.compute("mse", "[1, 2, 4]", "[0, 0, 0]")  # exact inputs: rounding cannot explain anything
    total = float(F.mse_loss(torch.tensor([1.0, 2.0, 4.0]), torch.zeros(3), reduction="sum"))
    v = check_result(r, f"{total / 4:.3f}")
    assert v.verdict == "incorrect" and v.interval[1] - v.interval[0] < 1e-12
    assert v.step["symbol"] == "den" and "divided by 4 instead of 3" in v.step["explanation"]


def test_coarse_wrong_claim_has_no_step() -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.6")
    assert v.verdict == "incorrect" and v.step is None


def test_no_rounding_without_an_enclosure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lossapp.LOSSES, "bce", dataclasses.replace(lossapp.LOSSES["bce"], enclosure=None))
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.9264")
    assert v.verdict == "incorrect" and v.interval is None
    assert "not assessed" in v.explanation


def test_confusion_counts() -> None:
    v = check("confusion", claimed="0.7273", tp=20, fp=5, fn=10, tn=65)
    assert v.verdict == "exact" and v.value == pytest.approx(40 / 55)
    v = check("confusion", claimed="0.5714", tp=20, fp=5, fn=10, tn=65)
    assert v.verdict == "mistake" and "iou_instead_of_dice" in [m.id for m in v.mistakes]


def test_nan_value() -> None:
    r = lossapp.compute("cross_entropy", "[[1.0, 2.0]]", "[1]", ignore_index=1)
    assert math.isnan(r.value)
    assert check_result(r, "nan").verdict == "exact"
    v = check_result(r, "0.5")
    assert v.verdict == "incorrect"
    json.dumps(v.to_dict())


def test_reduction_none_needs_one_number() -> None:
    with pytest.raises(InputError, match="expected a loss that is one number"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed="0.5", reduction="none")
    assert check("mse", "[0.5]", "[0.0]", claimed="0.25", reduction="none").verdict == "exact"


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError):
        check("bce", "[1.5]", "[1]", claimed="0.5")
    with pytest.raises(InputError):
        check("nope", "[0.5]", "[1]", claimed="0.5")


# -- JSON, Chinese, API ---------------------------------------------------------------------------------------------------

def test_to_dict_has_the_design_keys_and_is_json() -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.4023")
    d = v.to_dict()
    assert {"claimed", "value", "verdict", "decimals", "interval", "explanation", "mistakes"} <= set(d)
    assert d["claimed"] == 0.4023 and d["decimals"] == 4 and d["verdict"] == "mistake"
    assert {"id", "title", "value", "explanation"} <= set(d["mistakes"][0])
    json.dumps(d, ensure_ascii=False)


def test_lossapp_check_delegates_and_matches_check_result() -> None:
    v1 = lossapp.check("bce", BCE["pred"], BCE["target"], claimed="0.9264")
    r = lossapp.compute("bce", BCE["pred"], BCE["target"])
    v2 = check_result(r, "0.9264")
    assert isinstance(v1, Verdict) and v1.verdict == v2.verdict == "rounding"
    assert v1.interval == v2.interval and v1.result is not None


@pytest.mark.parametrize("claimed", ["0.9263", "0.9264", "0.4023", "0.6", "2.7790"])
def test_explanations_have_chinese(claimed: str) -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed=claimed)
    assert v.explanation and CJK.search(v.explanation_zh)
    for m in v.mistakes:
        assert CJK.search(tr(m.variant.title, "zh")) and CJK.search(tr(m.variant.explanation, "zh"))


# -- extreme claims: a clear InputError, or a verdict whose every number is a float64 ----------------------------------

RANGE = (r"claimed: expected a number within float64's range written to at most 300 decimals \(0, or from 1e-300 to "
         r"1\.8e308 in size\), got ")


def _claim_id(claimed: object) -> str:
    return f"int_{claimed.bit_length()}_bits" if isinstance(claimed, int) else repr(claimed)[:30]


@pytest.mark.parametrize(("claimed", "message"), [
    ("1e-400", RANGE + "'1e-400'$"), ("1.5e-99999999999", RANGE + "'1.5e-99999999999'$"), ("1e400", RANGE + "'1e400'$"),
    ("-1e309", RANGE + "'-1e309'$"), ("1e-301", RANGE + "'1e-301'$"), (5e-324, RANGE + "'5e-324'$"),
    ("1e99999999999999999999999999999", RANGE + "'1e99999999999999999999999999999'$"),
    ("9" * 5000, r"claimed: expected a number of at most 100 characters, got '9{20}'… \(5,000 characters\)$"),
    ("0." + "9" * 400, r"claimed: expected a number of at most 100 characters, got '0\.9{18}'… \(402 characters\)$"),
    ("0." + "0" * 399 + "1", r"claimed: expected a number of at most 100 characters, got .+ \(402 characters\)$"),
    (10**5000, r"claimed: expected a number of at most 100 characters, got an integer of 5,001 digits$"),
    ("0." + "1" * 31, r"claimed: expected at most 30 significant digits \(float64 holds about 17\), got 31 in '0\.1+'$"),
    (10**40, r"claimed: expected at most 30 significant digits \(float64 holds about 17\), got 41 in '10+'$"),
    ("x" * 1_000_000, r"claimed: expected a number of at most 100 characters, got 'x{20}'… \(1,000,000 characters\)$"),
    ("[0.25, 0.5]", r"claimed: expected a number such as 0\.9264, got '\[0\.25, 0\.5\]' \(accepted: "),
    ({"a": 1}, r"claimed: expected a number such as 0\.9264, got dict \(accepted: "),
], ids=_claim_id)
def test_extreme_claims_are_clear_input_errors(claimed: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_claim(claimed)
    assert re.search(message, str(info.value)), str(info.value)
    assert len(str(info.value)) < 400 and has_zh(info.value)
    with pytest.raises(InputError):
        check("bce", BCE["pred"], BCE["target"], claimed=claimed)


def test_claim_limits_are_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_claim("0." + "1" * 30).decimals == 30
    monkeypatch.setattr(limits, "MAX_CLAIM_DIGITS", 4)
    with pytest.raises(InputError, match="at most 4 significant digits"):
        parse_claim("0.92640")
    monkeypatch.setattr(limits, "MAX_CLAIM_CHARS", 3)
    with pytest.raises(InputError, match="at most 3 characters"):
        parse_claim("0.9264")


@pytest.mark.parametrize("claimed", ["1e-300", "1e308", "-1e308", 1e308, "0." + "0" * 80 + "1", "1.7976931348623157e308"])
def test_claims_at_the_edge_of_float64_get_a_finite_verdict(claimed: object) -> None:
    v = check("bce", BCE["pred"], BCE["target"], claimed=claimed)
    assert v.verdict == "incorrect" and len(v.explanation) < 1500 and CJK.search(v.explanation_zh)
    assert math.isfinite(v.off["abs"]) and math.isfinite(v.off["units"])  # rel may pass 1.8e308: 1.8e308 / 0.93
    assert v.rounded == format_rounded(v.value, v.decimals) and len(v.rounded) <= 2 + v.decimals
    json.dumps(v.to_dict(), allow_nan=False)


def test_units_of_the_last_decimal_beyond_float64() -> None:
    v = check("mse", "[1e5]", "[0]", claimed="1e-300")  # 1e10 off, in units of 1e-300
    assert v.verdict == "incorrect" and v.off["units"] == -math.inf
    assert "more than 1e308 units of its last decimal" in v.explanation and "超过 1e308 个单位" in v.explanation_zh
    assert "(-100.000%, " in v.explanation
    v = check("mse", "[1e5]", "[0]", claimed="-1e308")
    assert "(-1e+300%, -1e+308 units of its last decimal)" in v.explanation  # no 300-digit percentage


def test_a_claim_on_a_tiny_value_is_judged_on_its_own_scale() -> None:
    value = math.log1p(math.exp(-80))  # 1.8048513878e-35
    assert check("bce_with_logits", "[80]", "[1]", claimed="1.8e-35").verdict == "exact"
    assert check("bce_with_logits", "[80]", "[1]", claimed=1.8048513878454153e-35).verdict == "exact"
    v = check("bce_with_logits", "[80]", "[1]", claimed="3e-35")  # once 1e-12 away was "exact"
    assert v.verdict == "incorrect" and v.value == pytest.approx(value, rel=1e-12)
    assert v.off["units"] == pytest.approx((3e-35 - value) * 1e35, rel=1e-9)
    assert rounds_to(0.125, parse_claim("0.13")) and rounds_to(0.125, parse_claim("0.12"))  # ties still both ways


def test_claimed_tensor_of_the_wrong_size_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"claimed: expected 2 numbers, one per element of the loss \(reduction='none'\), got 3"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed="[0.25, 0.25, 0.25]", reduction="none")
    with pytest.raises(InputError, match=r"claimed: expected a number, since the loss is one number here \(reduction='mean'; a claim per "
                       r"element needs a loss of several elements, reduction none\), got a list of 2"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed=[0.25, 0.25])
    with pytest.raises(InputError, match=r"claimed: expected a loss that is one number"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed="0.25", reduction="none")
    with pytest.raises(InputError, match=r"claimed: expected at most 64 numbers, one per element, got 65"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed=[0.25] * 65, reduction="none")
    with pytest.raises(InputError, match=r"claimed: expected at most 64 numbers, one per element, got 10000000"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed=torch.zeros(10_000_000), reduction="none")
    with pytest.raises(InputError, match=r"claimed: expected at most 64 numbers, one per element, got 100"):
        check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed="[" + ", ".join(["0.25"] * 100) + "]", reduction="none")


def test_check_reduction_none_is_the_loss_default() -> None:
    v = check("l2_penalty", "[1, 2]", claimed="0.025", lam=0.01)  # (λ/2)·Σw² with the penalty's own default, sum
    assert v.result.reduction == "sum" and v.verdict == "exact"


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**40, 10**40),
                 st.text(alphabet="0123456789.eE+-−naif ", max_size=40),
                 st.sampled_from(["1e-300", "1e-301", "0." + "9" * 29, "9" * 31, "1e308", "1e309", "-0", "+.5e-3"])))
def test_fuzz_claims_only_input_errors(claimed: object) -> None:
    r = _result(0)
    try:
        v = check_result(r, claimed)
    except InputError as exc:
        assert str(exc).startswith("claimed: expected") and has_zh(exc)
        return
    assert v.verdict in VERDICTS
    json.dumps(v.to_dict(), allow_nan=False)


# -- the vectorised checker against the per-element loops it replaced (kept here only, as an oracle) ------------------

def _single_step_oracle(case, claim) -> dict[str, str] | None:
    """The single-step search as it was written before it was vectorised: one rounds_to call per candidate."""
    from lossapp.verdicts import MAX_ELEMENTS_SEARCHED, SPECIFIC, _index_text, _num
    u, den = case.unreduced, case.denominator()
    value = case.value
    if u is None or den is None or den == 0 or u.numel() == 0 or not math.isfinite(value):
        return None
    if claim.half_unit > SPECIFIC * max(abs(claim.value), abs(value)):
        return None
    terms = u.detach().double().reshape(-1)
    total = float(terms.sum())
    if not math.isclose(total / den, value, rel_tol=1e-9, abs_tol=1e-12):
        return None
    if case.reduction in ("mean", "batchmean"):
        for k in range(1, max(10, 2 * terms.numel()) + 1):
            if k != den and rounds_to(total / k, claim):
                return {"symbol": "den", "explanation": f"the sum Σ l = {_num(total)} divided by {k} instead of {den:g}",
                        "explanation_zh": f"把和 Σ l = {_num(total)} 除以了 {k} 而不是 {den:g}"}
    shape = tuple(u.shape)
    counted = case.reduction in ("mean", "batchmean") and den == terms.numel()
    for i in range(min(terms.numel(), MAX_ELEMENTS_SEARCHED)):
        li = float(terms[i])
        where = _index_text(i, shape)
        checks = [((total - li) / den, f"the term l{where} = {_num(li)} left out of the sum",
                   f"求和时漏掉了项 l{where} = {_num(li)}"),
                  ((total + li) / den, f"the term l{where} = {_num(li)} counted twice",
                   f"项 l{where} = {_num(li)} 被加了两次"),
                  ((total - 2 * li) / den, f"the sign of the term l{where} = {_num(li)} flipped",
                   f"项 l{where} = {_num(li)} 的符号弄反了")]
        if counted and den > 1:
            checks.append(((total - li) / (den - 1), f"the element {where.strip('_')} left out entirely "
                           f"(from the sum and the count)", f"元素 {where.strip('_')} 被完全漏掉（求和与计数都没有算它）"))
        for candidate, text, text_zh in checks:
            if li != 0 and rounds_to(candidate, claim):
                return {"symbol": "l", "explanation": text, "explanation_zh": text_zh}
    for k in range(1, 7):
        candidate = float((torch.round(terms * 10 ** k) / 10 ** k).sum()) / den
        if rounds_to(candidate, claim) and not rounds_to(value, claim):
            return {"symbol": "l", "explanation": f"every term l_n rounded to {k} decimals before the reduction",
                    "explanation_zh": f"在归约之前把每一项 l_n 舍入到了 {k} 位小数"}
    return None


def _oracle_claims(result: lossapp.Result, gen: torch.Generator) -> list[str]:
    """Claims aimed at every branch of the single-step search, written to 3..8 decimals, and random ones."""
    u = result.unreduced.double().reshape(-1)
    total, n = float(u.sum()), u.numel()
    den = n if result.reduction == "mean" else 1
    i = int(torch.randint(0, n, (1,), generator=gen))
    li = float(u[i])
    targets = [total / (n + 1), total / max(1, n - 1), total / (2 * n + 3), (total - li) / den, (total + li) / den,
               (total - 2 * li) / den, float(torch.round(u, decimals=1).sum()) / den,
               float(torch.round(u, decimals=2).sum()) / den, total / den * 1.37, -total / den]
    if den > 1:
        targets.append((total - li) / (den - 1))
    return [f"{t:.{int(torch.randint(3, 9, (1,), generator=gen))}f}" for t in targets]


def _values(gen: torch.Generator, size: int) -> tuple[list, list]:
    return torch.randn(size, generator=gen).tolist(), torch.randn(size, generator=gen).tolist()


SINGLE_STEP_INPUTS = {  # per loss: (pred, target) of `size` elements in its domain, drawn from the generator
    "mse": _values,
    "l1": _values,
    "bce": lambda gen, size: ((torch.rand(size, generator=gen) * 0.98 + 0.01).tolist(),
                              (torch.rand(size, generator=gen) < 0.5).double().tolist()),
    "hinge": lambda gen, size: (torch.randn(size, generator=gen).tolist(),
                                [1.0 if v > 0 else -1.0 for v in torch.randn(size, generator=gen).tolist()]),
    "cross_entropy": lambda gen, size: (torch.randn(size, 3, generator=gen).tolist(),
                                        torch.randint(0, 3, (size,), generator=gen).tolist()),
}


@pytest.mark.parametrize("name", SINGLE_STEP_INPUTS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_single_step_matches_the_per_element_loops(name: str, reduction: str) -> None:
    from lossapp.variants import Case
    from lossapp.verdicts import _single_step
    gen = torch.Generator().manual_seed(hash((name, reduction)) % 2**31)
    for size in (1, 2, 3, 7, 40):
        for _ in range(3):
            pred, target = SINGLE_STEP_INPUTS[name](gen, size)
            r = lossapp.compute(name, pred, target, reduction=reduction)
            for claimed in _oracle_claims(r, gen):
                claim = parse_claim(claimed)
                assert _single_step(Case(r), claim) == _single_step_oracle(Case(r), claim), (name, size, claimed)


def test_single_step_finds_a_term_beyond_the_first_ones_like_the_loops() -> None:
    """A term deep in a larger input: the vectorised search reports the same first matching term as the loops."""
    from lossapp.variants import Case
    from lossapp.verdicts import _single_step
    values = [0.1 * (i % 17) for i in range(1500)]
    r = lossapp.compute("l1", values, [0.0] * 1500)
    u = r.unreduced.reshape(-1)
    claim = parse_claim(f"{(float(u.sum()) - float(u[1234]) * 2) / 1500:.9f}")
    found = _single_step(Case(r), claim)
    assert found == _single_step_oracle(Case(r), claim) and found is not None


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, width=64), st.integers(0, 12), st.booleans())
def test_rounds_to_each_is_rounds_to_element_by_element(v: float, decimals: int, tie: bool) -> None:
    from lossapp.verdicts import rounds_to_each
    claim = parse_claim(f"{v:.{decimals}f}" if math.isfinite(v) and abs(v) < 1e15 else repr(v))
    near = [v, claim.value, claim.value + claim.half_unit, claim.value - claim.half_unit, math.nextafter(claim.value + claim.half_unit, math.inf),
            math.inf, -math.inf, math.nan, 0.0] if tie else [v]
    values = torch.tensor(near, dtype=torch.float64)
    assert rounds_to_each(values, claim).tolist() == [rounds_to(x, claim) for x in near]


@settings(max_examples=150, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6), st.integers(1, 3000), st.integers(1, 8), st.integers(1, 60))
def test_first_divisor_is_the_first_k_of_the_loop(total: float, k: int, decimals: int, den: int) -> None:
    from lossapp.verdicts import _first_divisor
    limit = 4000
    claim = parse_claim(f"{total / k:.{decimals}f}")
    expected = next((j for j in range(1, limit + 1) if j != den and rounds_to(total / j, claim)), None)
    assert _first_divisor(total, claim, float(den), limit) == expected


# -- large inputs: the same verdicts as the small problem they repeat ---------------------------------------------------

def _tiled(result: lossapp.Result, times: int):
    """pred and target of a computed problem repeated `times` along dim 0, keeping their written decimals."""
    from lossapp.inputs import TensorInput

    def tile(ti):
        if ti is None:
            return None
        reps = [times] + [1] * (ti.values.dim() - 1)
        decimals = None if ti.decimals is None else np.tile(np.asarray(ti.decimals), reps)
        return TensorInput(ti.values.repeat(*reps), decimals)
    return tile(result.pred), tile(result.target)


LARGE_CASES = [  # (loss, pred, target, params): problems whose mean a repetition along dim 0 leaves unchanged
    ("bce", BCE["pred"], BCE["target"], {}),
    ("bce", "[0.0, 0.3, 0.9]", "[1, 0, 1]", {}),
    ("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", {}),
    ("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", {"label_smoothing": 0.1}),
    ("focal", "[[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]", "[[1, 0, 0], [0, 1, 1]]", {"alpha": 0.25, "gamma": 2.0}),
    ("mse", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]", {}),
    ("dice", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]", {"per_sample": True}),
    ("kl_div", "[[-1.2040, -1.2040, -0.9163], [-0.3567, -1.6094, -2.3026]]", "[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]", {}),
]


@pytest.mark.parametrize("case", LARGE_CASES, ids=lambda c: f"{c[0]}-{len(c[3])}")
def test_a_large_repeated_input_gets_the_small_inputs_verdicts(case) -> None:
    """Claims of every verdict on a small problem, then on the same problem repeated to 24,000 elements (the
    value, the enclosure and the scale-free variants are unchanged): the same verdict, conventions and mistakes."""
    from lossapp.mistakes import evaluate_mistakes
    from lossapp.variants import Case
    name, pred, target, params = case
    small = lossapp.compute(name, pred, target, **params)
    times = 24_000 // small.pred.values.numel()
    large = lossapp.compute(name, *_tiled(small, times), **params)
    assert large.value == pytest.approx(small.value, rel=1e-12)
    claims = {f"{small.value:.6f}", f"{small.value * 1.01:.5f}", f"{small.value:.2f}", "0.6"}
    lo, hi = check_result(small, "0").interval or (small.value, small.value)
    claims |= {f"{(lo + hi) / 2:.8f}", f"{hi + 1e-3:.6f}"}
    counted = ("sum_instead_of_mean", "mean_instead_of_sum", "ignored_counted", "unweighted_mean")
    for v in evaluate_mistakes(Case(small)):
        if v.id not in counted:
            claims.add(f"{v.value:.6f}")  # a variant that does not depend on the element count
    for claimed in sorted(claims):
        a, b = check_result(small, claimed), check_result(large, claimed)
        # over the rounding box a sum of 3 terms and one of 24,000 reach different values: those variants aside
        assert (a.verdict, [m.id for m in a.mistakes if m.id not in counted], [c.id for c in a.conventions]) == \
            (b.verdict, [m.id for m in b.mistakes if m.id not in counted], [c.id for c in b.conventions]), \
            (claimed, a.explanation, b.explanation)


# -- claims as people write them (issue 11) -----------------------------------------------------------------------

@pytest.mark.parametrize(("claimed", "value", "decimals", "significant"), [
    ("≈0.9264", 0.9264, 4, 4), ("~ 0.9264", 0.9264, 4, 4), ("0,9264", 0.9264, 4, 4), ("92.6%", 0.926, 3, 3),
    ("92.63 %", 0.9263, 4, 4), ("0.93 (2 d.p.)", 0.93, 2, 2), ("0.9 (2 dp)", 0.9, 2, 2), ("0.93 (2 decimals)", 0.93, 2, 2),
    ("0.93（2 位小数）", 0.93, 2, 2), ("-0.9264", -0.9264, 4, 4), ("０．９２６４", 0.9264, 4, 4), ("－０．９２６４", -0.9264, 4, 4),
    ("９２．６％", 0.926, 3, 3), ("≈92,6%", 0.926, 3, 3), ("0.5", 0.5, 1, 1), ("0.50", 0.5, 2, 2), ("0.05", 0.05, 2, 1),
    ("0.00", 0.0, 2, 0), ("1e-3", 0.001, 3, 1), ("12", 12.0, 0, 2),
])
def test_claims_as_people_write_them(claimed: str, value: float, decimals: int, significant: int) -> None:
    c = parse_claim(claimed)
    assert (c.value, c.decimals, c.significant, c.text) == (pytest.approx(value, rel=1e-15), decimals, significant,
                                                            claimed)


@pytest.mark.parametrize("claimed", ["≈0.9264", "0,9264", "0.9264", "０．９２６４", "92.64%"])
def test_written_forms_of_the_article_answer_get_its_verdict(claimed: str) -> None:
    assert check("bce", BCE["pred"], BCE["target"], claimed=claimed).verdict == "rounding"
    assert check("bce", BCE["pred"], BCE["target"], claimed="92.6%").verdict == "exact"  # 0.926 to 3 decimals
    assert check("bce", BCE["pred"], BCE["target"], claimed="0.93 (2 d.p.)").verdict == "exact"


def test_a_claim_with_more_decimals_than_it_states_is_refused() -> None:
    with pytest.raises(InputError, match=r"at most the 2 decimals it states, got 4 decimals in '0\.9264 \(2 d\.p\.\)'"):
        parse_claim("0.9264 (2 d.p.)")


# -- evidence: fewer than 2 significant digits (DESIGN §6) ---------------------------------------------------------

def test_a_claim_of_one_significant_digit_never_earns_a_mistake() -> None:
    """Article 002's BCE (0.926): "0.5" is what labels swapped gives (0.5327) rounded to 1 digit: only a possibility."""
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.5")
    assert v.verdict == "incorrect" and not v.mistakes and not v.conventions
    assert [p.id for p in v.possible] == ["labels_swapped"]
    assert "possible explanations: Positive and negative labels swapped" in v.explanation
    assert "no known mistake" not in v.explanation and "可能的解释" in v.explanation_zh
    data = v.to_dict()
    assert data["mistakes"] == [] and data["possible"][0]["id"] == "labels_swapped"
    two = check("bce", BCE["pred"], BCE["target"], claimed="0.53")  # two digits: evidence
    assert two.verdict == "mistake" and [m.id for m in two.mistakes] == ["labels_swapped"] and not two.possible
    assert check("bce", BCE["pred"], BCE["target"], claimed="0.9").verdict == "exact"  # exact needs no variant


def test_a_few_digit_claim_in_the_rounding_interval_is_rounding_with_possibles() -> None:
    v = check("mse", "[0.5, 1.5]", "[0.0, 1.0]", claimed="0.3")  # 0.25 (rounds to 0.2 or 0.3), interval spans 0.3
    assert v.verdict in ("exact", "rounding") and not v.mistakes


# -- evidence: a variant over the inputs' rounding box (DESIGN §6) ----------------------------------------------------

def test_missing_minus_combines_with_the_rounding_of_the_inputs() -> None:
    """Article 002 prints its BCE expression without the minus sign: −0.9264 is that mistake with the inputs
    rounded (−0.926341 at the written inputs; the box reaches −0.92647)."""
    v = check("bce", BCE["pred"], BCE["target"], claimed="-0.9264")
    assert v.verdict == "mistake" and [m.id for m in v.mistakes] == ["missing_minus"]
    lo, hi = v.mistakes[0].interval
    assert lo == pytest.approx(-0.926471, abs=1e-6) and hi == pytest.approx(-0.926212, abs=1e-6)
    assert "with the inputs rounded as written" in v.explanation and "[-0.9264708599, -0.9262116006]" in v.explanation
    assert "输入舍入" in v.explanation_zh
    assert v.to_dict()["mistakes"][0]["interval"] == [lo, hi]
    found = check("bce", BCE["pred"], BCE["target"], claimed="-0.9263")  # at the written inputs: no interval needed
    assert found.verdict == "mistake" and found.mistakes[0].id == "missing_minus" and found.mistakes[0].interval is None
    far = check("bce", BCE["pred"], BCE["target"], claimed="-0.9266")  # beyond the box: not that mistake
    assert far.verdict == "incorrect" and not far.mistakes


def test_rounding_of_the_correct_value_comes_before_a_variant_reached_only_over_the_box() -> None:
    assert check("bce", BCE["pred"], BCE["target"], claimed="0.9264").verdict == "rounding"


def test_log10_over_the_box() -> None:
    """0.4023 is log10 at the written inputs; 0.4024 only with the inputs rounded (0.926471 / ln 10 = 0.40236)."""
    v = check("bce", BCE["pred"], BCE["target"], claimed="0.4024")
    assert v.verdict == "mistake" and v.mistakes[0].id == "log10" and v.mistakes[0].interval is not None


def _sampled_problems(result: lossapp.Result, count: int, seed: int) -> list[lossapp.Result]:
    """The problem with every floating input moved to random points of its rounding box (and two corners)."""
    from lossapp.inputs import TensorInput
    gen = torch.Generator().manual_seed(seed)
    out = []
    for k in range(count):
        moved = []
        for ti in (result.pred, result.target):
            if ti is None or not ti.values.is_floating_point() or ti.decimals is None or bool(
                    ((ti.values == 0) | (ti.values == 1)).all()):
                moved.append(ti)
                continue
            half = torch.from_numpy(0.5 * 10.0 ** -np.asarray(ti.decimals, dtype=np.float64))
            u = torch.rand(ti.values.shape, generator=gen, dtype=torch.float64) * 2 - 1 if k > 1 else \
                torch.full(ti.values.shape, -1.0 if k == 0 else 1.0, dtype=torch.float64)
            moved.append(TensorInput(ti.values + 0.999 * u * half, None))
        out.append(lossapp.compute(result.loss, moved[0], moved[1], reduction=result.reduction, **result.params))
    return out


BOX_CASES = [  # (loss, pred, target, params, reduction): problems with inputs written to few decimals
    ("bce", "[0.29, 0.59, 0.49]", "[1, 0, 0]", {}, "mean"),
    ("bce", "[0.29, 0.59, 0.49]", "[0.9, 0.2, 0.1]", {"weight": "[1, 2, 3]"}, "mean"),
    ("focal", "[0.45, 0.7, 0.2]", "[1, 0, 1]", {"input": "probabilities", "alpha": 0.25, "gamma": 2.0}, "mean"),
    ("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", {"label_smoothing": 0.1}, "mean"),
    ("mse", "[0.5, -1.2, 2.0]", "[0.3, -1.0, 1.0]", {}, "mean"),
    ("smooth_l1", "[0.5, -1.2, 2.0]", "[0.3, -1.0, 1.0]", {"beta": 0.5}, "sum"),
]


@pytest.mark.parametrize("case", BOX_CASES, ids=lambda c: f"{c[0]}-{c[4]}-{len(c[3])}")
def test_every_variant_interval_holds_the_variant_over_the_box(case) -> None:
    """Each variant's enclosure (Variant.interval) holds its value at the written inputs, at both corners and at
    random points of the box: it is an enclosure of that variant, not of the correct loss."""
    from lossapp.mistakes import evaluate_mistakes
    from lossapp.variants import Case, interval_of
    name, pred, target, params, reduction = case
    written = lossapp.compute(name, pred, target, reduction=reduction, **params)
    case_ = Case(written)
    intervals = {}
    for found in evaluate_mistakes(case_):
        iv = interval_of(case_, found)
        if iv is not None:
            intervals[found.id] = iv
    assert intervals, "no variant of this problem has an enclosure"
    for problem in _sampled_problems(written, 12, seed=len(pred)):
        values = {v.id: v.value for v in evaluate_mistakes(Case(problem), include_same=True)}
        for vid, (lo, hi) in intervals.items():
            if vid in values:
                assert lo <= values[vid] <= hi, (vid, lo, values[vid], hi)


# -- a claim per element (reduction none) ---------------------------------------------------------------------------

def test_article_003_pixel_losses_per_element() -> None:
    """Article 003: l1 = −log(0.45) = 0.7985, l2 = −log(1 − 0.7) = 1.2040 (BCE of its two pixels)."""
    v = check("bce", "[0.45, 0.7]", "[1, 0]", reduction="none", claimed="[0.7985, 1.2040]")
    assert v.verdict == "exact" and [e.verdict for e in v.elements] == ["exact", "exact"]
    assert v.shape == (2,) and "one verdict per element (2 elements): 2 exact" in v.explanation
    data = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    assert data["claimed"] == [0.7985, 1.204] and data["value"] == pytest.approx([0.798508, 1.203973], abs=1e-6)
    assert data["shape"] == [2] and [e["verdict"] for e in data["elements"]] == ["exact", "exact"]
    wrong = check("bce", "[0.45, 0.7]", "[1, 0]", reduction="none", claimed="[0.7985, 0.5229]")  # log10 on pixel 2
    assert wrong.verdict == "mistake" and [e.verdict for e in wrong.elements] == ["exact", "mistake"]
    assert wrong.elements[1].mistakes[0].id == "log10" and [m.id for m in wrong.mistakes] == ["log10"]


def test_article_003_alpha_on_both_classes_per_element() -> None:
    """The article's last focal formula puts α on the negative pixel too: right for pixel 1, a mistake for pixel 2."""
    v = check("focal", "[0.45, 0.7]", "[1, 0]", reduction="none", claimed="[0.0604, 0.1475]", input="probabilities",
              alpha=0.25, gamma=2.0)
    assert v.verdict == "mistake" and [e.verdict for e in v.elements] == ["exact", "mistake"]
    assert v.mistakes[0].id == "alpha_on_both_classes"
    assert "1 exact, 1 mistake" in v.explanation and "1 个精确，1 个常见错误" in v.explanation_zh


def test_per_element_rows_and_rounding() -> None:
    """Cross-entropy with reduction none: one term per sample, each checked with its row's rounding box."""
    v = check("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", reduction="none", claimed="[0.34, 1.9]")
    assert [e.verdict for e in v.elements] == ["exact", "rounding"] and v.verdict == "rounding"
    assert v.elements[1].interval is not None


def test_per_element_overall_is_incorrect_when_any_element_is() -> None:
    v = check("mse", "[0.5, 1.5, 2.0]", "[0.0, 1.0, 1.0]", reduction="none", claimed="[0.25, 0.25, 7]")
    assert v.verdict == "incorrect" and [e.verdict for e in v.elements] == ["exact", "exact", "incorrect"]


def test_per_element_where_the_elements_are_not_separate_problems() -> None:
    """(N, C, d) cross-entropy: its (N, d) terms are not rows of pred; each is exact or not, nothing else assessed."""
    pred = "[[[1.0, 0.5], [0.2, -0.3]]]"
    result = lossapp.compute("cross_entropy", pred, "[[0, 1]]", reduction="none")
    values = result.value.reshape(-1).tolist()
    v = check_result(result, [round(values[0], 4), 9.0])
    assert [e.verdict for e in v.elements] == ["exact", "incorrect"]
    assert "not assessed" in v.elements[1].explanation
    # each element's own enclosure (the formula with reduction none): 1.1 for 1.1711 is rounding of the inputs
    v = check_result(result, "[0.57, 1.1]")
    assert [e.verdict for e in v.elements] == ["incorrect", "rounding"] and v.verdict == "incorrect"
    lo, hi = v.elements[1].interval
    assert lo < 1.15 < values[1] < hi and "ranges over" in v.elements[1].explanation


def test_a_claimed_tensor_from_python() -> None:
    v = check("mse", "[0.5, 1.5]", "[0.0, 1.0]", reduction="none", claimed=torch.tensor([0.25, 0.25]))
    assert v.verdict == "exact"
    v = check("mse", "[[0.5], [1.5]]", "[[0.0], [1.0]]", reduction="none", claimed="[[0.25], [2.00]]")
    assert [e.verdict for e in v.elements] == ["exact", "incorrect"] and v.shape == (2, 1)


def test_the_step_a_mistake_departs_at_is_quoted() -> None:
    """A step's symbol ("l", "den") reads as a name, never as a number ("departs at step l" read as "step 1")."""
    verdict = lossapp.check("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", claimed="2.7790")
    assert verdict.verdict == "mistake"
    assert "departing at the step “den”" in verdict.to_dict()["explanation"]
    assert "从步骤“den”开始出错" in verdict.explanation.render("zh")


@pytest.mark.parametrize("claimed", ["about 0.9", "9" * 500, "1e-400", "0." + "1" * 60, "0.93 (1 d.p.)",
                                     None])
def test_a_bad_claim_is_told_in_chinese_without_english_words(claimed) -> None:
    with pytest.raises(InputError) as caught:
        parse_claim(claimed)
    text = localize(caught.value, "zh")
    assert text.startswith("给出的答案："), text
    yours = re.sub(r"'[^']*'", " ", text)  # what was written is quoted as it was
    assert stray_english(yours, {"reduction", "none", "mean", "sum", "float"}) == [], text  # float64: a dtype


def test_a_claim_per_element_of_a_mean_is_told_in_chinese_without_english_words() -> None:
    with pytest.raises(InputError) as caught:
        check("bce", [0.3, 0.8], [1, 0], claimed="[0.1, 0.2, 0.3]", reduction="none")
    text = localize(caught.value, "zh")
    assert text.startswith("给出的答案："), text
    assert stray_english(text, {"reduction", "none"}) == [], text


# -- large inputs: a point box's bound keeps the verdicts ------------------------------------------------------------

@pytest.mark.parametrize(("name", "params"), [("bce", {}), ("focal", {}), ("dice", {"activation": "sigmoid"}),
                                              ("mse", {})])
def test_large_inputs_keep_their_verdicts_with_the_point_bound(name: str, params: dict,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Above limits.DECIMALS_MAX_ELEMENTS the box is a point and its enclosures come from the losses' error bounds
    (no interval arithmetic): claims that are exact, a convention, a mistake, rounding (a claim written to 15
    decimals within the float64 error of the value, not rounding from it) and incorrect get the verdicts interval
    arithmetic gives them."""
    from point_cases import point_inputs

    import lossapp.interval
    from lossapp.conventions import evaluate_conventions
    from lossapp.interval import POINT_METHOD
    from lossapp.mistakes import evaluate_mistakes
    from lossapp.verdicts import Checker

    pred, target = point_inputs(name, params, "random", 3, n=limits.DECIMALS_MAX_ELEMENTS + 400)
    result = lossapp.compute(name, pred, target, **params)
    value = result.scalar
    fast = Checker(result)
    with monkeypatch.context() as m:
        m.setattr(lossapp.interval, "uses_point_bound", lambda box: False)
        slow = Checker(result)
        slow_enclosure = slow.enclosure
        conventions = [v for v in evaluate_conventions(slow.case) if f"{v.value:.6g}" != f"{value:.6g}"]
        mistakes = [v for v in evaluate_mistakes(slow.case) if f"{v.value:.6g}" != f"{value:.6g}"
                    and all(f"{v.value:.6g}" != f"{c.value:.6g}" for c in conventions[:1])]
    assert fast.enclosure.method == POINT_METHOD and slow_enclosure.method != POINT_METHOD
    reach = 0.5 * min(fast.enclosure.hi, slow_enclosure.hi) - 0.5 * value
    assert reach > 1.5e-12 * abs(value) + 1e-14  # room for a claim off the value (EVAL_SLACK) within its error
    claims = {f"{value:.6g}": "exact", f"{value + reach:.15f}": "rounding", f"{value * 1.0123 + 1e-3:.6g}": "incorrect",
              f"{mistakes[0].value:.6g}": "mistake"}
    if conventions:
        claims[f"{conventions[0].value:.6g}"] = "convention"
    with monkeypatch.context() as m:
        m.setattr(lossapp.interval, "uses_point_bound", lambda box: False)
        want = {claim: slow.verdict(claim) for claim in claims}
    for claim, kind in claims.items():
        got = fast.verdict(claim)
        assert got.verdict == want[claim].verdict == kind, (claim, got.verdict, want[claim].verdict)
        assert [v.id for v in got.mistakes] == [v.id for v in want[claim].mistakes]
        assert [v.id for v in got.conventions] == [v.id for v in want[claim].conventions]


def _focal_problems() -> list[tuple[str, torch.Tensor, torch.Tensor, dict]]:
    """Sigmoid focal (and BCE-with-logits) problems whose inputs' ranges the checker shares: above the decimals limit
    (a point box: the point bounds read the ranges), ±inf logits, soft labels, labels 0 only, γ = 0 and α off."""
    g = torch.Generator().manual_seed(11)
    n = limits.DECIMALS_MAX_ELEMENTS + 37
    x = torch.randn(n, generator=g, dtype=torch.float64) * 3
    y = (torch.rand(n, generator=g) > 0.5).double()
    inf_x = x.clone()
    inf_x[5], inf_x[9] = math.inf, -math.inf
    soft = torch.rand(n, generator=g, dtype=torch.float64)
    return [("focal", x, y, {}), ("focal", x.float(), y.float(), {"gamma": 0.0}), ("focal", inf_x, y, {}),
            ("focal", x, soft, {"alpha": -1.0}), ("focal", x[:50], y[:50], {"gamma": 3.0}),
            ("focal", x, torch.zeros(n, dtype=torch.float64), {}), ("bce_with_logits", x, y, {})]


def test_shared_extremes_change_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check finds each input's range once (lossapp.trace.shared_extremes: kept on the tensors, mapped onto 1 − y
    and Keras' smoothed labels): the value, the enclosure and the verdict of every claim (the value, one off by a
    rounding, a variant's value, one reached by no variant) are those of a check that finds them anew every time."""
    import contextlib

    import lossapp.trace
    import lossapp.verdicts

    def outcome(loss: str, x: torch.Tensor, y: torch.Tensor, params: dict, claimed: str) -> tuple:
        v = check(loss, x, y, claimed=claimed, **params)
        enclosure = v.enclosure
        return (v.verdict, v.value, None if enclosure is None else (enclosure.lo, enclosure.hi, enclosure.sound),
                [m.id for m in v.mistakes], [c.id for c in v.conventions], str(v.explanation))

    for loss, x, y, params in _focal_problems():
        result = lossapp.compute(loss, x, y, **params)
        claims = [f"{result.scalar:.6g}", f"{result.scalar * 1.0123:.6g}", f"{result.scalar * 1.5:.6g}"]
        swapped = lossapp.compute(loss, x, 1 - y, **params).scalar
        claims.append(f"{swapped:.6g}")
        shared = [outcome(loss, x, y, params, c) for c in claims]
        with monkeypatch.context() as m:
            m.setattr(lossapp.verdicts, "shared_extremes", contextlib.nullcontext)
            assert not lossapp.trace.extremes_shared()
            anew = [outcome(loss, x, y, params, c) for c in claims]
        assert shared == anew, (loss, params)
