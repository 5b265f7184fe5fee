"""Entropy H(p) (article 004, 1.1) and the log bases of the entropy family: article 004's example in bits, torch's
Categorical.entropy and scipy.stats.entropy as independent oracles, the identity H(p, q) = H(p) + KL(p‖q)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
import torch
from spec_code import assert_close, run_torch_code

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# article 004, 1.1: the true distribution p and the estimated q of examples/004_entropy_kl.toml (there as log q)
P = "[[0.5, 0.25, 0.25]]"
Q = "[[0.25, 0.5, 0.25]]"


# -- article 004 in bits --------------------------------------------------------------------------------

def test_article_004_in_bits():
    """H(p) = 0.5·1 + 2·0.25·2 = 1.5 bits; H(p, q) = 0.5·2 + 0.25·1 + 0.25·2 = 1.75 bits; KL = 0.25 bits: the
    0.25 extra bits of coding p with q's code lengths."""
    h = lossapp.compute("entropy", P, log_base=2)
    assert h.scalar == pytest.approx(1.5, rel=1e-15)
    with_q = lossapp.compute("entropy", P, Q, log_base=2)
    assert with_q.scalar == pytest.approx(1.5, rel=1e-15)  # the value stays H(p)
    assert with_q.step("H(p,q)").value_list() == pytest.approx([1.75], rel=1e-15)
    assert with_q.step("KL(p‖q)").value_list() == pytest.approx([0.25], rel=1e-15)
    assert with_q.step("H(p)+KL").value_list() == pytest.approx([1.75], rel=1e-15)
    kl = lossapp.compute("kl_div", Q, P, reduction="batchmean", input="probabilities", log_base=2)
    assert kl.scalar == pytest.approx(0.25, rel=1e-15)
    assert kl.step("log q").value_list()[0] == pytest.approx([math.log(0.25), math.log(0.5), math.log(0.25)])
    ce = lossapp.compute("cross_entropy", Q, P, input="probabilities", log_base=2)
    assert ce.scalar == pytest.approx(1.75, rel=1e-15)
    for r in (h, with_q, kl, ce):
        assert r.agrees, r.warnings


def test_article_004_example_file_in_bits():
    """The example file's log q, with log_base=2: the KL divergence of the article in bits, 0.25."""
    data = tomllib.loads((EXAMPLES / "004_entropy_kl.toml").read_text(encoding="utf-8"))
    r = lossapp.compute(data["loss"], data["pred"], data["target"], reduction=data["reduction"], log_base=2)
    assert r.scalar == pytest.approx(0.25, rel=1e-12)
    nats = lossapp.compute(data["loss"], data["pred"], data["target"], reduction=data["reduction"])
    assert nats.scalar == pytest.approx(0.25 * math.log(2), rel=1e-12)


@pytest.mark.parametrize("base,divisor", [("e", 1.0), ("2", math.log(2)), ("10", math.log(10)), (2, math.log(2)),
                                          (10, math.log(10))])
@pytest.mark.parametrize("loss,pred,target,params", [
    ("entropy", "[[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]", None, {}),
    ("kl_div", "[[0.25, 0.5, 0.25], [0.2, 0.2, 0.6]]", "[[0.5, 0.25, 0.25], [0.3, 0.3, 0.4]]", {"input": "probabilities"}),
    ("kl_div", "[[-1.2, -0.6, -1.6]]", "[[0.3, 0.5, 0.2]]", {}),
    ("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]", {"weight": "[1, 2, 3]"}),
    ("cross_entropy", "[[0.2, 0.3, 0.5]]", "[[0.5, 0.25, 0.25]]", {"input": "probabilities", "label_smoothing": 0.1}),
    ("nll", "[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]", "[2, 0]", {"input": "probabilities"}),
    ("nll", "[[-0.3, -1.5, -2.6], [-2.2, -0.3, -2.0]]", "[0, 2]", {"ignore_index": 2}),
])
def test_log_base_divides_the_natural_log_value(loss, pred, target, params, base, divisor):
    nats = lossapp.compute(loss, pred, target, reduction="none", **params)
    other = lossapp.compute(loss, pred, target, reduction="none", log_base=base, **params)
    assert other.params["log_base"] == str(base)
    assert other.value.reshape(-1).tolist() == pytest.approx((nats.value / divisor).reshape(-1).tolist(), rel=1e-14)
    assert other.agrees, other.warnings
    if base != "e":
        assert any("ln" in s.note and s.symbol == "l" for s in other.steps)


def test_log_base_must_be_e_2_or_10():
    with pytest.raises(InputError, match="expected one of e, 2, 10") as info:
        lossapp.compute("entropy", P, log_base=3)
    assert has_zh(info.value)


