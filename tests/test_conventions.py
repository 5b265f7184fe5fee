"""Other libraries' conventions: each one, computed independently here, gives the verdict `convention` and
names its library; the table of values under every convention needs no claim."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
import torch
import torch.nn.functional as F

import lossapp
from lossapp.conventions import CONVENTIONS, table, table_for_result
from lossapp.i18n import has_zh, tr
from lossapp.verdicts import check

D = torch.float64
CJK = re.compile(r"[\u4e00-\u9fff]")
EPS64 = 2.220446049250313e-16


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=D)


P3, Y3 = [0.2947, 0.5898, 0.4863], [1.0, 0.0, 0.0]
EDGE_P, EDGE_Y = [0.0, 0.5], [1.0, 0.0]  # a positive predicted with p = 0: the conventions part ways
MASK_P = [[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]
MASK_T = [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]
LOGITS, IDX = [[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]], [0, 2]
KL_LOGQ = [[-1.2040, -1.2040, -0.9163], [-0.3567, -1.6094, -2.3026]]
KL_P = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
FOCAL_X, FOCAL_Y = [[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


def _dice_loss(p: torch.Tensor, y: torch.Tensor, eps: float, pooled: bool) -> float:
    if pooled:
        p, y = p.reshape(-1), y.reshape(-1)
    coef = (2 * (p * y).sum(-1) + eps) / (p.sum(-1) + y.sum(-1) + eps)
    return float((1 - coef).mean())


def _label_smoothing_other_classes(eps: float) -> float:
    x, y = t(LOGITS), torch.tensor(IDX)
    onehot = F.one_hot(y, 3).to(D)
    q = onehot * (1 - eps) + (1 - onehot) * eps / 2
    return float(-(q * torch.log_softmax(x, 1)).sum(1).mean())


def _keras_kl() -> float:
    q = torch.exp(t(KL_LOGQ)).clamp(1e-7, 1)
    p = t(KL_P).clamp(1e-7, 1)
    return float((p * torch.log(p / q)).sum(-1).mean())


def _focal_without_alpha() -> float:
    x, y = t(FOCAL_X), t(FOCAL_Y)
    p = torch.sigmoid(x)
    p_t = p * y + (1 - p) * (1 - y)
    return float(((1 - p_t) ** 2 * F.binary_cross_entropy_with_logits(x, y, reduction="none")).mean())


# id -> (loss, pred, target, kwargs, value under the convention, decimals of the claim)
CASES: dict[str, tuple] = {
    "keras_clip": ("bce", EDGE_P, EDGE_Y, {}, (-math.log(1e-7) - math.log(0.5)) / 2, 6),
    "tf_keras_epsilon": ("bce", P3, Y3, {},
                         float(-(t(Y3) * torch.log(t(P3) + 1e-7) + (1 - t(Y3)) * torch.log(1 - t(P3) + 1e-7)).mean()), 8),
    "keras_label_smoothing": ("bce", P3, Y3, {}, float(F.binary_cross_entropy(t(P3), t(Y3) * 0.9 + 0.05)), 6),
    "sklearn_log_loss": ("bce", EDGE_P, EDGE_Y, {}, (-math.log(EPS64) - math.log(0.5)) / 2, 6),
    "sklearn_log_loss_1e-15": ("bce", EDGE_P, EDGE_Y, {}, (-math.log(1e-15) - math.log(0.5)) / 2, 6),
    "old_torch_bce": ("bce", EDGE_P, EDGE_Y, {}, (-math.log(1e-12) - math.log(0.5 + 1e-12)) / 2, 6),
    "keras_focal_no_alpha": ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0}, _focal_without_alpha(), 6),
    "label_smoothing_other_classes": ("cross_entropy", LOGITS, IDX, {"label_smoothing": 0.1},
                                      _label_smoothing_other_classes(0.1), 6),
    "monai_smoothing": ("dice", MASK_P, MASK_T, {}, _dice_loss(t(MASK_P), t(MASK_T), 1e-5, pooled=False), 8),
    "smooth_1": ("dice", MASK_P, MASK_T, {}, _dice_loss(t(MASK_P), t(MASK_T), 1.0, pooled=False), 6),
    "smp_batch_sets": ("dice", MASK_P, MASK_T, {}, _dice_loss(t(MASK_P), t(MASK_T), 0.0, pooled=True), 6),
    "sets_per_image_vs_batch": ("dice", MASK_P, MASK_T, {}, _dice_loss(t(MASK_P), t(MASK_T), 1e-8, pooled=True), 6),
    "keras_kl": ("kl_div", KL_LOGQ, KL_P, {"reduction": "mean"}, _keras_kl(), 6),
    "scipy_rel_entr_sum": ("kl_div", KL_LOGQ, KL_P, {"reduction": "batchmean"},
                           float(F.kl_div(t(KL_LOGQ), t(KL_P), reduction="sum")), 6),
}


@pytest.mark.parametrize("convention_id", sorted(CASES))
def test_convention_is_reproduced_and_named(convention_id: str) -> None:
    loss, pred, target, kwargs, expected, decimals = CASES[convention_id]
    kwargs = dict(kwargs)
    reduction = kwargs.pop("reduction", "mean")
    v = check(loss, str(pred), str(target), claimed=f"{expected:.{decimals}f}", reduction=reduction, **kwargs)
    assert v.verdict == "convention", v.explanation
    ids = [c.id for c in v.conventions]
    assert convention_id in ids
    match = next(c for c in v.conventions if c.id == convention_id)
    assert match.value == pytest.approx(expected, rel=1e-9)
    assert v.conventions[0].variant.library in v.explanation


def test_every_convention_has_a_case_and_chinese() -> None:
    assert set(CONVENTIONS) == set(CASES)
    for c in CONVENTIONS.values():
        assert c.library and c.title and c.explanation
        assert CJK.search(tr(c.title, "zh")) and CJK.search(tr(c.explanation, "zh"))
        assert has_zh(c.title) and has_zh(c.explanation) and has_zh(c.library) and has_zh(c.named)


def test_categorical_keras_clip_on_probabilities_with_a_zero() -> None:
    """cross_entropy on probabilities with p_y = 0 is infinite in torch; Keras clips it to 1e-7."""
    expected = (-math.log(1e-7) - math.log(0.5)) / 2
    v = check("cross_entropy", "[[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]", "[1, 2]", claimed=f"{expected:.5f}",
              input="probabilities")
    assert math.isinf(v.value)
    assert v.verdict == "convention" and v.conventions[0].id == "keras_clip"


def test_table_lists_pytorch_first_and_each_convention() -> None:
    rows = table("bce", str(EDGE_P), str(EDGE_Y))
    torch_value = float(F.binary_cross_entropy(t(EDGE_P), t(EDGE_Y)))
    assert rows[0]["id"] == "pytorch" and rows[0]["value"] == pytest.approx(torch_value, rel=1e-12)
    by_id = {r["id"]: r for r in rows}
    for cid in ("keras_clip", "sklearn_log_loss", "sklearn_log_loss_1e-15", "old_torch_bce", "tf_keras_epsilon"):
        assert by_id[cid]["value"] == pytest.approx(CASES[cid][4] if cid != "tf_keras_epsilon" else
                                                    (-math.log(1e-7 + 1e-7) - math.log(0.5 + 1e-7)) / 2, rel=1e-9)
        assert by_id[cid]["difference"] == pytest.approx(by_id[cid]["value"] - torch_value, rel=1e-12)
        assert by_id[cid]["library"]


def test_table_keeps_conventions_that_agree_with_torch() -> None:
    r = lossapp.compute("bce", str(P3), str(Y3))
    rows = table_for_result(r)
    ids = [row["id"] for row in rows]
    assert "old_torch_bce" in ids and "keras_clip" not in ids  # no p at 0 or 1: clipping does not apply
    old = next(row for row in rows if row["id"] == "old_torch_bce")
    assert abs(old["difference"]) < 1e-10


def test_table_for_a_loss_without_conventions() -> None:
    rows = table("mse", "[0.5, 1.0]", "[0.0, 1.0]")
    assert [r["id"] for r in rows] == ["pytorch"]


def test_conventions_follow_the_spec_not_the_name() -> None:
    """A loss's own conventions are the ones its spec declares; the overlap ones follow LossSpec.set_measure."""
    r = lossapp.compute("bce", str(EDGE_P), str(EDGE_Y))
    declared = {row["id"] for row in table_for_result(r)} - {"pytorch"}
    assert declared and declared <= set(r.spec.conventions)
    bare = dataclasses.replace(r, spec=dataclasses.replace(r.spec, conventions=()))
    assert [row["id"] for row in table_for_result(bare)] == ["pytorch"]
    r = lossapp.compute("dice", str(MASK_P), str(MASK_T))
    assert "monai_smoothing" in {row["id"] for row in table_for_result(r)}
    bare = dataclasses.replace(r, spec=dataclasses.replace(r.spec, set_measure=None))
    assert [row["id"] for row in table_for_result(bare)] == ["pytorch"]


def test_a_title_naming_its_library_says_each_part_once() -> None:
    """The title with its library (as the checker writes it) in every language: no part twice (it once read
    'ε/(C − 1) 标签平滑：标签平滑：其余类别各分 ε/(C − 1)')."""
    for c in CONVENTIONS.values():
        for lang in ("en", "zh"):
            parts = [p.strip().lower() for p in re.split("[:：]", tr(c.named, lang))]
            assert len(parts) == len(set(parts)), tr(c.named, lang)