# -- against independent implementations ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("shape", [(5,), (4, 6), (2, 3, 4)])
def test_against_torch_categorical_entropy(shape, reduction, dtype):
    g = torch.Generator().manual_seed(sum(shape))
    p = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64) * 2, dim=0 if len(shape) == 1 else 1)
    cd = 0 if len(shape) == 1 else 1
    p[(0,) * len(shape)] = 0.0  # a zero probability: 0 · log 0 = 0, and a gradient of +inf as torch's
    p = p / p.sum(cd, keepdim=True)
    r = lossapp.compute("entropy", p, reduction=reduction, dtype=dtype)
    assert r.agrees, r.warnings
    expected = torch.distributions.Categorical(probs=p.movedim(cd, -1),
                                               validate_args=False).entropy()
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    assert_close(r.value, expected)
    assert_close(r.value, r.reference.value, DTYPES[dtype])


def test_against_scipy_entropy_in_every_base():
    stats = pytest.importorskip("scipy.stats")
    rows = [[0.5, 0.25, 0.25], [0.7, 0.2, 0.1], [1.0, 0.0, 0.0], [0.125] * 8 + [0.0] * 0][:3]
    for base, scipy_base in (("e", None), ("2", 2), ("10", 10)):
        r = lossapp.compute("entropy", str(rows), reduction="none", log_base=base)
        assert r.value.tolist() == pytest.approx([stats.entropy(row, base=scipy_base) for row in rows], rel=1e-14)
        q = [[0.25, 0.5, 0.25], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]]
        r = lossapp.compute("entropy", str(rows), str(q), reduction="none", log_base=base)
        assert r.step("KL(p‖q)").value_list() == pytest.approx(
            [stats.entropy(row, other, base=scipy_base) for row, other in zip(rows, q, strict=True)], rel=1e-13)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("base", ["e", "2", "10"])
def test_torch_code_reproduces_the_value(reduction, base):
    spec = lossapp.LOSSES["entropy"]
    r = lossapp.compute("entropy", "[[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]", reduction=reduction, dtype="float64",
                        log_base=base)
    names = dict(spec.resolve_params({"log_base": base}))
    names.update(pred=r.pred.values.double(), reduction=reduction)
    assert_close(run_torch_code(spec.torch_code, **names), r.value)


def test_gradient_is_minus_log_p_minus_one():
    """∂H/∂p_c = −(log p_c + 1) (each p_c a free variable), from autograd of the trace, as torch's."""
    r = lossapp.compute("entropy", "[0.5, 0.25, 0.25]", dtype="float64")
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    assert r.gradient.manual == pytest.approx((-(torch.log(p) + 1)).tolist(), rel=1e-14)
    assert r.gradient.agrees


# -- the target is optional; bad inputs ------------------------------------------------------------------

def test_target_is_optional_and_does_not_change_the_value():
    alone = lossapp.compute("entropy", "[[0.5, 0.3, 0.2]]")
    with_q = lossapp.compute("entropy", "[[0.5, 0.3, 0.2]]", "[[0.2, 0.3, 0.5]]")
    assert alone.scalar == with_q.scalar
    assert "H(p,q)" not in [s.symbol for s in alone.steps]
    assert with_q.step("H(p,q)").value_list()[0] == pytest.approx(
        with_q.step("H(p)").value_list()[0] + with_q.step("KL(p‖q)").value_list()[0], rel=1e-14)
    assert lossapp.compute("entropy", "[[0.5, 0.3, 0.2]]", "").scalar == alone.scalar
    assert lossapp.LOSSES["entropy"].target_optional


def test_a_loss_whose_target_is_required_still_says_so():
    with pytest.raises(InputError, match="target") as info:
        lossapp.compute("kl_div", P)
    assert has_zh(info.value)


@pytest.mark.parametrize("pred,target,match", [
    ("0.5", None, r"class dimension .* got a scalar"),
    ("[0.5, 1.5]", None, "expected probabilities in"),
    ("[[0.5, 0.5]]", "[[0.5, 0.25, 0.25]]", "same shape"),
    ("[[0.5, 0.5]]", "[[1.5, -0.5]]", "expected probabilities in"),
])
def test_bad_input_is_an_input_error(pred, target, match):
    with pytest.raises(InputError, match=match) as info:
        lossapp.compute("entropy", pred, target)
    assert has_zh(info.value)
    assert "expected" in str(info.value)


def test_rows_not_summing_to_one_warn_and_still_match_torch():
    r = lossapp.compute("entropy", "[[0.5, 0.3, 0.1]]")
    assert any("do not sum to 1" in w for w in r.warnings)
    assert all(has_zh(w) for w in r.warnings)
    assert r.agrees


def test_step_texts_have_chinese():
    r = lossapp.compute("entropy", P, Q, log_base=2)
    spec = lossapp.LOSSES["entropy"]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params), *(s.title for s in r.steps),
             *(s.note for s in r.steps if s.note)]
    assert all(has_zh(t) for t in texts), [t for t in texts if not has_zh(t)]


def test_the_enclosure_contains_the_loss_over_the_rounding_box():
    """The claim 1.04 (H of [0.5, 0.25, 0.25] in nats = 1.0397) rounds from the value; article inputs rounded to 2
    decimals move H by at most a few hundredths, and the enclosure says how far."""
    v = lossapp.check("entropy", "[0.50, 0.25, 0.25]", claimed="1.04")
    assert v.verdict == "exact"
    lo, hi = v.interval
    assert lo <= 1.0397207708399179 <= hi
    assert hi - lo < 0.05
